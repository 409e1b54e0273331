"""Targeting: lexicon matching, lean, the both-sides index and its bootstrap, candidates, sentiment."""

from __future__ import annotations

import numpy as np
import pytest
from test_investigate import accounts_file, make_ws, post
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from trollscope.investigate import both_sides_index, load_lexicon, targeting
from trollscope.investigate.targeting import bootstrap_index
from trollscope.workspace import Workspace

LEXICON = """side,kind,term,note
left,hashtag,lefttag,
left,term,left phrase,
right,hashtag,righttag,
right,term,right words,
"""
CANDIDATES = "candidate,party,pattern\nAlpha,X,\\balpha\\b\nBeta,Y,\\bbeta\\b\n"

T = "2016-03-0{d} 12:00:00"
POSTS = [
    # l1: 3 left (2 hashtags, 1 phrase with odd case and spacing), 1 right
    ("l1", 1, "#LeftTag now"),
    ("l1", 1, "again #lefttag"),
    ("l1", 2, "a LEFT   Phrase here"),
    ("l1", 2, "#righttag"),
    # l2: 2 left, 1 neutral that only looks close (no word boundary), 1 neutral
    ("l2", 3, "left phrase"),
    ("l2", 3, "#lefttag!"),
    ("l2", 4, "xleft phrase and leftphrase"),
    ("l2", 4, "nothing"),
    # r1: 4 right
    ("r1", 1, "#righttag"),
    ("r1", 2, "Right Words"),
    ("r1", 3, "#RightTag #righttag"),
    ("r1", 4, "right words."),
    # m1: one mixed post (both sides), one neutral
    ("m1", 5, "#lefttag and right words"),
    ("m1", 5, "quiet"),
    # candidates
    ("r1", 6, "alpha is great and wonderful"),
    ("r1", 6, "alpha is a terrible awful liar"),
    ("l1", 6, "beta! alphabet"),
]


@pytest.fixture
def lean_ws(tmp_path):
    rows = [post(i, u, T.format(d=d), text) for i, (u, d, text) in enumerate(POSTS, start=1)]
    ws = make_ws(tmp_path, rows)
    (tmp_path / "lex.csv").write_text(LEXICON)
    (tmp_path / "cands.csv").write_text(CANDIDATES)
    groups = accounts_file(tmp_path, ["handle,side", "l1,L", "l2,L", "r1,R", "m1,M"], "groups.csv")
    return ws, str(groups), str(tmp_path / "lex.csv"), str(tmp_path / "cands.csv")


def _run(lean_ws, **kw):
    ws, groups, lex, cands = lean_ws
    kw.setdefault("min_political", 1)
    return targeting(ws, groups, "label:side", lexicon=lex, candidates=cands, **kw)


def test_posts_are_classified_by_the_lexicon(lean_ws):
    r = _run(lean_ws)
    acc = {a["handle"]: a for a in r.accounts.to_pylist()}
    assert (acc["l1"]["left_posts"], acc["l1"]["right_posts"], acc["l1"]["mixed_posts"]) == (3, 1, 0)
    assert (acc["l2"]["left_posts"], acc["l2"]["right_posts"]) == (2, 0)
    assert (acc["r1"]["left_posts"], acc["r1"]["right_posts"]) == (0, 4)
    assert (acc["m1"]["left_posts"], acc["m1"]["right_posts"], acc["m1"]["mixed_posts"]) == (0, 0, 1)
    assert acc["l1"]["lean"] == pytest.approx((1 - 3) / 4)
    assert acc["l1"]["side"] == "left" and acc["r1"]["side"] == "right" and acc["m1"]["side"] == "mixed"
    r = _run(lean_ws, sentiment=False, min_political=5)
    assert {a["side"] for a in r.accounts.to_pylist()} == {"too few"}


def test_group_lean_and_both_sides_index(lean_ws):
    r = _run(lean_ws, sentiment=False)
    g = {row["grp"]: row for row in r.groups.to_pylist()}
    # group L: left 3 + 2 = 5, right 1 -> lean -4/6, index 1 - 4/6
    assert (g["L"]["left_posts"], g["L"]["right_posts"]) == (5, 1)
    assert g["L"]["lean"] == pytest.approx(-4 / 6)
    assert g["L"]["both_sides"] == pytest.approx(1 - 4 / 6)
    assert g["R"]["both_sides"] == 0.0 and g["R"]["ci_low"] == 0.0 and g["R"]["ci_high"] == 0.0
    assert g["M"]["political_posts"] == 1 and g["M"]["both_sides"] is None  # a mixed post is on neither side
    # the whole operation: 5 left, 5 right -> perfectly even
    o = r.summary["operation"]
    assert (o["left_posts"], o["right_posts"], o["mixed_posts"]) == (5, 5, 1)
    assert o["both_sides"] == 1.0 and o["lean"] == 0.0
    assert o["ci_low"] <= o["both_sides"] <= o["ci_high"]


def test_periods_split_the_operation(lean_ws):
    r = _run(lean_ws, sentiment=False, freq="day")
    days = {row["period"].day: row for row in r.periods.to_pylist()}
    # 1 March: l1's two left hashtags and r1's right one
    assert (days[1]["left_posts"], days[1]["right_posts"]) == (2, 1)
    assert days[1]["both_sides"] == pytest.approx(1 - 1 / 3)


def test_both_sides_index_and_bootstrap_by_hand():
    assert both_sides_index(5, 5) == 1.0
    assert both_sides_index(3, 1) == pytest.approx(0.5)
    assert both_sides_index(7, 0) == 0.0
    assert np.isnan(both_sides_index(0, 0))
    rng = np.random.default_rng(1)
    # identical accounts: every resample gives the same split
    assert bootstrap_index(np.array([1.0, 1, 1]), np.array([1.0, 1, 1]), 200, rng) == (1.0, 1.0)
    assert bootstrap_index(np.array([4.0, 2]), np.array([0.0, 0]), 200, rng) == (0.0, 0.0)
    # one all-left and one all-right account of equal size: resamples range from one side to even
    lo, hi = bootstrap_index(np.array([10.0, 0]), np.array([0.0, 10]), 2000, rng)
    assert lo == 0.0 and hi == 1.0
    # many balanced accounts: a tight interval around 1
    left = np.tile([3.0, 1.0], 200)
    right = np.tile([1.0, 3.0], 200)
    lo, hi = bootstrap_index(left, right, 1000, rng)
    assert 0.9 < lo < 1.0 and hi == 1.0
    assert all(np.isnan(bootstrap_index(np.array([]), np.array([]), 100, rng)))


def test_candidates_and_vader_sentiment(lean_ws):
    r = _run(lean_ws)
    c = {(row["grp"], row["candidate"]): row for row in r.candidates.to_pylist()}
    assert c[("R", "Alpha")]["mentions"] == 2
    assert c[("L", "Alpha")]["mentions"] == 0  # "alphabet" is not alpha
    assert c[("L", "Beta")]["mentions"] == 1
    vader = SentimentIntensityAnalyzer()
    scores = [
        vader.polarity_scores(t)["compound"] for t in ("alpha is great and wonderful", "alpha is a terrible awful liar")
    ]
    assert c[("R", "Alpha")]["mean_compound"] == pytest.approx(sum(scores) / 2)
    assert c[("R", "Alpha")]["positive_share"] == 0.5 and c[("R", "Alpha")]["negative_share"] == 0.5
    assert r.params["sentiment_model"].startswith("vaderSentiment")


def test_sentiment_is_cached_in_the_workspace(lean_ws):
    ws = lean_ws[0]
    seen: list[int] = []
    _run(lean_ws, progress=seen.append)
    assert sum(seen) == 3  # three distinct texts mention a candidate
    assert Workspace(ws).has("sentiment")
    seen.clear()
    r = _run(lean_ws, progress=seen.append)
    assert sum(seen) == 0
    assert {row["candidate"] for row in r.candidates.to_pylist() if row["mentions"]} == {"Alpha", "Beta"}


def test_no_political_posts_is_said(tmp_path):
    ws = make_ws(tmp_path, [post(1, "a", "2016-01-01 00:00:00", "lunch"), post(2, "b", "2016-01-02 00:00:00", "tea")])
    r = targeting(ws, "all", sentiment=False)
    assert r.summary["operation"]["political_posts"] == 0 and r.summary["operation"]["both_sides"] is None
    assert any("lexicon" in n for n in r.notes)


def test_builtin_lexicon_and_bad_files(tmp_path, lean_ws):
    lex = load_lexicon()
    sides = set(lex.column("side").to_pylist())
    assert sides == {"left", "right"} and lex.num_rows > 40
    assert "maga" in lex.column("term").to_pylist()
    bad = tmp_path / "bad.csv"
    bad.write_text("side,kind,term\ncentre,hashtag,x\n")
    with pytest.raises(ValueError, match=r"side left\|right"):
        load_lexicon(bad)
