"""Small builders for test inputs (files in the formats the readers take)."""

from __future__ import annotations

import csv
from pathlib import Path

IOARCHIVE_HEADER = [
    "tweetid", "userid", "user_screen_name", "tweet_time", "tweet_text", "is_retweet", "retweet_userid",
    "retweet_tweetid", "in_reply_to_tweetid", "in_reply_to_userid", "quoted_tweet_tweetid", "hashtags", "urls",
    "follower_count", "tweet_language",
]  # fmt: skip


def write_ioarchive(path: Path, rows: list[dict]) -> Path:
    """Write rows (dicts with any of IOARCHIVE_HEADER's keys) as an archive CSV with Python's csv module."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=IOARCHIVE_HEADER)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in IOARCHIVE_HEADER})
    return path


def sample_rows(n: int = 20) -> list[dict]:
    """A few accounts posting, retweeting and replying; ids and times are simple functions of i."""
    rows = []
    for i in range(n):
        user = i % 4
        row = {
            "tweetid": str(1000 + i),
            "userid": str(10 + user),
            "user_screen_name": f"user{user}",
            "tweet_time": f"2016-03-01 10:{i % 60:02d}",
            "tweet_text": f"post number {i} #tag{i % 3} @user{(user + 1) % 4} https://example.com/{i}",
            "is_retweet": "False",
            "hashtags": f"[tag{i % 3}]",
            "urls": f"[https://example.com/{i}]",
            "follower_count": str(100 * user),
            "tweet_language": "en",
        }
        if i % 5 == 4:  # a retweet of the previous post
            prev = rows[-1]
            row.update(
                is_retweet="True",
                retweet_tweetid=prev["tweetid"],
                retweet_userid=prev["userid"],
                tweet_text=f"RT @{prev['user_screen_name']}: {prev['tweet_text']}",
                hashtags="[]",
                urls="[]",
            )
        rows.append(row)
    return rows


def real_eval():
    """benchmarks/real_eval.py as a module (the benchmarks are scripts, not a package)."""
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "real_eval.py"
    if "real_eval" not in sys.modules:
        spec = importlib.util.spec_from_file_location("real_eval", path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules["real_eval"] = mod
        spec.loader.exec_module(mod)
    return sys.modules["real_eval"]


def typed_retweet(text: str) -> bool:
    """A retweet's text as typed (ingest's REPOST_PREFIX_RE, restated without regular expressions):
    `RT @handle:` first, or the original quoted, `“@handle:` or `"@handle:`, after nothing but
    characters that are neither letters, digits nor `@`."""

    def handle_colon(rest: str) -> bool:
        name = rest[: len(rest) - len(rest.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"))]
        return 1 <= len(name) <= 50 and rest[len(name) : len(name) + 1] == ":"

    if text.startswith("RT @") and handle_colon(text[4:]):
        return True
    for j, ch in enumerate(text):
        if ch in '"“' and text[j + 1 : j + 2] == "@" and handle_colon(text[j + 2 :]):
            return True
        if ch.isalnum() or ch == "@":
            return False
    return False
