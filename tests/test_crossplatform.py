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
