"""What writing queries once for DuckDB and Spark costs: Ibis vs raw SQL + sqlglot, and a Spark check.

Usage: python benchmarks/engine_overhead.py [--rows 1000000] [--repeat 5] [--no-ibis] [--no-spark]

Run it from the project's environment (trollscope installed). The figures in
docs/decisions/0001-query-engine.md come from this script. Ibis and PySpark are never project
dependencies: each lives in its own venv beside this file, made once with

    python -m venv benchmarks/.venv-ibis && benchmarks/.venv-ibis/bin/pip install 'ibis-framework[duckdb]'
    python -m venv benchmarks/.venv-spark && benchmarks/.venv-spark/bin/pip install pyspark pyarrow  # needs Java 17

and a missing venv only skips its part. Data is simulated (numpy) into benchmarks/.work/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlglot
from sqlglot.optimizer.qualify import qualify

from trollscope import engine

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from engine_queries import PROBES, co_repost_sql, finalize_sql, timeline_sql  # noqa: E402

WORK = HERE / ".work"
IBIS_PY = HERE / ".venv-ibis" / "bin" / "python"
SPARK_PY = HERE / ".venv-spark" / "bin" / "python"


# --- data ---------------------------------------------------------------------------------------


def make_posts(n: int, path: Path, seed: int = 7) -> None:
    """``n`` simulated posts, 80% reposts, with one planted group of 30 accounts.

    Background reposts: item popularity ~ 1/rank^0.6, reposts spread exponentially (mean 24 h)
    after the item appears, account activity log-normal, 30 days, second resolution. The planted
    group reposts the same 300 items, each within 40 s of its first appearance.
    """
    rng = np.random.default_rng(seed)
    n_acc, n_items, days = max(n // 50, 100), max(n // 20, 400), 30
    t0 = np.datetime64("2016-09-01T00:00:00", "s").astype(np.int64)
    birth = t0 + rng.integers(0, days * 86400, n_items)
    item_w = 1.0 / np.arange(1, n_items + 1) ** 0.6
    acc_w = rng.lognormal(0, 1.2, n_acc)
    planted_items = rng.choice(n_items, 300, replace=False)
    p_items = np.tile(planted_items, 30)
    n_bg = n - p_items.size
    n_rep = int(n_bg * 0.8)
    item = rng.choice(n_items, n_rep, p=item_w / item_w.sum())
    account = np.concatenate(
        [rng.choice(n_acc, n_bg, p=acc_w / acc_w.sum()), np.repeat(np.arange(n_acc, n_acc + 30), 300)]
    )
    repost_item = np.concatenate([item, np.full(n_bg - n_rep, -1), p_items])
    created = np.concatenate(
        [
            birth[item] + rng.exponential(24 * 3600, n_rep).astype(np.int64),
            t0 + rng.integers(0, days * 86400, n_bg - n_rep),
            birth[p_items] + rng.integers(0, 40, p_items.size),
        ]
    )

    def ids(prefix: str, a: np.ndarray) -> pa.Array:
        return pc.binary_join_element_wise(prefix, pc.cast(pa.array(a), pa.string()), "")

    is_repost = pa.array(repost_item >= 0)
    table = pa.table(
        {
            "post_id": ids("p", np.arange(account.size)),
            "account_id": ids("a", account),
            "created_at": pa.array((created * 1_000_000).astype("datetime64[us]")),
            "kind": pc.if_else(is_repost, "repost", "original"),
            "repost_of_id": pc.if_else(is_repost, ids("i", repost_item), pa.nulls(account.size, pa.string())),
        }
    )
    pq.write_table(table, path)


# Rows for the construct probes: NULLs, Unicode, URLs, a list with a NULL, ties broken by time.
PROBE_ROWS = """
SELECT * FROM (VALUES
    (1, 'x', 'RT @Alice_1: hello #Größe #tag https://t.co/abc… and @bob', ['a', 'b', 'c'], 5, TIMESTAMP '2020-01-01 10:00:00'),
    (2, 'x', 'plain text aeiou #ÄÖÜ http://a.b/c?d=1 http://e.f', ['b'], NULL, TIMESTAMP '2020-01-01 11:30:15'),
    (3, 'y', 'Привет #Россия @carol_x, mail a@b.com', [], 3, TIMESTAMP '2020-01-02 00:00:59'),
    (4, 'y', NULL, NULL, NULL, TIMESTAMP '2020-01-02 23:59:59'),
    (5, 'x', 'RT @bob: RT @Alice_1: nested', ['c', NULL], 1, TIMESTAMP '2020-01-01 09:00:00')
) AS t(id, g, s, xs, n, ts)
"""

# Rows for ingest's finalize query: no ids, no entities, so it derives them all from the text.
RECORD_TEXTS = [
    "RT @Some_User: Check this #MAGA #Größe https://t.co/xyz… more",
    "hello @Bob and @carol_99! #tag1 #TAG1 http://example.com/a?b=c",
    "email a@b.com is not a mention, @real_one is",
    "Привет #Россия @user_ru",
    "RT @x:\x0bvertical tab after the colon",
    None,
    "RT @dup: same text twice",
    "RT @dup: same text twice",
]


def make_records(path: Path, map_path: Path) -> None:
    from trollscope.schema import POSTS

    n = len(RECORD_TEXTS)
    cols = {f.name: pa.nulls(n, f.type) for f in POSTS}
    cols["account_id"] = pa.array(["u1", "u2", None, "u4", "u5", "u6", "u7", "u7"])
    cols["handle"] = pa.array(["One", "Two", "ThreeH", "Four", "Five", "Six", "Seven", "Seven"])
    day = dt.datetime(2016, 1, 2)  # the two copies of one text share account, time and text
    cols["created_at"] = pa.array(
        [dt.datetime(2016, 1, 1, 12, i) for i in range(5)] + [None, day, day], pa.timestamp("us")
    )
    cols["text"] = pa.array(RECORD_TEXTS)
    cols["source_file"] = pa.array(["scan.csv"] * n)
    cols["source_line"] = pa.array(range(1, n + 1), pa.int64())
    table = pa.table(cols).append_column("reject_reason", pa.nulls(n, pa.string()))
    pq.write_table(table.append_column("raw", pa.nulls(n, pa.string())), path)
    pq.write_table(pa.table({"scan": ["scan.csv"], "original": ["original.csv"]}), map_path)


# --- measurements -------------------------------------------------------------------------------


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def import_time(python: Path | str, stmt: str, tries: int = 3) -> float | None:
    """Best-of-``tries`` seconds for ``stmt`` in a fresh interpreter (None when it fails)."""
    code = f"import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"
    best = None
    for _ in range(tries):
        r = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
        if r.returncode:
            return None
        best = min(best or 1e9, float(r.stdout.strip().splitlines()[-1]))
    return best


def expand_stars(sql: str, schema: dict) -> str:
    """``* EXCLUDE/REPLACE`` spelled out with sqlglot's qualifier (Spark has no ``* REPLACE``)."""
    return qualify(sqlglot.parse_one(sql, read="duckdb"), schema=schema, dialect="duckdb").sql("duckdb")


def _norm(v):
    if isinstance(v, float):
        return round(v, 6)
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None)
    if isinstance(v, list):
        if v and isinstance(v[0], tuple):  # a map: its entries, in any order
            return tuple(sorted((k, _norm(x)) for k, x in v))
        return tuple(_norm(x) for x in v)
    return v


def rows(table: pa.Table) -> list[tuple]:
    """Rows comparable across engines: positional, in any order, timestamps without zone."""
    return sorted((tuple(_norm(v) for v in r.values()) for r in table.to_pylist()), key=repr)


def compare(duck: pa.Table, spark_result: dict) -> str:
    if not spark_result.get("ok"):
        return "Spark error: " + spark_result.get("error", "?")
    spark = pq.read_table(spark_result["result"])
    d, s = rows(duck), rows(spark)
    if d == s:
        return f"same ({duck.num_rows} rows)"
    if len(d) != len(s):
        return f"DIFFERENT: {len(d)} rows on DuckDB, {len(s)} on Spark"
    bad = [(a, b) for a, b in zip(d, s, strict=True) if a != b]
    a, b = bad[0]
    cols = [duck.column_names[i] for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    first = next(f"{x!r:.40} vs {y!r:.40}" for x, y in zip(a, b, strict=True) if x != y)
    return f"DIFFERENT in {len(bad)} of {len(d)} rows, column {', '.join(cols)}: {first}"


# --- the run ------------------------------------------------------------------------------------


def run(n_rows: int, repeat: int, use_ibis: bool, use_spark: bool) -> None:
    WORK.mkdir(exist_ok=True)
    big, small = WORK / f"posts_{n_rows}.parquet", WORK / "posts_small.parquet"
    probe, records, file_map = WORK / "probe.parquet", WORK / "records.parquet", WORK / "file_map.parquet"
    t = time.perf_counter()
    make_posts(n_rows, big)
    make_posts(20_000, small, seed=11)
    con = engine.connect()
    con.execute(f"COPY ({PROBE_ROWS}) TO '{probe}' (FORMAT parquet)")
    make_records(records, file_map)
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, DuckDB {duckdb.__version__}, "
        f"sqlglot {sqlglot.__version__}; data: {n_rows:,} simulated posts ({time.perf_counter() - t:.1f} s to make)"
    )
    queries = {"co_repost": co_repost_sql(), "timeline": timeline_sql(), "finalize": finalize_sql()}

    print("\n== import time, fresh interpreter (best of 3) ==")
    imports = [("duckdb", sys.executable, "import duckdb"), ("sqlglot", sys.executable, "import sqlglot")]
    imports.append(("duckdb + sqlglot (our route)", sys.executable, "import duckdb, sqlglot"))
    if use_ibis:
        imports.append(("ibis + its duckdb backend", IBIS_PY, "import ibis; ibis.duckdb.connect()"))
    for label, py, stmt in imports:
        s = import_time(py, stmt)
        print(f"  {label:32s} {'failed' if s is None else f'{s * 1000:7.0f} ms'}")

    print(f"\n== DuckDB SQL -> Spark SQL, per query (median of {max(repeat, 50)}) ==")
    for name, sql in queries.items():
        n = max(repeat, 50)
        t_plain = median_time(lambda s=sql: sqlglot.transpile(s, read="duckdb", write="spark"), n)
        plain = ";\n".join(sqlglot.transpile(sql, read="duckdb", write="spark"))
        sqlglot.parse_one(plain, read="spark")  # raises if the Spark SQL does not parse back
        try:
            t_ours = f"{median_time(lambda s=sql: engine.to_dialect(s, 'spark'), n) * 1000:6.2f} ms"
        except engine.NotPortable as e:
            t_ours = f"refused: {str(e).split(': ')[-1][:60]}"
        print(
            f"  {name:12s} sqlglot.transpile {t_plain * 1000:6.2f} ms, engine.to_dialect {t_ours}"
            f"   ({len(sql):5d} chars -> {len(plain):5d}; parses back)"
        )

    con.execute(f"CREATE VIEW posts AS SELECT * FROM read_parquet('{big}')")
    print(f"\n== raw SQL on DuckDB, engine.connect(), {n_rows:,} posts (median of {repeat}, after a warm-up) ==")
    duck_big = {}
    for name in ("co_repost", "timeline"):
        duck_big[name] = con.sql(queries[name]).to_arrow_table()
        s = median_time(lambda q=queries[name]: con.sql(q).to_arrow_table(), repeat)
        print(f"  {name:12s} {s * 1000:8.0f} ms   {duck_big[name].num_rows:,} rows")

    ibis_res = None
    if use_ibis and IBIS_PY.exists():
        print(f"\n== Ibis {'':s}vs raw SQL on one DuckDB connection, {n_rows:,} posts (median of {repeat}) ==")
        r = subprocess.run(
            [str(IBIS_PY), str(HERE / "_ibis_bench.py"), str(big), str(repeat)], capture_output=True, text=True
        )
        if r.returncode:
            print("  Ibis run failed:", r.stderr.strip().splitlines()[-1:])
        else:
            ibis_res = json.loads(r.stdout.strip().splitlines()[-1])
            print(f"  ibis {ibis_res['ibis_version']}")
            print(
                f"  {'query':12s} {'build+compile':>14s} {'raw SQL':>9s} {'Ibis':>9s} {'Ibis/raw':>9s} {'Ibis SQL run raw':>17s}  same result"
            )
            for name, q in ibis_res["queries"].items():
                print(
                    f"  {name:12s} {q['compile_s'] * 1000:11.1f} ms {q['raw_sql_s'] * 1000:6.0f} ms {q['ibis_s'] * 1000:6.0f} ms "
                    f"{q['ibis_s'] / q['raw_sql_s']:8.2f}x {q['ibis_sql_as_raw_s'] * 1000:14.0f} ms  {q['same_result']}"
                )
    elif use_ibis:
        print(f"\n(no Ibis venv at {IBIS_PY.parent.parent}: see the usage line)")

    if not use_spark:
        return
    if not SPARK_PY.exists():
        print(f"\n(no Spark venv at {SPARK_PY.parent.parent}: see the usage line)")
        return
    check_spark(con, queries, duck_big, big, small, probe, records, file_map, ibis_res)


def check_spark(con, queries, duck_big, big, small, probe, records, file_map, ibis_res) -> None:
    """Run the transpiled queries on Spark local[2] and compare every result with DuckDB's.

    Each query goes two ways: sqlglot's transpile alone, and engine.to_dialect (sqlglot plus our
    Spark corrections); both are run where they differ, so the table shows what each fix is for.
    """
    con.execute(f"CREATE OR REPLACE VIEW posts_small AS SELECT * FROM read_parquet('{small}')")
    con.execute(f"CREATE OR REPLACE VIEW p AS SELECT * FROM read_parquet('{probe}')")
    con.execute(f"CREATE OR REPLACE VIEW _records AS SELECT * FROM read_parquet('{records}')")
    con.execute(f"CREATE OR REPLACE VIEW _file_map AS SELECT * FROM read_parquet('{file_map}')")
    schema = {
        t: dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {t})").fetchall())
        for t in ("_records", "_file_map")
    }
    jobs = {  # name -> DuckDB SQL, whose DuckDB result is the reference
        "co_repost": co_repost_sql(posts="posts_small"),
        "timeline": timeline_sql(posts="posts_small"),
        "finalize": queries["finalize"],
        "finalize, stars expanded": expand_stars(queries["finalize"], schema),
    } | {f"probe: {name}": q for name, q in PROBES.items()}
    spark_sql: dict[str, str] = {}
    routes: dict[str, dict[str, str]] = {}  # job -> route -> spark query name, or why there is none
    for name, q in jobs.items():
        plain = ";\n".join(sqlglot.transpile(q, read="duckdb", write="spark"))
        try:
            ours = engine.to_dialect(q, "spark")
        except engine.NotPortable:
            ours = None
        spark_sql[f"{name} [sqlglot]"] = plain
        routes[name] = {"sqlglot": f"{name} [sqlglot]"}
        if ours is None:
            routes[name]["engine"] = "refused (NotPortable)"
        elif ours == plain:
            routes[name]["engine"] = f"{name} [sqlglot]"
        else:
            spark_sql[f"{name} [engine]"] = ours
            routes[name]["engine"] = f"{name} [engine]"
    views = {}
    if ibis_res:  # Ibis's own Spark SQL for the same expressions, its literal table registered as a view
        for name in ("co_repost", "timeline"):
            sql = ibis_res["queries"][name]["spark_sql"].replace("`posts`", "`posts_small`")
            for memtable in {w for w in sql.replace("`", " ").split() if w.startswith("ibis_pandas_memtable_")}:
                views[memtable] = "SELECT * FROM VALUES (-1), (0), (1) AS t(d)"
            spark_sql[f"ibis {name}"] = sql
    # at full size too: a check at scale; Spark's time is local mode on this machine, for scale only
    spark_sql["co_repost (full size)"] = engine.to_dialect(co_repost_sql(posts="posts_big"))
    spark_sql["timeline (full size)"] = engine.to_dialect(timeline_sql(posts="posts_big"))
    spec = {
        "conf": engine.SPARK_CONF,
        "tables": {"posts_small": str(small), "posts_big": str(big), "p": str(probe), "_records": str(records),
                   "_file_map": str(file_map)},
        "views": views,
        "queries": spark_sql,
        "out": str(WORK / "spark_out"),
    }  # fmt: skip
    spec_path = WORK / "spark_spec.json"
    spec_path.write_text(json.dumps(spec))
    r = subprocess.run([str(SPARK_PY), str(HERE / "_spark_check.py"), str(spec_path)], capture_output=True, text=True)
    if r.returncode:
        print("\nSpark run failed:", "\n".join(r.stderr.strip().splitlines()[-5:]))
        return
    info = json.loads(r.stdout.strip().splitlines()[-1])
    res = info["queries"]
    print(
        f"\n== Spark {info['spark_version']} local[2] (JVM start {info['startup_s']:.1f} s), conf {engine.SPARK_CONF} =="
    )
    print("  results on Spark compared with DuckDB's on the same Parquet; '=' where engine.to_dialect == sqlglot")
    print(f"  {'query':44s} {'sqlglot.transpile alone':60s} engine.to_dialect")
    for name, q in jobs.items():
        duck = con.sql(q).to_arrow_table()
        plain = compare(duck, res[routes[name]["sqlglot"]])
        ours = routes[name]["engine"]
        ours = "=" if ours == routes[name]["sqlglot"] else compare(duck, res[ours]) if ours in res else ours
        print(f"  {name:44s} {plain:60.60s} {ours}")
    for name in ("co_repost", "timeline"):
        if f"ibis {name}" in res:
            duck = con.sql(jobs[name]).to_arrow_table()
            print(
                f"  {'Ibis expression, ' + name:44s} {compare(duck, res[f'ibis {name}']):60.60s} (Ibis's own Spark SQL)"
            )
    for name in ("co_repost", "timeline"):
        q = res[f"{name} (full size)"]
        took = f"{q['seconds']:.1f} s on Spark, " if q["ok"] else ""
        print(f"  {name + ' (full size)':44s} {took}{compare(duck_big[name], q)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], usage=__doc__.split("\n")[2][7:])
    ap.add_argument("--rows", type=int, default=1_000_000, help="simulated posts for the timings")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per query (median reported)")
    ap.add_argument("--no-ibis", action="store_true", help="skip the Ibis comparison")
    ap.add_argument("--no-spark", action="store_true", help="skip the Spark check")
    a = ap.parse_args()
    run(a.rows, a.repeat, not a.no_ibis, not a.no_spark)


if __name__ == "__main__":
    main()
