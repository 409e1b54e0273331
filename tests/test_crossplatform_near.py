"""Near-duplicate texts across platforms: a message reworded on Twitter is one item with the Telegram original.

Expected pairs are computed here by brute force over the fixture's posts (a plain Python
normalisation and word-bigram Jaccard), never read from the code under test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import trollscope as ts
from trollscope.cli import main
from trollscope.crossplatform import cross_platform
from trollscope.detect import detect
from trollscope.simulate_crossplatform import crossplatform_collection

WINDOW = 600


@pytest.fixture(scope="module")
def reworded(tmp_path_factory: pytest.TempPathFactory):
    """The simulated operation with 3 more Twitter accounts that push the hub's messages reworded, no link."""
    root = tmp_path_factory.mktemp("xp-near")
    c = crossplatform_collection(root, seed=3, text_accounts=3)
    ts.ingest(str(c.folder), root / "ws")
    return c, root / "ws"


@pytest.fixture(scope="module")
def headlines(tmp_path_factory: pytest.TempPathFactory):
    """The same, plus 40 organic headlines each quoted (70 % reworded) by 8 channels and 30 accounts."""
    root = tmp_path_factory.mktemp("xp-headlines")
    c = crossplatform_collection(root, seed=3, text_accounts=3, headlines=40)
    ts.ingest(str(c.folder), root / "ws")
    return c, root / "ws"


def _words(text: str | None) -> list[str]:
    """Lower case, no URLs or @mentions, letters and digits only (what the layers compare, for these texts)."""
    text = re.sub(r"https?://\S+|@\w*", " ", (text or "").lower())
    return re.sub(r"[^\w]|_", " ", text).split()


def _bigrams(words: list[str]) -> set[str]:
    return {" ".join(words[i : i + 2]) for i in range(len(words) - 1)} if len(words) > 2 else {" ".join(words)}


def _near_pairs(ws: Path, threshold: float = 0.5) -> dict[tuple[str, str], float]:
    """(Telegram post, Twitter post) within the window whose texts differ but reach ``threshold``, by brute force."""
    con = ts.Workspace(ws).connect()
    rows = con.sql(
        "SELECT post_id, platform, epoch(created_at) AS t, text FROM posts WHERE platform IN ('telegram', 'twitter')"
    ).fetchall()
    posts = [(pid, pf, t, _words(x)) for pid, pf, t, x in rows if len(" ".join(_words(x))) >= 30]
    posts.sort(key=lambda p: p[2])
    found = {}
    for i, (pa, fa, ta, wa) in enumerate(posts):
        for pb, fb, tb, wb in posts[i + 1 :]:
            if tb - ta > WINDOW:
                break
            if fa != fb and wa != wb:
                sa, sb = _bigrams(wa), _bigrams(wb)
                j = len(sa & sb) / len(sa | sb)
                if j >= threshold:
                    found[(pa, pb) if fa == "telegram" else (pb, pa)] = j
    return found


def test_reworded_pushes_are_found_by_near_matching_and_not_by_exact(reworded) -> None:
    c, ws = reworded
    expected = _near_pairs(ws)
    accounts = dict(ts.Workspace(ws).connect().sql("SELECT post_id, account_id FROM posts").fetchall())
    assert expected and {accounts[b] for _, b in expected} == set(c.text_accounts)  # the fixture has them
    near = cross_platform(ws, window=WINDOW, max_evidence=100)
    got = {
        (e["post_a"], e["post_b"]): e["similarity"]
        for p in near.pairs.to_pylist()
        for e in p["evidence"]
        if e["via"] == "near" and e["similarity"] < 1
    }
    assert set(got) == set(expected)
    for k, j in expected.items():
        assert got[k] == pytest.approx(j)
    channels = [a for a in c.operation if a.startswith("telegram:")]
    pairs = {(p["account_a"], p["account_b"]) for p in near.pairs.to_pylist()}
    assert pairs == {(ch, a) for ch in channels for a in c.operation if not a.startswith("telegram:")}
    assert near.params["near_threshold"] == 0.5 and near.params["near_texts"]["near_items"] == 12  # one per message
    exact = cross_platform(ws, window=WINDOW, near_threshold=None, max_evidence=100)
    assert not {a for p in exact.pairs.to_pylist() for a in (p["account_a"], p["account_b"])} & set(c.text_accounts)
    assert all(e["via"] != "near" for p in exact.pairs.to_pylist() for e in p["evidence"])
    # Link matching is untouched: the 60 channel-account pairs of the links, the same links each.
    links = lambda x: {(p["account_a"], p["account_b"]): p["links"] for p in x.pairs.to_pylist() if p["links"]}  # noqa: E731
    assert links(near) == links(exact) and len(links(exact)) == 60


def test_detect_finds_the_reworded_pushes_against_the_null(reworded) -> None:
    c, ws = reworded
    channels = [a for a in c.operation if a.startswith("telegram:")]
    others = [a for a in c.operation if not a.startswith("telegram:")]
    kw = dict(write=False, layers=("cross-platform",), groups=False)
    res = detect(ws, **kw)
    pair = lambda e: frozenset((e["account_a"], e["account_b"]))  # noqa: E731
    significant = {pair(e) for e in res.edges.to_pylist() if e["significant"]}
    assert significant == {frozenset((ch, a)) for ch in channels for a in others}
    exact = detect(ws, **kw, cross_near_threshold=None)
    assert {pair(e) for e in exact.edges.to_pylist() if e["significant"]} == {
        frozenset((ch, a)) for ch in channels for a in others if a not in c.text_accounts
    }
    figures = res.layers["cross-platform"]["near_text"]
    assert figures["items"] == 12 and figures["texts"] >= 12 * 2
    assert res.params["cross_near_threshold"] == 0.5
    expected = _near_pairs(ws)
    posts = {p for k in expected for p in k}
    shown = [x for x in res.evidence.to_pylist() if {x["account_a"], x["account_b"]} & set(c.text_accounts)]
    assert shown
    for x in shown:  # both sides' posts and texts, how similar, within the window
        assert x["post_a"] in posts and x["post_b"] in posts and x["text_a"] != x["text_b"]
        key = (x["post_a"], x["post_b"]) if x["account_a"].startswith("telegram:") else (x["post_b"], x["post_a"])
        said = float(x["item"].removeprefix("text similarity "))
        assert x["item"].startswith("text similarity ") and abs(said - expected[key]) <= 0.005 + 1e-9
        assert x["seconds_apart"] <= WINDOW


def test_popular_headlines_on_both_platforms_flag_no_one(headlines) -> None:
    """40 headlines, each quoted within an hour or two by 8 channels and 30 accounts picked at random:
    many organic near-duplicate pairs across platforms within minutes, none significant, and the
    operation still found beside them."""
    c, ws = headlines
    op = set(c.operation)
    accounts = dict(ts.Workspace(ws).connect().sql("SELECT post_id, account_id FROM posts").fetchall())
    organic = {k for k in _near_pairs(ws) if not {accounts[p] for p in k} <= op}
    assert len({frozenset(accounts[p] for p in k) for k in organic}) > 100  # organic pairs that could be flagged
    res = detect(ws, write=False, layers=("cross-platform",), groups=False, keep_edges=1)
    edges = res.edges.to_pylist()
    assert sum(1 for e in edges if not {e["account_a"], e["account_b"]} <= op) > 100  # they are candidates
    significant = [e for e in edges if e["significant"]]
    assert all({e["account_a"], e["account_b"]} <= op for e in significant)
    assert len(significant) == 6 * 13


def test_run_finds_the_reworded_operation(reworded, tmp_path: Path) -> None:
    c, _ = reworded
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", str(c.folder), "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    con = ts.Workspace(out / "workspace").connect()
    members = {a for (a,) in con.sql("SELECT account_id FROM cluster_members").fetchall()}
    assert members == set(c.operation)
    text_edges = con.execute(
        "SELECT count(*) FROM edges WHERE layer = 'cross-platform' AND significant AND "
        "(account_a IN (SELECT unnest($1::VARCHAR[])) OR account_b IN (SELECT unnest($1::VARCHAR[])))",
        [c.text_accounts],
    ).fetchall()[0][0]
    assert text_edges == 6 * 3
    pairs = (out / "exports" / "cross_platform_pairs.csv").read_text().splitlines()
    assert len(pairs) == 1 + 6 * 13


@pytest.mark.spark
def test_near_matching_on_spark_gives_duckdbs_items_and_edges(reworded, spark) -> None:
    """On Spark the reworded texts are matched too (their MinHash in Spark tasks): the same near items,
    edges and evidence as DuckDB's."""
    from trollscope.engine import EngineSpec

    _, ws = reworded
    kw = dict(write=False, layers=("cross-platform",), groups=False, window=(300.0, 3600.0))
    duck = detect(ws, **kw)
    on_spark = detect(ws, **kw, engine=EngineSpec("spark"))
    near = duck.layers["cross-platform"]["near_text"]
    assert near["items"] > 0 and on_spark.layers["cross-platform"]["near_text"] == near
    exact = detect(ws, **kw, cross_near_threshold=None)
    assert (
        duck.edges.filter(duck.edges.column("significant")).num_rows
        > exact.edges.filter(exact.edges.column("significant")).num_rows
    )  # the rewording accounts: found by near matching only
    cols = ["layer", "account_a", "account_b", "count", "items", "expected", "p_value", "significant"]
    assert on_spark.edges.select(cols).to_pylist() == duck.edges.select(cols).to_pylist()
    ev = ["account_a", "account_b", "post_a", "post_b", "item"]
    assert on_spark.evidence.select(ev).to_pylist() == duck.evidence.select(ev).to_pylist()


def test_exact_copies_stay_text_items_and_one_platform_makes_no_family(tmp_path: Path) -> None:
    """An identical text on both platforms is matched as before ('text', similarity 1); a reworded one
    is 'near'; and two near-duplicates on one platform are not joined: A and A' are both Telegram's,
    so A' joins only the Twitter text A'' it is close to, and A (not close to A'') keeps its exact item."""
    import json

    from trollscope.crossplatform import near_items

    base = [
        "alpha",
        "bravo",
        "charlie",
        "delta",
        "echo",
        "foxtrot",
        "golf",
        "hotel",
        "india",
        "juliet",
        "kilo",
        "lima",
        "mike",
        "november",
    ]
    a, a1, a2 = (" ".join(base[i : i + 10]) for i in (0, 2, 4))
    j = lambda x, y: len(_bigrams(x.split()) & _bigrams(y.split())) / len(_bigrams(x.split()) | _bigrams(y.split()))  # noqa: E731
    assert j(a, a1) >= 0.5 and j(a1, a2) >= 0.5 and j(a, a2) < 0.5
    same = "the very same words on both platforms, long enough to count"
    rows = [
        ("t1", "p", "telegram", "2024-01-01T00:00:00", same), ("w1", "q", "twitter", "2024-01-01T00:01:00", same),
        ("t2", "p", "telegram", "2024-01-01T01:00:00", a1), ("w2", "q", "twitter", "2024-01-01T01:02:00", a2),
        ("t3", "r", "telegram", "2024-01-02T00:00:00", a),
    ]  # fmt: skip
    src = tmp_path / "posts.jsonl"
    src.write_text(
        "".join(
            json.dumps(dict(zip(("post_id", "handle", "platform", "created_at", "text"), r, strict=True))) + "\n"
            for r in rows
        )
    )
    ts.ingest(str(src), tmp_path / "ws")
    x = cross_platform(tmp_path / "ws", window=WINDOW, min_items=1)
    [pair] = x.pairs.to_pylist()
    assert (pair["account_a"], pair["account_b"], pair["items"], pair["texts"], pair["near_texts"]) == (
        "telegram:p",
        "q",
        2,
        2,
        1,
    )
    via = {e["via"]: e for e in pair["evidence"]}
    assert via["text"]["similarity"] == 1.0 and via["text"]["item"].startswith("text:")
    assert via["near"]["similarity"] == pytest.approx(j(a1, a2)) and via["near"]["item"].startswith("near:")
    con = ts.Workspace(tmp_path / "ws").connect()
    figures = near_items(con, min_text_chars=30, threshold=0.5, bands=40)  # every pair here a candidate
    assert (figures["near_texts"], figures["near_items"]) == (2, 1)
    item = dict(
        con.sql(
            "SELECT t.text, n.item FROM posts t JOIN _xp_post p USING (post_id) LEFT JOIN _xp_near n USING (h)"
        ).fetchall()
    )
    assert item[a1] == item[a2] is not None and item[a] is None and item[same] is None
