"""Detection on small hand-built inputs, checked against brute-force references (see test_detect_cases.py)."""

from __future__ import annotations

import itertools
import math

import duckdb
import numpy as np
import pyarrow.compute as pc
import pytest
from helpers import write_ioarchive
from test_detect_cases import (
    URLS,
    Rows,
    actions,
    brute_edges,
    brute_expected,
    dedupe,
    jaccard,
    mixed_rows,
    norm_text,
    norm_url,
    ring_and_crowd,
)

import trollscope as ts
from trollscope.detect import DetectError, DetectParams, detect, load
from trollscope.detect import layers as ly
from trollscope.detect import significance as sg
from trollscope.detect.run import MAX_GROUP_SPLITS

WINDOWED = ["co-repost", "co-post", "co-link", "co-hashtag", "co-mention", "co-reply"]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    d = tmp_path_factory.mktemp("mixed")
    rows = mixed_rows(seed=3)
    ts.ingest(str(write_ioarchive(d / "a.csv", rows)), d / "ws")
    return rows, d / "ws"


def _edges(result, layer: str) -> dict:
    t = result.edges.filter(pc.field("layer") == layer)
    return {
        (a, b): c
        for a, b, c in zip(*(t.column(x).to_pylist() for x in ("account_a", "account_b", "count")), strict=True)
    }


@pytest.mark.parametrize("layer", WINDOWED)
@pytest.mark.parametrize("window", [60.0, 300.0])
def test_windowed_layer_matches_brute_force(mixed, layer, window):
    rows, ws = mixed
    r = detect(ws, layers=(layer,), window=window, min_count=1, keep_edges=1, max_item_accounts=10_000, write=False)
    expected = brute_edges(actions(rows, layer), window)
    assert expected, f"the test data should give {layer} some coincidences"
    assert _edges(r, layer) == expected


@pytest.mark.parametrize("layer", ["co-repost", "co-post"])
def test_every_split_counts_its_halves_like_a_brute_force(mixed, layer, monkeypatch):
    """The group test's counts per split: split s puts an item in the half given by bit s of its key
    (the first 15 hex digits of the md5 of its label); k and the activity in each half must be what
    counting only that half's items gives."""
    import hashlib

    from trollscope.detect import groups as gr

    rows, ws = mixed
    seen = {}
    original = gr.split_tests
    monkeypatch.setattr(
        gr, "split_tests", lambda per_split, *a, **k: seen.setdefault("s", per_split) and original(per_split, *a, **k)
    )
    detect(ws, layers=(layer,), window=300.0, timing_layers=(), group_splits=3, min_count=1, keep_edges=1,
           max_item_accounts=10_000, write=False)  # fmt: skip
    per_split = seen["s"]
    assert len(per_split) == 3 and all(len(x) == 1 for x in per_split)
    acts = actions(rows, layer)
    ids = sorted({r["userid"] for r in rows})
    key = lambda item: int(hashlib.md5(item.encode()).hexdigest()[:15], 16)  # noqa: E731
    for sp, (sc,) in enumerate(per_split):
        for h in (0, 1):
            mine = [x for x in acts if (key(x[2]) >> sp) & 1 == h]
            expected = brute_edges(mine, 300.0)
            got = {(ids[a], ids[b]): int(k) for a, b, k in zip(sc.a, sc.b, sc.k[h], strict=True) if k > 0}
            assert got == expected, (sp, h)
            per_account = {}
            for x in dedupe(mine, 300.0):
                per_account[x[0]] = per_account.get(x[0], 0) + 1
            assert {ids[i]: int(v) for i, v in enumerate(sc.activity[h].sum(axis=1)) if v} == per_account
        assert len({key(x[2]) >> sp & 1 for x in acts}) == 2  # both halves hold items in every split


@pytest.mark.parametrize("layer", ["co-repost", "co-link", "co-hashtag"])
def test_expected_coactions_match_the_one_stratum_formula(mixed, layer):
    rows, ws = mixed
    r = detect(ws, layers=(layer,), window=120, min_count=1, max_item_accounts=10_000, min_stratum_share=1.0,
               write=False)  # fmt: skip
    acts = actions(rows, layer)
    t = r.edges.filter(pc.field("layer") == layer).to_pylist()
    assert t
    for e in t[:10]:
        assert e["expected"] == pytest.approx(brute_expected(acts, 120, e["account_a"], e["account_b"]), rel=1e-9)
        lam, k = e["expected"], e["count"]
        assert e["p_value"] == pytest.approx(1 - sum(math.exp(-lam) * lam**i / math.factorial(i) for i in range(k)),
                                             rel=1e-6, abs=1e-12)  # fmt: skip


def test_normalisations_match_the_reference():
    con = duckdb.connect()
    urls = [u for group in URLS for u in group] + [
        "HTTPS://WWW.Example.com/Path/?utm_source=x&b=2&a=1#frag", "example.com:443/Path/", "https://t.co/abc?s=09",
        "https://www2.bbc.co.uk/news/", "http://site.com/?ref=x", "https://x.org/a?Utm_Medium=y&q=1",
    ]  # fmt: skip
    for u in urls:
        assert con.execute(f"SELECT {ly.norm_url_sql('$1::VARCHAR')}", [u]).fetchall()[0][0] == norm_url(u), u
    texts = ["RT @bob: Check THIS out!! https://x.co/a #MAGA now", "  Hello,   World!!! @someone  ", "a_b-c"]
    glued = ["says @newscuthttp://ow.ly/ssOd301Ikpw", "released via @https://twitter.com/govtslaves", "a @ b @@c"]
    for t in texts + glued:  # glued: real IRA texts where a URL follows a mention without a space
        assert con.execute(f"SELECT {ly.norm_text_sql('$1::VARCHAR')}", [t]).fetchall()[0][0] == norm_text(t), t
    for x, y in itertools.product([*texts, "hello world again friends", "Hello world, again!"], repeat=2):
        got = con.execute(
            f"SELECT {ly.words_jaccard_sql(ly.norm_words_sql('$1::VARCHAR'), ly.norm_words_sql('$2::VARCHAR'), 2)}",
            [x, y],
        ).fetchall()[0][0]
        assert got == pytest.approx(jaccard(x, y)), (x, y)


def test_near_duplicate_text(tmp_path, ws_path):
    b = Rows()
    base = (
        "the quick brown fox jumps over the lazy dog near the river bank while the children watch from the old "
        "wooden bridge and the sun sets slowly behind the hills"
    )
    variants = [
        base,
        base.replace("hills", "mountains"),
        base + " tonight",
        "a" + base[3:],
        base.upper() + "!!!",
    ]
    other = "completely different words about football scores and the weather tomorrow morning"
    for k in range(6):  # five accounts post variants of one template, seconds apart; one posts other text
        for u, v in enumerate(variants):
            b.add(u, k * 3600 + u * 5, v)
        b.add(9, k * 3600 + 3, other + f" {k}")
    rows = b.rows
    r = detect(ts.ingest(str(b.write(tmp_path / "a.csv")), ws_path).workspace, layers=("near-dup",), window=60,
               min_count=1, write=False)  # fmt: skip
    got = _edges(r, "near-dup")
    # Reference: pairs of posts by different accounts within 60 s with bigram Jaccard >= 0.5.
    acts = [(x["userid"], x["tweetid"], x["tweet_text"], int(x["tweet_time"][11:13]) * 3600 + int(x["tweet_time"][14:16]) * 60
             + int(x["tweet_time"][17:19])) for x in rows]  # fmt: skip
    mine: dict = {}
    for i, x in enumerate(acts):
        for y in acts[i + 1 :]:
            if x[0] != y[0] and abs(x[3] - y[3]) <= 60 and jaccard(x[2], y[2]) >= 0.5:
                a, bb = sorted((x, y))
                mine.setdefault((a[0], bb[0]), (set(), set()))
                mine[(a[0], bb[0])][0].add(a[1])
                mine[(a[0], bb[0])][1].add(bb[1])
    expected = {k: min(len(v[0]), len(v[1])) for k, v in mine.items()}
    # far above the LSH threshold, where a pair is missed with probability (1 - 0.85^3)^12 < 1e-5
    assert min(jaccard(v, w) for v in variants for w in variants) >= 0.85
    assert got == expected
    assert all("9" not in pair for pair in got)


def test_similarity_layer_finds_accounts_with_the_same_taste(tmp_path, ws_path):
    """Five accounts repost the same 15 posts on different days; forty others repost at random."""
    import random

    rng = random.Random(5)
    b = Rows()
    originals = [b.add(9000 + i, i * 60, f"original post number {i}") for i in range(400)]
    taste = rng.sample(originals, 15)
    for u in range(5):
        for d, o in enumerate(taste):
            b.retweet(u, 86400 * (d + 1) + u * 7200 + rng.randrange(3000), o)  # hours apart: no window ties them
    for u in range(40):
        for o in rng.sample(originals, 15):
            b.retweet(100 + u, rng.randrange(86400 * 20), o)
    ws = ts.ingest(str(b.write(tmp_path / "a.csv")), ws_path).workspace
    r = detect(ws, layers=("similarity",), write=False)
    sig = r.edges.filter(pc.field("significant"))
    pairs = {
        (a, b) for a, b in zip(sig.column("account_a").to_pylist(), sig.column("account_b").to_pylist(), strict=True)
    }
    assert pairs == {(str(a), str(c)) for a in range(5) for c in range(a + 1, 5)}
    assert sig.column("cosine").to_pylist() == pytest.approx([1.0] * 10)  # identical reposts: identical vectors
    assert r.flagged == [f"u{i}" for i in range(5)]
    # No windowed layer sees them: their reposts are hours apart.
    assert detect(ws, layers=("co-repost",), window=300, write=False).flagged == []


def test_tfidf_cosine_matches_a_direct_computation():
    import scipy.sparse as sp

    counts = sp.csr_matrix(np.array([[1, 2, 0, 0], [1, 2, 0, 1], [0, 0, 3, 1], [4, 0, 0, 1]], dtype=float))
    before = counts.copy()
    i, j, v = ly.cosine_pairs(ly.tfidf(counts), 0.0)
    assert (counts != before).nnz == 0  # the counts are left as they were (the null permutes them again)
    n = counts.shape[0]
    df = (counts.toarray() > 0).sum(axis=0)
    idf = np.log((1 + n) / (1 + df)) + 1
    dense = counts.toarray()
    w = np.where(dense > 0, 1 + np.log(np.where(dense > 0, dense, 1)), 0) * idf
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    for a, c, val in zip(i, j, v, strict=True):
        assert val == pytest.approx(float(w[a] @ w[c]))
    assert {(int(a), int(c)) for a, c in zip(i, j, strict=True)} == {
        (a, c) for a in range(n) for c in range(a + 1, n) if w[a] @ w[c] > 0
    }


def test_viral_crowd_is_not_flagged_but_the_ring_is(tmp_path, ws_path):
    b = ring_and_crowd(crowd=300, ring=8, ring_posts=30)
    ws = ts.ingest(str(b.write(tmp_path / "a.csv")), ws_path).workspace
    ring = [f"u{100 + m}" for m in range(8)]
    # With the default crowd cap the viral post is left out; with the cap lifted the null model alone copes.
    for cap in (50, 10_000):
        r = detect(ws, layers=("co-repost",), window=60, max_item_accounts=cap, write=False)
        assert r.flagged == ring, cap
        assert r.clusters.num_rows == 1
        c = r.clusters.to_pylist()[0]
        assert c["size"] == 8 and dict(c["layers"]) == {"co-repost": 28} and c["p_value"] < 1e-10


def test_heavy_users_in_many_cascades_are_not_flagged(tmp_path, ws_path):
    b = ring_and_crowd(crowd=300, ring=8, ring_posts=30, heavy=40)
    ws = ts.ingest(str(b.write(tmp_path / "a.csv")), ws_path).workspace
    ring = [f"u{100 + m}" for m in range(8)]
    for cap in (50, 10_000):
        r = detect(ws, layers=("co-repost",), max_item_accounts=cap, write=False)
        assert r.flagged == ring, cap
    # They do co-retweet a lot: the null model, not a lack of co-action, keeps them out.
    heavy = r.edges.filter((pc.field("account_a") >= "20000") & (pc.field("account_a") < "20040"))
    assert heavy.num_rows > 100 and max(heavy.column("count").to_pylist()) >= 5


def test_results_are_written_with_their_parameters(tmp_path, ws_path):
    b = ring_and_crowd(crowd=50, ring=6, ring_posts=20)
    ws = ts.Workspace(ts.ingest(str(b.write(tmp_path / "a.csv")), ws_path).workspace)
    r = detect(ws, layers=("co-repost", "co-post"), window=90, alpha=0.001)
    p = ws.params("detect")
    assert p["alpha"] == 0.001 and p["windows"] == {"co-repost": [90.0], "co-post": [90.0]}
    assert p["layers"] == ["co-repost", "co-post"] and "Poisson" in p["null_models"]["co-repost"]
    for t in ("edges", "clusters", "cluster_members", "account_scores", "evidence"):
        assert len(ws.files(t)) == 1
    again = load(ws)
    assert again.flagged == r.flagged == [f"u{100 + m}" for m in range(6)]
    assert again.as_dict()["clusters"] == r.as_dict()["clusters"]
    # The cluster's p-value is Simes' combination of its internal significant edges' p-values.
    (cluster,) = r.clusters.to_pylist()
    members = set(r.members.column("account_id").to_pylist())
    internal = sorted(
        e["p_value"] for e in r.edges.to_pylist() if e["significant"] and {e["account_a"], e["account_b"]} <= members
    )
    n = len(internal)
    assert n == 15 and cluster["p_value"] == pytest.approx(
        min(1.0, min(n * p / (i + 1) for i, p in enumerate(internal)))
    )
    detect(ws, layers=("co-repost",))  # a second run replaces every table
    assert all(len(ws.files(t)) == 1 for t in ("edges", "clusters", "evidence"))
    # Evidence: real posts of the two accounts, on the same original, within the window.
    con = ws.connect()
    rows = con.execute(
        """SELECT e.*, pa.repost_of_id AS ra, pb.repost_of_id AS rb, pa.account_id AS aa, pb.account_id AS ab
        FROM evidence e JOIN posts pa ON pa.post_id = e.post_a JOIN posts pb ON pb.post_id = e.post_b"""
    ).fetchall()
    cols = [d[0] for d in con.description]
    assert rows
    for row in rows:
        e = dict(zip(cols, row, strict=True))
        assert e["ra"] == e["rb"] == e["item"] and e["aa"] == e["account_a"] and e["ab"] == e["account_b"]
        assert abs((e["time_a"] - e["time_b"]).total_seconds()) == e["seconds_apart"] <= 90


def test_account_scores_cover_every_account(tmp_path, ws_path):
    b = ring_and_crowd(crowd=20, ring=5, ring_posts=10)
    ws = ts.ingest(str(b.write(tmp_path / "a.csv")), ws_path).workspace
    r = detect(ws, layers=("co-repost",), write=False)
    acc = {x["handle"]: x for x in r.accounts.to_pylist()}
    n_accounts = len({row["userid"] for row in b.rows})
    assert len(acc) == n_accounts
    for m in range(5):  # ring members only ever act in concert
        a = acc[f"u{100 + m}"]
        assert a["flagged"] and a["cluster_id"] == 1 and a["score"] == pytest.approx(1.0) and a["partners"] == 4
    assert not any(x["flagged"] for h, x in acc.items() if not h.startswith("u10"))
    assert all(0 <= x["score"] <= 1 for x in acc.values())


def test_empty_workspace_says_so(ws_path):
    ts.Workspace(ws_path)
    with pytest.raises(DetectError, match="no posts"):
        detect(ws_path)


def test_missing_workspace_says_so(tmp_path):
    with pytest.raises(ts.WorkspaceError, match="no workspace"):
        detect(tmp_path / "nowhere")


def test_single_account_gives_an_empty_result(tmp_path, ws_path):
    b = Rows()
    for i in range(30):
        b.add(1, i * 10, f"the same words again and again {i % 3}", hashtags="[a, b]", urls="[https://x.org/1]")
    r = detect(ts.ingest(str(b.write(tmp_path / "a.csv")), ws_path).workspace)
    assert r.edges.num_rows == 0 and r.clusters.num_rows == 0 and r.flagged == []
    assert r.accounts.to_pylist()[0]["score"] == 0.0 and r.as_dict()["clusters"] == []


def test_bad_parameters_are_refused():
    with pytest.raises(DetectError, match="unknown layer"):
        DetectParams(layers=("co-nothing",)).check()
    with pytest.raises(DetectError, match="no window"):
        DetectParams(windows={"similarity": 60}).check()
    with pytest.raises(DetectError, match="alpha"):
        DetectParams(alpha=2).check()
    for bad in (0, MAX_GROUP_SPLITS + 1):
        with pytest.raises(DetectError, match="group_splits must be between 1 and"):
            DetectParams(group_splits=bad).check()


def test_bh_matches_its_definition():
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(size=30), [1e-6, 1e-4, 0.003]])
    m = 100
    q = sg.bh(p, m)
    for i, pi in enumerate(p):  # q_i = min over p_j >= p_i of p_j * m / rank_j
        ranks = {j: sum(p <= p[j]) for j in range(len(p))}
        assert q[i] == pytest.approx(min(min(p[j] * m / ranks[j] for j in range(len(p)) if p[j] >= pi), 1.0))


def test_band_keys_agree_for_equal_sets_and_rarely_otherwise():
    import pyarrow as pa

    same = pa.array([[1, 2, 3, 4], [4, 3, 2, 1], [5, 6, 7, 8]], pa.list_(pa.uint64()))
    k = ly.band_keys(same, bands=12, rows=3)
    assert (k[0] == k[1]).all() and not (k[0] == k[2]).any()
    # Collision rate of one band for Jaccard 0.6 sets (12 of 20 shared) is about 0.6^3.
    rng = np.random.default_rng(1)
    lists = []
    for _ in range(400):
        base = rng.choice(10**9, 16, replace=False)
        lists += [base[:12].tolist() + base[12:16].tolist()[:4], base[:12].tolist() + (base[12:16] + 1).tolist()]
    keys = ly.band_keys(pa.array(lists, pa.list_(pa.uint64())), bands=12, rows=3)
    rate = (keys[0::2] == keys[1::2]).mean()
    assert abs(rate - (12 / 20) ** 3) < 0.03


def test_detection_sql_stays_in_the_portable_subset(mixed, tmp_path, monkeypatch):
    """Every query detect, evaluate and export run over the store passes engine.to_dialect for Spark
    (docs/decisions/0001-query-engine.md); driver statements (files, DROP) are the engine's own."""
    import importlib
    import re

    from trollscope import engine

    _rows, ws = mixed
    seen: list[str] = []

    class Recording:
        def __init__(self, con):
            self.con = con

        def execute(self, q, *a):
            seen.append(q)
            return self.con.execute(q, *a)

        def sql(self, q, *a):
            seen.append(q)
            return self.con.sql(q, *a)

        def __getattr__(self, name):
            return getattr(self.con, name)

    for module in ("run", "evaluate", "export"):
        m = importlib.import_module(f"trollscope.detect.{module}")
        monkeypatch.setattr(m, "connect", lambda *a, **k: Recording(engine.connect(*a, **k)))
    detect(ws, min_count=1)
    truth = tmp_path / "truth.csv"
    truth.write_text("account_id,campaign\n0,op\n1,organic\n")
    importlib.import_module("trollscope.detect.evaluate").evaluate(ws, truth)
    importlib.import_module("trollscope.detect.export").write_gexf(ws, tmp_path / "g.gexf")
    checked = 0
    for q in seen:
        body = re.sub(r"^\s*CREATE (OR REPLACE )?TEMP (TABLE|VIEW) \w+ AS", "", q, flags=re.I).strip()
        if re.match(r"(SET|DROP|CREATE)\b", body, re.I) or "read_parquet(" in body or "read_csv(" in body:
            continue
        engine.to_dialect(body, "spark")  # raises NotPortable
        checked += 1
    assert checked > 60


def _text_status(result) -> set[str]:
    return {v["normalised_texts"] for k, v in result.layers.items() if k in ("co-post", "near-dup")}


def test_normalised_texts_are_cached_and_rebuilt_when_the_posts_change(tmp_path):
    """The first text layer writes norm_texts; the next run reads it with the same result; new posts rebuild it."""
    rows = mixed_rows(seed=5)
    ws = tmp_path / "ws"
    ts.ingest(str(write_ioarchive(tmp_path / "a.csv", rows)), ws)
    first = detect(ws, layers=("co-post", "near-dup"), min_count=1, write=False)
    assert _text_status(first) == {"computed, cached"}
    con = ts.Workspace(ws, create=False).connect()
    cached = dict(con.execute("SELECT post_id, norm FROM norm_texts").fetchall())
    own = {r["tweetid"]: norm_text(r["tweet_text"]) for r in rows if r.get("is_retweet") != "True"}
    assert cached == own

    again = detect(ws, layers=("co-post", "near-dup"), min_count=1, write=False)
    assert _text_status(again) == {"read from cache"}
    assert again.edges.to_pylist() == first.edges.to_pylist()

    more = mixed_rows(seed=6)
    for r in more:
        r["tweetid"] = "b" + r["tweetid"]
    ts.ingest(str(write_ioarchive(tmp_path / "b.csv", more)), ws)
    third = detect(ws, layers=("co-post",), min_count=1, write=False)
    assert _text_status(third) == {"computed, cached"}
    con = ts.Workspace(ws, create=False).connect()
    n = con.execute("SELECT count(*) FROM norm_texts").fetchone()[0]
    assert n == len(own) + sum(r.get("is_retweet") != "True" for r in more)
    off = detect(ws, layers=("co-post",), min_count=1, cache=False, write=False)
    assert _text_status(off) == {"computed"}  # cache=False neither reads nor writes the cache
    assert off.edges == third.edges


def test_text_cache_is_skipped_when_another_run_holds_the_workspace(tmp_path):
    rows = mixed_rows(seed=7)
    ws = ts.Workspace(tmp_path / "ws")
    ts.ingest(str(write_ioarchive(tmp_path / "a.csv", rows)), ws)
    with ws.lock():
        r = detect(ws, layers=("co-post",), window=300, min_count=1, keep_edges=1, write=False)
    assert _text_status(r) == {"computed (cache not written)"}
    assert not ws.has("norm_texts")
    assert _edges(r, "co-post") == brute_edges(actions(rows, "co-post"), 300.0)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_word_shingles_match_a_row_by_row_reference(k):
    import pyarrow as pa

    rng = np.random.default_rng(k)
    rows = [[int(x) for x in rng.integers(0, 2**64, size=n, dtype=np.uint64)] for n in rng.integers(0, 7, size=300)]
    mask, mix = 2**64 - 1, 0x9E3779B97F4A7C15

    def reference(words: list[int]) -> list[int]:
        out = []
        for i in range(max(len(words) - k + 1, 1) if words else 0):
            h = words[i]
            for w in words[i + 1 : i + k]:
                h = (((h ^ (h >> 29)) * mix) + w) & mask
            out.append(h ^ (h >> 32))
        return out

    arr = pa.array(rows, pa.list_(pa.uint64()))
    got = ly.word_shingles(arr, k).to_pylist()
    assert got == [reference(r) for r in rows]
    # near-dup hands each thread a slice of the batch
    assert ly.word_shingles(arr.slice(37, 101), k).to_pylist() == [reference(r) for r in rows[37:138]]
    sliced = ly.band_keys(ly.word_shingles(arr.slice(150, 100), k), bands=4, rows=2)
    whole = ly.band_keys(ly.word_shingles(arr, k), bands=4, rows=2)
    nonempty = np.array([len(r) > 0 for r in rows])
    assert np.array_equal(sliced[nonempty[150:250]], whole[150:250][nonempty[150:250]])


def test_poisson_tail_matches_scipy():
    from scipy.stats import poisson

    from trollscope.detect.significance import poisson_p

    k, lam = np.meshgrid(
        [-1, 0, 1, 2, 3, 5, 10, 50, 100, 999, 1000, 1001, 5000, 100_000],
        [1e-300, 1e-12, 1e-3, 0.5, 1, 2.5, 10, 50, 999, 1000, 1001, 5000, 1e5, 2e5],
    )
    k, lam = k.ravel(), lam.ravel()
    expected = np.where(k <= 0, 1.0, poisson.sf(k - 1, lam))  # P(K >= k) = P(K > k - 1)
    got = poisson_p(k, lam)
    tiny = expected < 1e-290
    np.testing.assert_allclose(got[~tiny], expected[~tiny], rtol=1e-8)
    assert np.all(got[tiny] < 1e-280)
    small = ~tiny & (k <= 1000)
    np.testing.assert_allclose(got[small], expected[small], rtol=1e-10)
    assert poisson_p(np.array([], dtype=int), np.array([])).shape == (0,)


def test_text_normalisation_equals_its_one_pattern_definition():
    """norm_text_sql skips lone spaces; the output must be the definition's: every run of mentions
    and non-alphanumerics (``(?:@\\w*|[^\\p{L}\\p{N}@])+``) becomes one space."""
    import random

    low = "lower(coalesce(t, ''))"
    no_urls = rf"CASE WHEN contains({low}, 'http') THEN regexp_replace({low}, 'https?://\S+', ' ', 'g') ELSE {low} END"
    definition = rf"trim(regexp_replace({no_urls}, '(?:@\w*|[^\p{{L}}\p{{N}}@])+', ' ', 'g'))"
    alphabet = [*"ab Z9_ @@  \t\n.!#é漢\u00a0\u2003-:/", "http://x.co/a", "https://", "@u_1", "  ", "ǅ", "İ"]
    rng = random.Random(7)
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25))) for _ in range(50_000)]
    texts += ["plain words only", "two  spaces", " lead and trail ", "a@b c", "x @ y", None]
    con = duckdb.connect()
    con.execute("CREATE TABLE s AS SELECT unnest($1::VARCHAR[]) AS t", [texts])
    differ = con.execute(f"SELECT t FROM s WHERE {ly.norm_text_sql('t')} IS DISTINCT FROM {definition}").fetchall()
    assert differ == []
    assert con.execute(f"SELECT count(DISTINCT {ly.norm_text_sql('t')}) FROM s").fetchall()[0][0] > 10_000


def test_plain_url_shortcut_equals_the_full_normalisation():
    import random

    rng = random.Random(3)
    schemes = ["http://", "https://", "HTTP://", "ftp://", "", "https://www.", "https://www2.", " https://"]
    hosts = ["a.com", "Sub.Example.org", "x-y.co.uk", "t.co", "host:443", "h.com:8080", "bad_host.com", "ünï.de"]
    paths = [
        "",
        "/",
        "//",
        "/p/q",
        "/P?x=1",
        "/a#frag",
        "/a b",
        "/é",
        "/x'y",
        "/?utm_source=z&a=1",
        "/a/\u00a0",
        "/~$&+",
    ]
    urls = [
        rng.choice(schemes) + rng.choice(hosts) + rng.choice(paths) + rng.choice(["", "/", "?", " "])
        for _ in range(20_000)
    ]
    con = duckdb.connect()
    con.execute("CREATE TABLE s AS SELECT unnest($1::VARCHAR[]) AS u", [urls])
    shortcut = con.execute(
        "SELECT count(*) FILTER (WHERE starts_with(u, 'http') AND u = lower(u) AND NOT contains(u, '?')) FROM s"
    ).fetchall()[0][0]
    assert shortcut > 1_000  # the fuzz reaches the shortcut's inputs often
    differ = con.execute(
        f"SELECT u, {ly.norm_url_sql('u')}, {ly.norm_url_full_sql('u')} FROM s "
        f"WHERE ({ly.norm_url_sql('u')}) IS DISTINCT FROM ({ly.norm_url_full_sql('u')})"
    ).fetchall()
    assert differ == []


def test_bare_text_retweets_are_reposts_not_posts(tmp_path):
    """`RT @x: …` in a plain CSV is a repost of x's post: co-repost pairs the retweeters, co-post the
    accounts who wrote the same text themselves, and neither layer mixes the two."""
    text = "The mayor resigned after the vote this morning"
    rows = [("alice", f"RT @news: {text}", 0), ("bob", f"RT @news: {text}", 20), ("carol", text, 30),
            ("dave", text, 40), ("erin", f"{text} and the council is next", 45)]  # fmt: skip
    path = tmp_path / "posts.csv"
    path.write_text("handle,text,created_at\n" + "".join(f"{h},{t},2016-03-01 10:00:{s:02d}\n" for h, t, s in rows))
    ts.ingest(str(path), tmp_path / "ws")
    r = detect(tmp_path / "ws", layers=("co-repost", "co-post"), window=60, keep_edges=1, groups=False, write=False)
    pairs = {(e["layer"], e["handle_a"], e["handle_b"]) for e in r.edges.to_pylist()}
    assert pairs == {("co-repost", "alice", "bob"), ("co-post", "carol", "dave")}


def test_replies_to_a_viral_post_are_its_crowd_and_addressees_are_not_mentions(tmp_path):
    """Two accounts replying within seconds to a post 60 accounts reposted are its audience, not a
    pair; to an obscure post they are. A reply's addressee is no chosen mention; @carol is."""
    from test_detect_cases import Rows

    b = Rows()
    viral = b.add("star", 0, "a post everyone reacts to today")
    quiet = b.add("nobody", 0, "a post hardly anyone sees today")
    for i in range(60):
        b.retweet(f"fan{i}", 30 + i, viral)
    for s in range(0, 3000, 600):  # five rounds: a and c reply to both posts seconds apart
        for user, lag in (("a", 0), ("c", 5)):
            b.add(user, 100 + s + lag, f"@ustar reply number {s} to the star", in_reply_to_tweetid=viral,
                  in_reply_to_userid="star")  # fmt: skip
            b.add(user, 200 + s + lag, f"@unobody reply number {s} here @carol", in_reply_to_tweetid=quiet,
                  in_reply_to_userid="nobody")  # fmt: skip
    ws = ts.ingest(str(b.write(tmp_path / "a.csv")), tmp_path / "ws").workspace
    r = detect(ws, layers=("co-reply", "co-mention"), window=60, keep_edges=1, groups=False, write=False)
    got = {(e["layer"], e["handle_a"], e["handle_b"]): e["items"] for e in r.edges.to_pylist()}
    # co-reply: only the obscure post is an item the pair shares; co-mention: the set {carol} only.
    assert got == {("co-reply", "ua", "uc"): 1, ("co-mention", "ua", "uc"): 1}, got
