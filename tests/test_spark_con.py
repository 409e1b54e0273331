"""The Spark connection: DuckDB's statements as Spark runs them, the collect bound, the refusals."""

from __future__ import annotations

import pyarrow as pa
import pytest

from trollscope.engine import NotPortable
from trollscope.spark_con import MAX_COLLECT_SETTING, CollectLimit, SparkConnection

pytestmark = pytest.mark.spark

ROWS = pa.table({"k": pa.array([1, 2, 3, 4], pa.int64()), "v": pa.array(["a", None, "c", "d"]),
                 "h": pa.array([2**64 - 1, 5, 6, 7], pa.uint64())})  # fmt: skip


@pytest.fixture
def con(spark):
    c = SparkConnection(spark)
    c.register("_t_src", ROWS)
    c.execute("CREATE OR REPLACE TEMP TABLE _t AS SELECT * FROM _t_src")
    yield c
    c.close()


def test_temp_tables_delete_update_and_drop_column_rewritten_as_duckdb_runs_them(con):
    con.execute("DELETE FROM _t WHERE v = 'c'")  # v NULL: the condition is NULL, the row stays (as in DuckDB)
    assert con.execute("SELECT k FROM _t ORDER BY k").fetchall() == [(1,), (2,), (4,)]
    con.execute("UPDATE _t SET v = 'z' WHERE k >= 2")
    assert con.execute("SELECT k, v FROM _t ORDER BY k").fetchall() == [(1, "a"), (2, "z"), (4, "z")]
    con.execute("ALTER TABLE _t DROP COLUMN v")
    assert con.sql("SELECT * FROM _t").columns == ["k", "h"]
    # An unsigned 64-bit value crosses as the signed number of the same bits, and comes back so.
    h = con.sql("SELECT h FROM _t ORDER BY k").to_arrow_table().column("h").cast(pa.uint64(), safe=False)
    assert h.to_pylist() == [2**64 - 1, 5, 7]
    assert con.has_table("_t")
    con.execute("DROP TABLE IF EXISTS _t")
    assert not con.has_table("_t")


def test_a_temp_table_is_computed_once_and_survives_changes_to_its_sources(con, spark):
    """Temp tables are checkpoints, not cached views: a cached view loses its cache (and recomputes
    its whole lineage at every later query) when a view it was built from is replaced or dropped."""
    con.execute("CREATE OR REPLACE TEMP TABLE _u AS SELECT k, k * 10 AS x FROM _t")
    con.execute("CREATE OR REPLACE TEMP TABLE _t AS SELECT k FROM _t WHERE k > 2")  # rebuilt from itself
    con.unregister("_t_src")
    assert con.execute("SELECT k, x FROM _u ORDER BY k").fetchall() == [(1, 10), (2, 20), (3, 30), (4, 40)]
    assert con.execute("SELECT k FROM _t ORDER BY k").fetchall() == [(3,), (4,)]
    for name in ("_u", "_t"):  # Spark plans over the computed rows, not over the queries they came from
        plan = spark.table(name)._jdf.queryExecution().optimizedPlan().toString()
        assert plan.startswith("LogicalRDD") and "\n" not in plan.strip(), plan


def test_closing_frees_every_checkpoint_of_the_connection(spark):
    """A long session (a notebook, this test suite) runs many stages: each connection's checkpoints,
    replaced ones included, are unpersisted when it closes, not left for the garbage collector."""
    persistent = lambda: len(spark.sparkContext._jsc.getPersistentRDDs())  # noqa: E731
    before = persistent()
    c = SparkConnection(spark)
    c.register("_t_src", ROWS)
    c.execute("CREATE OR REPLACE TEMP TABLE _t AS SELECT * FROM _t_src")
    c.execute("CREATE OR REPLACE TEMP TABLE _t AS SELECT k FROM _t WHERE k > 1")  # the first _t retired
    c.execute("CREATE OR REPLACE TEMP TABLE _u AS SELECT k * 2 AS k2 FROM _t")
    assert persistent() >= before + 3
    c.close()
    assert persistent() == before


def test_index_past_the_end_and_slice_with_a_computed_end_run_as_duckdb_runs_them(con):
    """DuckDB's x[i] is NULL past the end (Spark's fails under ANSI mode), and array_slice(x, i, j)
    takes elements i..j (Spark's slice takes a length): both translated to give DuckDB's rows."""
    import duckdb

    sql = (
        "SELECT k, list_filter([1, 2, 3], lambda x: x > k)[1] AS first_above, "
        "array_slice(['a', 'b', 'c', 'd'], k, k + 1) AS two FROM _t ORDER BY k"
    )
    duck = duckdb.connect()
    duck.register("_t", ROWS)
    assert con.execute(sql).fetchall() == duck.execute(sql).fetchall()
    assert con.execute(sql).fetchall()[-1] == (4, None, ["d"])  # past the end: NULL, and a short slice


def test_trim_strips_unicode_space_separators_as_duckdb_does(con):
    """DuckDB's trim strips every space separator (a no-break space glued to a URL in the IRA's
    tweets, an ideographic space) but not tabs or newlines; Spark's strips ' ' alone. Translated,
    both engines give the same strings, with and without named characters."""
    import duckdb

    texts = ["\u00a0t.co/x\u00a0", "\u3000 a \u2003", "\tb\n", " c\u202f", "@d@", "/e//"]
    con.register("_s", pa.table({"i": pa.array(range(len(texts))), "x": pa.array(texts)}))
    sql = "SELECT i, trim(x) AS t, ltrim(x) AS l, rtrim(x) AS r, rtrim(x, '/') AS rs, ltrim(x, '@') AS la FROM _s ORDER BY i"
    duck = duckdb.connect()
    duck.register("_s", pa.table({"i": pa.array(range(len(texts))), "x": pa.array(texts)}))
    expected = duck.execute(sql).fetchall()
    assert [r[1] for r in expected] == [x.strip(" \u00a0\u3000\u2003\u202f") for x in texts]  # the spaces, not \t \n
    assert con.execute(sql).fetchall() == expected


def test_regular_expressions_match_as_re2_does(con):
    """DuckDB's patterns are RE2's; Spark runs Java's. The translation gives Java the ASCII word
    boundaries and whitespace of RE2 and its Unicode case folding, so a candidate's name after
    Japanese text, a vertical tab or a Cyrillic capital match the same on both engines."""
    import duckdb

    texts = [
        "わぁいHillary for Prison!",
        "hillary",
        "xhillary",
        "a\x0bb",
        "a b",
        "ТРАМП и трамп",
        "Ünïcode ÜNÏCODE",
        "snake_case",
    ]
    patterns = [
        r"(?i)\bhillary",
        r"\Bill",
        r"a\sb",
        r"a\Sb",
        r"(?i)трамп",
        r"(?i)ünïcode",
        r"[\s]",
        r"a[^\S]b",
        r"\bcase\b",
    ]
    rows = pa.table({"i": pa.array(range(len(texts))), "x": pa.array(texts)})
    con.register("_s", rows)
    duck = duckdb.connect()
    duck.register("_s", rows)
    cols = ", ".join(f"regexp_matches(x, '{p}') AS m{j}" for j, p in enumerate(patterns))
    sql = f"SELECT i, {cols}, regexp_replace(x, '\\s', '_', 'g') AS r FROM _s ORDER BY i"
    expected = duck.execute(sql).fetchall()
    assert expected[0][1] and not expected[2][1]  # RE2: a boundary after Japanese letters, none inside a word
    assert con.execute(sql).fetchall() == expected


def test_results_come_back_in_duckdbs_arrow_schema(con):
    t = con.sql(
        "SELECT list_sort(list(v)) AS vs, count(*) / 2.0 AS half, avg(CASE WHEN k > 1 THEN 1.0 ELSE 0.0 END) AS share, "
        "row_number() OVER (ORDER BY 1) AS rk FROM _t"
    ).to_arrow_table()
    assert t.schema == pa.schema(
        [
            ("vs", pa.list_(pa.field("l", pa.string()))),
            ("half", pa.float64()),
            ("share", pa.float64()),
            ("rk", pa.int64()),
        ]
    )
    assert t.to_pylist() == [{"vs": ["a", "c", "d"], "half": 2.0, "share": 0.75, "rk": 1}]  # collect_list skips NULL


def test_a_result_larger_than_the_bound_fails_naming_the_setting(con, spark):
    spark.conf.set(MAX_COLLECT_SETTING, "3")
    try:
        with pytest.raises(CollectLimit, match=f"more than 3 rows.*--conf {MAX_COLLECT_SETTING}=N"):
            con.sql("SELECT * FROM _t").to_arrow_table()
        assert con.sql("SELECT * FROM _t WHERE k < 4").to_arrow_table().num_rows == 3
    finally:
        spark.conf.unset(MAX_COLLECT_SETTING)


@pytest.mark.parametrize(
    "statement",
    ["SET threads = 4", "COPY _t TO 'x.parquet'", "SELECT list(k ORDER BY k) FROM _t",
     "CREATE MACRO m(x) AS x + 1"],
)  # fmt: skip
def test_what_spark_would_run_differently_or_not_at_all_is_refused(con, statement):
    with pytest.raises(NotPortable):
        con.execute(statement)


def test_an_empty_table_with_a_timestamp_registers_as_an_empty_view(con):
    # a filtered table of no rows (detection's group edges when no group is significant): pyspark
    # cannot convert its list-of-struct column, whose cast to signed integers leaves no chunks
    ev = pa.list_(pa.struct([("pa", pa.uint64()), ("ta", pa.int64())]))
    full = pa.table({"k": pa.array([1], pa.int64()), "evidence": pa.array([[{"pa": 2**64 - 1, "ta": 5}]], ev)})
    empty = full.filter(pa.array([False]))
    con.register("_e", empty)
    assert con.execute("SELECT count(*) FROM _e").fetchall() == [(0,)]
    assert con.execute("SELECT * FROM _e").fetchall() == []
