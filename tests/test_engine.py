"""The engine layer: bounded, UTC DuckDB connections, and DuckDB SQL that stays portable to Spark.

The representative queries are the ones docs/decisions/0001-query-engine.md was measured on
(benchmarks/engine_queries.py). Their results are checked against a brute-force count in Python;
the Spark test runs only where PySpark is importable (it is not a project dependency).
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import random
import re
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot

from trollscope import engine
from trollscope.engine import NotPortable, to_dialect

_spec = importlib.util.spec_from_file_location(
    "engine_queries", Path(__file__).resolve().parents[1] / "benchmarks" / "engine_queries.py"
)
queries = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(queries)

_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "KB": 10**3, "MB": 10**6, "GB": 10**9}


def _bytes(setting: str) -> float:
    """DuckDB shows memory_limit as e.g. '953.6 MiB'."""
    m = re.fullmatch(r"([\d.]+)\s*(\w+)", setting.strip())
    assert m, setting
    return float(m.group(1)) * _UNITS[m.group(2)]


def _memory_limit(con: duckdb.DuckDBPyConnection) -> float:
    return _bytes(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])


# --- connect() ----------------------------------------------------------------------------------


def test_connect_bounds_memory_to_the_limit_asked_for():
    con = engine.connect(memory_limit="1GB")
    assert _memory_limit(con) == pytest.approx(1e9, rel=1e-3)  # shown as '953.6 MiB'


def test_connect_default_limit_is_ours_not_duckdbs():
    # DuckDB's own default is 80% of the machine's memory; ours is DEFAULT_MEMORY_LIMIT.
    ours = _memory_limit(engine.connect())
    assert ours == pytest.approx(_bytes(engine.DEFAULT_MEMORY_LIMIT), rel=0.02)  # shown as e.g. '3.7 GiB'
    assert ours < _memory_limit(duckdb.connect())


def test_memory_limit_comes_from_the_environment():
    code = "from trollscope import engine; print(engine.connect().execute(\"SELECT current_setting('memory_limit')\").fetchone()[0])"
    env = {**os.environ, "TROLLSCOPE_MEMORY_LIMIT": "512MB"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert _bytes(out) == pytest.approx(512e6, rel=1e-3)


def test_connect_sets_threads_when_asked():
    con = engine.connect(threads=1)
    assert con.execute("SELECT current_setting('threads')").fetchone()[0] == 1


@pytest.fixture
def new_york(monkeypatch):
    """The process in another time zone, as on a researcher's laptop."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_connect_uses_utc_whatever_the_machine_zone(new_york):
    assert duckdb.connect().execute("SELECT current_setting('TimeZone')").fetchone()[0] == "America/New_York"
    con = engine.connect()
    assert con.execute("SELECT current_setting('TimeZone')").fetchone()[0] == "UTC"
    instant = datetime(2020, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=5)))
    expected = instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00")
    got = con.execute("SELECT (TIMESTAMPTZ '2020-01-01 02:00:00+05')::VARCHAR").fetchone()[0]
    assert got == expected


# --- the representative queries -----------------------------------------------------------------

STAGE_QUERIES = {"co_repost": queries.co_repost_sql(), "timeline": queries.timeline_sql()}


@pytest.mark.parametrize("name", sorted(STAGE_QUERIES))
def test_stage_queries_transpile_to_spark_sql_that_parses_back(name):
    spark_sql = to_dialect(STAGE_QUERIES[name], "spark")
    tree = sqlglot.parse_one(spark_sql, read="spark")
    assert tree.sql("spark") == spark_sql  # a stable round trip: nothing sqlglot could not place
    assert tree.find(sqlglot.exp.Select) is not None


def test_ingest_finalize_transpiles_and_parses_back():
    # Ingest is DuckDB-only (read_csv rejects tables, COPY), and its finalize query uses * REPLACE,
    # which to_dialect refuses for Spark; plain sqlglot output must still parse.
    spark_sql = ";\n".join(sqlglot.transpile(queries.finalize_sql(), read="duckdb", write="spark"))
    assert sqlglot.parse_one(spark_sql, read="spark").sql("spark") == spark_sql
    assert "TRANSFORM(" in spark_sql and "->" in spark_sql  # DuckDB 2.0's `lambda t:` became Spark's `t ->`


def test_co_repost_spark_sql_keeps_sub_second_epoch():
    spark_sql = to_dialect(STAGE_QUERIES["co_repost"], "spark")
    assert "UNIX_TIMESTAMP" not in spark_sql and "UNIX_MICROS" in spark_sql


def _reposts(seed: int = 3) -> list[tuple[str, str, datetime]]:
    """Repost events of a few accounts on a few items, with pairs exactly at and just past the window."""
    rng = random.Random(seed)
    t0 = datetime(2016, 9, 1, 23, 58)  # buckets straddle midnight and an hour boundary
    events = [
        (f"a{rng.randrange(12)}", f"i{rng.randrange(5)}", t0 + timedelta(seconds=rng.randrange(600)))
        for _ in range(150)
    ]
    w = queries.WINDOW_SECONDS
    events += [
        ("edge1", "i9", t0),
        ("edge2", "i9", t0 + timedelta(seconds=w)),
        ("edge3", "i9", t0 + timedelta(seconds=w + 1)),
    ]
    return events


@pytest.fixture
def posts_con(tmp_path):
    events = _reposts()
    table = pa.table(
        {
            "post_id": [f"p{i}" for i in range(len(events) + 2)],
            "account_id": [e[0] for e in events] + ["a1", "a2"],
            "created_at": pa.array([e[2] for e in events] + [datetime(2016, 9, 1, 23, 59)] * 2, pa.timestamp("us")),
            "kind": ["repost"] * len(events) + ["original"] * 2,
            "repost_of_id": [e[1] for e in events] + [None, None],
        }
    )
    pq.write_table(table, tmp_path / "posts.parquet")
    con = engine.connect()
    con.execute(f"CREATE VIEW posts AS SELECT * FROM read_parquet('{tmp_path / 'posts.parquet'}')")
    return con, events, table


def test_co_repost_counts_every_pair_within_the_window(posts_con):
    con, events, _ = posts_con
    w = queries.WINDOW_SECONDS
    pairs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (acc1, item1, t1), (acc2, item2, t2) in itertools.permutations(events, 2):
        if item1 == item2 and acc1 < acc2 and abs((t2 - t1).total_seconds()) <= w:
            pairs[(acc1, acc2)].append(item1)
    expected = sorted((a, b, len(items), len(set(items))) for (a, b), items in pairs.items())
    got = sorted(con.execute(queries.co_repost_sql()).fetchall())
    assert got == expected
    assert ("edge1", "edge2", 1, 1) in got and not any(r[:2] == ("edge1", "edge3") for r in got)


def test_timeline_counts_posts_and_accounts_per_hour(posts_con):
    con, _, table = posts_con
    groups: dict[tuple[datetime, str], list[str]] = defaultdict(list)
    for r in table.to_pylist():
        groups[(r["created_at"].replace(minute=0, second=0), r["kind"])].append(r["account_id"])
    expected = sorted((h, k, len(a), len(set(a))) for (h, k), a in groups.items())
    assert sorted(con.execute(queries.timeline_sql()).fetchall()) == expected


# --- what to_dialect corrects and refuses -------------------------------------------------------


def test_arg_max_keeps_duckdb_null_semantics_on_spark():
    out = to_dialect("SELECT arg_max(a, b), arg_min(a, b) FILTER (WHERE c > 1) FROM t")
    assert (
        out
        == "SELECT MAX_BY(a, b) FILTER(WHERE NOT a IS NULL), MIN_BY(a, b) FILTER(WHERE c > 1 AND NOT a IS NULL) FROM t"
    )


def test_quantile_cont_becomes_exact_percentile():
    assert to_dialect("SELECT quantile_cont(x, 0.9) FROM t") == "SELECT PERCENTILE(x, 0.9) FROM t"


def test_hash_stays_64_bit_and_epoch_us_exact():
    out = to_dialect("SELECT hash(a, b), epoch_us(ts) // 1000 FROM t")
    assert out == "SELECT XXHASH64(a, b), UNIX_MICROS(CAST(ts AS TIMESTAMP_LTZ)) DIV 1000 FROM t"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT regexp_replace(s, 'a', 'b') FROM t",
        "SELECT list(x ORDER BY y) FROM t",
        "SELECT row_number() OVER () FROM t",
        "SELECT lag(x) OVER (PARTITION BY a) FROM t",
        "SELECT * REPLACE (lower(a) AS a) FROM t",
        "SELECT a FROM t UNION ALL BY NAME SELECT a FROM u",
        "SELECT quantile_disc(x, 0.5) FROM t",
        "SELECT epoch_ms(ts) FROM t",
        "SELECT CAST(a / 2 AS BIGINT) FROM t",
        "SELECT epoch(ts)::BIGINT FROM t",
        "CREATE TEMP MACRO norm(x) AS lower(x)",
    ],
)
def test_constructs_outside_the_portable_subset_are_refused(sql):
    with pytest.raises(NotPortable):
        to_dialect(sql, "spark")
    assert to_dialect(sql, "duckdb")  # DuckDB itself is never refused


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT regexp_replace(s, 'a', 'b', 'g') FROM t",
        "SELECT regexp_replace(s, '^RT @\\w+: ', '') FROM t",
        "SELECT list_sort(list(x)) FROM t",
        "SELECT row_number() OVER (PARTITION BY a ORDER BY b) FROM t",
        "SELECT * EXCLUDE (a) FROM t",
        "SELECT CAST(floor(a / 2) AS BIGINT) FROM t",
    ],
)
def test_portable_spellings_pass(sql):
    assert sqlglot.parse_one(to_dialect(sql, "spark"), read="spark")


# --- Spark itself, where it is installed --------------------------------------------------------


@pytest.mark.slow
@pytest.mark.spark
def test_stage_queries_give_duckdbs_results_on_spark(posts_con, tmp_path, spark):
    # The suite's one session (conftest.py), never a session of its own: getOrCreate would hand back
    # the shared one, and stopping it here stopped it for every Spark test after this one.
    con, _, _ = posts_con
    spark.read.parquet(str(tmp_path / "posts.parquet")).createOrReplaceTempView("posts")
    try:
        for sql in STAGE_QUERIES.values():
            # Arrow, not collect(): collect() turns timestamps into the Python process's local time.
            rows = spark.sql(to_dialect(sql, "spark")).toArrow().to_pylist()
            got = sorted(
                tuple(v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in r.values()) for r in rows
            )
            assert got == sorted(con.execute(sql).fetchall())
    finally:
        spark.catalog.dropTempView("posts")


def test_spark_regexps_get_re2s_white_space_and_lower_maps_sigma_and_dotted_i_first():
    """Java's \\s also matches a vertical tab and its lower() maps Σ and İ by context: the Spark SQL
    spells RE2's \\s and \\S out and maps those two letters before lower() (docs/scale.md)."""
    import re as pyre

    from trollscope._spark_sql import re2_for_java

    assert re2_for_java(r"https?://\S+") == r"https?://[^\t\n\f\r ]+"
    assert re2_for_java(r"^(\s*@\w+)+") == r"^([\t\n\f\r ]*@\w+)+"
    assert re2_for_java(r"[\s_-]*a\\s") == r"[\t\n\f\r _-]*a\\s"  # inside a class; an escaped backslash kept
    assert re2_for_java(r"[\S]") == r"[[^\t\n\f\r ]]"  # inside a class: a nested class (Java's union)
    # Python's re treats \x0b as white space, as Java does; the spelled-out class does not, as RE2 does not.
    assert pyre.fullmatch(re2_for_java(r"\S+"), "a\x0bb") and not pyre.fullmatch(r"\S+", "a\x0bb")
    spark = to_dialect("SELECT regexp_replace(lower(t), '\\s+', ' ', 'g') FROM x", "spark")
    assert "LOWER(TRANSLATE(t, 'Σİ', 'σi'))" in spark and r"[\\t\\n\\f\\r ]+" in spark
