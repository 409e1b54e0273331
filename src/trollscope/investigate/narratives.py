"""Did the operation start a narrative, or join and stoke one that others started?

A narrative is a term given by the user. ``fracking`` matches the hashtag ``#fracking`` and the
word "fracking" in text, case-insensitively and with or without ``#``; ``jadehelm*`` also
matches anything that starts with it (``#JadeHelm15``); ``blm=blacklivesmatter|black lives
matter`` names a narrative with several spellings (a phrase matches with any spacing, ``_`` or
``-`` between its words). For each narrative:

- the operation's volume by group, and its **share** of all posts on it in the workspace;
- the operation's **first use** against the **first use anywhere** in the workspace (and how
  many outside posts came before the operation's first);
- **outside uptake**: whether outside volume rises after operation volume. On the weekly
  (``freq``) series of ``log(1 + posts)`` from the narrative's first to last use, a Granger-style
  F-test asks whether the operation's last ``lags`` periods improve a prediction of outside
  volume beyond outside volume's own last ``lags`` periods (both models with a constant and a
  linear trend); the reverse direction is tested too. The cross-correlations of the differenced
  series at leads and lags are returned for the chart. This is an association in time, not
  proof of cause: both may follow the news.

Everything is relative to the workspace: "first use anywhere" means first among the posts you
ingested. With operation-only data the outside cannot be measured, and the result says so.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from ..engine import EngineSpec, sql_str
from ..workspace import Workspace
from .result import VEGA_LITE, Result, arrow, platforms, vl_values, with_platforms
from .selection import open_operation
from .timeline import FREQS

DEFAULT_TERMS = "fracking,antifa,jadehelm=jadehelm*|jade helm*,pizzagate,blacklivesmatter|black lives matter"
MIN_PERIODS = 12  # fewer periods than this and a lag test says nothing


@dataclass
class Narrative:
    """One narrative: a name and the spellings that count as using it."""

    name: str
    alternatives: list[tuple[str, bool]]  # (lower-case words, prefix?)

    def text_regex(self) -> str:
        alts = []
        for words, prefix in self.alternatives:
            body = r"[\s_-]*".join(re.escape(w) for w in words.split())
            alts.append(body + ("" if prefix else r"(?:[^\p{L}\p{N}_]|$)"))
        return r"(?i)(?:^|[^\p{L}\p{N}_])#?(?:" + "|".join(alts) + ")"

    def hashtags(self) -> list[tuple[str, bool]]:
        return [(words.replace(" ", ""), prefix) for words, prefix in self.alternatives]


def parse_terms(terms: str | list[str]) -> list[Narrative]:
    """``"fracking,jadehelm*,blm=blacklivesmatter|black lives matter"`` -> narratives."""
    items = [t for t in (terms.split(",") if isinstance(terms, str) else terms) if t.strip()]
    out: list[Narrative] = []
    for item in items:
        name, _, spec = item.partition("=") if "=" in item else ("", "", item)
        alts = []
        for alt in spec.split("|"):
            alt = " ".join(alt.strip().lower().lstrip("#").split())
            prefix = alt.endswith("*")
            alt = alt.rstrip("*").strip()
            if alt:
                alts.append((alt, prefix))
        if not alts:
            raise ValueError(f"term {item!r} has nothing to match")
        out.append(Narrative(name.strip().lower() or alts[0][0].replace(" ", ""), alts))
    if not out:
        raise ValueError("no terms given: e.g. --terms fracking,antifa,jadehelm*")
    names = [n.name for n in out]
    if len(set(names)) < len(names):
        raise ValueError(f"terms named twice: {', '.join(sorted({n for n in names if names.count(n) > 1}))}")
    return out


@dataclass
class NarrativesResult(Result):
    terms: pa.Table | None = None  # per narrative: volumes, share, first use, lag test, verdict
    by_group: pa.Table | None = None  # per narrative and group
    series: pa.Table | None = None  # per narrative and period: operation and outside posts
    lags: pa.Table | None = None  # per narrative and lag: cross-correlation of the differenced series
    first_posts: pa.Table | None = None  # the earliest posts, inside and outside the operation
    by_platform: pa.Table | None = None  # posts from several platforms: per narrative and platform


def narratives(
    workspace: str | Path | Workspace | None = None,
    accounts: str | Path | None = None,
    by: str | None = None,
    *,
    terms: str | list[str] = DEFAULT_TERMS,
    freq: str = "week",
    lags: int = 2,
    max_xcorr_lag: int = 4,
    examples: int = 3,
    engine: str | EngineSpec | None = None,
) -> NarrativesResult:
    """Per narrative: the operation's volume, share, first use and the outside's uptake."""
    t0 = time.perf_counter()
    if freq not in FREQS:
        raise ValueError(f"freq {freq!r}: choose one of {', '.join(FREQS)}")
    if lags < 1:
        raise ValueError("lags must be >= 1")
    narrs = parse_terms(terms)
    _, con, op = open_operation(workspace, accounts, by, engine)
    try:
        _match(con, narrs)
        outside_total, *coverage = con.execute(
            "SELECT count(*), min(created_at), max(created_at) FROM posts ANTI JOIN op USING (account_id)"
        ).fetchall()[0]
        by_group = arrow(
            con,
            """WITH g AS (SELECT DISTINCT grp FROM op), t AS (SELECT term FROM _narr_terms),
            m AS (SELECT term, grp, count(*) AS posts, count(DISTINCT account_id) AS accounts,
                         min(created_at) AS first_use, max(created_at) AS last_use
                  FROM _narr WHERE in_op GROUP BY ALL)
            SELECT t.term, g.grp, coalesce(m.posts, 0) AS posts, coalesce(m.accounts, 0) AS accounts,
                   m.first_use, m.last_use
            FROM t CROSS JOIN g LEFT JOIN m USING (term, grp) ORDER BY t.term, posts DESC, g.grp""",
        )
        base = arrow(
            con,
            """WITH t AS (SELECT term, patterns FROM _narr_terms)
            SELECT t.term, t.patterns,
                   count(n.post_id) FILTER (WHERE n.in_op) AS op_posts,
                   count(DISTINCT n.account_id) FILTER (WHERE n.in_op) AS op_accounts,
                   count(n.post_id) FILTER (WHERE NOT n.in_op) AS outside_posts,
                   count(DISTINCT n.account_id) FILTER (WHERE NOT n.in_op) AS outside_accounts,
                   min(n.created_at) FILTER (WHERE n.in_op) AS op_first_use,
                   min(n.created_at) FILTER (WHERE NOT n.in_op) AS outside_first_use,
                   min(n.created_at) AS first_use_anywhere,
                   arg_min(n.handle, (n.created_at, n.post_id)) AS first_handle_anywhere,
                   arg_min(n.in_op, (n.created_at, n.post_id)) AS first_anywhere_in_op
            FROM t LEFT JOIN _narr n USING (term) GROUP BY t.term, t.patterns ORDER BY t.term""",
        )
        before = dict(
            con.execute(
                """WITH f AS (SELECT term, min(created_at) AS op_first FROM _narr WHERE in_op GROUP BY term)
                SELECT n.term, count(*) FROM _narr n JOIN f USING (term)
                WHERE NOT n.in_op AND n.created_at < f.op_first GROUP BY n.term"""
            ).fetchall()
        )
        series = arrow(
            con,
            f"""WITH c AS (SELECT term, date_trunc('{freq}', created_at) AS period,
                                  count(*) FILTER (WHERE in_op) AS op_posts, count(*) FILTER (WHERE NOT in_op) AS outside_posts
                           FROM _narr GROUP BY ALL),
            b AS (SELECT term, min(period) AS lo, max(period) AS hi FROM c GROUP BY term),
            grid AS (SELECT term, unnest(generate_series(lo, hi, INTERVAL '{FREQS[freq]}')) AS period FROM b),
            seen AS (SELECT DISTINCT date_trunc('{freq}', created_at) AS period FROM posts ANTI JOIN op USING (account_id))
            SELECT grid.term, grid.period, coalesce(c.op_posts, 0) AS op_posts,
                   coalesce(c.outside_posts, 0) AS outside_posts, seen.period IS NOT NULL AS outside_observed
            FROM grid LEFT JOIN c USING (term, period) LEFT JOIN seen USING (period)
            ORDER BY grid.term, grid.period""",
        )
        first_posts = arrow(
            con,
            f"""SELECT f.*, p.text FROM (
                SELECT * FROM (
                    SELECT term, in_op, row_number() OVER (PARTITION BY term, in_op ORDER BY created_at, post_id)
                           AS rank, created_at, handle, grp, post_id
                    FROM _narr)
                WHERE rank <= {int(examples)}) f
            JOIN (SELECT post_id, text FROM posts) p ON p.post_id = f.post_id
            ORDER BY f.term, f.in_op DESC, f.rank""",
        )
        by_platform = None
        if platforms(con) > 1:
            by_platform = arrow(
                con,
                """SELECT term, platform, count(*) FILTER (WHERE in_op) AS op_posts,
                       count(DISTINCT account_id) FILTER (WHERE in_op) AS op_accounts,
                       count(*) FILTER (WHERE NOT in_op) AS outside_posts,
                       count(DISTINCT account_id) FILTER (WHERE NOT in_op) AS outside_accounts,
                       min(created_at) FILTER (WHERE in_op) AS op_first_use,
                       min(created_at) FILTER (WHERE NOT in_op) AS outside_first_use
                FROM _narr GROUP BY ALL ORDER BY term, op_posts DESC, platform""",
            )
        [first_posts] = with_platforms(con, first_posts)
    finally:
        con.close()
    tests, lag_rows = _lag_tests(series, [n.name for n in narrs], lags, max_xcorr_lag)
    terms_t = _verdicts(base, before, tests, outside_total, coverage[0])
    params = {
        "terms": [n.name for n in narrs],
        "patterns": {n.name: n.text_regex() for n in narrs},
        "freq": freq,
        "lags": lags,
        "max_xcorr_lag": max_xcorr_lag,
        "lag_test": "Granger-style F-test on log(1+posts) with constant and linear trend",
        "min_periods": MIN_PERIODS,
        "examples": examples,
    }
    result = NarrativesResult(
        operation=op,
        params=params,
        terms=terms_t,
        by_group=by_group,
        series=series,
        lags=lag_rows,
        first_posts=first_posts,
        by_platform=by_platform,
    )
    if outside_total == 0:
        result.notes.append(
            "no posts outside the operation in this workspace: first use anywhere, the operation's share and "
            "outside uptake cannot be measured (ingest the surrounding conversation to measure them)"
        )
    result.summary = {"outside_coverage": list(coverage)} | {
        r["term"]: {
            k: r[k] for k in ("op_posts", "outside_posts", "op_share", "op_first_use", "first_use_anywhere", "verdict")
        }
        for r in terms_t.to_pylist()
    }
    result.chart = _chart(series, freq)
    result.seconds = time.perf_counter() - t0
    return result


def _match(con: duckdb.DuckDBPyConnection, narrs: list[Narrative]) -> None:
    """Temp table ``_narr``: one row per (narrative, post) that uses it, with ``in_op`` and ``grp``."""
    any_re = "|".join(f"(?:{n.text_regex()})" for n in narrs)  # one pass over all text, then per term
    flags = ", ".join(f"regexp_matches(text, {sql_str(n.text_regex())}) AS t{i}" for i, n in enumerate(narrs))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _text_hits AS
        SELECT post_id, {flags} FROM (SELECT post_id, text FROM posts WHERE regexp_matches(text, {sql_str(any_re)}))"""
    )
    tags = [(i, tag, prefix) for i, n in enumerate(narrs) for tag, prefix in n.hashtags()]
    con.register(
        "_narr_tags",
        pa.table({"i": [t[0] for t in tags], "tag": [t[1] for t in tags], "prefix": [t[2] for t in tags]}),
    )
    con.register("_narr_names", pa.table({"i": list(range(len(narrs))), "term": [n.name for n in narrs]}))
    patterns = ["|".join(w + ("*" if p else "") for w, p in n.alternatives) for n in narrs]
    con.register("_narr_terms", pa.table({"term": [n.name for n in narrs], "patterns": patterns}))
    text_rows = " UNION ALL ".join(f"SELECT post_id, {i} AS i FROM _text_hits WHERE t{i}" for i in range(len(narrs)))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _narr AS
        WITH hits AS (
            {text_rows}
            UNION ALL
            SELECT p.post_id, t.i FROM (SELECT post_id, unnest(hashtags) AS tag FROM posts) p
            JOIN _narr_tags t ON p.tag = t.tag OR (t.prefix AND starts_with(p.tag, t.tag))
        )
        SELECT t.term, p.post_id, p.account_id, p.handle, p.created_at, op.account_id IS NOT NULL AS in_op, op.grp,
               p.platform
        FROM (SELECT DISTINCT post_id, i FROM hits) h JOIN _narr_names t USING (i) JOIN posts p USING (post_id)
        LEFT JOIN op USING (account_id)"""
    )


def granger(y: np.ndarray, x: np.ndarray, p: int, observed: np.ndarray | None = None) -> tuple[float, float, int]:
    """F statistic, p-value and n for "lags of x help predict y beyond y's own lags" (with trend).

    ``observed`` marks the periods the data covers; a period enters the regression only when it
    and its ``p`` predecessors are all observed, so gaps in collection are not read as silence.
    """
    ok = np.ones(len(y), bool) if observed is None else np.asarray(observed, bool)
    rows = np.array([t for t in range(p, len(y)) if ok[t - p : t + 1].all()], dtype=int)
    n = len(rows)
    if n - (2 * p + 2) < 5:
        return float("nan"), float("nan"), n
    own = np.column_stack([y[rows - k] for k in range(1, p + 1)])
    other = np.column_stack([x[rows - k] for k in range(1, p + 1)])
    base = np.column_stack([np.ones(n), rows.astype(float), own])
    full = np.column_stack([base, other])
    target = y[rows]
    rss_r = _rss(base, target)
    rss_u = _rss(full, target)
    dof = n - full.shape[1]
    if rss_u <= 1e-12 or not np.isfinite(rss_u):
        return float("nan"), float("nan"), n
    f = max((rss_r - rss_u) / p, 0.0) / (rss_u / dof)
    from scipy import stats  # imported here: costly at start-up

    return float(f), float(stats.f.sf(f, p, dof)), n


def _rss(a: np.ndarray, b: np.ndarray) -> float:
    coef, *_ = np.linalg.lstsq(a, b, rcond=None)
    r = b - a @ coef
    return float(r @ r)


def xcorr(
    x: np.ndarray, y: np.ndarray, max_lag: int, observed: np.ndarray | None = None
) -> list[tuple[int, float, int]]:
    """corr(Δx_t, Δy_{t+k}) for k = -max_lag..max_lag; k > 0 means x moves first.

    A difference counts only where both of its periods are observed.
    """
    ok = np.ones(len(x), bool) if observed is None else np.asarray(observed, bool)
    dx, dy, dok = np.diff(x), np.diff(y), ok[1:] & ok[:-1]
    out = []
    for k in range(-max_lag, max_lag + 1):
        if k >= 0:
            a, b, m = dx[: len(dx) - k], dy[k:], dok[: len(dok) - k] & dok[k:]
        else:
            a, b, m = dx[-k:], dy[: len(dy) + k], dok[-k:] & dok[: len(dok) + k]
        a, b = a[m], b[m]
        good = len(a) >= 3 and np.std(a) > 0 and np.std(b) > 0
        out.append((k, float(np.corrcoef(a, b)[0, 1]) if good else float("nan"), len(a)))
    return out


def _lag_tests(series: pa.Table, names: list[str], p: int, max_lag: int) -> tuple[dict, pa.Table]:
    terms = series.column("term").to_pylist()
    op_all = np.log1p(np.asarray(series.column("op_posts"), dtype=float))
    out_all = np.log1p(np.asarray(series.column("outside_posts"), dtype=float))
    seen_all = np.asarray(series.column("outside_observed"), dtype=bool)
    tests: dict[str, dict] = {}
    rows: dict[str, list] = {"term": [], "lag": [], "corr": [], "n": []}
    idx: dict[str, list[int]] = {}
    for i, t in enumerate(terms):
        idx.setdefault(t, []).append(i)
    for name in names:
        sel = idx.get(name, [])
        x, y, seen = op_all[sel], out_all[sel], seen_all[sel]
        measurable = int(seen.sum()) >= MIN_PERIODS and x.any() and y.any()
        if measurable:
            f, pv, n = granger(y, x, p, seen)
            f_rev, pv_rev, _ = granger(x, y, p, seen)
            for k, c, m in xcorr(x, y, max_lag, seen):
                rows["term"].append(name)
                rows["lag"].append(k)
                rows["corr"].append(c)
                rows["n"].append(m)
        else:
            f = pv = f_rev = pv_rev = float("nan")
            n = 0
        tests[name] = {
            "periods": int(seen.sum()),
            "granger_f": f,
            "granger_p": pv,
            "reverse_f": f_rev,
            "reverse_p": pv_rev,
            "n": n,
        }
    lag_t = pa.table(
        {
            "term": pa.array(rows["term"], pa.string()),
            "lag": pa.array(rows["lag"], pa.int64()),
            "corr": pa.array(rows["corr"], pa.float64(), from_pandas=True),
            "n": pa.array(rows["n"], pa.int64()),
        }
    )
    return tests, lag_t


def _verdicts(base: pa.Table, before: dict, tests: dict, outside_total: int, outside_from) -> pa.Table:
    rows = base.to_pylist()
    out = []
    for r in rows:
        t = tests[r["term"]]
        if outside_total == 0:  # no outside in the data: these would only echo the operation
            r.update(first_use_anywhere=None, first_handle_anywhere=None, first_anywhere_in_op=None)
        total = r["op_posts"] + r["outside_posts"] if outside_total else 0
        r["op_share"] = r["op_posts"] / total if total else None
        r["outside_posts_before_op"] = before.get(r["term"], 0) if r["op_posts"] and outside_total else None
        lead = None
        if r["op_first_use"] and r["outside_first_use"]:
            lead = (r["outside_first_use"] - r["op_first_use"]).total_seconds() / 86400
        r["op_lead_days"] = lead  # > 0: the operation used it first
        r["observed_periods"] = t["periods"]
        r["lag_test_n"] = t["n"]
        for k in ("granger_f", "granger_p", "reverse_f", "reverse_p"):
            r[k] = None if np.isnan(t[k]) else t[k]
        r["verdict"] = _verdict(r, outside_total, outside_from)
        out.append(r)
    extra = {
        "op_share": pa.float64(),
        "op_lead_days": pa.float64(),
        "outside_posts_before_op": pa.int64(),
        "observed_periods": pa.int64(),
        "lag_test_n": pa.int64(),
        "granger_f": pa.float64(),
        "granger_p": pa.float64(),
        "reverse_f": pa.float64(),
        "reverse_p": pa.float64(),
        "verdict": pa.string(),
    }
    schema = pa.schema(list(base.schema) + [pa.field(k, v) for k, v in extra.items()])
    return pa.Table.from_pylist(out, schema=schema)


def _verdict(r: dict, outside_total: int, outside_from) -> str:
    if r["op_posts"] == 0 and r["outside_posts"] == 0:
        return "nobody in this workspace used it"
    if r["op_posts"] == 0:
        return "the operation never used it"
    if outside_total == 0:
        return "operation-only data: first use anywhere and outside uptake cannot be measured"
    if r["outside_posts"] == 0:
        return "only the operation used it in this workspace: outside uptake cannot be measured"
    days = r["op_lead_days"]
    if r["op_first_use"] < outside_from:
        first = (
            f"the operation used it before the outside data begins ({outside_from:%Y-%m-%d}), so who used it "
            "first cannot be told from this workspace"
        )
    elif days > 0:
        first = f"the operation used it first ({days:.0f} days before anyone else here)"
    else:
        first = (
            f"others used it first ({-days:.0f} days and {r['outside_posts_before_op']:,} posts before the operation)"
        )
    if r["granger_p"] is None:
        uptake = (
            f"too few observed periods to test outside uptake ({r['observed_periods']} observed, "
            f"{r['lag_test_n']} with their lags observed too)"
        )
    elif r["granger_p"] < 0.05:
        uptake = (
            f"outside volume rises after operation volume (lag test p = {r['granger_p']:.3g}; association, not cause)"
        )
    else:
        uptake = f"no lagged rise of outside volume after operation volume (p = {r['granger_p']:.2g})"
    return f"{first}; {uptake}"


def _chart(series: pa.Table, freq: str) -> dict:
    long = {"term": [], "period": [], "who": [], "posts": []}
    terms, periods = series.column("term").to_pylist(), series.column("period").to_pylist()
    for who, col in (("operation", "op_posts"), ("outside", "outside_posts")):
        long["term"] += terms
        long["period"] += periods
        long["who"] += [who] * len(terms)
        long["posts"] += series.column(col).to_pylist()
    return {
        "$schema": VEGA_LITE,
        "title": f"Posts per {freq} on each narrative: the operation and everyone else",
        "data": {"values": vl_values(pa.table(long))},
        "facet": {"row": {"field": "term", "type": "nominal", "title": None}},
        "resolve": {"scale": {"y": "independent"}},
        "spec": {
            "width": 800,
            "height": 120,
            "mark": {"type": "line", "interpolate": "step-after"},
            "encoding": {
                "x": {"field": "period", "type": "temporal", "title": None},
                "y": {"field": "posts", "type": "quantitative"},
                "color": {"field": "who", "type": "nominal", "title": None},
                "tooltip": [
                    {"field": "term"},
                    {"field": "period", "type": "temporal"},
                    {"field": "who"},
                    {"field": "posts"},
                ],
            },
        },
    }
