"""Detection on real data: the IRA inside an organic crowd of the same days, and organic controls.

Mixed test: airline-2015 (7,701 people tweeting at six US airlines, 2015-02-16 to 2015-02-24)
ingested together with every IRA tweet (../shared/data/ira-by-author) posted in the same days,
each account labelled by the file it came from. Detection runs with its defaults; positives are
the IRA accounts with at least ``min_posts`` posts in the window (an account with two tweets in
nine days has nothing to co-act with), precision counts any flagged IRA account as a hit.
Controls: debates-2016 (a viral retweet crowd) and political-2016-search (organic political
talk), each alone: the share of accounts flagged is the false-positive rate.

Usage: python benchmarks/real_eval.py [--min-posts 10] [--json]
tests/test_detect_real.py runs the same functions.
"""

from __future__ import annotations

import argparse
import glob
import json
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

AIRLINE_MAP = {"handle": "name", "text": "text", "created_at": "tweet_created"}
AIRLINE_TIME = "%d-%m-%Y %H.%M"
# The organic collections the IRA is mixed into, and the IRA's windows for each: airline-2015's
# nine days; the four debate nights (21:00-22:30 EDT = 01:00-02:30 UTC, widened by an hour either
# side because the IRA's time zone is not stated).
MIXES = {
    "airline-2015": [("2015-02-16", "2015-02-25")],
    "debates-2016": [(f"{d} 00:00", f"{d} 03:30") for d in ("2016-09-27", "2016-10-05", "2016-10-10", "2016-10-20")],
}


@dataclass
class MixedResult:
    """What detection found in the IRA mixed into an organic collection."""

    organic: str
    ira_posts: int
    ira_accounts: int
    organic_posts: int
    organic_accounts: int
    min_posts: int
    positives: int
    flagged_ira: int
    flagged_positives: int
    flagged_organic: int
    precision: float | None
    recall: float | None
    organic_fp_rate: float
    flagged_ira_handles: list[str] = field(default_factory=list)
    missed_positives: dict[str, int] = field(default_factory=dict)
    layers: dict[str, dict] = field(default_factory=dict)
    clusters: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def ira_subsets(shared: Path, out_dir: Path, windows: dict[str, list[tuple[str, str]]]) -> dict[str, Path]:
    """The IRA tweets posted in each named set of [start, end) windows, one per-author-layout CSV per
    name (with authors.csv beside it, so ingest joins the account labels). One DuckDB scan over all
    author files, without unpacking them."""
    ira = shared / "ira-by-author"
    files = sorted(glob.glob(str(ira / "*" / "*.csv.gz")))
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    within = lambda ws: " OR ".join(f"(publish_date >= '{a}' AND publish_date < '{b}')" for a, b in ws)  # noqa: E731
    every = [w for ws in windows.values() for w in ws]
    con.execute(
        f"CREATE TABLE ira AS SELECT * FROM read_csv({files!r}, all_varchar=true, header=true) WHERE {within(every)}"
    )
    out = {}
    for name, ws in windows.items():
        d = out_dir / f"ira-{name}"
        d.mkdir(parents=True, exist_ok=True)
        out[name] = d / "tweets.csv"
        con.execute(f"COPY (SELECT * FROM ira WHERE {within(ws)}) TO '{out[name]}' (HEADER, DELIMITER ',')")
        shutil.copy(ira / "authors.csv", d / "authors.csv")
    return out


def _sources(ws: Path) -> dict[str, str]:
    """account_id -> 'ira' | 'organic', from the file each account's posts came from."""
    from trollscope.workspace import Workspace

    con = Workspace(ws, create=False).connect()
    rows = con.execute(
        """SELECT account_id, bool_or(source_format = 'ira') AS ira, count(*) AS n FROM posts GROUP BY 1"""
    ).fetchall()
    con.close()
    return {a: "ira" if ira else "organic" for a, ira, _ in rows}


def mixed(shared: Path, ira_csv: Path, organic: str, tmp: Path, min_posts: int = 10, **detect_params) -> MixedResult:
    """Ingest the organic collection ``organic`` (a CONTROLS name) with ``ira_csv``, detect, score by source."""
    import trollscope as ts
    from trollscope.detect import detect

    t0 = time.perf_counter()
    ws = tmp / f"mixed-{organic}-ws"
    pattern, opts = CONTROLS[organic]
    ts.ingest(str(ira_csv), ws)
    ts.ingest(str(shared / pattern), ws, options=ts.ReadOptions(**opts))
    r = detect(ws, write=False, **detect_params)
    source = _sources(ws)
    con = duckdb.connect()
    con.register("acc", r.accounts)
    posts = dict(con.execute("SELECT account_id, posts FROM acc").fetchall())
    flagged = {a for (a,) in con.execute("SELECT account_id FROM acc WHERE flagged").fetchall()}
    handles = dict(con.execute("SELECT account_id, handle FROM acc").fetchall())
    ira = {a for a, s in source.items() if s == "ira"}
    org = {a for a, s in source.items() if s == "organic"}
    positives = {a for a in ira if posts.get(a, 0) >= min_posts}
    hits = flagged & ira
    return MixedResult(
        organic=organic,
        ira_posts=sum(posts[a] for a in ira),
        ira_accounts=len(ira),
        organic_posts=sum(posts[a] for a in org),
        organic_accounts=len(org),
        min_posts=min_posts,
        positives=len(positives),
        flagged_ira=len(hits),
        flagged_positives=len(flagged & positives),
        flagged_organic=len(flagged & org),
        precision=len(hits) / len(flagged) if flagged else None,
        recall=len(flagged & positives) / len(positives) if positives else None,
        organic_fp_rate=len(flagged & org) / len(org),
        flagged_ira_handles=sorted(handles[a] for a in hits),
        missed_positives={handles[a]: posts[a] for a in sorted(positives - flagged, key=lambda a: -posts[a])},
        layers={
            k: {x: v.get(x) for x in ("actions", "accounts", "candidate_edges", "significant_edges")}
            for k, v in r.layers.items()
        },
        clusters=[
            {"size": c["size"], "accounts": c["accounts"], "layers": c["layers"]}
            for c in r.as_dict(evidence_per_cluster=0)["clusters"]
        ],
        seconds=time.perf_counter() - t0,
    )


CONTROLS = {
    "debates-2016": ("debates-2016/tweets_debate*.csv.gz", {}),
    "political-2016-search": ("political-2016-search/tweets.jsonl.gz", {}),
    "airline-2015": ("airline-2015/Tweets.csv", {"mapping": AIRLINE_MAP, "time_format": AIRLINE_TIME}),
}


def control(shared: Path, tmp: Path, name: str, **detect_params) -> dict:
    """An organic collection alone: accounts, posts, and the share detection flags."""
    import trollscope as ts
    from trollscope.detect import detect

    t0 = time.perf_counter()
    pattern, opts = CONTROLS[name]
    ws = tmp / f"{name}-ws"
    ts.ingest(str(shared / pattern), ws, options=ts.ReadOptions(**opts))
    r = detect(ws, write=False, **detect_params)
    n = r.accounts.num_rows
    flagged = r.flagged
    return {
        "control": name,
        "posts": int(sum(r.accounts.column("posts").to_pylist())),
        "accounts": n,
        "flagged": len(flagged),
        "flagged_share": len(flagged) / n if n else 0.0,
        "flagged_handles": flagged,
        "clusters": [{"size": c["size"], "layers": c["layers"]} for c in r.as_dict(evidence_per_cluster=0)["clusters"]],
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--min-posts", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from _measure import SHARED, WORK, table

    WORK.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="real-eval-", dir=WORK))
    try:
        subsets = ira_subsets(SHARED, tmp, MIXES)
        mixes = [mixed(SHARED, subsets[name], name, tmp, args.min_posts) for name in MIXES]
        controls = [control(SHARED, tmp, name) for name in ("debates-2016", "political-2016-search", "airline-2015")]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps({"mixed": [asdict(m) for m in mixes], "controls": controls}, indent=2, default=str))
        return
    f = lambda x: "" if x is None else f"{x:.3f}"  # noqa: E731
    print("\nIRA tweets of the same days mixed into organic collections, detect defaults\n")
    print(
        table(
            [(m.organic, f"{m.ira_posts:,}", m.ira_accounts, f"{m.organic_posts:,}", f"{m.organic_accounts:,}",
              f"{m.positives} (≥ {m.min_posts} posts)", m.flagged_ira, m.flagged_positives, f(m.precision),
              f(m.recall), f"{m.flagged_organic} ({m.organic_fp_rate:.2%})", f"{m.seconds:.0f}") for m in mixes],
            ("organic side", "IRA posts", "IRA accounts", "organic posts", "organic accounts", "positives",
             "IRA flagged", "positives flagged", "precision", "recall", "organic flagged", "seconds"),
        )
    )  # fmt: skip
    for m in mixes:
        print(f"\n{m.organic}: flagged IRA:", ", ".join(m.flagged_ira_handles))
        print("missed positives (posts):", m.missed_positives)
        print("layers:", json.dumps(m.layers))
        print("clusters:", json.dumps(m.clusters))
    print("\nOrganic controls, each alone, detect defaults\n")
    print(
        table(
            [
                (
                    c["control"],
                    f"{c['posts']:,}",
                    f"{c['accounts']:,}",
                    c["flagged"],
                    f"{c['flagged_share']:.2%}",
                    c["seconds"],
                )
                for c in controls
            ],
            ("control", "posts", "accounts", "flagged", "share flagged", "seconds"),
        )
    )
    for c in controls:
        print(c["control"], "clusters:", json.dumps(c["clusters"]))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
