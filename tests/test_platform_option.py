"""`--platform NAME`: the platform of files whose format does not say it (generic, the Meta Content
Library), with their ids namespaced as the platform readers' are; other formats keep their own."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import trollscope as ts
from trollscope.cli import main

FIXTURES = Path(__file__).parent / "data" / "platforms"
ROWS = [  # a generic export of forum posts: ids, a reply, and a platform column that says otherwise
    {"post_id": "1", "handle": "Ann", "created_at": "2024-01-01T00:00:00Z", "text": "first", "platform": "twitter",
     "reply_to_id": ""},
    {"post_id": "2", "handle": "bob", "created_at": "2024-01-01T00:05:00Z", "text": "a reply", "platform": "twitter",
     "reply_to_id": "1"},
]  # fmt: skip


def _write(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _posts(ws: Path) -> dict[str, dict]:
    con = ts.Workspace(ws).connect()
    try:
        rel = con.sql("SELECT * FROM posts")
        return {r[0]: dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()}
    finally:
        con.close()


def test_generic_file_gets_the_platform_and_its_namespace(tmp_path: Path) -> None:
    path = _write(tmp_path / "forum.csv", ROWS)
    r = ts.ingest(
        str(path), tmp_path / "ws", options=ts.ReadOptions(platform="vk", mapping={"reply_to_id": "reply_to_id"})
    )
    assert (r.records, r.stored) == (2, 2)
    assert any("platform vk (from --platform)" in n for n in r.notes)
    got = _posts(tmp_path / "ws")
    assert set(got) == {"vk:1", "vk:2"}
    assert {p["platform"] for p in got.values()} == {"vk"}  # over the file's own platform column
    assert (got["vk:1"]["account_id"], got["vk:1"]["handle"]) == ("vk:ann", "Ann")
    assert (got["vk:2"]["kind"], got["vk:2"]["reply_to_id"]) == ("reply", "vk:1")
    accounts = {
        a for (a,) in ts.Workspace(tmp_path / "ws").connect().execute("SELECT account_id FROM accounts").fetchall()
    }
    assert accounts == {"vk:ann", "vk:bob"}


def test_the_same_handle_on_two_platforms_is_two_accounts(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.csv", ROWS)
    ts.ingest(str(a), tmp_path / "ws")  # its platform column: twitter, ids stay bare
    ts.ingest(str(a), tmp_path / "ws", options=ts.ReadOptions(platform="reddit"))
    got = _posts(tmp_path / "ws")
    assert {(p["platform"], p["account_id"]) for p in got.values() if p["handle"] == "Ann"} == {
        ("twitter", "ann"), ("reddit", "reddit:ann"),
    }  # fmt: skip
    assert len(got) == 4  # not duplicates of one another


def test_a_platform_column_namespaces_too(tmp_path: Path) -> None:
    rows = [ROWS[0] | {"platform": "Telegram"}, ROWS[1] | {"handle": "telegram:bob", "platform": "telegram"}]
    ts.ingest(str(_write(tmp_path / "a.csv", rows)), tmp_path / "ws")
    got = _posts(tmp_path / "ws")
    assert {p["account_id"] for p in got.values()} == {"telegram:ann", "telegram:bob"}  # never telegram:telegram:
    assert {p["platform"] for p in got.values()} == {"telegram"}


def test_formats_that_say_their_platform_keep_it(tmp_path: Path) -> None:
    line = {"id": "c1", "author": "u", "subreddit": "news", "created_utc": 1_600_000_000, "body": "hi",
            "link_id": "t3_a", "parent_id": "t3_a"}  # fmt: skip
    (tmp_path / "RC.ndjson").write_text(json.dumps(line) + "\n")
    r = ts.ingest(str(tmp_path / "RC.ndjson"), tmp_path / "ws", options=ts.ReadOptions(platform="facebook"))
    assert r.stored == 1
    assert "--platform facebook not applied to 1 reddit file: that format says its platform" in r.notes
    assert {p["platform"] for p in _posts(tmp_path / "ws").values()} == {"reddit"}


def test_meta_content_library_takes_only_its_own_platforms(tmp_path: Path) -> None:
    r = ts.ingest(str(FIXTURES / "mcl_instagram.csv"), tmp_path / "ws", options=ts.ReadOptions(platform="telegram"))
    assert "--platform telegram not applied to 1 mcl file: that format holds facebook or instagram posts" in r.notes
    assert {p["platform"] for p in _posts(tmp_path / "ws").values()} == {"instagram"}  # from its columns


@pytest.mark.parametrize("bad", ["Twitter X", "x/y", "a" * 40])
def test_a_bad_platform_name_is_one_clear_error(tmp_path: Path, bad: str) -> None:
    path = _write(tmp_path / "a.csv", ROWS)
    res = CliRunner().invoke(main, ["ingest", str(path), "-w", str(tmp_path / "ws"), "--platform", bad])
    assert res.exit_code == 2 and "is not a platform name: a lower-case word" in res.output
    with pytest.raises(ts.readers.ReaderError, match="is not a platform name"):
        ts.ingest(str(path), tmp_path / "ws", options=ts.ReadOptions(platform=bad))


def test_cli_platform_is_case_insensitive(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.csv", ROWS)
    res = CliRunner().invoke(main, ["ingest", str(path), "-w", str(tmp_path / "ws"), "--platform", "Reddit"])
    assert res.exit_code == 0, res.output
    assert {p["platform"] for p in _posts(tmp_path / "ws").values()} == {"reddit"}
