"""Which side(s) did the operation take: partisan lean, candidates, and a both-sides index.

- **Lean** comes from a lexicon of left- and right-coded hashtags and phrases (package data
  ``lexicon_partisan.csv``: ``side,kind,term,note``; pass your own with ``lexicon=``). A
  ``hashtag`` entry matches a post's hashtags exactly (case-insensitive, no ``#``); a ``term``
  entry matches the text as a whole word or phrase, case-insensitively. A post is *left* when it
  matches left entries only, *right* when right only, *mixed* when both (counted as political but
  in neither side). For any set of posts, ``lean = (R - L) / (R + L)``: -1 all left, +1 all right.
  An account's ``side`` is left when its lean is <= -0.5 (three left posts for every right one),
  right when >= 0.5, mixed in between, and ``too few`` under ``min_political`` political posts.
- **Both-sides index** = ``1 - |L - R| / (L + R)``: 0 when all political posts lean one way, 1
  when they split evenly. Its 95% interval is a percentile bootstrap that resamples *accounts*
  (with replacement, ``bootstrap`` times), since posts of one account are not independent.
- **Candidates**: posts matching each candidate's pattern (``candidates.csv``:
  ``candidate,party,pattern``, RE2, case-insensitive), and their VADER compound sentiment
  (positive >= 0.05, negative <= -0.05). VADER scores the whole post, not the stance toward the
  named candidate: a post attacking Clinton to praise Trump counts toward both.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..engine import EngineSpec, sql_str
from ..workspace import Workspace
from .result import VEGA_LITE, Result, arrow, platforms, vl_values, with_platforms
from .selection import open_operation
from .sentiment import score_texts
from .timeline import FREQS

SIDE_CUT = 0.5  # |lean| at or above which an account is called left or right
POSITIVE, NEGATIVE = 0.05, -0.05  # VADER's recommended compound thresholds
WORD = r"[\p{L}\p{N}_]"


@dataclass
class TargetingResult(Result):
    groups: pa.Table | None = None  # per group: political volume, lean, both-sides index with CI
    periods: pa.Table | None = None  # per period, whole operation: both-sides index with CI
    group_periods: pa.Table | None = None  # per group and period
    accounts: pa.Table | None = None  # per account: left/right/mixed posts, lean, side
    candidates: pa.Table | None = None  # per group and candidate: mentions, sentiment
    candidate_periods: pa.Table | None = None  # per group, candidate and period
    by_platform: pa.Table | None = None  # posts from several platforms: per platform, both-sides index with CI


def load_lexicon(path: str | Path | None = None) -> pa.Table:
    """The partisan lexicon as ``side, kind, term, note`` (built in unless ``path`` is given)."""
    text, name = _read_data(path, "lexicon_partisan.csv")
    rows = list(csv.DictReader(text.splitlines()))
    out: dict[str, list[str | None]] = {"side": [], "kind": [], "term": [], "note": []}
    for i, r in enumerate(rows, start=2):
        r = {k.strip().lower(): (v or "").strip() for k, v in r.items() if k}
        side, kind, term = r.get("side", "").lower(), (r.get("kind") or "term").lower(), r.get("term", "")
        if side not in ("left", "right") or kind not in ("hashtag", "term") or not term:
            raise ValueError(f"{name} line {i}: need side left|right, kind hashtag|term and a term (got {r})")
        out["side"].append(side)
        out["kind"].append(kind)
        out["term"].append(term.lower().lstrip("#") if kind == "hashtag" else term.lower())
        out["note"].append(r.get("note") or None)
    return pa.table(out)


def load_candidates(path: str | Path | None = None) -> pa.Table:
    """Candidates as ``candidate, party, pattern`` (RE2, matched case-insensitively)."""
    text, name = _read_data(path, "candidates.csv")
    rows = [
        {k.strip().lower(): (v or "").strip() for k, v in r.items() if k} for r in csv.DictReader(text.splitlines())
    ]
    if rows and not {"candidate", "pattern"} <= set(rows[0]):
        raise ValueError(f"{name}: a candidates file needs the columns candidate,pattern (optional: party)")
    return pa.table(
        {
            "candidate": [r["candidate"] for r in rows],
            "party": [r.get("party") or None for r in rows],
            "pattern": [r["pattern"] for r in rows],
        }
    )


def _read_data(path: str | Path | None, builtin: str) -> tuple[str, str]:
    if path is None:
        return resources.files("trollscope").joinpath("data", builtin).read_text(encoding="utf-8"), builtin
    return Path(path).read_text(encoding="utf-8-sig"), str(path)


def _terms_regex(terms: list[str]) -> str:
    """One case-insensitive RE2 pattern matching any of ``terms`` as whole words or phrases."""
    alts = "|".join(r"\s+".join(re.escape(w) for w in t.split()) for t in sorted(set(terms)))
    return rf"(?i)(^|[^\p{{L}}\p{{N}}_])({alts})([^\p{{L}}\p{{N}}_]|$)"


def _terms_of(lex: pa.Table, side: str, kind: str) -> list[str]:
    return [r["term"] for r in lex.to_pylist() if r["side"] == side and r["kind"] == kind]


def _classify_posts(con: duckdb.DuckDBPyConnection, lex: pa.Table, cands: pa.Table, freq: str) -> None:
    """Temp table ``_pol``: per operation post, left/right flags and one flag per candidate (``_c0``…).

    Two costs dominate, and both are paid once: a regex pass over every text (about a
    microsecond a post whatever the pattern, so one pass with all patterns ORed finds the few
    posts that match anything, and the individual patterns then run on those alone), and the
    hashtag lists (unnested and joined to the lexicon rather than tested list by list).
    """
    side_res = {side: _terms_of(lex, side, "term") for side in ("left", "right")}
    side_res = {side: _terms_regex(t) for side, t in side_res.items() if t}
    cand_res = ["(?i)" + p for p in cands.column("pattern").to_pylist()]
    flags = {f"{side[0]}_text": p for side, p in side_res.items()} | {f"_c{i}": p for i, p in enumerate(cand_res)}
    if flags and hasattr(con, "frame"):
        # Spark: DuckDB's own RE2 pass in Spark's tasks. Java's regex engine matches otherwise (\b,
        # case folding) and paid per alternative: 30 of targeting's 56 s at 1M posts (docs/scale.md).
        from ..spark_tasks import BATCH, duckdb_map

        schema = pa.schema([("post_id", pa.string()), ("text", pa.string())] + [(f, pa.bool_()) for f in flags])
        posts = con.spark.table("op_posts").select("post_id", "text")
        con.frame("_hits", duckdb_map(posts, _hits_sql(BATCH, flags), schema).localCheckpoint(eager=True))
    elif flags:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _hits AS {_hits_sql('op_posts', flags)}")
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE _hits AS SELECT NULL::VARCHAR AS post_id, NULL::VARCHAR AS text")
    tags = lex.filter(pc.equal(lex.column("kind"), "hashtag")).select(["side", "term"])
    con.register("_lex_tags", tags)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _tag_hits AS
        SELECT post_id, bool_or(t.side = 'left') AS l_tag, bool_or(t.side = 'right') AS r_tag
        FROM (SELECT post_id, unnest(hashtags) AS tag FROM op_posts) p JOIN _lex_tags t ON t.term = p.tag
        GROUP BY post_id"""
    )

    def side(s: str) -> str:
        text = f" OR coalesce(h.{s}_text, false)" if f"{s}_text" in flags else ""
        return f"coalesce(g.{s}_tag, false){text}"

    cand_cols = "".join(f", coalesce(h._c{i}, false) AS _c{i}" for i in range(len(cand_res)))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _pol AS
        SELECT p.post_id, p.account_id, p.grp, date_trunc('{freq}', p.created_at) AS period, h.text,
               {side("l")} AS l, {side("r")} AS r {cand_cols}
        FROM op_posts p LEFT JOIN _hits h USING (post_id) LEFT JOIN _tag_hits g USING (post_id)"""
    )


def _hits_sql(source: str, flags: dict[str, str]) -> str:
    """The posts of ``source`` whose text matches any of ``flags`` (name -> RE2 pattern), with one
    column per flag: all patterns ORed in one pass, each alone on those few posts."""
    any_re = "|".join(f"(?:{p})" for p in flags.values())
    cols = ", ".join(f"regexp_matches(text, {sql_str(p)}) AS {name}" for name, p in flags.items())
    return f"""SELECT post_id, text, {cols}
        FROM (SELECT post_id, text FROM {source} WHERE regexp_matches(text, {sql_str(any_re)}))"""


def targeting(
    workspace: str | Path | Workspace | None = None,
    accounts: str | Path | None = None,
    by: str | None = None,
    *,
    freq: str = "week",
    lexicon: str | Path | None = None,
    candidates: str | Path | None = None,
    sentiment: bool = True,
    min_political: int = 5,
    bootstrap: int = 1000,
    seed: int = 42,
    progress: Callable[[int], None] | None = None,
    engine: str | EngineSpec | None = None,
) -> TargetingResult:
    """Partisan lean per account, group and period; candidate mentions and sentiment; both-sides index."""
    t0 = time.perf_counter()
    if freq not in FREQS:
        raise ValueError(f"freq {freq!r}: choose one of {', '.join(FREQS)}")
    lex = load_lexicon(lexicon)
    cands = load_candidates(candidates)
    ws, con, op = open_operation(workspace, accounts, by, engine)
    notes: list[str] = []
    try:
        _classify_posts(con, lex, cands, freq)
        con.execute(
            """CREATE TEMP TABLE _acct_period AS
            SELECT account_id, grp, period, count(*) AS posts,
                   count(*) FILTER (WHERE l AND NOT r) AS left_posts, count(*) FILTER (WHERE r AND NOT l) AS right_posts,
                   count(*) FILTER (WHERE l AND r) AS mixed_posts
            FROM _pol GROUP BY ALL"""
        )
        acct = arrow(
            con,
            """SELECT a.account_id, op.handle, a.grp, sum(posts)::BIGINT AS posts,
                   sum(left_posts)::BIGINT AS left_posts, sum(right_posts)::BIGINT AS right_posts,
                   sum(mixed_posts)::BIGINT AS mixed_posts
            FROM _acct_period a JOIN op USING (account_id) GROUP BY ALL ORDER BY a.grp, posts DESC, a.account_id""",
        )
        acct = _with_lean(acct, min_political)
        ap = arrow(con, "SELECT * FROM _acct_period ORDER BY grp, period, account_id")
        rng = np.random.default_rng(seed)
        groups = _index_table(ap, ["grp"], bootstrap, rng, all_groups=list(op.groups))
        periods = _index_table(ap, ["period"], bootstrap, rng)
        group_periods = _index_table(ap, ["grp", "period"], bootstrap, rng)
        by_platform = None
        if platforms(con) > 1:  # drawn after the others, so their intervals are as with one platform
            ap_platform = arrow(
                con,
                """SELECT a.*, pl.platform FROM _acct_period a JOIN
                   (SELECT account_id, mode(platform) AS platform FROM op_posts GROUP BY 1) pl USING (account_id)
                ORDER BY grp, period, account_id""",
            )
            by_platform = _index_table(ap_platform, ["platform"], bootstrap, rng)
        [acct] = with_platforms(con, acct)
        model = None
        cand_t, cand_p = _empty_candidates(), None
        if cands.num_rows:
            mention_any = " OR ".join(f"_c{i}" for i in range(cands.num_rows))
            if sentiment:
                model, s_notes = score_texts(con, ws, f"SELECT text FROM _pol WHERE {mention_any}", progress=progress)
                notes += s_notes
            else:
                con.execute("CREATE OR REPLACE TEMP TABLE _sentiment (text_md5 VARCHAR, compound DOUBLE)")
            cand_t, cand_p = _candidates(con, cands)
    finally:
        con.close()
    op_row = _overall(ap, bootstrap, np.random.default_rng(seed))
    params = {
        "freq": freq,
        "lexicon": str(lexicon) if lexicon else "built-in lexicon_partisan.csv",
        "lexicon_entries": lex.num_rows,
        "candidates": str(candidates) if candidates else "built-in candidates.csv",
        "sentiment_model": model,
        "sentiment_thresholds": [NEGATIVE, POSITIVE],
        "min_political": min_political,
        "side_cut": SIDE_CUT,
        "bootstrap": bootstrap,
        "bootstrap_unit": "account",
        "ci": 0.95,
        "seed": seed,
    }
    result = TargetingResult(
        operation=op,
        params=params,
        notes=notes,
        groups=groups,
        periods=periods,
        group_periods=group_periods,
        accounts=acct,
        candidates=cand_t,
        candidate_periods=cand_p,
        by_platform=by_platform,
    )
    result.summary = {
        "operation": op_row,
        "groups": {
            g["grp"]: {k: g[k] for k in ("political_posts", "lean", "both_sides", "ci_low", "ci_high")}
            for g in groups.to_pylist()
        },
    }
    if op_row["political_posts"] == 0:
        result.notes.append("no post of the operation matches the lexicon: lean and both-sides index are undefined")
    result.chart = _chart(group_periods, periods, freq)
    result.seconds = time.perf_counter() - t0
    return result


def _with_lean(t: pa.Table, min_political: int) -> pa.Table:
    left = np.asarray(t.column("left_posts"), dtype=float)
    right = np.asarray(t.column("right_posts"), dtype=float)
    mixed = np.asarray(t.column("mixed_posts"), dtype=float)
    two = left + right
    with np.errstate(invalid="ignore", divide="ignore"):
        lean = np.where(two > 0, (right - left) / two, np.nan)
    political = left + right + mixed
    side = np.where(
        political < min_political,
        "too few",
        np.where(lean <= -SIDE_CUT, "left", np.where(lean >= SIDE_CUT, "right", "mixed")),
    )
    return (
        t.append_column("political_posts", pa.array(political.astype(np.int64)))
        .append_column("lean", pa.array(lean, from_pandas=True))
        .append_column("side", pa.array(side.tolist(), pa.string()))
    )


def both_sides_index(left: np.ndarray | float, right: np.ndarray | float) -> np.ndarray:
    """``1 - |L - R| / (L + R)``: 0 = one side only, 1 = an even split (NaN when L + R = 0)."""
    left, right = np.asarray(left, dtype=float), np.asarray(right, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 - np.abs(left - right) / (left + right)


def bootstrap_index(left: np.ndarray, right: np.ndarray, n_boot: int, rng: np.random.Generator) -> tuple[float, float]:
    """95% percentile interval of the both-sides index, resampling accounts with replacement."""
    n = len(left)
    if n == 0 or n_boot <= 0 or (left.sum() + right.sum()) == 0:
        return (float("nan"), float("nan"))
    idx = rng.integers(0, n, size=(n_boot, n))
    b = both_sides_index(left[idx].sum(axis=1), right[idx].sum(axis=1))
    b = b[~np.isnan(b)]
    if b.size == 0:
        return (float("nan"), float("nan"))
    lo, hi = np.percentile(b, [2.5, 97.5])
    return float(lo), float(hi)


def _index_table(
    ap: pa.Table, keys: list[str], n_boot: int, rng: np.random.Generator, all_groups: list[str] | None = None
) -> pa.Table:
    """Per key: posts, political volume by side, lean, both-sides index and its bootstrap interval.

    ``ap`` has one row per account and period; rows of one account in one key are summed first,
    so the bootstrap resamples accounts within each key.
    """
    # In Arrow, not SQL: ``ap`` is already on the driver whichever engine made it.
    sums = [("posts", "posts"), ("left_posts", "l"), ("right_posts", "r"), ("mixed_posts", "m")]
    per = ap.group_by([*keys, "account_id"], use_threads=False).aggregate([(c, "sum") for c, _ in sums])
    per = per.select([*keys, "account_id", *(f"{c}_sum" for c, _ in sums)])
    per = per.rename_columns([*keys, "account_id", *(n for _, n in sums)])
    per = per.sort_by([(c, "ascending") for c in [*keys, "account_id"]])
    key_rows = list(zip(*[per.column(c).to_pylist() for c in keys], strict=True)) if per.num_rows else []
    l_all = np.asarray(per.column("l"), dtype=float)
    r_all = np.asarray(per.column("r"), dtype=float)
    m_all = np.asarray(per.column("m"), dtype=float)
    posts_all = np.asarray(per.column("posts"), dtype=float)
    political_acc = (l_all + r_all + m_all) > 0
    out: dict[str, list] = {c: [] for c in keys}
    for c in (
        "accounts",
        "political_accounts",
        "posts",
        "political_posts",
        "left_posts",
        "right_posts",
        "mixed_posts",
        "political_share",
        "lean",
        "both_sides",
        "ci_low",
        "ci_high",
    ):
        out[c] = []
    bounds = _runs(key_rows)
    seen = set()
    for key, (a, b) in bounds.items():
        seen.add(key)
        sl = slice(a, b)
        L, R, M = l_all[sl], r_all[sl], m_all[sl]
        pol = political_acc[sl]
        lo, hi = bootstrap_index(L[pol], R[pol], n_boot, rng)
        _append(out, keys, key, b - a, int(pol.sum()), posts_all[sl].sum(), L.sum(), R.sum(), M.sum(), lo, hi)
    for g in all_groups or []:  # groups with no posts at all still get a row
        if (g,) not in seen:
            _append(out, keys, (g,), 0, 0, 0, 0, 0, 0, float("nan"), float("nan"))
    return pa.table({c: pa.array(v, from_pandas=True) for c, v in out.items()})


def _runs(keys: list[tuple]) -> dict[tuple, tuple[int, int]]:
    """Start and end row of each run of equal keys (rows are sorted by key)."""
    bounds: dict[tuple, tuple[int, int]] = {}
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            bounds[keys[start]] = (start, i)
            start = i
    return bounds


def _append(out, keys, key, accounts, political_accounts, posts, L, R, M, lo, hi) -> None:
    for c, v in zip(keys, key, strict=True):
        out[c].append(v)
    political = L + R + M
    out["accounts"].append(int(accounts))
    out["political_accounts"].append(int(political_accounts))
    out["posts"].append(int(posts))
    out["political_posts"].append(int(political))
    out["left_posts"].append(int(L))
    out["right_posts"].append(int(R))
    out["mixed_posts"].append(int(M))
    out["political_share"].append(political / posts if posts else float("nan"))
    out["lean"].append((R - L) / (R + L) if R + L else float("nan"))
    out["both_sides"].append(float(both_sides_index(L, R)) if R + L else float("nan"))
    out["ci_low"].append(lo)
    out["ci_high"].append(hi)


def _overall(ap: pa.Table, n_boot: int, rng: np.random.Generator) -> dict:
    """The whole operation over the whole time: the headline both-sides figure."""
    t = _index_table(
        ap.append_column("_all", pa.array(["operation"] * ap.num_rows, pa.string())), ["_all"], n_boot, rng
    )
    if t.num_rows == 0:
        return {
            "political_posts": 0,
            "left_posts": 0,
            "right_posts": 0,
            "lean": None,
            "both_sides": None,
            "ci_low": None,
            "ci_high": None,
            "accounts": 0,
        }
    row = t.to_pylist()[0]
    row.pop("_all")
    return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}


def _empty_candidates() -> pa.Table:
    return pa.table({"grp": pa.array([], pa.string()), "candidate": pa.array([], pa.string())})


def _candidates(con: duckdb.DuckDBPyConnection, cands: pa.Table) -> tuple[pa.Table, pa.Table]:
    names = cands.column("candidate").to_pylist()
    parties = cands.column("party").to_pylist()
    unions = " UNION ALL ".join(
        f"SELECT grp, period, account_id, text, {sql_str(n)} AS candidate, {sql_str(p) if p else 'NULL'} AS party "
        f"FROM _pol WHERE _c{i}"
        for i, (n, p) in enumerate(zip(names, parties, strict=True))
    )
    con.execute(
        f"""CREATE TEMP TABLE _mentions AS
        SELECT m.grp, m.period, m.account_id, m.candidate, m.party, s.compound
        FROM ({unions}) m LEFT JOIN _sentiment s ON s.text_md5 = md5(m.text)"""
    )
    agg = f"""count(*) AS mentions, count(DISTINCT account_id) AS accounts, avg(compound) AS mean_compound,
              avg(CASE WHEN compound >= {POSITIVE} THEN 1.0 WHEN compound IS NOT NULL THEN 0.0 END) AS positive_share,
              avg(CASE WHEN compound <= {NEGATIVE} THEN 1.0 WHEN compound IS NOT NULL THEN 0.0 END) AS negative_share"""
    by_group = arrow(
        con,
        f"""WITH m AS (SELECT grp, candidate, any_value(party) AS party, {agg} FROM _mentions GROUP BY ALL),
                 g AS (SELECT grp, count(*) AS posts FROM _pol GROUP BY grp),
                 grid AS (SELECT DISTINCT o.grp, c.candidate FROM op o CROSS JOIN (SELECT unnest(?) AS candidate) c)
            SELECT grid.grp, grid.candidate, m.party, coalesce(m.mentions, 0) AS mentions,
                   coalesce(m.mentions, 0) / g.posts AS share_of_posts, coalesce(m.accounts, 0) AS accounts,
                   m.mean_compound, m.positive_share, m.negative_share,
                   m.positive_share - m.negative_share AS net_sentiment
            FROM grid LEFT JOIN m USING (grp, candidate) LEFT JOIN g USING (grp)
            ORDER BY grid.grp, mentions DESC, grid.candidate""",
        [names],
    )
    by_period = arrow(
        con,
        f"""WITH m AS (SELECT grp, candidate, period, {agg} FROM _mentions GROUP BY ALL)
            SELECT *, positive_share - negative_share AS net_sentiment FROM m ORDER BY grp, candidate, period""",
    )
    return by_group, by_period


def _chart(group_periods: pa.Table, periods: pa.Table, freq: str) -> dict:
    gp = group_periods.filter(pc.greater(group_periods.column("political_posts"), 0))
    return {
        "$schema": VEGA_LITE,
        "title": f"Partisan lean and both-sides index per {freq}",
        "vconcat": [
            {
                "width": 800,
                "data": {"values": vl_values(gp, ["grp", "period", "lean", "political_posts"])},
                "mark": "line",
                "encoding": {
                    "x": {"field": "period", "type": "temporal", "title": None},
                    "y": {
                        "field": "lean",
                        "type": "quantitative",
                        "scale": {"domain": [-1, 1]},
                        "title": "lean (-1 left, +1 right)",
                    },
                    "color": {"field": "grp", "type": "nominal", "title": "group"},
                    "tooltip": [
                        {"field": "grp"},
                        {"field": "period", "type": "temporal"},
                        {"field": "lean"},
                        {"field": "political_posts"},
                    ],
                },
            },
            {
                "width": 800,
                "data": {
                    "values": vl_values(periods, ["period", "both_sides", "ci_low", "ci_high", "political_posts"])
                },
                "layer": [
                    {
                        "mark": {"type": "area", "opacity": 0.3},
                        "encoding": {
                            "x": {"field": "period", "type": "temporal", "title": None},
                            "y": {
                                "field": "ci_low",
                                "type": "quantitative",
                                "scale": {"domain": [0, 1]},
                                "title": "both-sides index (95% CI)",
                            },
                            "y2": {"field": "ci_high"},
                        },
                    },
                    {
                        "mark": "line",
                        "encoding": {
                            "x": {"field": "period", "type": "temporal"},
                            "y": {"field": "both_sides", "type": "quantitative"},
                            "tooltip": [
                                {"field": "period", "type": "temporal"},
                                {"field": "both_sides"},
                                {"field": "ci_low"},
                                {"field": "ci_high"},
                                {"field": "political_posts"},
                            ],
                        },
                    },
                ],
            },
        ],
    }
