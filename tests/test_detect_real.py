"""Detection on real data: the IRA mixed into organic collections of the same days, organic controls.

Runs the functions of benchmarks/real_eval.py (figures in docs/detection.md, "Evaluation on real
data"). The IRA's tweets are one DuckDB scan over ira-by-author, shared by the tests of the module.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from helpers import real_eval

pytestmark = pytest.mark.real_data


re_ = real_eval()


@pytest.fixture(scope="module")
def ira_tweets(tmp_path_factory) -> dict[str, Path]:
    from conftest import SHARED

    if not (SHARED / "ira-by-author").is_dir():
        pytest.skip("ira-by-author not found")
    return re_.ira_subsets(SHARED, tmp_path_factory.mktemp("ira"), re_.all_mixes(SHARED))


def _csv_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _check_counts(m, ira_csv: Path) -> None:
    """The mix's IRA figures and missed kinds, recomputed from the subset's rows."""
    distinct = {
        (r["author_id"], r["publish_date"], r["content"]) for r in _csv_rows(ira_csv)
    }  # ingest stores repeats once
    per_author: dict[str, int] = {}
    for author, _, _ in distinct:
        per_author[author] = per_author.get(author, 0) + 1
    assert (m.ira_posts, m.ira_accounts) == (len(distinct), len(per_author))
    assert m.positives == sum(1 for n in per_author.values() if n >= 2) and m.min_posts == 2
    missed = m.positives - m.flagged_positives
    kinds = {k: v for k, v in m.missed_by_kind.items() if not k.startswith("by posts")}
    assert sum(kinds.values()) == missed == len(m.missed_positives)
    assert sum(v for k, v in m.missed_by_kind.items() if k.startswith("by posts")) == missed
    assert m.shifted is None  # the IRA posted in every window of these three collections


def test_ira_in_the_airline_crowd(shared, tmp_path, ira_tweets):
    """Nine days of February 2015: a seven-account hashtag group is found, no airline customer."""
    m = re_.mixed(shared, ira_tweets["airline-2015"], "airline-2015", tmp_path)
    assert all("2015-02-16" <= r["publish_date"] < "2015-02-25" for r in _csv_rows(ira_tweets["airline-2015"]))
    _check_counts(m, ira_tweets["airline-2015"])
    airline = {r["name"].lower() for r in _csv_rows(shared / "airline-2015" / "Tweets.csv")}
    assert m.organic_accounts == len(airline)
    assert m.flagged_organic == 0 and m.precision == 1.0, m
    # Floor: measured 7 of 49 (0.14), one co-hashtag group over two days; the rest of the IRA
    # accounts of these days post too little together (RESULTS.md, missed by kind).
    assert m.recall >= 5 / 49, m
    assert any(g["ira_members"] == g["members"] >= 5 for g in m.groups), m.groups


def test_ira_in_the_debate_night_crowd(shared, tmp_path, ira_tweets):
    """Four debate nights: the IRA's hashtag and repost groups inside a viral retweet crowd."""
    m = re_.mixed(shared, ira_tweets["debates-2016"], "debates-2016", tmp_path)
    _check_counts(m, ira_tweets["debates-2016"])
    assert m.organic_accounts == 3137
    assert m.organic_fp_rate < 0.005, m
    # Floor: measured 46 of 151 (0.30), precision 0.84; the pairwise design found 10 of 59 with
    # at least ten posts. A drop below 0.25 means the group test lost the IRA's debate-night groups.
    assert m.recall >= 0.25 and m.precision >= 0.8, m


def test_ira_in_the_political_search(shared, tmp_path, ira_tweets):
    """The Search API's political bursts of 2016 with the IRA's tweets of the same hours."""
    import datetime as dt
    import gzip
    import json

    # The windows, recomputed: every hour holding a tweet, widened by an hour either side.
    with gzip.open(shared / "political-2016-search" / "tweets.jsonl.gz", "rt") as fh:
        hours = {dt.datetime.fromtimestamp(json.loads(x)["created_at"] // 1000, dt.UTC).replace(minute=0, second=0)
                 for x in fh}  # fmt: skip
    inside = lambda s: any(h - dt.timedelta(hours=1) <= s < h + dt.timedelta(hours=2) for h in hours)  # noqa: E731
    rows = _csv_rows(ira_tweets["political-2016-search"])
    stamp = lambda r: dt.datetime.strptime(r["publish_date"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)  # noqa: E731
    assert rows and all(inside(stamp(r)) for r in rows[:: max(len(rows) // 500, 1)])
    m = re_.mixed(shared, ira_tweets["political-2016-search"], "political-2016-search", tmp_path)
    _check_counts(m, ira_tweets["political-2016-search"])
    # Floor: measured 47 of 182 (0.26). The organic side holds automated networks that act
    # together (33 "…news24" accounts posting the same spam within seconds; docs/detection.md):
    # 74 organic accounts (0.60%) are flagged, above the 0.2%.
    assert m.recall >= 0.2, m
    assert m.organic_fp_rate < 0.01, m


@pytest.mark.parametrize("name,ceiling", [("debates-2016", 0.005), ("political-2016-search", 0.01),
                                          ("airline-2015", 0.0)])  # fmt: skip
def test_organic_controls_are_not_operations(shared, tmp_path, name, ceiling):
    c = re_.control(shared, tmp_path, name)
    assert c["accounts"] > 3000
    assert c["flagged_share"] <= ceiling, c
