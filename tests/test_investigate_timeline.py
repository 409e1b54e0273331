"""Timeline: volume, the onset rule, bursts, events and pre-event activity on hand-built weeks."""

from __future__ import annotations

import datetime as dt
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_investigate import accounts_file, make_ws, post

from trollscope.investigate import load_events, timeline
from trollscope.workspace import Workspace

MONDAY = dt.datetime(2016, 1, 4, 10, 0)  # a Monday


def week_posts(user: str, counts: list[int], start_id: int) -> list[dict]:
    """``counts[w]`` posts by ``user`` in week ``w`` after MONDAY (on that week's Monday, a minute apart)."""
    rows, i = [], start_id
    for w, n in enumerate(counts):
        for k in range(n):
            t = MONDAY + dt.timedelta(weeks=w, minutes=k)
            rows.append(post(i, user, t.strftime("%Y-%m-%d %H:%M:%S"), f"post {i}"))
            i += 1
    return rows


# alice: a stray post, a run of two active weeks, a gap, then a run of three (the sustained onset),
# then a steady 2 a week and one spike of 20; bob: steady 1 a week throughout.
ALICE = [1, 0, 0, 0, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 20, 2, 2]
BOB = [1] * len(ALICE)


@pytest.fixture
def weeks_ws(tmp_path):
    rows = week_posts("alice", ALICE, 1) + week_posts("bob", BOB, 1000)
    ws = make_ws(tmp_path, rows)
    groups = accounts_file(tmp_path, ["handle,team", "alice,A", "bob,B"], "groups.csv")
    return ws, groups


def test_volume_is_dense_with_zero_weeks(weeks_ws):
    ws, groups = weeks_ws
    r = timeline(ws, str(groups), "label:team", events=None)
    a = [row for row in r.volume.to_pylist() if row["grp"] == "A"]
    assert [row["posts"] for row in a] == ALICE
    assert [row["period"] for row in a] == [MONDAY.replace(hour=0) + dt.timedelta(weeks=w) for w in range(len(ALICE))]


def test_onset_first_post_and_first_sustained_run(weeks_ws):
    ws, groups = weeks_ws
    r = timeline(ws, str(groups), "label:team", events=None, sustain_periods=3, sustain_posts=2)
    onset = {o["grp"]: o for o in r.onset.to_pylist()}
    assert onset["A"]["first_post"] == MONDAY
    # weeks 4-5 are a run of two (too short); weeks 7, 8, 9… are the first run of three
    assert onset["A"]["sustained_from"] == MONDAY.replace(hour=0) + dt.timedelta(weeks=7)
    assert onset["A"]["posts"] == sum(ALICE)
    # bob never reaches 2 posts a week: a first post but no sustained activity
    assert onset["B"]["first_post"] == MONDAY and onset["B"]["sustained_from"] is None
    # with a threshold of 1 post, bob is sustained from his first week
    r = timeline(ws, str(groups), "label:team", events=None, sustain_periods=3, sustain_posts=1)
    assert {o["grp"]: o["sustained_from"] for o in r.onset.to_pylist()}["B"] == MONDAY.replace(hour=0)


def test_rolling_z_burst(weeks_ws):
    ws, groups = weeks_ws
    r = timeline(ws, str(groups), "label:team", events=None, burst_baseline=8, burst_z=3, burst_min_posts=10)
    bursts = r.bursts.to_pylist()
    assert len(bursts) == 1
    b = bursts[0]
    assert b["grp"] == "A" and b["posts"] == 20 and b["periods"] == 1
    assert b["start"] == MONDAY.replace(hour=0) + dt.timedelta(weeks=16)
    # baseline: the 8 weeks before are all 2 -> mean 2, sd 0, floored at sqrt(2)
    assert b["max_z"] == pytest.approx((20 - 2) / math.sqrt(2))
    # a higher threshold finds nothing
    r = timeline(ws, str(groups), "label:team", events=None, burst_z=13)
    assert r.bursts.num_rows == 0


def test_events_from_a_user_file_and_before(weeks_ws, tmp_path):
    ws, groups = weeks_ws
    spike = (MONDAY + dt.timedelta(weeks=16)).date()
    ev = tmp_path / "events.csv"
    ev.write_text(f"date,event,source\n{spike.isoformat()},the spike,https://example.org\n2010-01-01,long ago,\n")
    r = timeline(ws, str(groups), "label:team", events=str(ev), event_window_days=7, before=spike.isoformat())
    rows = {(e["event"], e["grp"]): e for e in r.events.to_pylist()}
    # the 7 days before the spike Monday hold week 15 (2 posts for A, 1 for B); from it, week 16
    assert (rows[("the spike", "A")]["posts_before"], rows[("the spike", "A")]["posts_after"]) == (2, 20)
    assert (rows[("the spike", "B")]["posts_before"], rows[("the spike", "B")]["posts_after"]) == (1, 1)
    assert rows[("long ago", "A")]["posts_before"] == 0
    assert rows[("the spike", "A")]["source"] == "https://example.org"
    assert r.bursts.column("nearest_event").to_pylist() == ["the spike"]
    before = {b["grp"]: b for b in r.before.to_pylist()}
    assert before["A"]["posts_before"] == sum(ALICE[:16])
    assert before["B"]["posts_before"] == 16 and before["B"]["accounts_before"] == 1
    assert before["A"]["share_before"] == pytest.approx(sum(ALICE[:16]) / sum(ALICE))


def test_month_and_quarter_periods(weeks_ws):
    ws, groups = weeks_ws
    r = timeline(ws, str(groups), "label:team", freq="month", events=None)
    months = {row["period"].month: row["posts"] for row in r.volume.to_pylist() if row["grp"] == "B"}
    # bob posts every Monday from 2016-01-04: 4 in January, 5 in February (1, 8, 15, 22, 29), …
    assert months[1] == 4 and months[2] == 5
    r = timeline(ws, str(groups), "label:team", freq="quarter", events=None)
    assert sum(row["posts"] for row in r.volume.to_pylist()) == sum(ALICE) + sum(BOB)


def test_an_empty_group_gets_zero_rows(weeks_ws):
    ws, _ = weeks_ws
    w = Workspace(ws)
    with w.transaction() as txn:  # a flagged account in a cluster of its own, with no posts here
        f = txn.new_file("account_scores")
        pq.write_table(pa.table({"account_id": ["u_alice", "ghost"], "cluster_id": [1, 2], "flagged": [True, True]}), f)
        txn.append("account_scores", [f])
    r = timeline(ws, "flagged", "cluster", events=None)
    onset = {o["grp"]: o for o in r.onset.to_pylist()}
    assert onset["2"]["posts"] == 0 and onset["2"]["first_post"] is None
    assert {row["posts"] for row in r.volume.to_pylist() if row["grp"] == "2"} == {0}
    assert any("1 of the 2" in n for n in r.operation.notes)


def test_builtin_events_have_sources_and_the_key_dates():
    ev = {e["event"]: e for e in load_events("builtin").to_pylist()}
    assert all(e["source"].startswith("https://") for e in ev.values())
    dates = {e["date"] for e in ev.values()}
    assert {dt.date(2015, 6, 16), dt.date(2016, 11, 8), dt.date(2017, 1, 20)} <= dates


def test_bad_parameters(weeks_ws, tmp_path):
    ws, groups = weeks_ws
    with pytest.raises(ValueError, match="freq"):
        timeline(ws, str(groups), freq="year")
    bad = tmp_path / "bad.csv"
    bad.write_text("when,what\n2016-01-01,x\n")
    with pytest.raises(ValueError, match="date,event"):
        timeline(ws, str(groups), events=str(bad))
