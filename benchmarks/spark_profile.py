"""Where a Spark detection's time goes: the wall time of each statement the Spark adapter runs.

    python benchmarks/spark_profile.py WORKSPACE --master 'local[2]' [--top 25] [--conf KEY=VALUE]

Runs ``detect`` (the layers that run on Spark) in this process on a Spark session, timing every
``execute`` and every collect of :class:`trollscope.spark_con.SparkConnection`. A cached table is
computed when first read, so its cost shows under the statement that first reads it (``--eager``
counts each table as it is made, to charge it to its own statement). Prints the session's start,
the detection's time, and the costliest statements with their Spark SQL. Not part of pytest.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from trollscope import spark_con
from trollscope.detect import detect
from trollscope.engine import EngineSpec
from trollscope.spark import session

LAYERS = "co-repost,co-post,co-link,co-hashtag,co-mention,co-reply,similarity"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workspace")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--layers", default=LAYERS)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--conf", action="append", default=[], help="Spark KEY=VALUE (repeatable)")
    ap.add_argument("--eager", action="store_true", help="compute each temp table when it is made")
    ap.add_argument("--live", type=float, default=1.0, help="print each call slower than this many seconds")
    ap.add_argument("--explain", default="", help="print Spark's plan of the statements containing this text")
    args = ap.parse_args()
    conf = tuple(tuple(kv.split("=", 1)) for kv in ["spark.ui.enabled=false", *args.conf])
    spec = EngineSpec("spark", args.master, conf)
    t = time.perf_counter()
    spark = session(spec)
    print(f"session start {time.perf_counter() - t:.1f} s; shuffle partitions "
          f"{spark.conf.get('spark.sql.shuffle.partitions')}", flush=True)  # fmt: skip
    timings: list[tuple[float, str, str]] = []
    _time(spark_con.SparkConnection, "execute", timings, lambda self, sql, *a, **k: sql, args.live)
    _time(spark_con.SparkRelation, "to_arrow_table", timings, lambda self: self._con.statements[-1], args.live)
    if args.eager:
        replace = spark_con.SparkConnection._replace

        def eager(self, name, query, params, *, eager=False):
            replace(self, name, query, params, eager=eager)
            self._tables[name].count()

        spark_con.SparkConnection._replace = eager
    if args.explain:
        df_of = spark_con.SparkConnection._df

        def explained(self, sql, params):
            df = df_of(self, sql, params)
            if args.explain in sql and not explained.done:  # the first such statement's plan
                explained.done = True
                df.explain(mode="formatted")
            return df

        explained.done = False

        spark_con.SparkConnection._df = explained
    t = time.perf_counter()
    result = detect(args.workspace, layers=args.layers, engine=spec, write=False)
    total = time.perf_counter() - t
    print(f"detect {total:.1f} s: {len(timings)} calls, {len(result.flagged)} flagged")
    shapes: dict[str, list[float]] = defaultdict(list)
    for s, _, sql in timings:
        shapes[_shape(sql)].append(s)
    print(f"\ntop {args.top} statements by total time (calls, seconds, share):")
    for shape, ss in sorted(shapes.items(), key=lambda kv: -sum(kv[1]))[: args.top]:
        print(f"{len(ss):4d} {sum(ss):8.2f} s {100 * sum(ss) / total:5.1f}%  {shape}")


def _time(cls, name: str, out: list, sql_of, live: float) -> None:
    fn = getattr(cls, name)

    def timed(self, *a, **k):
        t = time.perf_counter()
        try:
            return fn(self, *a, **k)
        finally:
            out.append((s := time.perf_counter() - t, name, sql_of(self, *a, **k)))
            if s >= live:
                print(f"  #{len(out)} {s:.2f} s {_shape(out[-1][2])[:120]}", flush=True)

    setattr(cls, name, timed)


def _shape(sql: str) -> str:
    return " ".join(sql.split())[:150]


if __name__ == "__main__":
    main()
