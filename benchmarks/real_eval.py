"""Detection on real data: the IRA inside organic crowds of the same hours, and organic controls.

Mixes: the IRA's tweets (../shared/data/ira-by-author) posted in the windows of an organic
collection, ingested with it, each account labelled by the file it came from:
- airline-2015: 7,701 people tweeting at six US airlines, 2015-02-16 to 2015-02-24 (nine days);
- debates-2016: the four debate nights, a viral retweet crowd (21:00-22:30 EDT = 01:00-02:30 UTC,
  widened by an hour either side because the IRA's time zone is not stated);
- political-2016-search: ordinary people's political tweets, collected by the Search API in
  one- or two-hour bursts on 31 days of 2016-05-28 .. 07-13; the IRA's tweets of the same hours
  (each burst's hour, widened by an hour either side).
Where the IRA posted fewer than ``MIN_IRA_POSTS`` tweets in a mix's windows, a whole day of IRA
posts (its busiest day) is shifted onto the window's first day, every time difference within it
kept (``shift_day``); the result says whether that happened (it did not for these three: the
IRA posted in every window).

Detection runs with its defaults; positives are the IRA accounts with at least ``min_posts``
posts in the window (default 2: one post has nothing to co-act with); precision counts any
flagged IRA account as a hit. Each missed positive is put in one kind: ``2-4 posts`` /
``no shared item`` (no co-action with any account in any layer) / ``only with organic accounts``
/ ``co-acts with IRA, not significant``. Controls: each organic collection alone; the share of
accounts flagged is the false-positive rate. congress-2015-2018 (245 members of Congress, four
years, no IRA mix: the IRA's four years would swamp it) is a control of another kind: a small
community of accounts that message in step by party, every day.

Usage: python benchmarks/real_eval.py [--min-posts 2] [--group-splits N] [--json]
(``--group-splits``: detection's ``group_splits``, docs/detection.md "Several splits").
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
MIN_IRA_POSTS = 200
# political-2016-search's collection bursts: (day, first hour, last hour) UTC, from its timestamps
# (political_windows computes them; kept here so the mix is the same without the data's scan).
MIXES = {
    "airline-2015": [("2015-02-16", "2015-02-25")],
    "debates-2016": [(f"{d} 00:00", f"{d} 03:30") for d in ("2016-09-27", "2016-10-05", "2016-10-10", "2016-10-20")],
}


def political_windows(shared: Path) -> list[tuple[str, str]]:
    """Every hour political-2016-search holds tweets in, widened by an hour either side (merged)."""
    con = duckdb.connect()
    hours = [
        h
        for (h,) in con.execute(
            f"""SELECT DISTINCT date_trunc('hour', make_timestamp(created_at * 1000)) AS h
            FROM read_json_auto('{shared / "political-2016-search" / "tweets.jsonl.gz"}') ORDER BY h"""
        ).fetchall()
    ]
    spans: list[list] = []
    import datetime as dt

    for h in hours:
        a, b = h - dt.timedelta(hours=1), h + dt.timedelta(hours=2)
        if spans and a <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], b)
        else:
            spans.append([a, b])
    return [(a.strftime("%Y-%m-%d %H:%M"), b.strftime("%Y-%m-%d %H:%M")) for a, b in spans]


def all_mixes(shared: Path) -> dict[str, list[tuple[str, str]]]:
    return {**MIXES, "political-2016-search": political_windows(shared)}


@dataclass
class MixedResult:
    """What detection found in the IRA mixed into an organic collection."""

    organic: str
    ira_posts: int
    ira_accounts: int
    ira_listed_accounts: int  # of ira_accounts: in the organic collection only, named by the IRA's list
    ira_listed_posts: int
    ira_listed_positives: int
    organic_posts: int
    organic_accounts: int
    min_posts: int
    shifted: str | None
    positives: int
    flagged_ira: int
    flagged_positives: int
    flagged_organic: int
    precision: float | None
    recall: float | None
    organic_fp_rate: float
    flagged_ira_handles: list[str] = field(default_factory=list)
    missed_positives: dict[str, int] = field(default_factory=dict)
    missed_by_kind: dict[str, int] = field(default_factory=dict)
    groups: list[dict] = field(default_factory=list)
    layers: dict[str, dict] = field(default_factory=dict)
    clusters: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def ira_subsets(shared: Path, out_dir: Path, windows: dict[str, list[tuple[str, str]]]) -> dict[str, Path]:
    """The IRA tweets posted in each named set of [start, end) windows, one per-author-layout CSV per
    name (with authors.csv beside it, so ingest joins the account labels). One DuckDB scan over all
    author files, without unpacking them. A set with fewer than MIN_IRA_POSTS tweets gets a whole
    shifted day instead (:func:`shift_day`); ``shifted.txt`` beside the CSV says which."""
    ira = shared / "ira-by-author"
    files = sorted(glob.glob(str(ira / "*" / "*.csv.gz")))
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    within = lambda ws: " OR ".join(f"(publish_date >= '{a}' AND publish_date < '{b}')" for a, b in ws)  # noqa: E731
    con.execute(f"CREATE VIEW ira_all AS SELECT * FROM read_csv({files!r}, all_varchar=true, header=true)")
    every = [w for ws in windows.values() for w in ws]
    con.execute(f"CREATE TABLE ira AS SELECT * FROM ira_all WHERE {within(every)}")
    out = {}
    for name, ws in windows.items():
        d = out_dir / f"ira-{name}"
        d.mkdir(parents=True, exist_ok=True)
        out[name] = d / "tweets.csv"
        query = f"SELECT * FROM ira WHERE {within(ws)}"
        if con.execute(f"SELECT count(*) FROM ({query})").fetchall()[0][0] < MIN_IRA_POSTS:
            query, note = shift_day(con, ws[0][0][:10])
            (d / "shifted.txt").write_text(note + "\n")
        con.execute(f"COPY ({query}) TO '{out[name]}' (HEADER, DELIMITER ',')")
        shutil.copy(ira / "authors.csv", d / "authors.csv")
    return out


def shift_day(con: duckdb.DuckDBPyConnection, target_day: str) -> tuple[str, str]:
    """A query for the IRA's busiest day moved onto ``target_day`` (whole days, so every time
    difference and hour of day is kept), and a sentence saying so."""
    (day,) = con.execute(
        "SELECT left(publish_date, 10) FROM ira_all GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    ).fetchall()[0]
    shift = f"(DATE '{target_day}' - DATE '{day}')"
    query = (
        f"SELECT * REPLACE (strftime(strptime(publish_date, '%Y-%m-%d %H:%M:%S') + to_days({shift}), "
        f"'%Y-%m-%d %H:%M:%S') AS publish_date) FROM ira_all WHERE left(publish_date, 10) = '{day}'"
    )
    return query, f"IRA tweets of {day} shifted by whole days onto {target_day}"


def _sources(ws: Path, ira_authors: Path | None = None) -> dict[str, str]:
    """account_id -> 'ira' | 'ira-listed' | 'organic': 'ira' for an account with a post from the IRA's
    files; 'ira-listed' for one whose posts all come from the organic collection but whom the IRA's
    account list names (``authors.csv``: its handle or its Twitter id) — an organic collection can
    hold the operation's own accounts (political-2016-search holds three, TEN_GOP among them), and
    flagging those is no false positive."""
    from trollscope.workspace import Workspace

    con = Workspace(ws, create=False).connect()
    named = "false"
    if ira_authors is not None and ira_authors.exists():
        con.execute(
            f"""CREATE TEMP TABLE _ira_list AS SELECT lower(author) AS h, external_author_id AS x
            FROM read_csv('{ira_authors}', all_varchar=true, header=true)"""
        )
        named = "bool_or(lower(handle) IN (SELECT h FROM _ira_list) OR account_id IN (SELECT x FROM _ira_list))"
    rows = con.execute(f"SELECT account_id, bool_or(source_format = 'ira'), {named} FROM posts GROUP BY 1").fetchall()
    con.close()
    return {a: "ira" if ira else "ira-listed" if listed else "organic" for a, ira, listed in rows}


def mixed(shared: Path, ira_csv: Path, organic: str, tmp: Path, min_posts: int = 2, **detect_params) -> MixedResult:
    """Ingest the organic collection ``organic`` (a CONTROLS name) with ``ira_csv``, detect, score by source."""
    import trollscope as ts
    from trollscope.detect import detect

    t0 = time.perf_counter()
    ws = tmp / f"mixed-{organic}-ws"
    pattern, opts = _control_source(shared, organic)
    ts.ingest(str(ira_csv), ws)
    ts.ingest(str(shared / pattern), ws, options=ts.ReadOptions(**opts))
    r = detect(ws, write=False, **{"keep_edges": 1, **detect_params})  # every co-action, for the missed kinds
    source = _sources(ws, shared / "ira-by-author" / "authors.csv")
    con = duckdb.connect()
    con.register("acc", r.accounts)
    posts = dict(con.execute("SELECT account_id, posts FROM acc").fetchall())
    flagged = {a for (a,) in con.execute("SELECT account_id FROM acc WHERE flagged").fetchall()}
    handles = dict(con.execute("SELECT account_id, handle FROM acc").fetchall())
    ira = {a for a, s in source.items() if s != "organic"}
    listed = {a for a, s in source.items() if s == "ira-listed"}
    org = {a for a, s in source.items() if s == "organic"}
    positives = {a for a in ira if posts.get(a, 0) >= min_posts}
    hits = flagged & ira
    con.register("edges", r.edges.select(["account_a", "account_b"]))
    partners: dict[str, set[str]] = {}
    for a, b in con.execute("SELECT account_a, account_b FROM edges").fetchall():
        partners.setdefault(a, set()).add("ira" if source.get(b, "organic") != "organic" else "organic")
        partners.setdefault(b, set()).add("ira" if source.get(a, "organic") != "organic" else "organic")
    kinds: dict[str, int] = {}
    by_posts: dict[str, int] = {}
    for a in positives - flagged:
        kind = ("no shared item" if a not in partners else "shared only with organic accounts"
                if "ira" not in partners[a] else "co-acts with IRA accounts, not significant")  # fmt: skip
        kinds[kind] = kinds.get(kind, 0) + 1
        n = posts[a]
        bucket = "2-4 posts" if n < 5 else "5-9 posts" if n < 10 else "10+ posts"
        by_posts[bucket] = by_posts.get(bucket, 0) + 1
    shifted = ira_csv.parent / "shifted.txt"
    groups = [] if r.groups is None else [
        {k: g[k] for k in ("size", "layer", "window", "co_actions", "expected", "p_value", "days_active")}
        | {"ira_members": sum(1 for h in g["handles"] if h in ira_handles), "members": len(g["handles"])}
        for g in r.groups.to_pylist()
        for ira_handles in [{handles[a] for a in ira}]
    ]  # fmt: skip
    return MixedResult(
        organic=organic,
        ira_posts=sum(posts[a] for a in ira),
        ira_accounts=len(ira),
        ira_listed_accounts=len(listed),
        ira_listed_posts=sum(posts[a] for a in listed),
        ira_listed_positives=len(listed & positives),
        organic_posts=sum(posts[a] for a in org),
        organic_accounts=len(org),
        min_posts=min_posts,
        shifted=shifted.read_text().strip() if shifted.exists() else None,
        positives=len(positives),
        flagged_ira=len(hits),
        flagged_positives=len(flagged & positives),
        flagged_organic=len(flagged & org),
        precision=len(hits) / len(flagged) if flagged else None,
        recall=len(flagged & positives) / len(positives) if positives else None,
        organic_fp_rate=len(flagged & org) / len(org),
        flagged_ira_handles=sorted(handles[a] for a in hits),
        missed_positives={
            _name(a, handles, positives - flagged): posts[a]
            for a in sorted(positives - flagged, key=lambda a: -posts[a])
        },
        missed_by_kind={**dict(sorted(kinds.items())), **{f"by posts: {k}": v for k, v in sorted(by_posts.items())}},
        groups=groups,
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


def _name(account: str, handles: dict[str, str], among: set[str]) -> str:
    """The account's handle, with its id where another account of ``among`` has the same handle (the
    IRA's TEN_GOP, by its IRA id, and the same handle in political-2016-search, by the collection's)."""
    h = handles[account]
    return h if sum(handles[a] == h for a in among) == 1 else f"{h} [{account}]"


CONTROLS = {
    "debates-2016": ("debates-2016/tweets_debate*.csv.gz", {}),
    "political-2016-search": ("political-2016-search/tweets.jsonl.gz", {}),
    "airline-2015": ("airline-2015/Tweets.csv", {"mapping": AIRLINE_MAP, "time_format": AIRLINE_TIME}),
    "congress-2015-2018": ("congress-2015-2018/tweets.psv.gz", {"labels": "congress-2015-2018/accounts.csv"}),
}


def _control_source(shared: Path, name: str) -> tuple[str, dict]:
    """The control's file pattern and read options, with its labels file (if any) under ``shared``."""
    pattern, opts = CONTROLS[name]
    if "labels" in opts:
        opts = {**opts, "labels": str(shared / opts["labels"])}
    return pattern, opts


def control(shared: Path, tmp: Path, name: str, **detect_params) -> dict:
    """An organic collection alone: accounts, posts, and the share detection flags."""
    import trollscope as ts
    from trollscope.detect import detect

    t0 = time.perf_counter()
    pattern, opts = _control_source(shared, name)
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
    ap.add_argument("--min-posts", type=int, default=2)
    ap.add_argument("--group-splits", type=int, default=None, help="detect's group_splits (default: detect's own)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from _measure import SHARED, WORK, table

    WORK.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="real-eval-", dir=WORK))
    try:
        windows = all_mixes(SHARED)
        subsets = ira_subsets(SHARED, tmp, windows)
        kw = {"group_splits": args.group_splits} if args.group_splits is not None else {}
        mixes = [mixed(SHARED, subsets[name], name, tmp, args.min_posts, **kw) for name in windows]
        controls = [control(SHARED, tmp, name, **kw) for name in CONTROLS]
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
    print("\nIRA positives missed, by kind\n")
    kinds = sorted({k for m in mixes for k in m.missed_by_kind})
    print(
        table([(k, *(m.missed_by_kind.get(k, 0) for m in mixes)) for k in kinds], ("kind", *(m.organic for m in mixes)))
    )
    for m in mixes:
        print(f"\n{m.organic}:", m.shifted or "IRA tweets of the same hours, as they are (no shift)")
        print("flagged IRA:", ", ".join(m.flagged_ira_handles))
        print("groups:", json.dumps(m.groups, default=str))
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
