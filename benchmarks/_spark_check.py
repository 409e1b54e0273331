"""Spark side of engine_overhead.py; runs in benchmarks/.venv-spark (PySpark, Java 17).

Usage (engine_overhead.py calls it): .venv-spark/bin/python _spark_check.py SPEC.json
SPEC names Parquet tables to register, extra views, Spark SQL queries, the session config and an
output folder. Each query's result is written there as Parquet (for comparison with DuckDB's);
prints one JSON object with, per query, ok/error, seconds and rows.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq


def main(spec_path: str) -> dict:
    spec = json.loads(Path(spec_path).read_text())
    t = time.perf_counter()
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", str(Path(spec["out"]) / "warehouse"))  # not in the work tree
    )
    for k, v in spec["conf"].items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("OFF")
    out: dict = {"spark_version": spark.version, "startup_s": time.perf_counter() - t, "queries": {}}
    for name, path in spec["tables"].items():
        spark.read.parquet(path).createOrReplaceTempView(name)
    for name, sql in spec.get("views", {}).items():
        spark.sql(sql).createOrReplaceTempView(name)
    dest = Path(spec["out"])
    dest.mkdir(parents=True, exist_ok=True)
    for i, (name, sql) in enumerate(spec["queries"].items()):
        t = time.perf_counter()
        try:
            table = spark.sql(sql).toArrow()
        except Exception as e:  # report every failure; one bad query must not hide the others
            msg = str(e).strip().split("\n")[0]
            out["queries"][name] = {"ok": False, "error": msg[:300], "seconds": time.perf_counter() - t}
            continue
        seconds = time.perf_counter() - t
        target = dest / f"q{i:03d}.parquet"
        pq.write_table(table, target)
        out["queries"][name] = {"ok": True, "seconds": seconds, "rows": table.num_rows, "result": str(target)}
    spark.stop()
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(json.dumps(main(sys.argv[1])))
