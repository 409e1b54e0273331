"""Ingest speed and memory, side by side in one run.

Compares `trollscope ingest` on ../shared/data/ira-by-author with a raw DuckDB scan of the same
files (count, and straight to Parquet) and with coordination-network-toolkit's `preprocess`
(installed in benchmarks/.venv-peers; the IRA data is first converted to its CSV layout, untimed),
then ingests 10M simulated posts.

Usage: python benchmarks/ingest.py [--sim-posts 10000000] [--skip-sim] [--skip-cnt]
Prints a Markdown table; paste it into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import glob
import shutil
import sys
from pathlib import Path

import duckdb
from _measure import SHARED, WORK, peers_python, run, table

IRA = SHARED / "ira-by-author"


def raw_scan_cmd(files_glob: str, to_parquet: Path | None) -> list[str]:
    scan = f"read_csv({files_glob!r})"
    sql = (
        f"COPY (SELECT * FROM {scan}) TO '{to_parquet}' (FORMAT parquet)"
        if to_parquet
        else f"SELECT count(*) FROM {scan}"
    )
    return [
        sys.executable,
        "-c",
        f"import duckdb; print(duckdb.sql({sql!r}).fetchall() if {to_parquet is None} else duckdb.sql({sql!r}))",
    ]


def cnt_csv(out: Path) -> int:
    """The IRA tweets in coordination-network-toolkit's CSV layout (message_id, user_id, username,
    repost_id, reply_id, message, timestamp, urls); repost_id is the reposted text's key, as ours."""
    if out.exists():
        return duckdb.execute(f"SELECT count(*) FROM read_csv('{out}')").fetchone()[0]
    files = sorted(glob.glob(str(IRA / "*" / "*.csv.gz")))
    con = duckdb.connect()
    con.execute(
        f"""COPY (
        SELECT row_number() OVER () AS message_id, author_id AS user_id, author_id AS username,
               CASE WHEN retweet = '1' THEN md5(lower(content)) END AS repost_id, NULL AS reply_id,
               content AS message, epoch(strptime(publish_date, '%Y-%m-%d %H:%M:%S'))::BIGINT AS timestamp,
               array_to_string(regexp_extract_all(content, 'https?://\\S+'), ' ') AS urls
        FROM read_csv({files!r}, all_varchar=true)
        ) TO '{out}' (HEADER, DELIMITER ',')"""
    )
    return con.execute(f"SELECT count(*) FROM read_csv('{out}')").fetchone()[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sim-posts", type=int, default=10_000_000)
    ap.add_argument("--skip-sim", action="store_true")
    ap.add_argument("--skip-cnt", action="store_true")
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    ts = [sys.executable, "-m", "trollscope"]
    rows = []

    ws = WORK / "ira-ws"
    shutil.rmtree(ws, ignore_errors=True)
    ours = run([*ts, "ingest", str(IRA), "-w", str(ws), "--json"])
    assert ours.returncode == 0, "trollscope ingest failed"
    import json

    d = json.loads(ours.stdout)
    rows.append(
        (
            "trollscope ingest (IRA, 1,719 files)",
            f"{d['records']:,}",
            f"{ours.seconds:.1f}",
            f"{ours.peak_mb:.0f}",
            "1.0",
        )
    )
    files_glob = str(IRA / "*" / "*.csv.gz")
    scan = run(raw_scan_cmd(files_glob, None))
    rows.append(
        (
            "raw DuckDB scan: count(*) over read_csv",
            "",
            f"{scan.seconds:.1f}",
            f"{scan.peak_mb:.0f}",
            f"{ours.seconds / scan.seconds:.2f}",
        )
    )
    pq = WORK / "raw.parquet"
    raw = run(raw_scan_cmd(files_glob, pq))
    rows.append(
        (
            "raw DuckDB scan: read_csv -> Parquet",
            "",
            f"{raw.seconds:.1f}",
            f"{raw.peak_mb:.0f}",
            f"{ours.seconds / raw.seconds:.2f}",
        )
    )
    pq.unlink(missing_ok=True)

    if not args.skip_cnt:
        csv_path = WORK / "ira-cnt.csv"
        n = cnt_csv(csv_path)
        db = WORK / "cnt.db"
        db.unlink(missing_ok=True)
        cnt = run(
            [
                peers_python(),
                "-m",
                "coordination_network_toolkit",
                str(db),
                "preprocess",
                "--format",
                "csv",
                str(csv_path),
            ]
        )
        assert cnt.returncode == 0, "CNT preprocess failed"
        rows.append(
            (
                "coordination-network-toolkit preprocess",
                f"{n:,}",
                f"{cnt.seconds:.1f}",
                f"{cnt.peak_mb:.0f}",
                f"{ours.seconds / cnt.seconds:.3f}",
            )
        )

    if not args.skip_sim:
        sim = WORK / f"sim-{args.sim_posts}"
        if not (sim / "truth.csv").exists():
            made = run([*ts, "simulate", "--posts", str(args.sim_posts), "--seed", "1", "-o", str(sim)])
            rows.append(
                (f"trollscope simulate {args.sim_posts:,} posts", "", f"{made.seconds:.1f}", f"{made.peak_mb:.0f}", "")
            )
        ws = WORK / "sim-ws"
        shutil.rmtree(ws, ignore_errors=True)
        big = run([*ts, "ingest", str(sim), "-w", str(ws), "--json"])
        assert big.returncode == 0, "ingest of simulated posts failed"
        d = json.loads(big.stdout)
        rows.append(
            ("trollscope ingest (simulated)", f"{d['records']:,}", f"{big.seconds:.1f}", f"{big.peak_mb:.0f}", "")
        )
        shutil.rmtree(ws, ignore_errors=True)

    print(table(rows, ("what", "records", "seconds", "peak MB", "trollscope / this")))


if __name__ == "__main__":
    main()
