"""Detection and the four investigations on DuckDB and on Spark, on one collection, in one run.

    python benchmarks/spark_detect.py --posts 1000000 --master 'local[2]'
    python benchmarks/spark_detect.py --input ../shared/data/ira-by-author --master 'local[2]'

Simulates ``--posts`` posts (planted operations included) or takes the raw files of ``--input``
(then also timing ``ingest`` on each engine, into a workspace of its own, and checking that both
store the same number of posts), ingests them once (DuckDB), then runs
``detect`` and ``timeline``, ``targeting``, ``narratives``, ``amplifiers`` (``--accounts flagged --by
cluster``) as CLI commands on each engine, each in its own process. Per stage it prints the wall
time (a Spark command's includes starting its JVM), the stage's own time as the command reports it,
and the peak of the command's process tree's summed resident memory (on Spark: the CLI, its JVM
and Python workers; sampled, since ``wait4`` misses the JVM). It also checks that both engines
flag the same accounts and give the same investigation tables. Not part of pytest.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import ROOT, WORK, run, run_tree, table

LAYERS = "co-repost,co-post,near-dup,co-link,co-hashtag,co-mention,co-reply,similarity"
INVESTIGATIONS = ("timeline", "targeting", "narratives", "amplifiers")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--conf", action="append", default=[], help="extra Spark KEY=VALUE (repeatable)")
    ap.add_argument(
        "--stages",
        default="ingest,detect," + ",".join(INVESTIGATIONS),
        help="the stages to run, comma-separated (ingest only with --input)",
    )
    ap.add_argument("--input", type=Path, help="raw files to ingest instead of a simulated collection")
    args = ap.parse_args()
    work = WORK / (f"spark-detect-{args.input.name}" if args.input else f"spark-detect-{args.posts}")
    work.mkdir(parents=True, exist_ok=True)
    env = {"PYTHONPATH": str(ROOT / "src")}
    cli = [sys.executable, "-m", "trollscope"]
    sim, ws = work / "sim", work / "ws"
    load0 = os.getloadavg()
    if args.input:
        sim = args.input.resolve()
    if not ws.exists() and args.input:
        t = time.perf_counter()
        r = run([*cli, "ingest", str(sim), "-w", str(ws), "--json"], env)
        assert r.returncode == 0, r.stdout
        print(f"ingested {sim} in {time.perf_counter() - t:.1f} s", flush=True)
    elif not ws.exists():
        t = time.perf_counter()
        r = run([*cli, "simulate", "--posts", str(args.posts), "--seed", str(args.seed), "-o", str(sim)], env)
        assert r.returncode == 0, r.stdout
        r = run([*cli, "ingest", str(sim), "-w", str(ws), "--json"], env)
        assert r.returncode == 0, r.stdout
        print(f"simulated and ingested {args.posts:,} posts in {time.perf_counter() - t:.1f} s", flush=True)
    spark_opts = ["--engine", "spark", "--spark-master", args.master, "--conf", "spark.ui.showConsoleProgress=false"]
    for kv in args.conf:
        spark_opts += ["--conf", kv]
    engines = {"duckdb": ["--engine", "duckdb"], "spark": spark_opts}
    rows, docs = [], {}
    for engine, opts in engines.items():
        stages = []
        if args.input:  # ingest too, into a workspace of the engine's own (detection reads `ws`)
            own_ws = work / f"ws-ingest-{engine}"
            if own_ws.exists():
                shutil.rmtree(own_ws)
            stages.append(("ingest", ["ingest", str(sim), "-w", str(own_ws), "--json"]))
        stages += [("detect", ["detect", "-w", str(ws), "--layers", LAYERS, "--json"])]
        stages += [
            (n, [n, "-w", str(ws), "--accounts", "flagged", "--by", "cluster", "--json"]) for n in INVESTIGATIONS
        ]
        for name, cmd in [(n, c) for n, c in stages if n in args.stages.split(",")]:
            r = run_tree([*cli, *cmd, *opts], env)
            if r.returncode != 0:
                rows.append((engine, name, "failed", "", "", ""))
                print(f"{engine} {name} failed: {r.stdout[-500:]}", flush=True)
                continue
            doc = json.loads(r.stdout)
            docs[(engine, name)] = doc
            (work / f"{engine}-{name}.json").write_text(r.stdout)  # the figures, for RESULTS.md
            own = doc.get("seconds")
            rows.append((engine, name, f"{r.seconds:.1f}", f"{own:.1f}" if own is not None else "", f"{r.peak_mb:,.0f}",
                         _size(name, doc)))  # fmt: skip
            print(rows[-1], flush=True)
    print()
    what = str(args.input) if args.input else f"{args.posts:,} simulated posts"
    print(f"{what}, `--master {args.master}`; load average at start {load0[0]:.1f}, "
          f"at end {os.getloadavg()[0]:.1f} (2 cores)")  # fmt: skip
    print(table(rows, ("engine", "stage", "wall s", "stage's own s", "peak MB", "result")))
    print()
    for name in ("ingest", "detect", *INVESTIGATIONS):
        a, b = docs.get(("duckdb", name)), docs.get(("spark", name))
        if a and b:
            print(f"{name}: same results on both engines: {_same(name, a, b)}")


def _size(name: str, doc: dict) -> str:
    if name == "ingest":
        return f"{doc['stored']:,} stored, {doc.get('duplicate', 0):,} duplicates, {doc.get('rejected', 0):,} rejected"
    if name == "detect":
        return f"{len(doc['clusters'])} clusters, {len(doc['flagged_accounts'])} flagged"
    return ", ".join(f"{k} {v}" for k, v in (doc.get("frame_rows") or {}).items())


def _same(name: str, a: dict, b: dict) -> bool | str:
    def close(x, y) -> bool:  # equal but for times, and floats within 1e-9 (a sum in another order)
        if isinstance(x, dict) and isinstance(y, dict):
            keys = {k for k in x.keys() | y.keys() if not k.startswith("seconds")}
            return all(close(x.get(k), y.get(k)) for k in keys)
        if isinstance(x, list) and isinstance(y, list):
            return len(x) == len(y) and all(close(u, v) for u, v in zip(x, y, strict=True))
        if isinstance(x, float) and isinstance(y, float):
            return abs(x - y) <= 1e-9 * max(1.0, abs(x))
        return x == y

    if name == "ingest":
        return all(a.get(k) == b.get(k) for k in ("stored", "duplicate", "rejected"))
    if name == "detect":
        if a["flagged_accounts"] == b["flagged_accounts"] and close(a["clusters"], b["clusters"]):
            return True
        # Where an account made identical actions at the same time (minute-resolution data), which
        # of them an example cites is the engine's choice (docs/scale.md): compare the examples by
        # accounts, layer and times, then everything else.
        shown = ("layer", "handle_a", "time_a", "handle_b", "time_b", "seconds_apart")
        ex = lambda d: [[{k: e[k] for k in shown} for e in c["evidence"]] for c in d["clusters"]]  # noqa: E731
        bare = lambda d: [{k: v for k, v in c.items() if k != "evidence"} for c in d["clusters"]]  # noqa: E731
        same = a["flagged_accounts"] == b["flagged_accounts"] and close(bare(a), bare(b))
        pairs = [(x, y) for ca, cb in zip(a["clusters"], b["clusters"], strict=False)
                 for x, y in itertools.zip_longest(ca["evidence"], cb["evidence"])]  # fmt: skip
        posts = sum(x != y for x, y in pairs)
        return f"{same} (clusters and flagged accounts); examples: same accounts and times {ex(a) == ex(b)}, {posts} cite other posts"
    return close(a.get("frames"), b.get("frames"))


if __name__ == "__main__":
    main()
