"""The timing test's share: each item's, averaged over items, so a campaign cannot be its own clock."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import numpy as np
import pyarrow.compute as pc
import pytest
from helpers import write_ioarchive
from scipy.stats import poisson

import trollscope as ts
from trollscope.detect import detect

DAY0 = datetime(2016, 3, 1)
SHORT, REF = 60.0, 86400.0


def _campaign_and_crowd(seed: int = 5, campaign: int = 12, items: int = 20, organic_items: int = 150):
    """``campaign`` accounts each reposting ``items`` outside posts within 30 s of one another (at
    times spread over one day), and organic accounts reposting ``organic_items`` other posts, two
    each, at random times of the same day. The campaign holds most of the layer's coinciding pairs."""
    rng = np.random.default_rng(seed)
    rows, acts = [], []  # acts: (item, account, seconds)

    def repost(user: str, item: int, sec: float) -> None:
        t = DAY0 + timedelta(seconds=float(sec))
        rows.append({"tweetid": str(10_000 + len(rows)), "userid": user, "user_screen_name": f"u{user}",
                     "tweet_time": t.strftime("%Y-%m-%d %H:%M:%S"), "tweet_text": f"RT @src{item}: news item {item}",
                     "is_retweet": "True", "retweet_tweetid": str(900_000 + item), "retweet_userid": str(800_000 + item),
                     "tweet_language": "en"})  # fmt: skip
        acts.append((item, user, float(sec)))

    for j in range(items):
        base = rng.uniform(0, REF - 100)
        for c in range(campaign):
            repost(f"1{c:03d}", j, np.floor(base + rng.uniform(0, 30)))
    for j in range(items, items + organic_items):
        for user in rng.choice(400, 2, replace=False):
            repost(f"2{user:03d}", j, np.floor(rng.uniform(0, REF - 1)))
    return rows, acts


def _pairs_within(times: list[float], w: float) -> int:
    return sum(1 for x, y in itertools.combinations(times, 2) if abs(x - y) <= w)


@pytest.fixture(scope="module")
def crowd(tmp_path_factory):
    d = tmp_path_factory.mktemp("timing")
    rows, acts = _campaign_and_crowd()
    ts.ingest(str(write_ioarchive(d / "a.csv", rows)), d / "ws")
    return acts, d / "ws"


def test_a_campaign_that_holds_most_pairs_is_tested_against_the_items_not_itself(crowd):
    acts, ws = crowd
    by_item: dict[int, list[float]] = {}
    for item, _, sec in acts:
        by_item.setdefault(item, []).append(sec)
    short = np.array([_pairs_within(t, SHORT) for t in by_item.values()], float)
    ref = np.array([_pairs_within(t, REF) for t in by_item.values()], float)
    item_share = float(np.mean(np.minimum(short / ref, 1.0)))  # every item coincides within the day
    pooled = short.sum() / ref.sum()
    assert pooled > 0.85 and item_share < 0.2  # the campaign is most of the pairs, few of the items
    r = detect(ws, layers=("co-repost",), window=(SHORT, REF), groups=False, write=False)
    e = r.edges.filter(pc.field("significant")).to_pylist()
    campaign = {f"1{c:03d}" for c in range(12)}
    pairs = [x for x in e if {x["account_a"], x["account_b"]} <= campaign]
    assert len(pairs) == 12 * 11 // 2
    assert r.layers["co-repost"]["scales"]["1min"]["timing_share"] == [pytest.approx(item_share, abs=1e-6)]
    # One popularity stratum (the campaign's items have too few accounts to be one): the configuration
    # null's λ = n_a n_b · 2 W / (C (C − 1)), W the pairs within 60 s, C every action.
    c, w = len(acts), short.sum()
    lam = 20 * 20 * 2 * w / (c * (c - 1))
    for x in pairs[:5]:
        # 20 co-actions within 60 s of 20 within the day: the timing p is P(Binomial(20, share) ≥ 20)
        assert x["count"] == 20 and x["window"] == SHORT
        assert x["p_value"] == pytest.approx(max(poisson.sf(19, lam), item_share**20), rel=1e-6)
    # Tested against the pooled share, the same pairs could not pass: 0.85^20 is 0.04 before any correction.
    assert pooled**20 > 0.01
    flagged = {a["account_id"] for a in detect(ws, layers=("co-repost",), write=False).accounts.to_pylist()
               if a["flagged"]}  # fmt: skip
    assert flagged == campaign
