"""Amplifiers: inbound and outbound amplification by kind, on a hand-built conversation."""

from __future__ import annotations

import pytest
from test_investigate import accounts_file, make_ws, post, retweet

from trollscope.investigate import amplifiers

D = "2016-02-{d:02d} 08:00:00"


@pytest.fixture
def talk_ws(tmp_path):
    rows = [
        post(100, "y", D.format(d=1), "original by y"),
        post(1, "o1", D.format(d=2), "hello @y"),  # outbound mention
        retweet(2, "o2", D.format(d=3), "y", 100, "original by y"),  # outbound repost (its @y is not a 2nd act)
        post(3, "o1", D.format(d=4), "hi @o2"),  # internal
        post(4, "o1", D.format(d=5), "@o1 talking to myself"),  # nobody amplifies themself
        retweet(5, "x1", D.format(d=6), "o1", 1, "hello @y"),  # inbound repost
        post(6, "x1", D.format(d=7), "@o2 nice", in_reply_to_userid="u_o2", in_reply_to_tweetid="2"),  # inbound reply
        post(7, "x2", D.format(d=8), "look at this", quoted_tweet_tweetid="1"),  # inbound quote, via the post id
        post(8, "x2", D.format(d=9), "hey @O1"),  # inbound mention, any case
        post(9, "x3", D.format(d=10), "unrelated"),
    ]
    return make_ws(tmp_path, rows), str(accounts_file(tmp_path, ["o1", "o2"]))


def test_inbound_by_kind_with_times_and_posts(talk_ws):
    ws, op = talk_ws
    r = amplifiers(ws, op)
    inbound = {a["handle"]: a for a in r.inbound.to_pylist()}
    assert set(inbound) == {"x1", "x2"}
    x1, x2 = inbound["x1"], inbound["x2"]
    assert (x1["reposts"], x1["quotes"], x1["replies"], x1["mentions"], x1["total"]) == (1, 0, 1, 0, 2)
    assert (x2["reposts"], x2["quotes"], x2["replies"], x2["mentions"], x2["total"]) == (0, 1, 0, 1, 2)
    assert x1["op_accounts"] == 2 and x2["op_accounts"] == 1
    assert x1["first_at"].day == 6 and x1["last_at"].day == 7
    assert x1["example_post_ids"] == ["5", "6"]
    posts = r.inbound_posts.to_pylist()
    assert [(p["post_id"], p["kind"], p["target_account_id"]) for p in posts] == [
        ("5", "repost", "u_o1"),
        ("6", "reply", "u_o2"),
        ("7", "quote", "u_o1"),
        ("8", "mention", "u_o1"),
    ]
    members = {m["handle"]: m["total"] for m in r.amplified_members.to_pylist()}
    assert members == {"o1": 3, "o2": 1}


def test_outbound_and_internal(talk_ws):
    ws, op = talk_ws
    r = amplifiers(ws, op)
    out = r.outbound.to_pylist()
    assert len(out) == 1
    y = out[0]
    assert y["target_account_id"] == "u_y" and y["target_handle"] == "y"
    assert (y["reposts"], y["mentions"], y["total"], y["op_accounts"]) == (1, 1, 2, 2)
    assert y["target_posts_here"] is True and y["example_post_ids"] == ["1", "2"]
    s = r.summary
    assert s["internal_posts"] == 1 and s["internal_share"] == pytest.approx(1 / 3)
    assert s["inbound"]["posts"] == 4 and s["outbound"]["posts"] == 2
    by_group = r.outbound_by_group.to_pylist()
    assert [(g["grp"], g["target"], g["total"], g["rank"]) for g in by_group] == [("operation", "u_y", 2, 1)]


def test_an_operation_without_outside_accounts(talk_ws):
    ws, _ = talk_ws
    r = amplifiers(ws, "all")
    assert r.inbound.num_rows == 0 and r.outbound.num_rows == 0
    assert any("who amplified it cannot be measured" in n for n in r.notes)


def test_outside_accounts_that_never_amplified(talk_ws, tmp_path):
    ws, _ = talk_ws
    r = amplifiers(ws, str(accounts_file(tmp_path, ["x3"], "x3.txt")))
    assert r.inbound.num_rows == 0
    assert any("none of the" in n for n in r.notes)
