"""Ingest on both engines, same input, same run: `trollscope ingest --engine duckdb` against
`--engine spark --spark-master local[2]`.

Simulates a set with `trollscope simulate` (kept in benchmarks/.work), ingests it once per engine
into a fresh workspace, checks both workspaces hold the same posts, and prints wall time and peak
memory per engine. Peak memory is the largest sum of resident memory over the whole process tree
(the CLI, Spark's JVM and its Python workers), sampled every 0.2 s: a child's ru_maxrss would miss
the JVM. A small set is ingested too, to show Spark's fixed cost.

Usage: python benchmarks/spark_ingest.py [--posts 1000000] [--files 8] [--small 20000] [--input DIR]
(``--input``: a set simulated before, e.g. the 10M set of benchmarks/ingest.py, instead of --posts.)
Prints a Markdown table; paste it into benchmarks/RESULTS.md with the load average it prints.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
from _measure import WORK, run_tree, table

ENGINES = {"duckdb": [], "spark": ["--engine", "spark", "--spark-master", "local[2]"]}


def measured(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak tree memory (MB) and stdout of ``cmd``."""
    m = run_tree(cmd)
    if m.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {m.returncode}")
    return m.seconds, m.peak_mb, m.stdout


def posts_digest(ws: Path) -> tuple[int, str]:
    """Row count and an order-independent hash of the posts (all columns but the run id)."""
    con = duckdb.connect()
    files = [str(ws / f) for f in json.loads((ws / "workspace.json").read_text())["tables"]["posts"]]
    return con.execute(
        "SELECT count(*), md5(string_agg(h, '' ORDER BY h)) FROM "
        f"(SELECT md5(to_json(p)::VARCHAR) AS h FROM (SELECT * EXCLUDE (ingest_id) FROM read_parquet({files!r})) p)"
    ).fetchone()


def simulated(posts: int, files: int) -> Path:
    out = WORK / f"sim-{posts}-{files}"
    if not (out / "simulation.json").exists():
        cmd = [sys.executable, "-m", "trollscope", "simulate", "--posts", str(posts), "--files", str(files)]
        subprocess.run([*cmd, "--seed", "7", "-o", str(out)], check=True, stdout=subprocess.DEVNULL)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--small", type=int, default=20_000, help="a small set, for Spark's fixed cost (0: none)")
    ap.add_argument("--input", type=Path, help="a simulated folder to ingest instead of --posts/--files")
    args = ap.parse_args()
    sets = [simulated(args.small, 2)] if args.small else []
    sets.append(args.input.resolve() if args.input else simulated(args.posts, args.files))
    rows = []
    for src in sets:
        posts = json.loads((src / "simulation.json").read_text())["posts"]
        files = len(list(src.glob("tweets-*.csv.gz")))
        digests = {}
        for name, flags in ENGINES.items():
            ws = WORK / f"ws-spark-bench-{name}"
            shutil.rmtree(ws, ignore_errors=True)
            cmd = [sys.executable, "-m", "trollscope", "ingest", str(src), "-w", str(ws), *flags, "--json"]
            seconds, peak_mb, out = measured(cmd)
            r = json.loads(out)
            digests[name] = posts_digest(ws)
            rows.append((f"{posts:,} ({files} files)", name, f"{seconds:.1f}", f"{r['seconds']:.1f}",
                         f"{peak_mb:,.0f}", f"{r['stored']:,}"))  # fmt: skip
            print(rows[-1], file=sys.stderr, flush=True)
        assert digests["duckdb"] == digests["spark"], digests
    print(table(rows, ("posts", "engine", "wall s (CLI)", "ingest s (own)", "peak MB (process tree)", "stored")))
    print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
