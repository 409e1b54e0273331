"""A simulated cross-platform operation, written as the tools researchers use would write it.

In ``out/data``: ``telegram/result.json`` is a Telegram Desktop full export: organic channels post links from a
shared pool at random times; the operation's hub channel posts its campaign links, and the
operation's other channels forward each hub message within minutes. ``twitter/tweets.jsonl`` is
twarc (API v1.1) JSON lines: organic accounts tweet links from the same pool at random times; the
operation's accounts tweet each campaign link within minutes of the hub, in their own words, and
retweet one another. Optionally (``text_accounts``) more operation accounts push the hub's messages
on Twitter by their text alone, each lightly reworded (:func:`reword`: a word changed, a hashtag
or an emoji added, the two sentences swapped), so only near-duplicate matching ties them to the
channels; and (``headlines``) organic news headlines are posted, reworded or not, by many unrelated
channels and accounts on both platforms within an hour or two of the news, as people quote a story. ``out/truth.csv`` (beside the data, not in it) names the operation's accounts on both platforms (as ingest
names them), one per line.

Everything is a function of the seed. Used by the tests and by ``benchmarks`` to check that
``trollscope run`` on the mixed folder finds the operation, and that the cross-platform layer
ties its Telegram channels to its Twitter accounts.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

T0 = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp())
DAYS = 7


# Words of the simulated messages and headlines: distinct messages share (almost) no word pair.
_WORDS = (
    "people government election vote city minister police border truth media army money school war "
    "water price tax court report secret plan leaders workers farmers doctors children women "
    "families village bank oil gas power road bridge train airport hospital church market factory "
    "island river forest storm fire flood virus vaccine protest strike union party senator mayor "
    "judge general spy agent hidden stolen broken rigged fake real new old big small quiet loud "
    "early late final first last north south east west foreign local national federal western "
    "eastern ordinary angry tired brave lies claims warns reveals denies admits blocks opens closes "
    "signs buys sells moves hides shows today tonight again already never always suddenly finally "
    "quietly openly"
)
VOCABULARY = tuple(_WORDS.split())
EDITS = ("word", "hashtag", "swap", "emoji")


@dataclass
class CrossPlatformCollection:
    folder: Path
    truth_path: Path
    telegram_messages: int
    tweets: int
    operation: list[str]  # account ids as ingest names them
    text_accounts: list[str]  # the operation's accounts that push the hub's texts reworded, no link
    headlines: int  # organic headlines posted across both platforms


def reword(text: str, edit: str, rng: np.random.Generator) -> str:
    """``text`` (two sentences) lightly edited, as an operation's accounts vary a message: a word
    replaced (``word``), a hashtag appended (``hashtag``), the sentences swapped (``swap``), or an
    alarm and an emoji put in front (``emoji``). The words change in every case: an emoji alone is
    gone once the text is normalised."""
    first, second = text.rstrip(".").split(". ", 1)
    if edit == "word":
        words = second.split()
        at = int(rng.integers(1, len(words) - 1))
        words[at] = str(rng.choice([w for w in VOCABULARY if w != words[at]]))
        return f"{first}. {' '.join(words)}."
    if edit == "hashtag":
        return f"{text} #{rng.choice(VOCABULARY)}"
    if edit == "swap":
        return f"{second}. {first}."
    return f"\U0001f6a8 BREAKING: {text}"


def _tweet_time(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")


def crossplatform_collection(
    out: str | Path,
    *,
    seed: int = 0,
    organic_channels: int = 30,
    organic_accounts: int = 300,
    operation_channels: int = 6,
    operation_accounts: int = 10,
    campaign_links: int = 12,
    text_accounts: int = 0,
    headlines: int = 0,
    headline_channels: int = 8,
    headline_accounts: int = 30,
) -> CrossPlatformCollection:
    """Write the mixed folder into ``out`` (see the module docstring). ``headline_channels`` and
    ``headline_accounts``: how many organic channels and accounts post each headline."""
    rng = np.random.default_rng(seed)
    wr = np.random.default_rng([seed, 1])  # texts, rewording and headlines: the rest of the draws stay as they were

    def sentence(n: int) -> str:
        words = [str(w) for w in wr.choice(VOCABULARY, n)]
        return " ".join([words[0].capitalize(), *words[1:]])

    top = Path(out)
    out = top / "data"
    (out / "telegram").mkdir(parents=True, exist_ok=True)
    (out / "twitter").mkdir(parents=True, exist_ok=True)
    span = DAYS * 86400
    pool = [f"https://news{i % 40}.example/story/{i}" for i in range(2000)]  # what everyone shares
    campaign = [f"https://truth-now.example/{k}-{rng.integers(10**6)}" for k in range(campaign_links)]
    hub_times = np.sort(rng.integers(T0, T0 + span, campaign_links))

    chats, messages = [], 0

    def message(
        mid: int, t: int, chan: str, cid: int, text: str, url: str | None, forwarded: str | None = None
    ) -> dict:
        link = [{"type": "link", "text": url}] if url else []
        m = {
            "id": mid, "type": "message", "date": datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "date_unixtime": str(t), "from": chan, "from_id": f"channel{cid}",
            "text": [text + " ", *link], "text_entities": [{"type": "plain", "text": text + " "}, *link],
        }  # fmt: skip
        if forwarded:
            m["forwarded_from"] = forwarded
        return m

    # Organic headlines: each quoted, reworded or not, by some organic channels and accounts within an
    # hour or two of the news (no link: a shared link is co-link's business).
    news = [(int(wr.integers(T0, T0 + span)), f"{sentence(7)}. {sentence(6)}.") for _ in range(headlines)]
    quoted: dict[int, list[tuple[int, str]]] = {}  # organic channel c, or 10,000 + account u -> its headline posts
    for t, text in news:
        who = [*wr.choice(organic_channels, headline_channels, replace=False),
               *(10_000 + wr.choice(organic_accounts, headline_accounts, replace=False))]  # fmt: skip
        for x in who:
            said = reword(text, str(wr.choice(EDITS)), wr) if wr.random() < 0.7 else text
            quoted.setdefault(int(x), []).append((int(t + wr.exponential(3600)), said))

    for c in range(organic_channels):
        cid, name = 1_000_000 + c, f"Local news {c}"
        n = int(rng.integers(20, 60))
        times = np.sort(rng.integers(T0, T0 + span, n))
        msgs = [
            message(i + 1, int(t), name, cid, f"Today in {name}: story {int(rng.integers(10**6))}", pool[rng.integers(len(pool))])
            for i, t in enumerate(times)
        ]  # fmt: skip
        msgs += [message(n + 1 + i, t, name, cid, x, None) for i, (t, x) in enumerate(quoted.get(c, []))]
        n = len(msgs)
        chats.append({"name": name, "type": "public_channel", "id": cid, "messages": msgs})
        messages += n
    hub_id, hub = 2_000_000, "Truth Now"
    texts = [f"{sentence(8)}. {sentence(8)}." for _ in range(campaign_links)]
    hub_msgs = [message(k + 1, int(t), hub, hub_id, texts[k], campaign[k]) for k, t in enumerate(hub_times)]
    chats.append({"name": hub, "type": "public_channel", "id": hub_id, "messages": hub_msgs})
    messages += len(hub_msgs)
    op_ids = [f"telegram:channel{hub_id}"]
    for c in range(operation_channels - 1):
        cid, name = 2_000_001 + c, f"Patriot relay {c}"
        op_ids.append(f"telegram:channel{cid}")
        msgs = [
            message(k + 1, int(t + rng.integers(30, 240)), name, cid, texts[k], campaign[k], forwarded=hub)
            for k, t in enumerate(hub_times)
        ]
        chats.append({"name": name, "type": "public_channel", "id": cid, "messages": msgs})
        messages += len(msgs)
    export = {
        "about": "Here is the data you requested.",
        "personal_information": {},
        "chats": {"about": "", "list": chats},
    }
    (out / "telegram" / "result.json").write_text(json.dumps(export, ensure_ascii=False, indent=1), encoding="utf-8")

    tweets = []
    tid = 10**15

    def tweet(t: int, uid: int, text: str, url: str | None, rt: dict | None = None) -> dict:
        nonlocal tid
        tid += 1
        d = {
            "id_str": str(tid), "created_at": _tweet_time(t), "full_text": text, "lang": "en",
            "user": {"id_str": str(uid), "screen_name": f"user{uid}"},
            "entities": {"hashtags": [], "user_mentions": [], "urls": [{"url": url, "expanded_url": url}] if url else []},
        }  # fmt: skip
        if rt:
            d["retweeted_status"] = {"id_str": rt["id_str"], "user": rt["user"]}
            d["full_text"] = f"RT @{rt['user']['screen_name']}: {rt['full_text']}"
        return d

    for u in range(organic_accounts):
        for t in rng.integers(T0, T0 + span, int(rng.integers(5, 25))):
            url = pool[rng.integers(len(pool))] if rng.random() < 0.6 else None
            tweets.append(tweet(int(t), 500 + u, f"my thoughts on {int(rng.integers(10**6))}", url))
    for u, posts in quoted.items():
        if u >= 10_000:
            tweets += [tweet(t, 500 + u - 10_000, x, None) for t, x in posts]
    op_users = [900_000 + u for u in range(operation_accounts)]
    op_ids += [str(u) for u in op_users]
    text_users = [950_000 + u for u in range(text_accounts)]
    op_ids += [str(u) for u in text_users]
    for k, t in enumerate(hub_times):  # the hub's words, reworded, with no link: only near-duplicate matching sees them
        for u in text_users:
            tweets.append(tweet(int(t + wr.integers(60, 280)), u, reword(texts[k], str(wr.choice(EDITS)), wr), None))
    for k, t in enumerate(hub_times):
        first = None
        for u in op_users:
            dt = int(rng.integers(60, 280))
            own = tweet(int(t + dt), u, f"Must read #{k}, share it: {int(rng.integers(10**6))}", campaign[k])
            tweets.append(own)
            first = first or own
            if u != op_users[0] and rng.random() < 0.5:
                tweets.append(tweet(int(t + dt + rng.integers(10, 120)), u, "", None, rt=first))
    order = rng.permutation(len(tweets))
    with open(out / "twitter" / "tweets.jsonl", "w", encoding="utf-8") as fh:
        for i in order:
            fh.write(json.dumps(tweets[i]) + "\n")
    truth = top / "truth.csv"
    with open(truth, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["account_id", "operation"])
        w.writerows([a, "crossplatform"] for a in op_ids)
    return CrossPlatformCollection(out, truth, messages, len(tweets), op_ids, [str(u) for u in text_users], headlines)
