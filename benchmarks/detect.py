"""Detection speed, memory and accuracy, side by side with the field's tools in one run.

On simulate's 1M posts (seed 1) each trollscope layer runs in its own process, and so does the
peer's equivalent: coordination-network-toolkit (CNT, `python -m coordination_network_toolkit DB
compute co_retweet|co_tweet|co_similar_tweet|co_link|co_reply --time_window W`, after a `preprocess`
timed separately) and coordinationz's co-retweet indicator (benchmarks/_peers_detect.py). Both
peers live in benchmarks/.venv-peers. Every run is scored against simulate's truth.csv at the
account level. Then the whole of detection runs on 1M and on 10M posts.

Who counts as flagged:
- trollscope: accounts in a kept cluster (its own output), one layer per run;
- CNT: accounts on an edge of its network (self-loops dropped) with weight >= --min-count (3, the
  same minimum co-action count trollscope uses); CNT has no significance test, so this is its rule;
- coordinationz: accounts on an edge with p <= 0.01 in its null model (its template's settings).

Fairness: every tool gets the same posts and items (CNT's CSV is written from the trollscope
workspace: repost_id = repost_of_id, reply_id, text, urls), the same 300 s window (one time scale:
trollscope's per-layer runs get ``window=300``; the all-layer runs use detection's default scales)
and 2 CPUs; CNT's
co_similar_tweet keeps its defaults (token-set Jaccard >= 0.8). Times are wall clock of a whole
process each (imports, reading, writing included); "work" is the time inside the call that does the
job, without interpreter start-up and imports: trollscope's ``detect()`` (in brackets: inside the
layer itself) and CNT's compute function (timed in-process by benchmarks/_cnt_timed.py, which runs
CNT's own command line); peak memory is the largest resident set of the process or any child it
waited for; "peer / trollscope" divides the peer's time (or work) by trollscope's for the same layer. Both tools keep the
normalised text they compute: CNT stores it during co_tweet and co_similar_tweet reuses it;
trollscope's co-post writes its ``norm_texts`` cache, which near-dup reads. Each run starts without
that cache, as CNT starts from a fresh preprocess. Converting the
data to a peer's input is not timed; CNT's `preprocess` (loading its SQLite store) is timed on
its own row. A peer still running after --timeout-min is stopped and reported as not finishing.

Usage: python benchmarks/detect.py [--skip-peers] [--skip-similar] [--skip-10m] [--timeout-min 20]
Prints Markdown tables; paste them into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

import duckdb
from _measure import ROOT, WORK, Measure, peers_python, run, table

# trollscope layer -> CNT network type (layers without one are run alone)
DEFAULTS = "defaults"  # the all-layer rows: detect with its default layers
CNT_EQUIVALENT = {
    "co-repost": "co_retweet",
    "co-post": "co_tweet",
    "near-dup": "co_similar_tweet",
    "co-link": "co_link",
    "co-reply": "co_reply",
    "co-hashtag": None,
    "co-mention": None,
    "similarity": None,
}
TS = [sys.executable, "-m", "trollscope"]
HERE = Path(__file__).resolve().parent


def timed(cmd: list[str], timeout_min: float, cwd: Path | None = None) -> tuple[Measure, bool]:
    """``run`` under coreutils ``timeout``; True when the command was stopped for taking too long."""
    m = run(["timeout", "-k", "30", str(int(timeout_min * 60)), *cmd], cwd=cwd)
    return m, m.returncode in (124, 137)


def ensure_sim(posts: int, seed: int) -> tuple[Path, Path]:
    """simulate's output folder and a workspace with it ingested (both reused when present)."""
    short = f"{posts // 1_000_000}m" if posts % 1_000_000 == 0 else str(posts)
    sim = next((p for p in (WORK / f"sim-{short}", WORK / f"sim-{posts}") if (p / "truth.csv").exists()), None)
    if sim is None:
        sim = WORK / f"sim-{short}"
        made = run([*TS, "simulate", "--posts", str(posts), "--seed", str(seed), "-o", str(sim)])
        assert made.returncode == 0, f"simulate {posts} failed"
    ws = WORK / f"sim-{short}-ws"
    if not (ws / "workspace.json").exists():
        got = run([*TS, "ingest", str(sim), "-w", str(ws), "--json"])
        assert got.returncode == 0, f"ingest of {sim} failed"
    return sim, ws


class Truth:
    """Planted accounts and organic viral-cascade participants, to score any set of flagged ids."""

    def __init__(self, truth_csv: Path, ws: Path, viral_min: int = 100):
        con = posts_db(ws)
        rows = con.execute(f"SELECT account_id::VARCHAR, campaign FROM read_csv('{truth_csv}', all_varchar=true)")
        rows = rows.fetchall()
        present = {r[0] for r in con.execute("SELECT DISTINCT account_id FROM posts").fetchall()}
        self.planted = {a for a, c in rows if c != "organic" and a in present}
        self.organic = {a for a, c in rows if c == "organic" and a in present}
        self.viral = {
            r[0]
            for r in con.execute(
                f"""SELECT DISTINCT account_id FROM posts WHERE repost_of_id IN (
                    SELECT repost_of_id FROM posts WHERE repost_of_id IS NOT NULL GROUP BY 1
                    HAVING count(DISTINCT account_id) >= {viral_min})"""
            ).fetchall()
        } & self.organic

    def score(self, flagged: set[str]) -> dict:
        tp = len(flagged & self.planted)
        return {
            "flagged": len(flagged),
            "precision": tp / len(flagged) if flagged else None,
            "recall": tp / len(self.planted) if self.planted else None,
            "viral_fp": len(flagged & self.viral),
        }


def posts_db(ws: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the workspace's tables as views (the manifest's files only)."""
    from trollscope.workspace import Workspace

    return Workspace(ws, create=False).connect()


def drop_text_cache(ws: Path) -> None:
    """Empty the workspace's ``norm_texts`` cache (see trollscope.detect.run)."""
    from trollscope.workspace import Workspace

    w = Workspace(ws, create=False)
    if w.files("norm_texts"):
        with w.transaction(params={"norm_texts": {}}) as txn:
            txn.replace("norm_texts", [])


def cnt_csv(ws: Path, out: Path) -> None:
    """The workspace's posts in CNT's CSV layout (message_id, user_id, username, repost_id, reply_id,
    message, timestamp, urls), the same items trollscope reads: repost_of_id, reply_to_id, text, urls."""
    if out.exists():
        return
    posts_db(ws).execute(
        f"""COPY (SELECT post_id AS message_id, account_id AS user_id, handle AS username,
                   coalesce(repost_of_id, '') AS repost_id, coalesce(reply_to_id, '') AS reply_id,
                   coalesce(text, '') AS message, epoch(created_at)::BIGINT AS timestamp,
                   coalesce(array_to_string(urls, ' '), '') AS urls
            FROM posts ORDER BY created_at)
        TO '{out}' (HEADER, DELIMITER ',')"""
    )


def cz_csv(ws: Path, out: Path) -> None:
    """Retweets as coordinationz's bipartite input: user_id, linked_tweet."""
    if out.exists():
        return
    posts_db(ws).execute(
        f"""COPY (SELECT account_id AS user_id, repost_of_id AS linked_tweet
            FROM posts WHERE repost_of_id IS NOT NULL)
        TO '{out}' (HEADER, DELIMITER ',')"""
    )


def cnt_flagged(db: Path, network: str, min_count: int) -> set[str]:
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            f"SELECT user_1, user_2 FROM {network}_network WHERE user_1 <> user_2 AND weight >= ?", (min_count,)
        ).fetchall()
    finally:
        con.close()
    return {str(u) for r in rows for u in r}


def trollscope_one(
    ws: Path, layers: str, out: Path, write: bool, memory_limit: str | None, window: float | None
) -> None:
    """Child-process mode: detect with ``layers`` and write flagged account ids and figures to ``out``.
    ``window``: one time scale (the peer's) instead of detection's default scales."""
    from trollscope.detect import detect

    extra = {"window": window} if window else {}
    if layers != DEFAULTS:  # DEFAULTS: detection's own default layers
        extra["layers"] = layers
    r = detect(ws, write=write, memory_limit=memory_limit, **extra)
    flagged = r.accounts.filter(r.accounts.column("flagged")).column("account_id").to_pylist()
    out.write_text(json.dumps({"flagged": flagged, "layers": r.layers, "seconds": r.seconds}))


def run_trollscope(
    ws: Path, layers: str, tmp: Path, write: bool = False, memory_limit: str | None = None, window: float | None = None
):
    out = tmp / f"ts-{layers.replace(',', '_')}.json"
    cmd = [sys.executable, str(HERE / "detect.py"), "--_one", str(ws), layers, str(out)]
    if window:
        cmd += ["--_window", str(window)]
    if write:
        cmd.append("--_write")
    if memory_limit:
        cmd += ["--_memory-limit", memory_limit]
    m = run(cmd)
    assert m.returncode == 0, f"trollscope detect --layers {layers} failed"
    return m, json.loads(out.read_text())


def fmt_score(s: dict | None) -> tuple:
    if s is None:
        return ("", "", "", "")
    f = lambda x: "" if x is None else f"{x:.3f}"  # noqa: E731
    return (f"{s['flagged']:,}", f(s["precision"]), f(s["recall"]), f"{s['viral_fp']:,}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--big-posts", type=int, default=10_000_000)
    ap.add_argument("--window", type=int, default=300, help="seconds, for CNT's --time_window (trollscope's default)")
    ap.add_argument("--min-count", type=int, default=3, help="CNT's --min_edge_weight (trollscope's min_count)")
    ap.add_argument("--timeout-min", type=float, default=20.0, help="stop a peer's layer after this long")
    ap.add_argument("--layers", default=",".join(CNT_EQUIVALENT), help="trollscope layers to compare")
    ap.add_argument("--skip-peers", action="store_true", help="trollscope only")
    ap.add_argument("--skip-cz", action="store_true", help="skip coordinationz")
    ap.add_argument("--skip-similar", action="store_true", help="skip CNT's co_similar_tweet (the slowest)")
    ap.add_argument("--skip-10m", action="store_true", help="skip detection on --big-posts posts")
    ap.add_argument("--_one", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--_write", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--_memory-limit", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--_window", type=float, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._one:
        ws, layers, out = args._one
        trollscope_one(Path(ws), layers, Path(out), args._write, args._memory_limit, args._window)
        return

    WORK.mkdir(parents=True, exist_ok=True)
    sim, ws = ensure_sim(args.posts, 1)
    truth = Truth(sim / "truth.csv", ws)
    n_posts = posts_db(ws).execute("SELECT count(*) FROM posts").fetchone()[0]
    print(f"\n{n_posts:,} posts, {len(truth.planted)} planted and {len(truth.organic):,} organic accounts "
          f"({len(truth.viral):,} organic viral-cascade participants)\n", flush=True)  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="detect-bench-", dir=WORK))
    layers = [x for x in args.layers.split(",") if x]
    headers = ("layer", "tool", "time (s)", "work (s)", "peak MB", "flagged", "precision", "recall",
               "organic viral flagged", "peer / trollscope time", "peer / trollscope work")  # fmt: skip
    rows: list[tuple] = []

    py = None
    db = tmp / "cnt.db"
    if not args.skip_peers:
        py = peers_python()
        csv = WORK / f"cnt-{ws.name}.csv"
        cnt_csv(ws, csv)
        pre, late = timed([py, "-m", "coordination_network_toolkit", str(db), "preprocess", str(csv)], args.timeout_min)
        rows.append(("(preprocess)", "CNT preprocess", f"{pre.seconds:.1f}", "", f"{pre.peak_mb:.0f}", "", "", "", "",
                     "", ""))  # fmt: skip
        # CNT's CSV reader splits an empty urls field into [''], so every post without a link would
        # share the URL ''; drop those rows (untimed) so co_link compares real links only.
        con = sqlite3.connect(db)
        con.execute("DELETE FROM message_url WHERE url = ''")
        con.commit()
        con.close()
        print(table(rows, headers), flush=True)

    # Start without detection's cache of normalised texts, as CNT starts from a fresh preprocess: co-post
    # then normalises and caches (as CNT's co_tweet stores its normalised text) and near-dup reuses it
    # (as CNT's co_similar_tweet does).
    drop_text_cache(ws)
    for layer in layers:
        m, got = run_trollscope(ws, layer, tmp, window=args.window)  # the peer's one window: the same task
        s = truth.score(set(got["flagged"]))
        inner = got["layers"][layer]["seconds"]
        work = got["seconds"]
        rows.append((layer, "trollscope", f"{m.seconds:.1f}", f"{work:.2f} ({inner:.2f} in layer)", f"{m.peak_mb:.0f}",
                     *fmt_score(s), "1", "1"))  # fmt: skip
        net = CNT_EQUIVALENT.get(layer)
        if py and net and not (args.skip_similar and net == "co_similar_tweet"):
            times = tmp / f"cnt-{net}.json"
            cmd = [py, str(HERE / "_cnt_timed.py"), str(times), str(db), "compute", net,
                   "--time_window", str(args.window), "--min_edge_weight", str(args.min_count), "--n_cpus", "2"]  # fmt: skip
            pm, late = timed(cmd, args.timeout_min)
            if late:
                rows.append((layer, f"CNT {net}", f"did not finish in {args.timeout_min:g} min", "", f"{pm.peak_mb:.0f}",
                             "", "", "", "", f"> {pm.seconds / m.seconds:.0f}×", ""))  # fmt: skip
            elif pm.returncode:
                rows.append((layer, f"CNT {net}", f"failed (exit {pm.returncode})", "", "", "", "", "", "", "", ""))
            else:
                ps = truth.score(cnt_flagged(db, net, args.min_count))
                cw = json.loads(times.read_text())["seconds"]
                rows.append((layer, f"CNT {net}", f"{pm.seconds:.1f}", f"{cw:.2f}", f"{pm.peak_mb:.0f}", *fmt_score(ps),
                             f"{pm.seconds / m.seconds:.1f}×", f"{cw / work:.1f}×"))  # fmt: skip
        if py and layer == "co-repost" and not args.skip_cz:
            rt = WORK / f"cz-{ws.name}.csv"
            cz_csv(ws, rt)
            out = tmp / "cz.json"
            cm, late = timed(
                [py, str(HERE / "_peers_detect.py"), str(rt), str(out), "--workers", "2"], args.timeout_min
            )
            if late:
                rows.append((layer, "coordinationz co-retweet", f"did not finish in {args.timeout_min:g} min", "",
                             f"{cm.peak_mb:.0f}", "", "", "", "", f"> {cm.seconds / m.seconds:.0f}×", ""))  # fmt: skip
            elif cm.returncode:
                rows.append(
                    (
                        layer,
                        "coordinationz co-retweet",
                        f"failed (exit {cm.returncode})",
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                    )
                )
            else:
                cs = truth.score(set(json.loads(out.read_text())["flagged"]))
                rows.append((layer, "coordinationz co-retweet", f"{cm.seconds:.1f}", "", f"{cm.peak_mb:.0f}",
                             *fmt_score(cs), f"{cm.seconds / m.seconds:.1f}×", ""))  # fmt: skip
        print(f"\n(after {layer})\n" + table(rows, headers), flush=True)

    whole: list[tuple] = []
    wh = ("data", "posts", "accounts", "time (s)", "peak MB", "flagged", "precision", "recall", "organic viral flagged")
    m, got = run_trollscope(ws, DEFAULTS, tmp, write=True)
    n_acc = len(truth.planted) + len(truth.organic)
    whole.append(("simulate seed 1", f"{n_posts:,}", f"{n_acc:,}", f"{m.seconds:.1f}", f"{m.peak_mb:.0f}",
                  *fmt_score(truth.score(set(got["flagged"])))))  # fmt: skip
    per_layer = {k: v["seconds"] for k, v in got["layers"].items()}
    if not args.skip_10m:
        big_sim, big_ws = ensure_sim(args.big_posts, 1)
        big_truth = Truth(big_sim / "truth.csv", big_ws)
        bm, bgot = run_trollscope(big_ws, DEFAULTS, tmp, write=True)
        nb = posts_db(big_ws).execute("SELECT count(*) FROM posts").fetchone()[0]
        whole.append(("simulate seed 1", f"{nb:,}", f"{len(big_truth.planted) + len(big_truth.organic):,}",
                      f"{bm.seconds:.1f}", f"{bm.peak_mb:.0f}", *fmt_score(big_truth.score(set(bgot["flagged"])))))  # fmt: skip
        per_layer_big = {k: v["seconds"] for k, v in bgot["layers"].items()}
    print("\n## Per layer, one process each\n")
    print(table(rows, headers))
    print("\n## All layers (detect with defaults, tables written)\n")
    print(table(whole, wh))
    print("\nseconds per layer inside the all-layer run:", json.dumps(per_layer))
    if not args.skip_10m:
        print("seconds per layer at 10M:", json.dumps(per_layer_big))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
