"""One item on one day is one event: a pair's repeated co-actions on it are not flagged alone."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from helpers import write_ioarchive

import trollscope as ts
from trollscope.detect import detect

DAY0 = datetime(2016, 9, 27)
WINDOW = 60.0


def _rows(seed: int = 3):
    """Organic accounts using hashtag sets at random times over four days, and three pairs:
    ``live`` two accounts posting the same set every two minutes through one hour of one night;
    ``daily`` two accounts posting one set within seconds of each other on four days;
    ``sets`` two accounts posting two different sets within seconds of each other, one night."""
    rng = np.random.default_rng(seed)
    rows, acts = [], []  # acts: (user, tagset, seconds)

    def post(user: str, tags: tuple[str, ...], sec: float) -> None:
        t = DAY0 + timedelta(seconds=float(np.floor(sec)))
        rows.append({"tweetid": str(10_000 + len(rows)), "userid": user, "user_screen_name": f"u{user}",
                     "tweet_time": t.strftime("%Y-%m-%d %H:%M:%S"),
                     "tweet_text": f"words {len(rows)} " + " ".join(f"#{x}" for x in tags),
                     "hashtags": "[" + ", ".join(tags) + "]", "is_retweet": "False", "tweet_language": "en"})  # fmt: skip
        acts.append((user, tags, float(np.floor(sec))))

    for user in range(300):
        for _ in range(6):
            post(f"2{user:03d}", (f"topic{rng.integers(120)}",), rng.uniform(0, 4 * 86400))
    night = 2 * 3600.0
    for user in ("1001", "1002"):  # live: one set, every two minutes, each on their own rhythm
        start = night + rng.uniform(0, 120)
        for j in range(30):
            post(user, ("debate", "night"), start + 120 * j + rng.uniform(-20, 20))
    for day in range(4):  # daily: one set, within seconds, on four days
        base = day * 86400 + rng.uniform(0, 80000)
        post("1003", ("push",), base)
        post("1004", ("push",), base + rng.uniform(1, 20))
    for j in range(4):  # sets: two sets, within seconds, one night
        base = night + 600 * j
        post("1005", (f"set{j % 2}",), base)
        post("1006", (f"set{j % 2}",), base + rng.uniform(1, 20))
    return rows, acts


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    d = tmp_path_factory.mktemp("events")
    rows, acts = _rows()
    ts.ingest(str(write_ioarchive(d / "a.csv", rows)), d / "ws")
    return acts, d / "ws"


def _pair(r, a: str, b: str) -> dict | None:
    for e in r.edges.to_pylist():
        if {e["account_a"], e["account_b"]} == {a, b}:
            return e
    return None


def _coincide(acts, a: str, b: str) -> tuple[set, float]:
    """The items two accounts share within the window, and the span of those co-actions (s)."""
    xs = [(t, s) for u, t, s in acts if u == a]
    ys = [(t, s) for u, t, s in acts if u == b]
    hits = [(t, s) for t, s in xs for t2, s2 in ys if t == t2 and abs(s - s2) <= WINDOW]
    times = [s for _, s in hits]
    return {t for t, _ in hits}, (max(times) - min(times)) if times else 0.0


def test_one_item_on_one_day_is_not_a_pair_and_repeats_on_other_days_or_items_are(ws):
    acts, path = ws
    items, span = _coincide(acts, "1001", "1002")
    assert len(items) == 1 and span < 86400
    assert len(_coincide(acts, "1003", "1004")[0]) == 1 and _coincide(acts, "1003", "1004")[1] >= 86400
    assert len(_coincide(acts, "1005", "1006")[0]) == 2
    kw = dict(layers=("co-hashtag",), window=WINDOW, groups=False, write=False)
    old = detect(path, pair_min_items=1, **kw)
    live = _pair(old, "1001", "1002")
    assert live is not None and live["significant"] and live["items"] == 1  # the null alone flags the rhythm
    r = detect(path, **kw)
    live = _pair(r, "1001", "1002")
    assert live is not None and not live["significant"]
    assert live["p_value"] == pytest.approx(_pair(old, "1001", "1002")["p_value"])  # tested the same, not flagged
    for a, b in (("1003", "1004"), ("1005", "1006")):
        e = _pair(r, a, b)
        assert e is not None and e["significant"], (a, b)
