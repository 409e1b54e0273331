"""Detection on real data: the IRA mixed into organic collections of the same days, organic controls.

Runs the functions of benchmarks/real_eval.py (figures in docs/detection.md, "Evaluation on real
data"). The IRA's tweets are one DuckDB scan over ira-by-author, shared by the tests of the module.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
pytestmark = pytest.mark.real_data


def _real_eval():
    spec = importlib.util.spec_from_file_location("real_eval", BENCH / "real_eval.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("real_eval", mod)
    spec.loader.exec_module(mod)
    return mod


re_ = _real_eval()


@pytest.fixture(scope="module")
def ira_tweets(tmp_path_factory) -> dict[str, Path]:
    from conftest import SHARED

    if not (SHARED / "ira-by-author").is_dir():
        pytest.skip("ira-by-author not found")
    return re_.ira_subsets(SHARED, tmp_path_factory.mktemp("ira"), re_.MIXES)


def _csv_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_ira_in_the_airline_crowd(shared, tmp_path, ira_tweets):
    """No airline customer is flagged; the IRA's nine days of February 2015 are too thin to find."""
    m = re_.mixed(shared, ira_tweets["airline-2015"], "airline-2015", tmp_path)
    # Independent counts: the IRA subset's authors and rows, the airline file's handles.
    ira = _csv_rows(ira_tweets["airline-2015"])
    assert all("2015-02-16" <= r["publish_date"] < "2015-02-25" for r in ira)
    distinct = {(r["author_id"], r["publish_date"], r["content"]) for r in ira}  # ingest stores repeats once
    per_author: dict[str, int] = {}
    for author, _, _ in distinct:
        per_author[author] = per_author.get(author, 0) + 1
    assert (m.ira_posts, m.ira_accounts) == (len(distinct), len(per_author))
    assert m.positives == sum(1 for n in per_author.values() if n >= m.min_posts)
    airline = {r["name"].lower() for r in _csv_rows(shared / "airline-2015" / "Tweets.csv")}
    assert m.organic_accounts == len(airline)
    assert m.flagged_organic == 0 and m.organic_fp_rate == 0.0
    # Measured: 0 of 20 positives. Their co-actions are hashtag games spread over hours
    # (#IllegalAmigoz: 10 accounts, 32 posts) and 3-4 co-hashtag posts per pair are far from
    # significant among the 1.6M pairs of the 1,817 accounts that use hashtags. Whatever is
    # flagged must be IRA, not airline customers.
    assert m.precision in (None, 1.0)


def test_ira_in_the_debate_night_crowd(shared, tmp_path, ira_tweets):
    """Four debate nights: the IRA's repost ring is found inside a viral retweet crowd."""
    m = re_.mixed(shared, ira_tweets["debates-2016"], "debates-2016", tmp_path)
    ira = _csv_rows(ira_tweets["debates-2016"])
    # The IRA files repeat some rows verbatim; ingest stores each once.
    distinct = {(r["author_id"], r["publish_date"], r["content"]) for r in ira}
    assert (m.ira_posts, m.ira_accounts) == (len(distinct), len({r["author_id"] for r in ira}))
    assert m.organic_accounts == 3137
    assert m.organic_fp_rate < 0.01
    # Floor: measured 10 of 59 positives (0.17), a six-account co-repost ring and a four-account
    # similarity group. Half of it (>= 5 of 59) must survive any change; below that the ring
    # that carries the IRA's structure in these hours is no longer found.
    assert m.recall >= 5 / 59, m
    assert m.precision >= 0.7, m


@pytest.mark.parametrize("name", ["debates-2016", "political-2016-search"])
def test_organic_controls_are_not_operations(shared, tmp_path, name):
    c = re_.control(shared, tmp_path, name)
    assert c["accounts"] > 3000
    assert c["flagged_share"] < 0.01, c
