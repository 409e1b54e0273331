"""The detect, export and evaluate commands: output shapes, files, errors (one line, no traceback)."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from test_detect_cases import ring_and_crowd

import trollscope as ts
from trollscope.cli import main


@pytest.fixture(scope="module")
def ring_ws(tmp_path_factory):
    d = tmp_path_factory.mktemp("ring")
    b = ring_and_crowd(crowd=100, ring=6, ring_posts=20)
    ts.ingest(str(b.write(d / "a.csv")), d / "ws")
    return d / "ws", b.rows


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_detect_json(ring_ws):
    ws, _ = ring_ws
    r = _run("detect", "-w", ws, "--layers", "co-repost,co-post", "--window", "90s", "--alpha", "0.001", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["params"]["alpha"] == 0.001 and d["params"]["windows"] == {"co-repost": [90.0], "co-post": [90.0]}
    assert d["flagged_accounts"] == [f"u{100 + m}" for m in range(6)]
    (c,) = d["clusters"]
    assert set(c) >= {"id", "size", "accounts", "layers", "p_value", "evidence"}
    assert c["size"] == 6 and sorted(c["accounts"]) == d["flagged_accounts"] and c["layers"] == {"co-repost": 15}
    e = c["evidence"][0]
    assert e["layer"] == "co-repost" and e["seconds_apart"] <= 90 and e["post_a"] and e["post_b"]
    assert "co-repost:" in r.stderr  # progress per layer


def test_detect_text_and_per_layer_windows(ring_ws):
    ws, _ = ring_ws
    r = _run("detect", "-w", ws, "--window", "5m", "--window", "co-repost=30s", "--layers", "co-repost,co-hashtag")
    assert r.exit_code == 0, r.output
    assert "1 cluster, 6 flagged accounts" in r.stdout and "evidence for cluster 1" in r.stdout
    p = ts.Workspace(ws).params("detect")
    assert p["windows"] == {"co-repost": [30.0], "co-hashtag": [300.0]}


def test_detect_several_time_scales_and_no_groups(ring_ws):
    ws, _ = ring_ws
    r = _run("detect", "-w", ws, "--window", "1h,60s,1d", "--window", "co-repost=5min,30s",
             "--layers", "co-repost,co-hashtag", "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["params"]["windows"] == {"co-repost": [30.0, 300.0], "co-hashtag": [60.0, 3600.0, 86400.0]}
    assert d["params"]["groups"] is True and "groups" in d["layers"]
    # With several scales the longest is the reference: counted, not tested (docs/detection.md).
    roles = {k: v["role"] for k, v in d["layers"]["co-repost"]["scales"].items()}
    assert roles == {"30s": "tested", "5min": "reference"}
    r = _run("detect", "-w", ws, "--layers", "co-repost", "--no-groups", "--json")
    d = json.loads(r.stdout)
    assert d["params"]["groups"] is False and "groups" not in d["layers"] and d["groups"] == []
    r = _run("detect", "-w", ws, "--layers", "co-repost,co-hashtag", "--group-splits", "3", "--json")
    d = json.loads(r.stdout)
    assert r.exit_code == 0 and d["params"]["group_splits"] == 3
    assert d["flagged_accounts"] == [f"u{100 + m}" for m in range(6)]  # the ring, on at least two of three splits
    r = _run("detect", "-w", ws, "--group-splits", "0")
    assert r.exit_code != 0 and "--group-splits" in r.output and "Traceback" not in r.output
    r = _run("detect", "-w", ws, "--window", "co-similar=1h")
    assert r.exit_code != 0 and "has no window" in r.output and "Traceback" not in r.output
    r = _run("detect", "-w", ws, "--window", "60s,soon")
    assert r.exit_code != 0 and "'soon' is not a duration" in r.output
    r = _run("detect", "-w", ws, "--window", "co-link=")
    assert r.exit_code != 0 and "names no duration" in r.output and "Traceback" not in r.output


def test_detect_no_cache_leaves_no_text_cache(tmp_path):
    b = ring_and_crowd(crowd=30, ring=6, ring_posts=20)
    ws = tmp_path / "ws"
    ts.ingest(str(b.write(tmp_path / "a.csv")), ws)
    r = _run("detect", "-w", ws, "--layers", "co-post", "--no-cache", "--json")
    assert r.exit_code == 0, r.output
    assert not ts.Workspace(ws).has("norm_texts")
    assert _run("detect", "-w", ws, "--layers", "co-post", "--json").exit_code == 0
    assert ts.Workspace(ws).has("norm_texts")
    again = json.loads(_run("detect", "-w", ws, "--layers", "co-post", "--json").stdout)
    first = json.loads(r.stdout)
    assert first["layers"]["co-post"]["normalised_texts"] == "computed"
    assert again["layers"]["co-post"]["normalised_texts"] == "read from cache"
    assert again["clusters"] == first["clusters"] and again["flagged_accounts"] == first["flagged_accounts"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layers", "co-nothing"], "unknown layer co-nothing"),
        (["--window", "soon"], "is not a duration"),
        (["--window", "similarity=5m"], "has no window"),
    ],
)
def test_detect_bad_options(ring_ws, args, message):
    r = _run("detect", "-w", ring_ws[0], *args)
    assert r.exit_code != 0 and message in r.output and "Traceback" not in r.output


def test_detect_errors_are_one_line(tmp_path):
    r = _run("detect", "-w", tmp_path / "nowhere")
    assert r.exit_code == 1 and "no workspace" in r.stderr and "Traceback" not in r.output
    ts.Workspace(tmp_path / "empty")
    r = _run("detect", "-w", tmp_path / "empty")
    assert r.exit_code == 1 and "has no posts" in r.stderr and len(r.stderr.strip().splitlines()) == 2
    for cmd in (["export", "--gexf", tmp_path / "g.gexf"], ["evaluate", "--truth", __file__]):
        r = _run(*cmd, "-w", tmp_path / "empty")
        assert r.exit_code == 1 and "run `trollscope detect" in r.stderr


def test_export_graphml_and_gexf(ring_ws, tmp_path):
    ws, _ = ring_ws
    assert _run("detect", "-w", ws, "--layers", "co-repost").exit_code == 0
    r = _run("export", "-w", ws, "--graphml", tmp_path / "g.graphml", "--gexf", tmp_path / "g.gexf", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [x["nodes"] for x in out] == [6, 6] and [x["edges"] for x in out] == [15, 15]
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    root = ET.parse(tmp_path / "g.graphml").getroot()
    keys = {k.get("id"): k.get("attr.name") for k in root.findall("g:key", ns)}
    nodes = root.findall(".//g:node", ns)
    assert len(nodes) == 6 and len(root.findall(".//g:edge", ns)) == 15
    data = {keys[d.get("key")]: d.text for d in nodes[0].findall("g:data", ns)}
    assert data["cluster"] == "1" and data["flagged"] == "true" and data["handle"].startswith("u10")
    gx = ET.parse(tmp_path / "g.gexf").getroot()
    gns = {"x": "http://gexf.net/1.3"}
    assert len(gx.findall(".//x:node", gns)) == 6
    edge = gx.find(".//x:edge", gns)
    assert float(edge.get("weight")) > 0
    assert _run("export", "-w", ws).exit_code != 0  # says where to write


def test_evaluate_against_truth(ring_ws, tmp_path):
    ws, rows = ring_ws
    assert _run("detect", "-w", ws, "--layers", "co-repost").exit_code == 0
    truth = tmp_path / "truth.csv"
    users = sorted({(r["userid"], r["user_screen_name"]) for r in rows})
    # The ring and two organic accounts marked as planted (so recall < 1); everyone else organic.
    planted = {f"{100 + m}" for m in range(6)} | {"10000", "10001"}
    with open(truth, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["account_id", "handle", "campaign", "style"])
        for uid, handle in users:
            w.writerow(
                [uid, handle, "op1" if uid in planted else "organic", "repost_ring" if uid in planted else "organic"]
            )
    r = _run("evaluate", "-w", ws, "--truth", tmp_path, "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert (d["true_positives"], d["false_positives"], d["false_negatives"]) == (6, 0, 2)
    assert d["precision"] == 1.0 and d["recall"] == pytest.approx(6 / 8) and d["f1"] == pytest.approx(2 * 0.75 / 1.75)
    assert d["recall_by_style"] == {"repost_ring": {"accounts": 8, "flagged": 6, "recall": 0.75}}
    assert d["organic_flagged_share"] == 0.0 and d["labelled_accounts"] == len(users)
    reposters: dict[str, set] = {}
    for row in rows:
        if row.get("retweet_tweetid"):
            reposters.setdefault(row["retweet_tweetid"], set()).add(row["userid"])
    viral = set().union(*(v for v in reposters.values() if len(v) >= 100)) - planted
    assert d["organic_viral_participants"] == len(viral) >= 98 and d["organic_viral_flagged"] == 0
    # A plain labels CSV keyed by handle works too.
    labels = tmp_path / "labels.csv"
    with open(labels, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["screen_name", "label"])
        for uid, handle in users:
            w.writerow([handle.upper(), "troll" if uid.startswith("10") and len(uid) == 3 else "control"])
    d = json.loads(_run("evaluate", "-w", ws, "--truth", labels, "--json").stdout)
    assert (d["precision"], d["recall"]) == (1.0, 1.0) and d["recall_by_campaign"]["troll"]["accounts"] == 6
    text = _run("evaluate", "-w", ws, "--truth", labels)
    assert text.exit_code == 0 and "precision 100.0%" in text.stdout


def test_help_has_examples():
    for cmd in ("detect", "export", "evaluate"):
        r = _run(cmd, "--help")
        assert r.exit_code == 0 and "Example:" in r.stdout and f"trollscope {cmd} -w" in r.stdout


def test_near_dup_is_built_only_when_asked(ring_ws):
    ws, _ = ring_ws
    default = json.loads(_run("detect", "-w", ws, "--json").stdout)
    every = json.loads(_run("detect", "-w", ws, "--layers", "all", "--json").stdout)
    named = json.loads(_run("detect", "-w", ws, "--layers", "co-post,near-dup", "--json").stdout)
    assert "near-dup" not in default["params"]["layers"] and "co-post" in default["params"]["layers"]
    assert set(every["params"]["layers"]) == set(default["params"]["layers"]) | {"near-dup"}
    assert named["params"]["layers"] == ["co-post", "near-dup"]
