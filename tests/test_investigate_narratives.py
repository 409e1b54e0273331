"""Narratives: term matching, first use, share, the lag test, and what cannot be measured."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from test_investigate import accounts_file, make_ws, post

from trollscope.investigate import narratives, parse_terms
from trollscope.investigate.narratives import granger, xcorr


def test_parse_terms():
    n = parse_terms("Fracking, #antifa ,jadehelm=jadehelm*|Jade  Helm*,blacklivesmatter|black lives matter")
    assert [x.name for x in n] == ["fracking", "antifa", "jadehelm", "blacklivesmatter"]
    assert n[2].alternatives == [("jadehelm", True), ("jade helm", True)]
    assert n[2].hashtags() == [("jadehelm", True), ("jadehelm", True)]
    with pytest.raises(ValueError, match="twice"):
        parse_terms("a,A")
    with pytest.raises(ValueError, match="no terms"):
        parse_terms(" , ")


DAY = "2016-05-{d:02d} 12:00:00"


@pytest.fixture
def terms_ws(tmp_path):
    rows = [
        # the operation: o1 and o2
        post(1, "o1", DAY.format(d=10), "#Fracking is a crime"),
        post(2, "o1", DAY.format(d=11), "more FRACKING news"),
        post(3, "o2", DAY.format(d=12), "#frackingkills"),  # a longer hashtag: only the prefix term matches
        post(4, "o2", DAY.format(d=12), "Jade Helm 15 is coming"),
        post(5, "o2", DAY.format(d=13), "jade_helm and #JadeHelm15"),
        post(6, "o1", DAY.format(d=14), "unfracking is not a word we match"),
        # outside: x1 used fracking before the operation, x2 after
        post(7, "x1", DAY.format(d=2), "fracking? #energy"),
        post(8, "x2", DAY.format(d=20), "talking about #fracking"),
        post(9, "x2", DAY.format(d=21), "nothing to see"),
    ]
    ws = make_ws(tmp_path, rows)
    return ws, str(accounts_file(tmp_path, ["handle,team", "o1,A", "o2,B"], "op.csv"))


def test_volume_first_use_and_share(terms_ws):
    ws, op = terms_ws
    r = narratives(ws, op, "label:team", terms="fracking,frack=fracking*,jadehelm=jadehelm*|jade helm*,nobodysays")
    t = {row["term"]: row for row in r.terms.to_pylist()}
    assert (t["fracking"]["op_posts"], t["fracking"]["outside_posts"]) == (2, 2)
    assert t["frack"]["op_posts"] == 3  # #frackingkills too; "unfracking" never
    assert t["jadehelm"]["op_posts"] == 2 and t["jadehelm"]["outside_posts"] == 0
    assert t["fracking"]["op_share"] == 0.5
    assert t["fracking"]["op_first_use"] == dt.datetime(2016, 5, 10, 12)
    assert t["fracking"]["first_use_anywhere"] == dt.datetime(2016, 5, 2, 12)
    assert t["fracking"]["first_handle_anywhere"] == "x1" and t["fracking"]["first_anywhere_in_op"] is False
    assert t["fracking"]["outside_posts_before_op"] == 1
    assert t["fracking"]["op_lead_days"] == pytest.approx(-8)
    assert t["fracking"]["verdict"].startswith("others used it first (8 days and 1 posts")
    assert "only the operation used it" in t["jadehelm"]["verdict"]
    assert t["nobodysays"]["op_posts"] == 0 and t["nobodysays"]["verdict"] == "nobody in this workspace used it"
    g = {(row["term"], row["grp"]): row["posts"] for row in r.by_group.to_pylist()}
    assert g[("fracking", "A")] == 2 and g[("fracking", "B")] == 0 and g[("nobodysays", "A")] == 0
    first = [row for row in r.first_posts.to_pylist() if row["term"] == "fracking"]
    assert [(row["in_op"], row["handle"]) for row in first] == [
        (True, "o1"),
        (True, "o1"),
        (False, "x1"),
        (False, "x2"),
    ]


def test_operation_only_data_says_what_cannot_be_measured(terms_ws):
    ws, _ = terms_ws
    r = narratives(ws, "all", terms="fracking")
    row = r.terms.to_pylist()[0]
    assert row["outside_posts"] == 0
    assert row["op_share"] is None and row["first_use_anywhere"] is None
    assert "cannot be measured" in row["verdict"]
    assert any("no posts outside the operation" in n for n in r.notes)


# -- the lag test -----------------------------------------------------------------------------------

PUSH_WEEKS = [2, 5, 9, 13, 17, 20, 24, 28, 33, 37]
BACKGROUND = [0, 1, 0, 2, 1, 0, 0, 1, 1, 0] * 4  # outside chatter, unrelated to the operation


def test_granger_by_hand():
    rng = np.random.default_rng(3)
    x = rng.poisson(2, 200).astype(float)
    y = np.r_[0, x[:-1]] * 2 + rng.normal(0, 0.5, 200)  # y follows x by one step
    _, p, n = granger(y, x, 2)
    assert p < 1e-10 and n == 198
    _, p_rev, _ = granger(x, y, 2)
    assert p_rev > 0.01
    assert np.isnan(granger(y[:8], x[:8], 2)[1])  # too short to test
    lags = {k: c for k, c, _ in xcorr(x, y, 3)}
    assert max(lags, key=lambda k: lags[k]) == 1


def test_granger_skips_unobserved_periods():
    x = np.arange(30, dtype=float) % 3
    y = np.r_[0, x[:-1]]
    seen = np.ones(30, bool)
    seen[10:20] = False
    _, _, n = granger(y, x, 2, seen)
    assert n == (30 - 2) - 12  # periods 10..21 lack a fully observed window


@pytest.fixture
def lag_ws(tmp_path):
    start = dt.datetime(2016, 1, 4, 9)  # a Monday
    rows, i = [], 1
    for w in range(40):
        monday = start + dt.timedelta(weeks=w)
        pushes = 4 if w in PUSH_WEEKS else 0
        follows = 6 if w - 1 in PUSH_WEEKS else 0
        for k in range(pushes):
            rows.append(post(i, "op1", (monday + dt.timedelta(hours=k)).strftime("%Y-%m-%d %H:%M:%S"), "#pushtag!"))
            i += 1
        for k in range(follows + BACKGROUND[w]):
            user = f"crowd{k}"
            rows.append(
                post(i, user, (monday + dt.timedelta(days=2, hours=k)).strftime("%Y-%m-%d %H:%M:%S"), "so #PushTag")
            )
            i += 1
        rows.append(post(i, "crowd0", (monday + dt.timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S"), "weather"))
        i += 1
    return make_ws(tmp_path, rows), accounts_file(tmp_path, ["op1"])


def test_outside_uptake_after_pushes(lag_ws):
    ws, op = lag_ws
    r = narratives(ws, str(op), terms="pushtag", lags=1)
    row = r.terms.to_pylist()[0]
    assert row["op_posts"] == 4 * len(PUSH_WEEKS)
    assert row["outside_posts"] == 6 * len(PUSH_WEEKS) + sum(BACKGROUND)
    # the operation's pushes predict the outside's rise far better than the other way round (spaced
    # pushes make the operation itself somewhat predictable, so the reverse test is not null)
    assert row["granger_p"] < 1e-6 and row["reverse_p"] > 1000 * row["granger_p"]
    assert "outside volume rises after operation volume" in row["verdict"] and "not cause" in row["verdict"]
    lags = {x["lag"]: x["corr"] for x in r.lags.to_pylist()}
    assert max(lags, key=lambda k: lags[k]) == 1
    series = r.series.to_pylist()
    assert sum(s["op_posts"] for s in series) == row["op_posts"]
