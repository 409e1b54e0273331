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
    assert (m.ira_posts - m.ira_listed_posts, m.ira_accounts - m.ira_listed_accounts) == (
        len(distinct),
        len(per_author),
    )
    assert m.positives - m.ira_listed_positives == sum(1 for n in per_author.values() if n >= 2) and m.min_posts == 2
    missed = m.positives - m.flagged_positives
    kinds = {k: v for k, v in m.missed_by_kind.items() if not k.startswith("by posts")}
    assert sum(kinds.values()) == missed == len(m.missed_positives)
    assert sum(v for k, v in m.missed_by_kind.items() if k.startswith("by posts")) == missed
    assert m.shifted is None  # the IRA posted in every window of these three collections


def test_ira_in_the_airline_crowd(shared, tmp_path, ira_tweets):
    """Nine days of February 2015 among thousands of airline customers: no customer is flagged.

    The IRA's one seven-account hashtag group of these days is confirmed on some random splits of the
    items and not on others (DuckDB's hash split and two of four md5 bits confirm it; the
    engine-neutral key detection now uses does not), so no recall is claimed here
    (docs/detection.md, "Evaluation on real data")."""
    m = re_.mixed(shared, ira_tweets["airline-2015"], "airline-2015", tmp_path)
    assert all("2015-02-16" <= r["publish_date"] < "2015-02-25" for r in _csv_rows(ira_tweets["airline-2015"]))
    _check_counts(m, ira_tweets["airline-2015"])
    airline = {r["name"].lower() for r in _csv_rows(shared / "airline-2015" / "Tweets.csv")}
    assert m.organic_accounts == len(airline)
    assert m.flagged_organic == 0, m
    assert m.precision in (None, 1.0), m


def test_ira_in_the_debate_night_crowd(shared, tmp_path, ira_tweets):
    """Four debate nights: the IRA's hashtag and repost groups inside a viral retweet crowd."""
    m = re_.mixed(shared, ira_tweets["debates-2016"], "debates-2016", tmp_path)
    _check_counts(m, ira_tweets["debates-2016"])
    assert m.organic_accounts == 3137
    assert m.organic_fp_rate <= 0.002, m  # the ceiling; measured 0 of 3,137 (3 before one-item pairs)
    # Floor: measured 34 of 151 (0.23), precision 1.0 (0.92 while three live-tweeters' one-item pairs
    # counted); the pairwise design finds 10 (0.07). Below 0.2 the group test has lost the IRA's
    # debate-night groups. Precision: the target.
    assert m.recall >= 0.2 and m.precision >= 0.95, m


def test_several_splits_keep_the_debate_night_groups(shared, tmp_path, ira_tweets):
    """group_splits: the IRA accounts confirmed on at least half of eight splits of the items.
    Measured 28 of 151 and no organic account (one split: 34; over the eight bits one by one, 7 to
    40: docs/detection.md, "How much the draw matters")."""
    m = re_.mixed(shared, ira_tweets["debates-2016"], "debates-2016", tmp_path, group_splits=8)
    assert m.flagged_organic == 0, m
    assert m.recall >= 0.15, m


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
    # The IRA's own accounts inside the organic collection (TEN_GOP and two more) count as IRA: their
    # handles or ids on the IRA's list, counted here from the raw files.
    listed = {r["author"].lower() for r in _csv_rows(shared / "ira-by-author" / "authors.csv")}
    with gzip.open(shared / "political-2016-search" / "tweets.jsonl.gz", "rt") as fh:
        users = {json.loads(x)["user.screen_name"].lower() for x in fh}
    assert m.ira_listed_accounts == len(users & listed) > 0, m
    # Floor: measured 28 of 183 (0.15); 6 organic accounts (0.05 %) flagged, bots posting the same
    # headlines within seconds (23 with near-dup, docs/detection.md). It was 49 before co-hashtag became a
    # timing layer: the IRA's hashtag groups here co-act within the hour no more than everyone's hashtags
    # do (the collection is one- and two-hour bursts), which is what a party caucus's hashtags look like.
    assert m.recall >= 0.12, m
    assert m.organic_fp_rate <= 0.002, m


@pytest.mark.parametrize("name,ceiling", [("debates-2016", 0.002), ("political-2016-search", 0.002),
                                          ("airline-2015", 0.0)])  # fmt: skip
def test_organic_controls_are_not_operations(shared, tmp_path, name, ceiling):
    c = re_.control(shared, tmp_path, name)
    assert c["accounts"] > 3000
    assert c["flagged_share"] <= ceiling, c


def test_members_of_congress_are_not_an_operation(shared, tmp_path):
    """245 members of Congress over four years: each party's members use the same hashtags on the
    same days (votes, hearings, holidays), more than a shuffle of their actions expects — shared
    taste, which the timing test discounts. Measured: 18 flagged (7 %), caucus members using the same
    hashtags within the hour on 19 to 71 days; 89 (36 %) with co-hashtag's day scale tested on the
    configuration null alone, as it was (docs/detection.md, "Evaluation on real data")."""
    c = re_.control(shared, tmp_path, "congress-2015-2018")
    with open(shared / "congress-2015-2018" / "accounts.csv", newline="") as fh:
        members = {r["user_id"] for r in csv.DictReader(fh)}
    assert c["accounts"] == len(members) == 245
    assert c["flagged"] <= 25, c
    # what is left: co-hashtag, co-mention and co-post groups (no co-repost or co-link taste groups)
    assert all(set(k["layers"]) <= {"co-hashtag", "co-mention", "co-post"} for k in c["clusters"]), c


def test_run_on_a_real_mix_reports_the_groups_with_their_posts(shared, tmp_path, ira_tweets):
    """`trollscope run` on the debates mix: IRA groups flagged, the report shows their evidence posts."""
    import duckdb
    from click.testing import CliRunner

    from trollscope.cli import main

    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(ira_tweets["debates-2016"]),
                                  str(shared / "debates-2016" / "tweets_debate*.csv.gz"), "-o", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    import html as html_

    con = duckdb.connect()
    ws = out / "workspace" / "tables"
    ira = {row["author"].lower() for row in _csv_rows(ira_tweets["debates-2016"].parent / "authors.csv")}
    flagged = {
        h.lower() for (h,) in con.sql(f"SELECT handle FROM '{ws}/account_scores/*.parquet' WHERE flagged").fetchall()
    }
    assert len(flagged & ira) >= 20 and len(flagged - ira) <= 5, flagged
    groups = con.sql(f"SELECT handles, layer, \"window\" FROM '{ws}/groups/*.parquet'").fetchall()
    assert any(len({h.lower() for h in hs} & ira) >= 5 for hs, _, _ in groups), groups
    ev = con.sql(f"SELECT handle_a, text_a FROM '{ws}/evidence/*.parquet'").fetchall()
    page = (out / "report.html").read_text()
    shown = [h for h, t in ev if h.lower() in ira and t and html_.escape(t[:30]) in page]
    assert shown, "the report shows no IRA evidence post"


def test_the_debates_trio_is_taste_not_a_clock(shared, tmp_path):
    """Issue 15's organic cluster: three debate viewers the pairwise design flagged for co-reposting
    small posts within seconds. They co-repost the same small posts within the day as much, so the
    timing test does not find their five-minute co-action beyond its share; they are not flagged."""
    import trollscope as ts
    from trollscope.detect import detect

    ts.ingest(str(shared / "debates-2016" / "tweets_debate*.csv.gz"), tmp_path / "ws")
    old = detect(tmp_path / "ws", write=False, groups=False, min_count=3, window=300)
    trio = set(old.flagged)
    assert len(trio) == 3  # the cluster the issue names: the pairwise design's only one here
    new = detect(tmp_path / "ws", write=False, keep_edges=1)
    assert not trio & set(new.flagged)
    pairs = [e for e in new.edges.to_pylist() if e["layer"] == "co-repost" and {e["handle_a"], e["handle_b"]} <= trio]
    assert pairs and not any(e["significant"] for e in pairs)
    # Under the configuration null alone the strongest pair is far beyond chance (p < 1e-10).
    assert min(e["p_value"] for e in old.edges.to_pylist() if {e["handle_a"], e["handle_b"]} <= trio) < 1e-10
