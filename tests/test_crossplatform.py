"""The cross-platform layer, and a simulated cross-platform operation found by `trollscope run`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import trollscope as ts
from trollscope.cli import main
from trollscope.crossplatform import cross_platform
from trollscope.detect import detect
from trollscope.simulate_crossplatform import crossplatform_collection


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory):
    return crossplatform_collection(tmp_path_factory.mktemp("xp"), seed=3)


def test_simulated_operation_pairs_and_evidence(collection, tmp_path: Path) -> None:
    r = ts.ingest(str(collection.folder), tmp_path / "ws")
    assert r.readers == {"telegram": 1, "twarc": 1}
    assert r.records == collection.telegram_messages + collection.tweets == r.stored
    x = cross_platform(tmp_path / "ws", window=600)
    channels = [a for a in collection.operation if a.startswith("telegram:")]
    accounts = [a for a in collection.operation if not a.startswith("telegram:")]
    pairs = {(p["account_a"], p["account_b"]) for p in x.pairs.to_pylist()}
    assert pairs == {(c, a) for c in channels for a in accounts}  # every channel with every account, nothing else
    assert x.groups == 1 and set(x.members.column("account_id").to_pylist()) == set(collection.operation)
    con = ts.Workspace(tmp_path / "ws").connect()
    platform = dict(con.sql("SELECT post_id, platform FROM posts").fetchall())
    for p in x.pairs.to_pylist():
        assert (p["platform_a"], p["platform_b"]) == ("telegram", "twitter")
        assert p["items"] >= 12  # each campaign link, and the hub's text where a relay's forward meets it
        for e in p["evidence"]:
            assert (platform[e["post_a"]], platform[e["post_b"]]) == ("telegram", "twitter")
            assert abs(e["time_a"] - e["time_b"]) <= timedelta(seconds=600)
    assert x.params["window"] == 600


def test_trollscope_run_finds_the_operation_across_platforms(collection, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", str(collection.folder), "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    con = ts.Workspace(out / "workspace").connect()
    members = con.sql(
        "SELECT m.account_id, any_value(p.platform) AS platform FROM cluster_members m "
        "JOIN posts p USING (account_id) GROUP BY 1"
    ).fetchall()
    assert {a for a, _ in members} == set(collection.operation)  # all of it, no organic account
    assert {p for _, p in members} == {"telegram", "twitter"}
    pairs = (out / "exports" / "cross_platform_pairs.csv").read_text().splitlines()
    assert len(pairs) == 1 + 6 * 10


def _post(i: int, account: str, platform: str, minutes: float, url: str) -> dict:
    t = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    return {"post_id": f"{platform}{i}", "handle": account, "platform": platform, "created_at": t.isoformat(),
            "text": f"look {i}", "urls": url}  # fmt: skip


def test_window_platforms_and_crowd(tmp_path: Path) -> None:
    rows = [
        _post(1, "a", "telegram", 0, "https://x.example/1"), _post(2, "b", "twitter", 5, "https://x.example/1"),
        _post(3, "a", "telegram", 60, "https://x.example/2"), _post(4, "b", "twitter", 62, "https://x.example/2"),
        # c and d share two links too, but an hour apart: outside the window
        _post(5, "c", "telegram", 0, "https://y.example/1"), _post(6, "d", "twitter", 61, "https://y.example/1"),
        _post(7, "c", "telegram", 200, "https://y.example/2"), _post(8, "d", "twitter", 261, "https://y.example/2"),
        # e and f within minutes, but on the same platform
        _post(9, "e", "twitter", 0, "https://z.example/1"), _post(10, "f", "twitter", 1, "https://z.example/1"),
        _post(11, "e", "twitter", 90, "https://z.example/2"), _post(12, "f", "twitter", 91, "https://z.example/2"),
    ]  # fmt: skip
    # a crowd link: g on telegram and h on twitter share it, and so do 60 other accounts
    rows += [_post(100 + k, f"crowd{k}", "twitter", k / 10, "https://viral.example/") for k in range(60)]
    rows += [
        _post(200, "g", "telegram", 0, "https://viral.example/"),
        _post(201, "h", "twitter", 2, "https://viral.example/"),
    ]
    rows += [
        _post(202, "g", "telegram", 50, "https://w.example/"),
        _post(203, "h", "twitter", 52, "https://w.example/"),
    ]
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(json.dumps(r | {"urls": [r["urls"]]}) for r in rows) + "\n")
    r = ts.ingest(str(path), tmp_path / "ws", options=ts.ReadOptions(mapping={"urls": "urls"}))
    assert r.stored == len(rows)
    x = cross_platform(tmp_path / "ws", window=600, min_items=2)
    # the Telegram accounts are namespaced, the Twitter ones bare (docs/ingest.md)
    assert [(p["account_a"], p["account_b"], p["items"]) for p in x.pairs.to_pylist()] == [("telegram:a", "b", 2)]
    wide = cross_platform(tmp_path / "ws", window=4000, min_items=2, max_item_accounts=100)
    assert {(p["account_a"], p["account_b"]) for p in wide.pairs.to_pylist()} == {
        ("telegram:a", "b"), ("telegram:c", "d"), ("telegram:g", "h"),
    }  # fmt: skip


def test_linked_accounts_act_as_one_actor(collection, tmp_path: Path) -> None:
    """The hub channel and one Twitter account declared one actor: their own cross-posting is no
    pair, and the actor pairs with the others on both platforms."""
    ts.ingest(str(collection.folder), tmp_path / "ws")
    hub, first = collection.operation[0], collection.operation[6]
    (tmp_path / "links.csv").write_text(f"account_id,actor\n{hub},Truth Now\n{first},Truth Now\n")
    x = cross_platform(tmp_path / "ws", window=600, links=tmp_path / "links.csv")
    pairs = {(p["account_a"], p["account_b"]) for p in x.pairs.to_pylist()}
    relays, others = collection.operation[1:6], collection.operation[7:]
    expected = {("Truth Now", a) for a in others} | {(r, b) for r in relays for b in [*others, "Truth Now"]}
    assert pairs == expected and len(pairs) == 9 + 5 * 10
    assert x.params["links"] == str(tmp_path / "links.csv")


def test_links_stored_by_ingest_are_used_by_the_layer(collection, tmp_path: Path) -> None:
    """`ingest --links` keeps the links in the workspace; the layer then uses them without being told."""
    hub, first = collection.operation[0], collection.operation[6]
    links = tmp_path / "links.csv"
    links.write_text(f"account_id,actor,note\n{hub},Truth Now,the hub\n{first},Truth Now,its Twitter\n")
    res = CliRunner().invoke(
        main, ["ingest", str(collection.folder), "-w", str(tmp_path / "ws"), "--links", str(links), "--json"]
    )
    assert res.exit_code == 0, res.output
    got = ts.Workspace(tmp_path / "ws").table("account_links").to_pylist()
    assert [(x["account_id"], x["actor"], x["source_line"]) for x in got] == [
        (hub, "Truth Now", 2), (first, "Truth Now", 3),
    ]  # fmt: skip
    stored = cross_platform(tmp_path / "ws", window=600)
    given = cross_platform(tmp_path / "ws", window=600, links=links)
    assert stored.pairs.to_pylist() == given.pairs.to_pylist()
    assert len(stored.pairs) == 9 + 5 * 10 and stored.params["linked_accounts"] == 2
    assert "Truth Now" in stored.members.column("account_id").to_pylist()


def test_run_with_links(collection, tmp_path: Path) -> None:
    hub, first = collection.operation[0], collection.operation[6]
    links = tmp_path / "links.csv"
    links.write_text(f"account_id,actor\n{hub},Truth Now\n{first},Truth Now\n")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", str(collection.folder), "-o", str(out), "--links", str(links), "--json"])
    assert res.exit_code == 0, res.output
    pairs = (out / "exports" / "cross_platform_pairs.csv").read_text().splitlines()
    assert len(pairs) == 1 + 9 + 5 * 10  # the actor's own cross-posting is no pair
    assert sum("Truth Now" in p for p in pairs) == 9 + 5


def test_links_that_name_no_account_in_the_workspace_are_noted(collection, tmp_path: Path) -> None:
    hub = collection.operation[0]
    ts.ingest(str(collection.folder), tmp_path / "ws")
    handle = (
        ts.Workspace(tmp_path / "ws")
        .connect()
        .execute("SELECT any_value(handle) FROM posts WHERE account_id = ?", [hub])
        .fetchall()[0][0]
    )
    links = tmp_path / "links.csv"
    links.write_text(f"account_id,actor\n{hub},A\n{handle},A\nnobody,B\n")
    r = ts.ingest(str(collection.folder), tmp_path / "ws", options=ts.ReadOptions(links=str(links)))
    [note] = [n for n in r.notes if "linked accounts" in n]
    assert f"2 of its 3 linked accounts have no posts in the workspace: line 3 {handle!r} (the handle of {hub}" in note
    assert "line 4 'nobody'" in note


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        ("account_id,who\na,b\n", ":1:", "the header names no 'actor' column"),
        ("account_id,actor\na,X\nb,X,extra\n", ":3:", "3 fields where the header names 2"),
        ("account_id,actor\na,\n", ":2:", "no actor on this line"),
        ("account_id,actor\na,X\nb,Y\n\na,Z\n", ":5:", "a is linked to 'Z' here and to 'X' on line 2"),
        ("account_id,actor\n", "", "no links below the header"),
        ("", "", "empty"),
    ],
)
def test_links_file_mistakes_are_one_error_naming_the_line(tmp_path: Path, text: str, where: str, says: str) -> None:
    links = tmp_path / "links.csv"
    links.write_text(text)
    (tmp_path / "a.jsonl").write_text(json.dumps(_post(1, "a", "telegram", 0, "https://x.example/")) + "\n")
    res = CliRunner().invoke(
        main, ["ingest", str(tmp_path / "a.jsonl"), "-w", str(tmp_path / "ws"), "--links", str(links)]
    )
    assert res.exit_code == 2  # a bad value on the command line: nothing is read
    assert f"{links}{where}" in res.output and says in res.output
    assert not (tmp_path / "ws").exists()
    with pytest.raises(ts.readers.ReaderError, match=says):
        ts.ingest(str(tmp_path / "a.jsonl"), tmp_path / "ws2", options=ts.ReadOptions(links=str(links)))


def test_links_file_not_utf8(tmp_path: Path) -> None:
    links = tmp_path / "links.csv"
    links.write_bytes(b"account_id,actor\na,X\nb,Caf\xe9\n")
    with pytest.raises(ts.readers.ReaderError, match=r"links.csv:3: not UTF-8"):
        ts.ingest(str(links), tmp_path / "ws", options=ts.ReadOptions(links=str(links)))


# --- the cross-platform layer inside detect: the same null model, pairs on two platforms only ------------------


def test_detect_cross_platform_layer_is_tested_against_the_null(collection, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ts.ingest(str(collection.folder), ws)
    res = detect(ws, write=False, layers=("cross-platform",), groups=False)
    edges = res.edges.to_pylist()
    channels = [a for a in collection.operation if a.startswith("telegram:")]
    accounts = [a for a in collection.operation if not a.startswith("telegram:")]
    significant = {tuple(sorted((e["account_a"], e["account_b"]))) for e in edges if e["significant"]}
    # Every hub or relay channel with every operation account, and no pair on one platform or with an organic one.
    assert significant == {tuple(sorted((c, a))) for c in channels for a in accounts}
    con = ts.Workspace(ws).connect()
    platform = dict(con.sql("SELECT account_id, any_value(platform) FROM posts GROUP BY 1").fetchall())
    assert all(platform[e["account_a"]] != platform[e["account_b"]] for e in edges)
    # The family is the pairs of active accounts on two platforms, counted here from the posts themselves.
    per = dict(
        con.sql(
            f"""SELECT platform, count(DISTINCT account_id) FROM ({_actions()}) JOIN posts USING (post_id)
            GROUP BY platform"""
        ).fetchall()
    )
    assert res.layers["cross-platform"]["scales"]["1min"]["family"] == per["telegram"] * per["twitter"]
    shown = res.evidence.to_pylist()
    assert shown and all(x["layer"] == "cross-platform" for x in shown)
    for x in shown:  # evidence from both sides, within the edge's window, naming the shared link or text
        assert {platform[x["account_a"]], platform[x["account_b"]]} == {"telegram", "twitter"}
        window = next(
            e["window"] for e in edges if {e["account_a"], e["account_b"]} == {x["account_a"], x["account_b"]}
        )
        assert x["seconds_apart"] <= window
        assert x["item"].startswith("truth-now.example/") or x["item"] in (x["text_a"] + x["text_b"]).lower()


def _actions() -> str:
    from trollscope.crossplatform import actions_sql
    from trollscope.detect.layers import CROSS_MIN_TEXT_CHARS

    return f"SELECT post_id FROM ({actions_sql(CROSS_MIN_TEXT_CHARS)}) WHERE item IS NOT NULL"


def test_detect_skips_the_cross_platform_layer_on_one_platform(tmp_path: Path) -> None:
    rows = [_post(i, f"acct{i % 7}", "twitter", i, "https://example.org/a") for i in range(40)]
    src = tmp_path / "posts.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows))
    ts.ingest(str(src), tmp_path / "ws")
    res = detect(tmp_path / "ws", write=False, layers=("co-link", "cross-platform"))
    assert res.layers["cross-platform"]["skipped"] == "the posts are not from two known platforms"
    assert not [e for e in res.edges.to_pylist() if e["layer"] == "cross-platform"]


def test_an_unknown_platform_is_no_second_platform(tmp_path: Path) -> None:
    """A generic file without a platform is `unknown`, not a platform of its own: beside Twitter
    posts it makes no cross-platform pair (found on the real political mix: 6 such edges)."""
    rows = [_post(i, f"t{i % 3}", "twitter", i, "https://example.org/a") for i in range(20)]
    rows += [_post(100 + i, f"u{i % 3}", "", i, "https://example.org/a") for i in range(20)]
    for r in rows[20:]:
        del r["platform"]
    src = tmp_path / "posts.jsonl"
    src.write_text("\n".join(json.dumps(r | {"urls": [r["urls"]]}) for r in rows))
    ts.ingest(str(src), tmp_path / "ws", options=ts.ReadOptions(mapping={"urls": "urls"}))
    con = ts.Workspace(tmp_path / "ws").connect()
    assert {p for (p,) in con.sql("SELECT DISTINCT platform FROM posts").fetchall()} == {"twitter", "unknown"}
    res = detect(tmp_path / "ws", write=False, layers=("co-link", "cross-platform"))
    assert res.layers["cross-platform"]["skipped"] == "the posts are not from two known platforms"


def test_cross_platform_null_is_dealt_out_within_each_platform(tmp_path: Path) -> None:
    """λ_ab = n_a n_b W(P, Q) / (C_P C_Q), counted here by brute force over the actions (few accounts:
    one popularity stratum), against what detect reports for every candidate pair."""
    import itertools
    import random

    rng = random.Random(5)
    accounts = [(f"t{i}", "telegram") for i in range(4)] + [(f"w{i}", "twitter") for i in range(6)]
    rows, actions = [], []
    for i in range(90):
        acct, pf = rng.choice(accounts)
        url, minute = f"https://n.example/{rng.randrange(12)}", rng.uniform(0, 120)
        if any(a == acct and u == url for a, _, u, _ in actions):
            continue  # one action per account and link here, so no bucket merges two
        rows.append(_post(i, acct, pf, minute, url))
        actions.append((acct, pf, url, minute * 60))
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(json.dumps(r | {"urls": [r["urls"]]}) for r in rows) + "\n")
    ts.ingest(str(path), tmp_path / "ws", options=ts.ReadOptions(mapping={"urls": "urls"}))
    res = detect(tmp_path / "ws", write=False, layers=("cross-platform",), window=300, groups=False, keep_edges=1)

    near = [(x, y) for x, y in itertools.combinations(actions, 2)
            if x[1] != y[1] and x[2] == y[2] and abs(x[3] - y[3]) <= 300]  # fmt: skip
    n = {a: sum(1 for x in actions if x[0] == a) for a, _ in accounts}
    c = {pf: sum(n[a] for a, p in accounts if p == pf) for pf in ("telegram", "twitter")}
    expected, count = {}, {}
    for a, pa_ in accounts:
        for b, pb_ in accounts:
            if pa_ == "telegram" and pb_ == "twitter":
                mine = [(x, y) if x[0] == a else (y, x) for x, y in near if {x[0], y[0]} == {a, b}]
                if mine:  # a generic file's Telegram accounts are namespaced, its Twitter ones bare
                    expected[(f"telegram:{a}", b)] = n[a] * n[b] * len(near) / (c["telegram"] * c["twitter"])
                    count[(f"telegram:{a}", b)] = min(len({x for x, _ in mine}), len({y for _, y in mine}))
    got = {}
    for e in res.edges.to_pylist():
        a, b = (
            (e["account_a"], e["account_b"])
            if e["account_a"].startswith("telegram:")
            else (e["account_b"], e["account_a"])
        )
        got[(a, b)] = (e["count"], e["expected"])
    assert set(got) == set(expected) and expected
    for k in expected:
        assert got[k][0] == count[k]
        assert got[k][1] == pytest.approx(expected[k], rel=1e-9)


def test_detect_layer_uses_the_stored_links(collection, tmp_path: Path) -> None:
    """With the hub channel and one Twitter account linked, detect tests no pair of the two, takes
    that pair out of the family, and keeps every other pair of the operation."""
    hub, first = collection.operation[0], collection.operation[6]
    links = tmp_path / "links.csv"
    links.write_text(f"account_id,actor\n{hub},Truth Now\n{first},Truth Now\n")
    plain, linked = tmp_path / "plain", tmp_path / "linked"
    ts.ingest(str(collection.folder), plain)
    res = CliRunner().invoke(main, ["ingest", str(collection.folder), "-w", str(linked), "--links", str(links)])
    assert res.exit_code == 0, res.output
    kw = dict(write=False, layers=("cross-platform",), groups=False, keep_edges=1)
    a, b = detect(plain, **kw), detect(linked, **kw)
    pair = lambda e: frozenset((e["account_a"], e["account_b"]))  # noqa: E731
    sig_a = {pair(e) for e in a.edges.to_pylist() if e["significant"]}
    sig_b = {pair(e) for e in b.edges.to_pylist() if e["significant"]}
    assert frozenset((hub, first)) in sig_a
    assert frozenset((hub, first)) not in {pair(e) for e in b.edges.to_pylist()}
    assert sig_b == sig_a - {frozenset((hub, first))}
    fa, fb = (r.layers["cross-platform"]["scales"]["1min"]["family"] for r in (a, b))
    assert fa - fb == 1  # one actor on two platforms: one pair fewer in the family
