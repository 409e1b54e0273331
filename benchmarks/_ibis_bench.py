"""Ibis side of engine_overhead.py; runs in benchmarks/.venv-ibis so the project never imports Ibis.

Usage (engine_overhead.py calls it): .venv-ibis/bin/python _ibis_bench.py POSTS.parquet REPEAT
Prints one JSON object: compile and run times of the Ibis expressions and of the raw SQL on the
same DuckDB connection, whether the results agree, and the Spark SQL Ibis compiles the same
expressions to (for the Spark check).
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ibis  # noqa: E402
from engine_queries import WINDOW_SECONDS, co_repost_sql, timeline_sql  # noqa: E402
from ibis import _  # noqa: E402

# engine.py alone (it needs only duckdb and sqlglot, both here): the package would pull in ingest.
_spec = importlib.util.spec_from_file_location("engine", HERE.parent / "src" / "trollscope" / "engine.py")
engine = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(engine)


def co_repost_expr(posts: ibis.Table, window: int = WINDOW_SECONDS) -> ibis.Table:
    """The co-repost self-join of engine_queries.co_repost_sql, as an Ibis expression."""
    e = posts.filter((posts.kind == "repost") & posts.repost_of_id.notnull()).select(
        "account_id",
        "repost_of_id",
        "created_at",
        bucket=(posts.created_at.epoch_seconds() / window).floor().cast("int64"),
    )
    offsets = ibis.memtable({"d": [-1, 0, 1]})
    a = e.cross_join(offsets).mutate(near=_.bucket + _.d)
    b = e.view()
    pairs = a.join(
        b,
        [a.repost_of_id == b.repost_of_id, b.bucket == a.near, a.account_id < b.account_id],
    ).select(
        account_a=a.account_id,
        account_b=b.account_id,
        item=a.repost_of_id,
        dt=(b.created_at.epoch_seconds() - a.created_at.epoch_seconds()).abs(),
    )
    return (
        pairs.filter(pairs.dt <= window)
        .group_by("account_a", "account_b")
        .aggregate(co_reposts=_.count(), items=_.item.nunique())
    )


def timeline_expr(posts: ibis.Table, unit: str = "h") -> ibis.Table:
    """engine_queries.timeline_sql as an Ibis expression."""
    return posts.group_by(period=posts.created_at.truncate(unit), kind=posts.kind).aggregate(
        posts=_.count(), accounts=_.account_id.nunique()
    )


def _median_time(fn, repeat: int) -> float:
    times = []
    for _i in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _rows(table) -> list:
    return sorted(tuple(r.values()) for r in table.to_pylist())


def main(posts_path: str, repeat: int) -> dict:
    con = engine.connect()
    backend = ibis.duckdb.from_connection(con)
    con.execute(f"CREATE VIEW posts AS SELECT * FROM read_parquet('{posts_path}')")
    posts = backend.table("posts")
    builders = {"co_repost": co_repost_expr, "timeline": timeline_expr}
    raw = {"co_repost": co_repost_sql(), "timeline": timeline_sql()}
    out: dict = {"ibis_version": ibis.__version__, "queries": {}}
    for name, build in builders.items():
        expr = build(posts)
        ibis_sql = ibis.to_sql(expr, dialect="duckdb")
        res: dict = {
            "compile_s": _median_time(lambda b=build: ibis.to_sql(b(posts), dialect="duckdb"), max(repeat, 20)),
            "spark_sql": str(ibis.to_sql(expr, dialect="pyspark")),
            "duckdb_sql": str(ibis_sql),
        }
        # Alternate the runs so neither side gets a warmer cache; the first pair is a warm-up.
        raw_t, ibis_t, ibis_sql_t = [], [], []
        for i in range(repeat + 1):
            t = time.perf_counter()
            r_raw = con.sql(raw[name]).to_arrow_table()
            t1 = time.perf_counter()
            r_ibis = expr.to_pyarrow()
            t2 = time.perf_counter()
            con.sql(str(ibis_sql)).to_arrow_table()
            t3 = time.perf_counter()
            if i:
                raw_t.append(t1 - t)
                ibis_t.append(t2 - t1)
                ibis_sql_t.append(t3 - t2)
        res |= {
            "raw_sql_s": statistics.median(raw_t),
            "ibis_s": statistics.median(ibis_t),
            "ibis_sql_as_raw_s": statistics.median(ibis_sql_t),
            "rows": r_raw.num_rows,
            "same_result": _rows(r_raw) == _rows(r_ibis.rename_columns(r_raw.column_names)),
        }
        out["queries"][name] = res
    return out


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]))))
