"""Ingest speed and memory, side by side in one run.

Compares `trollscope ingest` on ../shared/data/ira-by-author with a raw DuckDB scan of the same
files (count, and straight to Parquet), a raw Arrow parse of them, and with coordination-network-toolkit's `preprocess`
(installed in benchmarks/.venv-peers; the IRA data is first converted to its CSV layout, untimed),
then ingests 10M simulated posts.

Usage: python benchmarks/ingest.py [--sim-posts 10000000] [--skip-sim] [--skip-cnt]
Prints a Markdown table; paste it into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import glob
import json
import shutil
import sys
from pathlib import Path

import duckdb
from _measure import SHARED, WORK, Measure, peers_python, run, table

IRA = SHARED / "ira-by-author"


def raw_scan_cmd(files_glob: str, to_parquet: Path | None) -> list[str]:
    """A plain DuckDB scan of the files (dialect sniffed, as a user would type it)."""
    scan = f"read_csv({files_glob!r})"
    sql = (
        f"COPY (SELECT * FROM {scan}) TO '{to_parquet}' (FORMAT parquet)"
        if to_parquet
        else f"SELECT count(*) FROM {scan}"
    )
    return [
        sys.executable,
        "-c",
        f"import duckdb; duckdb.execute('SET enable_progress_bar = false'); duckdb.execute({sql!r}).fetchall()",
    ]


def arrow_read_cmd(files_glob: str) -> list[str]:
    """Every file parsed by Arrow's CSV reader, two files at a time, all columns as text: the floor
    under ingest's own parse (no record numbers, derivations, dedupe or writing)."""
    code = (
        "import glob, pyarrow as pa, pyarrow.csv as c\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        f"files = sorted(glob.glob({files_glob!r}))\n"
        "names = c.read_csv(files[0]).column_names\n"
        "conv = c.ConvertOptions(column_types={n: pa.string() for n in names})\n"
        "parse = c.ParseOptions(newlines_in_values=True)\n"
        "read = c.ReadOptions(use_threads=False)\n"
        "with ThreadPoolExecutor(2) as pool:\n"
        "    n = sum(pool.map(lambda f: c.read_csv(f, read_options=read, parse_options=parse,"
        " convert_options=conv).num_rows, files))\n"
        "print(n)\n"
    )
    return [sys.executable, "-c", code]


def cnt_csv(out: Path) -> int:
    """The IRA tweets in coordination-network-toolkit's CSV layout (message_id, user_id, username,
    repost_id, reply_id, message, timestamp, urls); repost_id keys a retweet by its text, since the
    IRA files have no tweet ids (close to what trollscope's ingest derives)."""
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


def row(what: str, m: Measure, records: int | str = "", ours: Measure | None = None) -> tuple:
    """One table row; the last column is trollscope's time over this row's."""
    ratio = f"{ours.seconds / m.seconds:.2f}" if ours else ""
    count = f"{records:,}" if isinstance(records, int) else records
    return (what, count, f"{m.seconds:.1f}", f"{m.peak_mb:.0f}", ratio)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sim-posts", type=int, default=10_000_000)
    ap.add_argument("--skip-sim", action="store_true")
    ap.add_argument("--skip-cnt", action="store_true")
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    ts = [sys.executable, "-m", "trollscope"]

    ws = WORK / "ira-ws"
    shutil.rmtree(ws, ignore_errors=True)
    ours = run([*ts, "ingest", str(IRA), "-w", str(ws), "--json"])
    assert ours.returncode == 0, "trollscope ingest failed"
    rows = [row("trollscope ingest (IRA, 1,719 files)", ours, json.loads(ours.stdout)["records"], ours)]
    files_glob = str(IRA / "*" / "*.csv.gz")
    rows.append(row("raw DuckDB scan: count(*) over read_csv", run(raw_scan_cmd(files_glob, None)), ours=ours))
    pq = WORK / "raw.parquet"
    rows.append(row("raw DuckDB scan: read_csv -> Parquet", run(raw_scan_cmd(files_glob, pq)), ours=ours))
    pq.unlink(missing_ok=True)
    rows.append(
        row("raw Arrow CSV read (the parser ingest's fast path uses)", run(arrow_read_cmd(files_glob)), ours=ours)
    )

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
        rows.append(row("coordination-network-toolkit preprocess", cnt, n, ours))

    if not args.skip_sim:
        sim = WORK / f"sim-{args.sim_posts}"
        if not (sim / "truth.csv").exists():
            made = run([*ts, "simulate", "--posts", str(args.sim_posts), "--seed", "1", "-o", str(sim)])
            rows.append(row(f"trollscope simulate {args.sim_posts:,} posts", made))
        ws = WORK / "sim-ws"
        shutil.rmtree(ws, ignore_errors=True)
        big = run([*ts, "ingest", str(sim), "-w", str(ws), "--json"])
        assert big.returncode == 0, "ingest of simulated posts failed"
        rows.append(row("trollscope ingest (simulated)", big, json.loads(big.stdout)["records"]))
        shutil.rmtree(ws, ignore_errors=True)

    print(table(rows, ("what", "records", "seconds", "peak MB", "trollscope / this")))


if __name__ == "__main__":
    main()
