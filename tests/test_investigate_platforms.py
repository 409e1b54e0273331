"""Investigation outputs on a workspace with posts from several platforms carry where each row comes
from (platform, venue), and per-platform tables; on one platform they stay as they were."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import trollscope as ts
from trollscope.investigate import amplifiers, narratives, targeting, timeline
from trollscope.report import build_report

OPERATION = ["telegram:chan1", "telegram:chan2", "op1"]
# post_id, handle, platform, venue, minute, text, repost_of_id, reply_to_id
POSTS = [
    ("p1", "chan1", "telegram", "Chan One", 0, "Stop it now #stopthesteal https://a.example/1", None, None),
    ("p2", "op1", "twitter", None, 5, "#stopthesteal they lie", None, None),
    ("p3", "chan2", "telegram", "Chan Two", 9, "Vote early #election", None, None),
    ("p4", "fan1", "twitter", None, 12, "look at this #stopthesteal", "telegram:p1", None),  # a repost across platforms
    ("p5", "fan2", "twitter", None, 15, "@op1 so true #stopthesteal", None, None),
    ("p6", "tgfan", "telegram", "Chan Two", 20, "agree", None, "p3"),  # a reply in chan2's chat
    ("p7", "fan1", "twitter", None, 30, "nothing to see", None, None),
]


def _workspace(tmp_path: Path, one_platform: bool = False) -> tuple[Path, Path]:
    rows = []
    for pid, handle, platform, venue, minute, text, repost, reply in POSTS:
        rows.append({
            "post_id": pid, "handle": handle, "platform": "twitter" if one_platform else platform, "venue": venue,
            "created_at": f"2024-05-01T10:{minute:02d}:00Z", "text": text,
            "repost_of_id": (repost.split(":")[-1] if one_platform and repost else repost), "reply_to_id": reply,
        })  # fmt: skip
    data = tmp_path / "posts.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ws = tmp_path / "ws"
    r = ts.ingest(
        str(data), ws, options=ts.ReadOptions(mapping={"repost_of_id": "repost_of_id", "reply_to_id": "reply_to_id"})
    )
    assert r.stored == len(POSTS)
    ops = tmp_path / "operation.csv"
    ids = [a.split(":")[-1] for a in OPERATION] if one_platform else OPERATION
    ops.write_text("account_id\n" + "\n".join(ids) + "\n")
    return ws, ops


@pytest.fixture
def mixed(tmp_path: Path) -> tuple[Path, Path]:
    return _workspace(tmp_path)


def test_amplifiers_say_which_platform(mixed) -> None:
    ws, ops = mixed
    r = amplifiers(ws, str(ops))
    inbound = {x["account_id"]: x["platform"] for x in r.inbound.to_pylist()}
    assert inbound == {"fan1": "twitter", "fan2": "twitter", "telegram:tgfan": "telegram"}
    posts = {x["post_id"]: x for x in r.inbound_posts.to_pylist()}
    assert (posts["p4"]["platform"], posts["p4"]["target_account_id"], posts["p4"]["target_platform"]) == (
        "twitter", "telegram:chan1", "telegram",
    )  # fmt: skip
    assert (posts["telegram:p6"]["platform"], posts["telegram:p6"]["venue"]) == ("telegram", "Chan Two")
    assert posts["p5"]["target_platform"] == "twitter"
    assert {x["account_id"]: x["platform"] for x in r.amplified_members.to_pylist()} == {
        "telegram:chan1": "telegram", "telegram:chan2": "telegram", "op1": "twitter",
    }  # fmt: skip
    cols = r.inbound_posts.column_names
    assert cols.index("platform") == cols.index("handle") + 1  # beside the account it qualifies


def test_timeline_targeting_narratives_by_platform(mixed) -> None:
    ws, ops = mixed
    t = timeline(ws, str(ops), events=None)
    assert [(x["platform"], x["posts"], x["accounts"]) for x in t.by_platform.to_pylist()] == [
        ("telegram", 2, 2), ("twitter", 1, 1),
    ]  # fmt: skip
    g = targeting(ws, str(ops), sentiment=False, bootstrap=50)
    assert {x["account_id"]: x["platform"] for x in g.accounts.to_pylist()} == {
        "telegram:chan1": "telegram", "telegram:chan2": "telegram", "op1": "twitter",
    }  # fmt: skip
    assert sorted((x["platform"], x["accounts"], x["posts"]) for x in g.by_platform.to_pylist()) == [
        ("telegram", 2, 2), ("twitter", 1, 1),
    ]  # fmt: skip
    n = narratives(ws, str(ops), terms="stopthesteal")
    by = {x["platform"]: x for x in n.by_platform.to_pylist()}
    assert {p: (x["op_posts"], x["outside_posts"], x["outside_accounts"]) for p, x in by.items()} == {
        "telegram": (1, 0, 0), "twitter": (1, 2, 2),
    }  # fmt: skip
    first = {x["post_id"]: (x["platform"], x["venue"]) for x in n.first_posts.to_pylist()}
    assert first["telegram:p1"] == ("telegram", "Chan One") and first["p2"] == ("twitter", None)


def test_one_platform_adds_nothing(tmp_path: Path) -> None:
    ws, ops = _workspace(tmp_path, one_platform=True)
    a = amplifiers(ws, str(ops))
    assert "platform" not in a.inbound.column_names and "target_platform" not in a.inbound_posts.column_names
    assert a.inbound.num_rows == 3  # the same amplification, without the columns
    assert timeline(ws, str(ops), events=None).by_platform is None
    assert targeting(ws, str(ops), sentiment=False, bootstrap=50).by_platform is None
    n = narratives(ws, str(ops), terms="stopthesteal")
    assert n.by_platform is None and "platform" not in n.first_posts.column_names
    html = build_report(ws, tmp_path / "r.html", accounts=str(ops)).path.read_text()
    assert "By platform" not in html and 'data-col="target_platform"' not in html


def test_report_shows_the_platforms(mixed, tmp_path: Path) -> None:
    ws, ops = mixed
    html = build_report(ws, tmp_path / "r.html", accounts=str(ops), terms="stopthesteal").path.read_text()
    assert 'data-key="data.platforms"' in html
    assert html.count("<h3>By platform</h3>") == 3  # timeline, targeting, narratives
    for col in ("target_platform", "venue"):
        assert f'data-col="{col}"' in html


def test_cli_prints_the_platforms(mixed) -> None:
    from click.testing import CliRunner

    from trollscope.cli import main

    ws, ops = mixed
    run = CliRunner()
    base = ["-w", str(ws), "--accounts", str(ops)]
    amp = run.invoke(main, ["amplifiers", *base])
    assert amp.exit_code == 0, amp.output
    header = next(line for line in amp.output.splitlines() if line.lstrip().startswith("account"))
    assert "platform" in header.split()
    tgfan = next(line for line in amp.output.splitlines() if line.lstrip().startswith("tgfan"))
    assert tgfan.split()[1] == "telegram"
    for cmd, extra in (("timeline", ["--events", "none"]), ("targeting", ["--bootstrap", "50"]),
                       ("narratives", ["--terms", "stopthesteal"])):  # fmt: skip
        res = run.invoke(main, [cmd, *base, *extra])
        assert res.exit_code == 0, res.output
        assert "by platform:" in res.output and "telegram" in res.output
