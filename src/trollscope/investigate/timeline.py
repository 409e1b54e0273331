"""When did the operation begin, when did it surge, and what was happening then.

Measures, all per comparison group and computed in SQL over ``op_posts``:

- **volume**: posts and active accounts per period (day, week, month or quarter; weeks start on
  Monday), on a dense grid so silent periods are zeros rather than missing rows;
- **onset**: the first post, and the first *sustained* activity — the first period that starts a
  run of at least ``sustain_periods`` consecutive periods each with at least ``sustain_posts``
  posts. A handful of early test posts does not make an operation; a run does;
- **bursts**: a rolling z-score. A period's baseline is the mean and standard deviation of the
  ``burst_baseline`` periods before it; the deviation is floored at ``sqrt(mean)`` (Poisson
  noise) and at 1, so a quiet baseline does not make every small rise infinite. A period is in a
  burst when ``z >= burst_z`` and it has at least ``burst_min_posts`` posts; consecutive burst
  periods form one episode. The first surge after silence is a burst by this definition;
- **events**: posts in the ``event_window_days`` days before and after each event of a calendar
  (built in: US politics 2015–2017, each with a source; or a CSV with ``date,event`` and optional
  ``category,source`` columns), and whether the event fell inside a burst;
- **before**: with ``before=DATE``, each group's activity before that date.

Timestamps are treated as UTC (the IRA data states no zone); periods are UTC calendar periods.
"""

from __future__ import annotations

import csv
import datetime as dt
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa

from ..engine import EngineSpec
from ..workspace import Workspace
from .result import VEGA_LITE, Result, arrow, platforms, vl_values
from .selection import open_operation

FREQS = {"day": "1 day", "week": "1 week", "month": "1 month", "quarter": "3 months"}
BUILTIN_EVENTS = "events_us_2015_2017.csv"


@dataclass
class TimelineResult(Result):
    volume: pa.Table | None = None  # grp, period, posts, accounts
    onset: pa.Table | None = None  # per group: first post, sustained start, totals
    bursts: pa.Table | None = None  # per burst episode
    events: pa.Table | None = None  # per event and group: posts before/after
    before: pa.Table | None = None  # per group: activity before the given date
    by_platform: pa.Table | None = None  # posts from several platforms: per group and platform


def load_events(events: str | Path | None = "builtin") -> pa.Table:
    """An events calendar as ``date, event, category, source`` (``builtin`` = US politics 2015–2017)."""
    if events is None:
        return pa.table(
            {
                "date": pa.array([], pa.date32()),
                "event": pa.array([], pa.string()),
                "category": pa.array([], pa.string()),
                "source": pa.array([], pa.string()),
            }
        )
    if str(events) == "builtin":
        text = resources.files("trollscope").joinpath("data", BUILTIN_EVENTS).read_text(encoding="utf-8")
        name = f"built-in {BUILTIN_EVENTS}"
    else:
        text = Path(events).read_text(encoding="utf-8-sig")
        name = str(events)
    rows = list(csv.DictReader(text.splitlines()))
    if rows and not {"date", "event"} <= {k.strip().lower() for k in rows[0]}:
        raise ValueError(f"{name}: an events file needs the columns date,event (optional: category,source)")
    out: dict[str, list] = {"date": [], "event": [], "category": [], "source": []}
    for i, r in enumerate(rows, start=2):
        r = {k.strip().lower(): (v or "").strip() for k, v in r.items() if k}
        try:
            out["date"].append(dt.date.fromisoformat(r["date"][:10]))
        except ValueError:
            raise ValueError(f"{name} line {i}: date {r['date']!r} is not YYYY-MM-DD") from None
        out["event"].append(r["event"])
        out["category"].append(r.get("category") or None)
        out["source"].append(r.get("source") or None)
    return pa.table(
        {
            "date": pa.array(out["date"], pa.date32()),
            "event": pa.array(out["event"], pa.string()),
            "category": pa.array(out["category"], pa.string()),
            "source": pa.array(out["source"], pa.string()),
        }
    )


def timeline(
    workspace: str | Path | Workspace | None = None,
    accounts: str | Path | None = None,
    by: str | None = None,
    *,
    freq: str = "week",
    events: str | Path | None = "builtin",
    before: str | dt.date | None = None,
    sustain_periods: int = 3,
    sustain_posts: int = 10,
    burst_baseline: int = 8,
    burst_z: float = 3.0,
    burst_min_posts: int = 10,
    event_window_days: int = 7,
    engine: str | EngineSpec | None = None,
) -> TimelineResult:
    """Volume per period and group, onset, bursts, activity around events (and before a date)."""
    t0 = time.perf_counter()
    if freq not in FREQS:
        raise ValueError(f"freq {freq!r}: choose one of {', '.join(FREQS)}")
    if sustain_periods < 1 or burst_baseline < 2:
        raise ValueError("sustain_periods must be >= 1 and burst_baseline >= 2")
    before_date = dt.date.fromisoformat(str(before)) if before is not None else None
    _, con, op = open_operation(workspace, accounts, by, engine)
    try:
        step = FREQS[freq]
        con.execute(
            f"""CREATE TEMP TABLE _counts AS
            SELECT grp, date_trunc('{freq}', created_at) AS period, count(*) AS posts,
                   count(DISTINCT account_id) AS accounts
            FROM op_posts GROUP BY ALL"""
        )
        con.execute(
            f"""CREATE TEMP TABLE _vol AS
            WITH grid AS (SELECT unnest(generate_series(min(period), max(period), INTERVAL '{step}')) AS period FROM _counts),
            g AS (SELECT DISTINCT grp FROM op)
            SELECT g.grp, grid.period, row_number() OVER (PARTITION BY g.grp ORDER BY grid.period) AS idx,
                   coalesce(c.posts, 0) AS posts, coalesce(c.accounts, 0) AS accounts
            FROM g CROSS JOIN grid LEFT JOIN _counts c ON c.grp = g.grp AND c.period = grid.period"""
        )
        volume = arrow(con, "SELECT grp, period, posts, accounts FROM _vol ORDER BY grp, period")
        onset = _onset(con, sustain_periods, sustain_posts)
        cal = load_events(events)
        con.register("_events_in", cal)
        con.execute("CREATE TEMP TABLE _events AS SELECT * FROM _events_in")
        bursts = _bursts(con, burst_baseline, burst_z, burst_min_posts, event_window_days, step)
        ev = _events(con, event_window_days)
        before_t = _before(con, before_date) if before_date else None
        by_platform = None
        if platforms(con) > 1:
            by_platform = arrow(
                con,
                f"""SELECT grp, platform, count(*) AS posts, count(DISTINCT account_id) AS accounts,
                       min(created_at) AS first_post, max(created_at) AS last_post,
                       count(DISTINCT date_trunc('{freq}', created_at)) AS active_periods
                FROM op_posts GROUP BY ALL ORDER BY grp, posts DESC, platform""",
            )
    finally:
        con.close()
    params = {
        "freq": freq,
        "events": str(events) if events is not None else None,
        "before": before_date,
        "sustain_periods": sustain_periods,
        "sustain_posts": sustain_posts,
        "burst_method": "rolling z-score",
        "burst_baseline": burst_baseline,
        "burst_z": burst_z,
        "burst_min_posts": burst_min_posts,
        "event_window_days": event_window_days,
        "time_zone": "UTC",
    }
    result = TimelineResult(
        operation=op,
        params=params,
        volume=volume,
        onset=onset,
        bursts=bursts,
        events=ev,
        before=before_t,
        by_platform=by_platform,
    )
    result.summary = _summary(result)
    result.chart = _chart(volume, cal, freq)
    if volume.num_rows == 0:
        result.notes.append("the operation has no posts in this workspace: no timeline to draw")
    result.seconds = time.perf_counter() - t0
    return result


def _onset(con: duckdb.DuckDBPyConnection, k: int, min_posts: int) -> pa.Table:
    # Gaps and islands: among qualifying periods, idx - rank is constant along a run of consecutive ones.
    return arrow(
        con,
        f"""WITH q AS (SELECT grp, period, idx, idx - row_number() OVER (PARTITION BY grp ORDER BY idx) AS island
                       FROM _vol WHERE posts >= {int(min_posts)}),
        runs AS (SELECT grp, min(period) AS start, count(*) AS n FROM q GROUP BY grp, island HAVING count(*) >= {int(k)}),
        sustained AS (SELECT grp, min(start) AS sustained_from FROM runs GROUP BY grp),
        first AS (SELECT grp, arg_min(handle, (created_at, post_id)) AS first_handle,
                         arg_min(post_id, (created_at, post_id)) AS first_post_id,
                         arg_min(text, (created_at, post_id)) AS first_text,
                         min(created_at) AS first_post, max(created_at) AS last_post, count(*) AS posts
                  FROM op_posts GROUP BY grp),
        acc AS (SELECT grp, count(*) AS accounts FROM op GROUP BY grp),
        peak AS (SELECT grp, arg_max(period, (posts, -epoch(period))) AS peak_period, max(posts) AS peak_posts
                 FROM _vol GROUP BY grp)
        SELECT acc.grp, acc.accounts, coalesce(first.posts, 0) AS posts, first.first_post, first.first_handle,
               first.first_post_id, first.first_text, s.sustained_from, first.last_post,
               peak.peak_period, peak.peak_posts
        FROM acc LEFT JOIN first USING (grp) LEFT JOIN sustained s USING (grp) LEFT JOIN peak USING (grp)
        ORDER BY first.first_post NULLS LAST, acc.grp""",
    )


def _bursts(
    con: duckdb.DuckDBPyConnection, baseline: int, z: float, min_posts: int, window: int, step: str
) -> pa.Table:
    """Burst episodes; ``nearest_event`` is the event closest to the peak within the episode ± window."""
    return arrow(
        con,
        f"""WITH s AS (
            SELECT *, avg(posts) OVER w AS base_mean, coalesce(stddev_pop(posts) OVER w, 0) AS base_sd,
                   count(*) OVER w AS base_n
            FROM _vol WINDOW w AS (PARTITION BY grp ORDER BY idx ROWS BETWEEN {int(baseline)} PRECEDING AND 1 PRECEDING)
        ), zs AS (
            SELECT *, (posts - coalesce(base_mean, 0)) / greatest(base_sd, sqrt(coalesce(base_mean, 0)), 1.0) AS z
            FROM s
        ), b AS (
            SELECT *, idx - row_number() OVER (PARTITION BY grp ORDER BY idx) AS episode
            FROM zs WHERE z >= {float(z)} AND posts >= {int(min_posts)}
        ), e AS (
            SELECT grp, min(period) AS start, max(period) AS last_period, count(*) AS periods, sum(posts)::BIGINT AS posts,
                   arg_max(period, (posts, -epoch(period))) AS peak_period, max(posts) AS peak_posts, max(z) AS max_z,
                   arg_max(base_mean, (posts, -epoch(period))) AS baseline_mean
            FROM b GROUP BY grp, episode
        ), near AS (  -- a join, not a correlated subquery: Spark cannot aggregate in one that refers outside
            SELECT e.grp, e.start,
                   arg_min(ev.event, (abs(datediff('day', ev.date, e.peak_period::DATE)), ev.date, ev.event)) AS nearest_event
            FROM e JOIN _events ev
              ON ev.date >= e.start::DATE - {int(window)}
             AND ev.date < (e.last_period + INTERVAL '{step}')::DATE + {int(window)}
            GROUP BY e.grp, e.start
        )
        SELECT e.*, near.nearest_event
        FROM e LEFT JOIN near ON near.grp IS NOT DISTINCT FROM e.grp AND near.start = e.start
        ORDER BY e.grp, e.start""",
    )


def _events(con: duckdb.DuckDBPyConnection, window: int) -> pa.Table:
    # Daily counts first (a few thousand rows), then the window sums: no range join over posts.
    return arrow(
        con,
        f"""WITH d AS (SELECT grp, created_at::DATE AS day, count(*) AS n FROM op_posts GROUP BY ALL),
        g AS (SELECT DISTINCT grp FROM op)
        SELECT e.date, e.event, e.category, g.grp,
               coalesce(sum(d.n) FILTER (WHERE d.day < e.date), 0)::BIGINT AS posts_before,
               coalesce(sum(d.n) FILTER (WHERE d.day >= e.date), 0)::BIGINT AS posts_after,
               e.source
        FROM _events e CROSS JOIN g
        LEFT JOIN d ON d.grp = g.grp AND d.day >= e.date - {int(window)} AND d.day < e.date + {int(window)}
        GROUP BY e.date, e.event, e.category, e.source, g.grp
        ORDER BY e.date, g.grp""",
    )


def _before(con: duckdb.DuckDBPyConnection, date: dt.date) -> pa.Table:
    return arrow(
        con,
        """WITH p AS (SELECT grp, count(*) AS posts, count(*) FILTER (WHERE created_at < ?) AS posts_before,
                             count(DISTINCT account_id) FILTER (WHERE created_at < ?) AS accounts_before,
                             min(created_at) AS first_post
                      FROM op_posts GROUP BY grp),
        a AS (SELECT grp, count(*) AS accounts FROM op GROUP BY grp)
        SELECT a.grp, a.accounts, coalesce(p.accounts_before, 0) AS accounts_before,
               coalesce(p.posts_before, 0) AS posts_before, coalesce(p.posts, 0) AS posts,
               CASE WHEN p.posts > 0 THEN p.posts_before / p.posts END AS share_before, p.first_post
        FROM a LEFT JOIN p USING (grp) ORDER BY a.grp""",
        [date, date],
    )


def _summary(r: TimelineResult) -> dict:
    onset = r.onset.to_pylist()
    dated = [o for o in onset if o["first_post"] is not None]
    sustained = [o for o in onset if o["sustained_from"] is not None]
    out: dict = {
        "first_post": min((o["first_post"] for o in dated), default=None),
        "first_sustained": min((o["sustained_from"] for o in sustained), default=None),
        "bursts": r.bursts.num_rows,
        "groups": {
            o["grp"]: {
                "first_post": o["first_post"],
                "sustained_from": o["sustained_from"],
                "posts": o["posts"],
                "peak_period": o["peak_period"],
            }
            for o in onset
        },
    }
    if r.bursts.num_rows:
        top = max(r.bursts.to_pylist(), key=lambda b: b["peak_posts"])
        out["largest_burst"] = {k: top[k] for k in ("grp", "start", "last_period", "peak_posts", "nearest_event")}
    return out


def _chart(volume: pa.Table, events: pa.Table, freq: str) -> dict:
    lo = volume.column("period").to_pylist()
    ev = events
    if lo:
        start, end = min(lo).date(), max(lo).date()
        ev = events.filter(pa.array([start <= d <= end for d in events.column("date").to_pylist()], pa.bool_()))
    return {
        "$schema": VEGA_LITE,
        "title": f"Posts per {freq} by group, with events",
        "width": 800,
        "layer": [
            {
                "data": {"values": vl_values(volume)},
                "mark": {"type": "line", "interpolate": "step-after"},
                "encoding": {
                    "x": {"field": "period", "type": "temporal", "title": None},
                    "y": {"field": "posts", "type": "quantitative", "title": f"posts per {freq}"},
                    "color": {"field": "grp", "type": "nominal", "title": "group"},
                    "tooltip": [
                        {"field": "grp"},
                        {"field": "period", "type": "temporal"},
                        {"field": "posts"},
                        {"field": "accounts"},
                    ],
                },
            },
            {
                "data": {"values": vl_values(ev, ["date", "event", "category"])},
                "mark": {"type": "rule", "strokeDash": [3, 3], "color": "gray"},
                "encoding": {
                    "x": {"field": "date", "type": "temporal"},
                    "tooltip": [{"field": "date", "type": "temporal"}, {"field": "event"}, {"field": "category"}],
                },
            },
        ],
    }
