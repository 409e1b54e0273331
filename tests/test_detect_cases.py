"""Hand-built inputs for the detection tests, and brute-force references computed in plain Python.

The references re-implement each layer's documented definition directly (normalisation, the
one-action-per-account-item-bucket rule, the window, the count), over the few rows a test writes,
without DuckDB — so the tests compare two independent computations.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

from helpers import write_ioarchive

T0 = dt.datetime(2016, 3, 1)
TRACKING = re.compile(
    r"^(utm_\w*|fbclid|gclid|dclid|gclsrc|msclkid|yclid|mc_cid|mc_eid|igshid|mkt_tok|_hsenc|_hsmi|ref|ref_src|"
    r"ref_url|referrer|src|source|s|share|shared|cmpid|ncid|spm|feature|smid|smtyp|__twitter_impression)$"
)


def stamp(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


class Rows:
    """Builds archive rows with increasing tweet ids."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.next_id = 1_000_000

    def add(self, user: int | str, seconds: float, text: str, **fields) -> str:
        self.next_id += 1
        tid = str(self.next_id)
        row = {"tweetid": tid, "userid": str(user), "user_screen_name": f"u{user}", "tweet_time": stamp(seconds),
               "tweet_text": text, "is_retweet": "False"}  # fmt: skip
        row.update(fields)
        self.rows.append(row)
        return tid

    def retweet(self, user: int | str, seconds: float, original: str) -> str:
        return self.add(user, seconds, f"RT @src: post {original}", is_retweet="True", retweet_tweetid=original)

    def write(self, path: Path) -> Path:
        return write_ioarchive(path, self.rows)


# --- the layers' definitions, in plain Python ---------------------------------------------------


def norm_text(text: str) -> str:
    t = text.lower()
    t = re.sub(r"https?://\S+", " ", t)
    t = re.sub(r"@\w+", " ", t)
    t = re.sub(r"[\W_]+", " ", t)
    return t.strip()


def norm_url(url: str) -> str | None:
    u = url.strip()
    if "://" not in u:
        u = "http://" + u
    parts = urlsplit(u)
    host = parts.netloc.lower()
    host = re.sub(r"^www\d*\.", "", host)
    host = re.sub(r":(80|443)$", "", host)
    path = parts.path.rstrip("/")
    query = sorted(p for p in parts.query.split("&") if p and not TRACKING.match(p.split("=", 1)[0].lower()))
    out = host + path + ("?" + "&".join(query) if query else "")
    return out or None


def _list_field(value: str) -> list[str]:
    return [x.strip(" '\"#").lower() for x in value.strip("[] ").split(",") if x.strip(" '\"#")]


def urls_of(row: dict) -> list[str]:
    if row.get("urls"):
        return [x.strip(" '\"") for x in row["urls"].strip("[] ").split(",") if x.strip(" '\"")]
    return re.findall(r"https?://[^\s\"<>…]+", row["tweet_text"])


def hashtags_of(row: dict) -> list[str]:
    if row.get("hashtags"):
        return _list_field(row["hashtags"])
    return [h.lower() for h in re.findall(r"#(\w+)", row["tweet_text"])]


def mentions_of(row: dict) -> list[str]:
    return [m.lower() for m in re.findall(r"(?:^|[^\w@])@([A-Za-z0-9_]{1,15})", row["tweet_text"])]


def actions(rows: list[dict], layer: str, min_text_chars: int = 20) -> list[tuple[str, str, str, float]]:
    """``(account, post, item, seconds)`` of a windowed layer."""
    out = []
    for r in rows:
        t = (dt.datetime.strptime(r["tweet_time"], "%Y-%m-%d %H:%M:%S") - T0).total_seconds()
        repost = r.get("is_retweet") == "True"
        items: list[str] = []
        if layer == "co-repost" and repost:
            items = [r["retweet_tweetid"]]
        elif layer == "co-reply" and r.get("in_reply_to_tweetid"):
            items = [r["in_reply_to_tweetid"]]
        elif repost:
            items = []
        elif layer == "co-post":
            n = norm_text(r["tweet_text"])
            items = [n] if len(n) >= min_text_chars else []
        elif layer == "co-link":
            items = sorted({u for u in (norm_url(x) for x in urls_of(r)) if u})
        elif layer == "co-hashtag":
            tags = sorted(set(hashtags_of(r)))
            items = [" ".join(tags)] if tags else []
        elif layer == "co-mention":  # a reply's leading @handles are its addressees, not chosen mentions
            lead = re.match(r"(\s*@\w+)+", r["tweet_text"].lower()) if r.get("in_reply_to_tweetid") else None
            skip = set(re.findall(r"@(\w+)", lead.group(0))) if lead else set()
            ms = sorted(set(mentions_of(r)) - skip)
            items = [" ".join(ms)] if ms else []
        out += [(r["userid"], r["tweetid"], item, t) for item in items]
    return out


def dedupe(acts: list[tuple[str, str, str, float]], window: float) -> list[tuple[str, str, str, float]]:
    """One action per account, item and time bucket (floor(t / window)): the earliest."""
    best: dict[tuple, tuple] = {}
    for a in sorted(acts, key=lambda x: x[3]):
        key = (a[0], a[2], int(a[3] * 1000) // int(window * 1000))
        best.setdefault(key, a)
    return list(best.values())


def brute_edges(acts: list[tuple[str, str, str, float]], window: float, min_count: int = 1) -> dict:
    """``{(a, b): count}`` with a < b: the smaller of the two accounts' numbers of coinciding actions."""
    acts = dedupe(acts, window)
    mine: dict[tuple[str, str], set] = defaultdict(set)
    for x, y in itertools.combinations(acts, 2):
        if x[0] != y[0] and x[2] == y[2] and abs(x[3] - y[3]) <= window:
            (p, q) = (x, y) if x[0] < y[0] else (y, x)
            mine[(p[0], q[0], "a")].add((p[1], p[2]))
            mine[(p[0], q[0], "b")].add((q[1], q[2]))
    pairs = {(a, b) for a, b, _ in mine}
    counts = {(a, b): min(len(mine[(a, b, "a")]), len(mine[(a, b, "b")])) for a, b in pairs}
    return {k: v for k, v in counts.items() if v >= min_count}


def brute_expected(acts: list[tuple[str, str, str, float]], window: float, a: str, b: str) -> float:
    """λ_ab of the one-stratum configuration null: n_a n_b 2W / (C (C - 1))."""
    acts = dedupe(acts, window)
    c = len(acts)
    w = sum(1 for x, y in itertools.combinations(acts, 2) if x[2] == y[2] and abs(x[3] - y[3]) <= window)
    n = defaultdict(int)
    for x in acts:
        n[x[0]] += 1
    return n[a] * n[b] * 2 * w / (c * (c - 1))


def jaccard(x: str, y: str, k: int = 2) -> float:
    def grams(t: str) -> set[str]:
        w = norm_text(t).split()
        return {" ".join(w)} if len(w) <= k else {" ".join(w[i : i + k]) for i in range(len(w) - k + 1)}

    gx, gy = grams(x), grams(y)
    return len(gx & gy) / len(gx | gy)


# --- data sets ------------------------------------------------------------------------------------

TEXTS = [
    "Vote early and bring a friend to the polls this year",
    "The new bridge downtown opens on Friday, traffic will be heavy",
    "Our team finally won the championship after twenty years",
    "Remember to check your registration before the deadline",
]
URLS = [
    ["https://www.Example.com/story/1/?utm_source=tw", "http://example.com/story/1", "example.com/story/1/"],
    ["https://news.site.org/a?id=3&ref=home", "https://NEWS.site.org/a?id=3", "https://news.site.org/a/?id=3#top"],
    ["https://blog.net/p?b=2&a=1", "https://blog.net/p?a=1&b=2&fbclid=xyz"],
]
TAGS = [["maga", "trump"], ["trump", "maga", "trump"], ["imwithher"], ["vote", "election2016"]]
MENTIONS = ["@alice @bob", "@Bob @alice", "@carol", "@dave @erin @frank"]


def mixed_rows(seed: int = 0, posts: int = 260, accounts: int = 8, span: int = 1500) -> list[dict]:
    """Random posts crowded onto a few items within ``span`` seconds, so every layer has coincidences."""
    rng = random.Random(seed)
    b = Rows()
    originals = [b.add("src", 0, f"original number {i} about something") for i in range(6)]
    seconds = rng.sample(range(10, span), posts)
    for s in seconds:
        user = rng.randrange(accounts)
        kind = rng.random()
        if kind < 0.3:
            b.retweet(user, s, rng.choice(originals))
            continue
        text = rng.choice(TEXTS)
        if rng.random() < 0.5:
            text = text.upper() + "!!"
        fields: dict[str, str] = {}
        if rng.random() < 0.5:
            urls = [rng.choice(rng.choice(URLS)) for _ in range(rng.choice((1, 1, 2)))]
            fields["urls"] = "[" + ", ".join(urls) + "]"
            text += " " + urls[0]
        if rng.random() < 0.5:
            fields["hashtags"] = "[" + ", ".join(rng.choice(TAGS)) + "]"
        if rng.random() < 0.5:
            text = rng.choice(MENTIONS) + " " + text
        if kind > 0.85:
            fields["in_reply_to_tweetid"] = rng.choice(originals)
        b.add(user, s, text, **fields)
    return b.rows


def ring_and_crowd(
    crowd: int = 300, ring: int = 8, ring_posts: int = 30, heavy: int = 0, background: int = 200, seed: int = 1
) -> Rows:
    """A viral crowd on one post within ten minutes, a ring co-retweeting its posts seconds apart, an
    ordinary background (each account retweets a few posts at random moments) and, optionally,
    ``heavy`` users who each join most of 30 viral cascades (150 accounts each, the rest casual
    users from a pool of 3,000), everyone within minutes of the post.

    Accounts: ring 100.., crowd 10000.., heavy 20000.., casual 40000.., background 30000..,
    original posters 5000...
    """
    rng = random.Random(seed)
    b = Rows()
    hours = 80
    originals = [b.add(5000 + i, i * 3600, f"an original post number {i}") for i in range(hours)]
    viral = originals[40]
    for u in range(crowd):
        b.retweet(10_000 + u, 40 * 3600 + rng.uniform(5, 600), viral)
    for k in range(ring_posts):
        start = k * 3600 + rng.uniform(100, 3000)
        for m in range(ring):
            b.retweet(100 + m, start + m * 2 + rng.uniform(0, 3), originals[k])
    if heavy:
        for k in range(41, 71):  # cascades on posts the ring leaves alone
            joined = [20_000 + u for u in range(heavy) if rng.random() < 0.8]
            joined += [40_000 + c for c in rng.sample(range(3000), 150 - len(joined))]
            for u in joined:
                b.retweet(u, k * 3600 + rng.expovariate(1 / 300), originals[k])
    for u in range(background):
        for k in rng.sample(range(hours), 5):
            b.retweet(30_000 + u, k * 3600 + rng.uniform(0, hours * 3600 - k * 3600), originals[k])
    return b
