"""Detection and investigation on Spark (``--engine spark``) give DuckDB's results, and really run on Spark.

One simulated collection with planted operations (6,000 posts), detected and investigated on both
engines in the session's Spark (local[2], tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from helpers import sample_rows, write_ioarchive

import trollscope as ts
from trollscope import investigate as inv
from trollscope.detect import LAYERS, detect
from trollscope.engine import EngineSpec, sql_str

pytestmark = pytest.mark.spark

SPARK = EngineSpec("spark")  # joins the fixture's session
SPARK_LAYERS = tuple(x for x in LAYERS if x != "near-dup")
WINDOWS = (300.0, 3600.0)  # one tested scale and its reference: the timing test runs, at half the cost


def same(a: pa.Table, b: pa.Table, what: str) -> None:
    """Equal tables: one schema, rows in one order, equal values; floats to 1e-12 (relative), since
    Java's and C's log10 differ in the last bit and a sum of doubles depends on its order."""
    assert a.schema == b.schema, f"{what}: {a.schema} != {b.schema}"
    assert a.num_rows == b.num_rows, what
    for i, (x, y) in enumerate(zip(a.to_pylist(), b.to_pylist(), strict=True)):
        for k in x:
            u, v = x[k], y[k]
            if isinstance(u, float) and isinstance(v, float):
                assert u == v or math.isclose(u, v, rel_tol=1e-12) or (math.isnan(u) and math.isnan(v)), (
                    what,
                    i,
                    k,
                    u,
                    v,
                )
            else:
                assert u == v, (what, i, k, u, v)


@pytest.fixture(scope="module")
def sim_ws(tmp_path_factory) -> Path:
    from trollscope.simulate import simulate

    root = tmp_path_factory.mktemp("spark-sim")
    sim = simulate(posts=6_000, seed=5, out=root / "sim")
    ts.ingest([str(f) for f in sim.files], root / "ws")
    return root / "ws"


@pytest.fixture(scope="module", autouse=True)
def small_data_settings(spark):
    """Whole-stage code generation compiles Java for every new query: most of a small run's time."""
    old = spark.conf.get("spark.sql.codegen.wholeStage")
    spark.conf.set("spark.sql.codegen.wholeStage", "false")
    yield
    spark.conf.set("spark.sql.codegen.wholeStage", old)


@pytest.fixture(scope="module")
def both(sim_ws, spark):
    duck = detect(sim_ws, layers=SPARK_LAYERS, window=WINDOWS)  # written: the investigations read it
    # cache=False: Spark normalises the texts itself rather than read the cache DuckDB just wrote
    on_spark = detect(sim_ws, layers=SPARK_LAYERS, window=WINDOWS, write=False, engine=SPARK, cache=False)
    return duck, on_spark


def test_detection_on_spark_gives_duckdbs_edges_clusters_and_flagged_accounts(both):
    duck, on_spark = both
    # Something to agree on: planted operations found, groups confirmed, several layers involved.
    assert len(duck.flagged) >= 20 and duck.clusters.num_rows >= 3 and duck.groups.num_rows >= 1
    sig = lambda r: r.edges.filter(r.edges.column("significant"))  # noqa: E731
    assert sig(duck).num_rows > 100
    assert len(set(sig(duck).column("layer").to_pylist())) >= 3
    assert on_spark.flagged == duck.flagged
    for name in ("edges", "clusters", "members", "accounts", "evidence", "groups"):
        same(getattr(duck, name), getattr(on_spark, name), name)
    for layer, figures in duck.layers.items():
        for k in ("candidate_edges", "significant_edges", "coinciding_pairs", "actions", "strata", "candidate_groups"):
            assert on_spark.layers[layer].get(k) == figures.get(k), (layer, k)


def test_several_splits_count_the_same_halves_on_spark(sim_ws):
    """group_splits: each split's counts per half come from Spark SQL (one FILTER per split)."""
    kw = dict(layers=("co-repost", "co-post", "co-hashtag"), window=WINDOWS, group_splits=3, write=False)
    duck, on_spark = detect(sim_ws, **kw), detect(sim_ws, engine=SPARK, cache=False, **kw)
    assert duck.groups.num_rows >= 1 and len(duck.flagged) >= 10
    assert on_spark.flagged == duck.flagged
    for name in ("edges", "groups", "members"):
        same(getattr(duck, name), getattr(on_spark, name), name)
    assert on_spark.layers["groups"] == {**duck.layers["groups"], "seconds": on_spark.layers["groups"]["seconds"]}


@pytest.mark.parametrize("name", ["timeline", "targeting", "narratives", "amplifiers"])
def test_each_investigation_gives_duckdbs_tables_on_spark(both, sim_ws, name):
    kw = {"accounts": "flagged", "by": "cluster"}
    if name == "targeting":
        kw["bootstrap"] = 50
    duck = getattr(inv, name)(sim_ws, **kw)
    on_spark = getattr(inv, name)(sim_ws, engine=SPARK, **kw)
    frames = duck.frames()
    assert sum(t.num_rows for t in frames.values()) > 0
    assert set(on_spark.frames()) == set(frames)
    for frame, table in frames.items():
        same(table, on_spark.frames()[frame], f"{name}.{frame}")
    assert on_spark.notes == duck.notes


def test_a_spark_run_never_falls_back_to_duckdb_and_spark_logs_the_sql(both, sim_ws, spark, monkeypatch):
    import duckdb

    import trollscope.engine
    from trollscope.workspace import Workspace

    def refuse(*args, **kwargs):
        raise AssertionError("a --engine spark run opened DuckDB")

    monkeypatch.setattr(trollscope.engine, "connect", refuse)
    monkeypatch.setattr("trollscope.detect.run.connect", refuse)
    monkeypatch.setattr(Workspace, "connect", refuse)
    monkeypatch.setattr(duckdb, "connect", refuse)
    r = detect(sim_ws, layers=("co-hashtag", "similarity"), window=WINDOWS, write=False, engine=SPARK)
    assert r.flagged  # it ran, on Spark alone
    tl = inv.timeline(sim_ws, "flagged", "cluster", engine=SPARK)
    assert tl.frames()["volume"].num_rows
    monkeypatch.undo()
    # Spark's own event log names the SQL it executed: the statements of the run, as translated.
    texts = [
        e.get("description", "")
        for e in _events(Path(spark.trollscope_event_log))
        if e.get("Event", "").endswith("SQLExecutionStart")
    ]
    assert any("FROM _pairs" in t and "trollscope" in t for t in texts), texts[:5]
    assert any("CONV(LEFT(MD5(" in t for t in texts)  # the items' engine-neutral key, in Spark's spelling


def test_targeting_on_spark_finds_its_flags_in_spark_tasks_not_on_the_driver(both, sim_ws, monkeypatch):
    """The regex flags come from DuckDB inside Spark's tasks: with DuckDB refused on the driver,
    targeting still gives DuckDB's tables, and no statement hands a regex to Java's engine."""
    import duckdb

    import trollscope.engine
    from trollscope.spark_con import SparkConnection
    from trollscope.workspace import Workspace

    kw = {"accounts": "flagged", "by": "cluster", "bootstrap": 20, "sentiment": False}
    duck = inv.targeting(sim_ws, **kw)
    statements: list[str] = []
    close = SparkConnection.close

    def keep_statements(self):
        statements.extend(self.statements)
        close(self)

    def refuse(*args, **kwargs):
        raise AssertionError("targeting on Spark opened DuckDB on the driver")

    for target, name in ((trollscope.engine, "connect"), (Workspace, "connect"), (duckdb, "connect")):
        monkeypatch.setattr(target, name, refuse)
    monkeypatch.setattr(SparkConnection, "close", keep_statements)
    on_spark = inv.targeting(sim_ws, engine=SPARK, **kw)
    monkeypatch.undo()
    assert duck.summary["operation"]["political_posts"] > 0
    for frame, table in duck.frames().items():
        same(table, on_spark.frames()[frame], f"targeting.{frame}")
    assert statements and not [s for s in statements if re.search(r"RLIKE|REGEXP", s, re.IGNORECASE)]


def _events(logs: Path) -> list[dict]:
    """The events of Spark's event log: rolling files (``eventlog_v2_*/events_N_*``), zstd-compressed
    by default in Spark 4 (the last one may end mid-frame while the session runs)."""
    out = []
    for f in sorted(logs.rglob("*")):
        if not f.is_file() or f.name.startswith((".", "appstatus")):
            continue
        try:
            if f.name.split(".inprogress")[0].endswith(".zstd"):
                with pa.CompressedInputStream(pa.OSFile(str(f)), "zstd") as stream:
                    data = stream.read()
            else:
                data = f.read_bytes()
        except OSError:
            continue
        for line in data.decode(errors="replace").splitlines():
            with contextlib.suppress(ValueError):  # a line cut by the end of an in-progress file
                out.append(json.loads(line))
    return out


def test_near_dup_on_spark_gives_duckdbs_edges_and_evidence_computed_in_spark_tasks(sim_ws, spark):
    # near-dup alone, at its one scale, on its own: candidates from the MinHash signatures that
    # Spark tasks compute (detect/near_dup_spark.py), the same bits as DuckDB's numpy ones.
    duck = detect(sim_ws, layers=("near-dup",), write=False)
    on_spark = detect(sim_ws, layers=("near-dup",), write=False, engine=SPARK, cache=False)
    assert duck.layers["near-dup"]["similar_pairs"] > 0 and duck.edges.num_rows > 0
    sig = duck.edges.filter(duck.edges.column("significant"))
    assert sig.num_rows > 0 and duck.flagged
    assert on_spark.flagged == duck.flagged
    for name in ("edges", "clusters", "members", "accounts", "evidence"):
        same(getattr(duck, name), getattr(on_spark, name), name)
    for k in ("actions", "crowd_actions", "accounts", "similar_pairs", "coinciding_pairs", "candidate_edges"):
        assert on_spark.layers["near-dup"][k] == duck.layers["near-dup"][k], k
    # The evidence names each pair's similarity, computed in SQL on either engine.
    items = [x for x in duck.evidence.column("item").to_pylist() if x]
    assert items and all(x.startswith("text similarity ") for x in items)


def test_near_dup_crowd_keys_are_left_out_on_spark_as_on_duckdb(sim_ws, spark):
    # A cap so low that the shared texts are crowds: posts holding such a band key are counted,
    # never paired, on both engines alike.
    duck = detect(sim_ws, layers=("near-dup",), write=False, max_item_accounts=2)
    on_spark = detect(sim_ws, layers=("near-dup",), write=False, engine=SPARK, max_item_accounts=2, cache=False)
    assert duck.layers["near-dup"]["crowd_actions"] > 0
    for k in ("actions", "crowd_actions", "similar_pairs", "candidate_edges"):
        assert on_spark.layers["near-dup"][k] == duck.layers["near-dup"][k], k
    same(duck.edges, on_spark.edges, "edges")


def test_cli_detect_prints_the_same_summary_on_both_engines(sim_ws, spark, tmp_path):
    from trollscope.cli import main

    ws = tmp_path / "ws"
    shutil.copytree(sim_ws, ws)
    base = ["detect", "-w", str(ws), "--layers", "co-post,co-hashtag", "--window", "5min,1h"]
    runs = {}
    for engine in (["--engine", "duckdb"], ["--engine", "spark", "--spark-master", "local[2]"]):
        r = CliRunner().invoke(main, base + engine)
        assert r.exit_code == 0, r.output
        runs[engine[1]] = r.stdout
    assert "flagged" in runs["duckdb"] and "@" in runs["duckdb"]  # a summary with clusters and evidence
    mask = lambda s: re.sub(r"\d+\.\d( s)?", "#", s)  # noqa: E731  (the seconds column and line)
    assert mask(runs["spark"]) == mask(runs["duckdb"])
    assert (
        "--spark-master and --conf apply to --engine spark only"
        in CliRunner().invoke(main, [*base, "--spark-master", "local[2]"]).output
    )


@pytest.mark.real_data
def test_ira_slice_flags_the_same_accounts_and_edges_on_both_engines(spark, shared, tmp_path):
    """Real posts, not the simulator's: the tweets of the first 40 IRA authors under A (about
    29,000), detected on both engines."""
    files = sorted((shared / "ira-by-author" / "A").glob("*.csv.gz"))[:40]
    if not files:
        pytest.skip(f"no IRA files under {shared / 'ira-by-author' / 'A'}")
    ts.ingest([str(f) for f in files], tmp_path / "ws")
    # co-hashtag tested on the configuration null alone: in a slice that is all operation, the IRA is
    # its own timing reference and the defaults flag none of it — nothing for the engines to agree on.
    kw = {"layers": SPARK_LAYERS, "window": WINDOWS, "write": False,
          "timing_layers": ("co-repost", "co-reply", "co-link", "co-mention")}  # fmt: skip
    keys = ["layer", "window", "account_a", "account_b", "count", "p_value", "q_value"]
    duck = detect(tmp_path / "ws", **kw)
    on_spark = detect(tmp_path / "ws", engine=SPARK, **kw)
    sig = lambda r: r.edges.filter(r.edges.column("significant")).select(keys)  # noqa: E731
    assert len(duck.flagged) >= 5 and sig(duck).num_rows >= 5  # something to agree on
    assert on_spark.flagged == duck.flagged
    same(sig(duck), sig(on_spark), "significant edges")
    same(duck.members, on_spark.members, "members")


# Texts where a plain translation of the normalisation differs on Spark: Java lower-cases a final
# capital sigma to ς and İ to i + U+0307 (DuckDB: σ, i), and its \s matches a vertical tab (RE2's not).
TRICKY = [
    "ΟΔΟΣ ΣΟΦΙΑΣ.", "İstanbul İİ", "x\x0bhttp://a.b/c\x0bd", "Hello @World!! http://x.co/A?b=1 ok",
    "emoji 😀😀 test 👍🏽", "  leading\ttab\nnewline  ", "ǅemal ǈ", "ＦＵＬＬ ｗｉｄｔｈ", "café CAFÉ", "Straße ẞ",
    "١٢٣ digits", "@a@b@c mention", "K Kelvin", "A\u0301 combining", "\u2028line sep", "", None,
]  # fmt: skip


def test_the_normalisation_gives_duckdbs_bytes_on_spark(spark):
    import duckdb

    from trollscope.detect.layers import norm_text_sql
    from trollscope.spark_con import SparkConnection

    t = pa.table({"id": list(range(len(TRICKY))), "text": TRICKY})
    query = f"SELECT id, {norm_text_sql('text')} AS norm FROM t ORDER BY id"
    d = duckdb.connect()
    d.register("t", t)
    on_duck = d.execute(query).fetchall()
    con = SparkConnection(spark)
    con.register("t", t)
    try:
        on_spark = con.execute(query).fetchall()
    finally:
        con.close()
    assert on_spark == on_duck
    got = dict(on_duck)
    assert (got[0], got[1], got[2]) == ("οδοσ σοφιασ", "istanbul ii", "x")  # each code point lower-cased alone


# Posts where Java's regex engine, even given re2_for_java's translation, matches targeting's patterns
# otherwise than RE2: Java's (?iu) folds İ and ı to i (RE2 folds neither), RE2's \\b is ASCII. With
# letters both fold alike (ſ, the Kelvin sign K), accents, a vertical tab and word characters
# around a term.
TARGETING_TEXTS = [
    "radİcal islam now", "CROOKED HİLLARY", "hıllary for prison", "ılLEGAL ALİENS", "LOCK HER UP!",
    "loc\u212a her up", "drain the ſwamp", "ſanders 2016", "\u212aelvin says trump", "わぁいHillary",
    "Clintonés", "Bérnie Sandérs", "Crooked Hillary's emails", "black\x0blives matter", "feel\u00a0the bern",
    "libtard\u212a", "_drumpf", "TedCruz and Rubio", "ｈｉｌｌａｒｙ", "make america great again", "", None,
]  # fmt: skip


def _targeting_flags(con, posts: pa.Table) -> list[tuple]:
    from trollscope.investigate.targeting import _classify_posts, load_candidates, load_lexicon

    con.register("op_posts", posts)
    _classify_posts(con, load_lexicon(), load_candidates(), "week")
    cols = ", ".join(c for c in con.sql("SELECT * FROM _pol").columns if c in ("l", "r") or c.startswith("_c"))
    return con.execute(f"SELECT post_id, {cols} FROM _pol ORDER BY post_id").fetchall()


def test_targetings_flags_on_spark_are_duckdbs_for_any_letters(spark):
    """Each post's left/right and candidate flags are RE2's on Spark too (DuckDB's regexp_matches run
    in Spark's tasks), where Java's regex engine would give other flags for some of these texts."""
    import duckdb

    from trollscope.investigate.targeting import _terms_of, _terms_regex, load_lexicon
    from trollscope.spark_con import SparkConnection

    n = len(TARGETING_TEXTS)
    posts = pa.table(
        {
            "post_id": [f"p{i:02d}" for i in range(n)],
            "account_id": ["a"] * n,
            "grp": ["operation"] * n,
            "created_at": pa.array([0] * n, pa.timestamp("us")),
            "text": TARGETING_TEXTS,
            "hashtags": pa.array([[] for _ in range(n)], pa.list_(pa.string())),
        }
    )
    on_duck = _targeting_flags(duckdb.connect(), posts)
    con = SparkConnection(spark)
    try:
        on_spark = _targeting_flags(con, posts)
        # What Java's engine says of the same patterns (the translation Spark SQL ran before).
        con.register("t", posts)
        right = _terms_regex(_terms_of(load_lexicon(), "right", "term"))
        java = dict(con.execute(f"SELECT post_id, regexp_matches(text, {sql_str(right)}) FROM t").fetchall())
    finally:
        con.close()
    assert on_spark == on_duck
    flagged = {row[0] for row in on_duck if any(row[1:])}
    assert {"p04", "p05", "p06", "p12"} <= flagged and "p00" not in flagged  # ſ and K fold, İ does not
    rights = {row[0]: row[2] for row in on_duck}
    assert [p for p in rights if bool(java[p]) != bool(rights[p])], "no text where Java's regex differs"


def test_the_text_cache_is_written_and_read_by_both_engines(sim_ws, spark, tmp_path):
    """Spark writes the cache (DuckDB's bytes), reads it back, and DuckDB reads it; a cache DuckDB
    wrote is read by Spark; each time the same edges. New posts make it stale on Spark too."""
    from trollscope.detect.layers import norm_text_sql
    from trollscope.detect.run import NORM_TEXTS

    def status(r) -> str:
        return r.layers["co-post"]["normalised_texts"]

    run = dict(layers=("co-post",), window=(300.0,), write=False)
    spark_first, duck_first = tmp_path / "spark-first", tmp_path / "duck-first"
    for ws in (spark_first, duck_first):  # the fixture's posts, no cache
        ts.ingest(str(sim_ws.parent / "sim"), ws)
    written = detect(spark_first, engine=SPARK, **run)
    assert status(written) == "computed, cached"
    con = ts.Workspace(spark_first, create=False).connect()
    cached = con.execute("SELECT post_id, norm FROM norm_texts ORDER BY 1").fetchall()
    own = con.execute(
        f"SELECT post_id, {norm_text_sql('text')} FROM posts WHERE kind <> 'repost' AND created_at IS NOT NULL ORDER BY 1"
    ).fetchall()
    con.close()
    assert cached == own and len(own) > 1000  # DuckDB's normalisation, written by Spark
    again = detect(spark_first, engine=SPARK, **run)
    assert status(again) == "read from cache"
    assert again.edges.to_pylist() == written.edges.to_pylist() and written.flagged
    by_duck = detect(spark_first, **run)
    assert status(by_duck) == "read from cache"
    same(by_duck.edges, written.edges, "edges")

    assert status(detect(duck_first, **run)) == "computed, cached"
    read = detect(duck_first, engine=SPARK, **run)
    assert status(read) == "read from cache"
    same(read.edges, written.edges, "edges")

    ts.ingest(str(write_ioarchive(tmp_path / "more.csv", sample_rows(10))), duck_first)
    assert status(detect(duck_first, engine=SPARK, **run)) == "computed, cached"  # new posts: the cache was stale
    w = ts.Workspace(duck_first, create=False)
    assert w.params(NORM_TEXTS)["posts"] == w.manifest()["tables"]["posts"]
