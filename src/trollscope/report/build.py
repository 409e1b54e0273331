"""The report: one self-contained HTML file a reader can open offline, check and forward.

``collect`` gathers every figure from the workspace (ingest log, detection tables, the four
investigations) into plain data; ``render`` turns that into HTML with Vega-Lite charts (Vega,
Vega-Lite and vega-embed inlined from ``vendor/``), sortable and searchable tables and print CSS.
No number is typed here: each one comes from a query or an investigation result, and is marked
``data-key``/``data-value`` in the HTML so tests can compare it with the workspace.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import duckdb
import pyarrow as pa

from .. import __version__
from ..engine import EngineSpec, connect
from ..investigate import SelectionError, amplifiers, narratives, targeting, timeline
from ..investigate.result import Result
from ..workspace import Workspace

TABLE_ROWS = 200  # rows shown per table; the exports hold all of them
NETWORK_NODES = 1500  # accounts drawn in the network picture (highest scores first)
NETWORK_EDGES = 8000  # pairs drawn
NETWORK_TIES_PER_ACCOUNT = 3  # every account's strongest ties are drawn before the rest
EVIDENCE_PER_CLUSTER = 5
VENDOR = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")
INVESTIGATIONS = ("timeline", "targeting", "narratives", "amplifiers")
PALETTE = (
    "#4e79a7",
    "#a0cbe8",
    "#f28e2b",
    "#ffbe7d",
    "#59a14f",
    "#8cd17d",
    "#b6992d",
    "#f1ce63",
    "#499894",
    "#86bcb6",
    "#e15759",
    "#ff9d9a",
    "#79706e",
    "#bab0ac",
    "#d37295",
    "#fabfd2",
    "#b07aa1",
    "#d4a6c8",
    "#9d7660",
    "#d7b5a6",
)  # Tableau 20: neighbouring clusters get distinct colours


@dataclass
class ReportResult:
    """Where the report went, how big it is, and what it could not show."""

    path: Path
    bytes: int
    seconds: float
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"path": str(self.path), "bytes": self.bytes, "seconds": round(self.seconds, 3), "notes": self.notes}


# -- collecting ---------------------------------------------------------------------------------


def investigate_all(
    workspace: str | Path | Workspace,
    accounts: str | None = None,
    by: str | None = None,
    *,
    terms: str | None = None,
    freq: str | None = None,
    events: str | Path | None = "builtin",
    step: Callable[[str, Result | None], None] | None = None,
    engine: str | EngineSpec | None = None,
) -> dict[str, Result | str]:
    """Run the four investigations; a question that cannot be asked gets its reason instead of a result.

    ``freq`` (default: each investigation's own, a week) and ``events`` are as in ``timeline``;
    ``engine`` is the query engine (docs/scale.md)."""
    f = {"freq": freq} if freq else {}
    f["engine"] = engine
    calls: dict[str, Callable[[], Result]] = {
        "timeline": lambda: timeline(workspace, accounts, by, events=events, **f),
        "targeting": lambda: targeting(workspace, accounts, by, **f),
        "narratives": lambda: narratives(workspace, accounts, by, **({"terms": terms} if terms else {}), **f),
        "amplifiers": lambda: amplifiers(workspace, accounts, by, engine=engine),
    }
    out: dict[str, Result | str] = {}
    for name, call in calls.items():
        try:
            out[name] = call()
        except SelectionError as e:  # e.g. detection flagged nobody: say so, in every section
            out[name] = str(e)
        if step:
            step(name, out[name] if isinstance(out[name], Result) else None)
    return out


def collect(
    workspace: str | Path | Workspace,
    results: dict[str, Result | str],
    *,
    command: str | None = None,
) -> dict[str, Any]:
    """Every figure the report shows, as plain data (JSON-ready)."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace, create=False)
    con = ws.connect(connect())
    con.execute("SET enable_progress_bar = false")
    try:
        data = {
            "meta": {
                "version": __version__,
                "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "workspace": str(ws.path),
                "command": command,
            },
            "data": _data_section(con),
            "detect": _detect_section(con, ws),
        }
    finally:
        con.close()
    for name in INVESTIGATIONS:
        r = results.get(name)
        if isinstance(r, Result):
            d = r.as_dict()
            d["frame_rows"] = {k: t.num_rows for k, t in r.frames().items()}
            d["frames"] = {k: t.slice(0, TABLE_ROWS).to_pylist() for k, t in r.frames().items()}
            data[name] = d
        else:
            data[name] = {"error": r or "not run"}
    op = next((results[n].operation for n in INVESTIGATIONS if isinstance(results.get(n), Result)), None)
    data["operation"] = op.as_dict() if op else None
    return _plain(data)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    return con.sql(sql).to_arrow_table().to_pylist()


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.execute(sql).fetchall()[0][0]


def _data_section(con: duckdb.DuckDBPyConnection) -> dict:
    totals = _rows(
        con,
        """SELECT count(*) AS posts, count(DISTINCT account_id) AS accounts, min(created_at) AS first_post,
                  max(created_at) AS last_post FROM posts""",
    )[0]
    totals["labelled_accounts"] = _one(con, "SELECT count(*) FROM accounts WHERE cardinality(labels) > 0")
    totals["platforms"] = _one(con, "SELECT count(DISTINCT platform) FROM posts")
    return {
        "totals": totals,
        "ingests": _rows(
            con,
            """SELECT ingest_id, started_at, seconds, inputs, readers, files, records, stored, rejected, duplicate,
                      notes, params FROM ingest_log ORDER BY started_at""",
        ),
        "formats": _rows(
            con,
            """SELECT platform, source_format, count(DISTINCT source_file) AS files, count(*) AS posts,
                      count(DISTINCT venue) AS venues, count(DISTINCT account_id) AS accounts,
                      min(created_at) AS first_post, max(created_at) AS last_post
               FROM posts GROUP BY platform, source_format ORDER BY posts DESC""",
        ),
        "kinds": _rows(con, "SELECT kind, count(*) AS posts FROM posts GROUP BY kind ORDER BY posts DESC"),
        "rejects": _rows(
            con,
            """SELECT reason, count(*) AS records, count(DISTINCT source_file) AS files,
                      any_value(source_file || ':' || coalesce(source_line::VARCHAR, '?')) AS example
               FROM rejects GROUP BY reason ORDER BY records DESC, reason""",
        ),
        "labels": _rows(
            con,
            """SELECT k AS label, v AS value, count(*) AS accounts FROM (
                   SELECT unnest(map_keys(labels)) AS k, unnest(map_values(labels)) AS v FROM accounts
                   WHERE cardinality(labels) > 0)
               GROUP BY k, v ORDER BY k, accounts DESC, v LIMIT 200""",
        ),
    }


def _detect_section(con: duckdb.DuckDBPyConnection, ws: Workspace) -> dict:
    if not ws.has("account_scores"):
        return {"ran": False}
    clusters = _rows(
        con,
        """SELECT cluster_id, size, score, density, p_value, layers, first_at, last_at, handles[1:10] AS handles
           FROM clusters ORDER BY cluster_id""",
    )
    for c in clusters:  # maps come back as lists of pairs or dicts depending on the driver
        c["layers"] = dict(c["layers"]) if c["layers"] else {}
    return {
        "ran": True,
        "params": ws.params("detect") or {},
        "accounts_scored": _one(con, "SELECT count(*) FROM account_scores"),
        "flagged": _one(con, "SELECT count(*) FROM account_scores WHERE flagged"),
        "clusters": clusters,
        "significant_edges": _one(con, "SELECT count(*) FROM edges WHERE significant"),
        "edges_by_layer": _rows(
            con,
            """SELECT layer, count(*) AS candidate_pairs, count(*) FILTER (WHERE significant) AS significant_pairs
               FROM edges GROUP BY layer ORDER BY significant_pairs DESC, layer""",
        ),
        "evidence": _evidence(con),
        "evidence_rows": _one(con, "SELECT count(*) FROM evidence"),
        "network": _network(con),
    }


def _evidence(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The strongest evidence per cluster; with posts from several platforms, each side's platform."""
    top = f"""SELECT cluster_id, layer, handle_a, time_a, text_a, handle_b, time_b, text_b, item, seconds_apart,
                     edge_p_value, post_a, post_b
              FROM evidence QUALIFY row_number() OVER (PARTITION BY cluster_id ORDER BY edge_p_value, time_a)
                                    <= {EVIDENCE_PER_CLUSTER}"""
    order = "ORDER BY cluster_id, edge_p_value, time_a"
    if _one(con, "SELECT count(DISTINCT platform) FROM posts") < 2:
        return _rows(con, f"{top} {order}")
    return _rows(
        con,
        f"""WITH e AS ({top}),
            p AS (SELECT post_id, platform FROM posts WHERE post_id IN (SELECT post_a FROM e UNION SELECT post_b FROM e))
        SELECT e.*, pa.platform AS platform_a, pb.platform AS platform_b
        FROM e LEFT JOIN p pa ON pa.post_id = e.post_a LEFT JOIN p pb ON pb.post_id = e.post_b {order}""",
    )


def _network(con: duckdb.DuckDBPyConnection) -> dict:
    """A pre-computed layout of the flagged accounts and their strongest significant ties (drawn as SVG)."""
    import igraph as ig

    nodes = _rows(
        con,
        f"""SELECT account_id, handle, cluster_id, score FROM account_scores WHERE flagged
            ORDER BY score DESC, account_id LIMIT {NETWORK_NODES}""",
    )
    if not nodes:
        return {"nodes": [], "edges": [], "flagged": 0}
    index = {n["account_id"]: i for i, n in enumerate(nodes)}
    con.register("_net_nodes", pa.table({"account_id": [n["account_id"] for n in nodes]}))
    # Each account's strongest ties first, so every drawn account is tied to its cluster, then the rest by weight.
    pairs = con.execute(
        f"""WITH p AS (
                SELECT least(account_a, account_b) AS a, greatest(account_a, account_b) AS b,
                       sum(least(-log10(greatest(p_value, 1e-300)), 50)) AS w
                FROM edges WHERE significant AND account_a IN (SELECT account_id FROM _net_nodes)
                     AND account_b IN (SELECT account_id FROM _net_nodes)
                GROUP BY 1, 2),
            ranked AS (
                SELECT a, b, w, min(rk) AS rk FROM (
                    SELECT a, b, w, row_number() OVER (PARTITION BY n ORDER BY w DESC, a, b) AS rk
                    FROM (SELECT a AS n, a, b, w FROM p UNION ALL SELECT b AS n, a, b, w FROM p))
                GROUP BY a, b, w)
            SELECT a, b, w FROM ranked ORDER BY rk <= {NETWORK_TIES_PER_ACCOUNT} DESC, w DESC, a, b LIMIT {NETWORK_EDGES}"""
    ).fetchall()
    con.unregister("_net_nodes")
    edges = [(index[a], index[b], w) for a, b, w in pairs]
    g = ig.Graph(n=len(nodes), edges=[(a, b) for a, b, _ in edges])
    random.seed(0)  # igraph draws its initial positions from Python's random: fixed seed, same picture
    layout = g.layout_fruchterman_reingold(weights=[math.log1p(w) for _, _, w in edges] or None, niter=500)
    xs, ys = [p[0] for p in layout.coords], [p[1] for p in layout.coords]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    for n, x, y in zip(nodes, xs, ys, strict=True):
        n["x"] = round(10 + 780 * (x - x0) / ((x1 - x0) or 1), 1)
        n["y"] = round(10 + 580 * (y - y0) / ((y1 - y0) or 1), 1)
    return {"nodes": nodes, "edges": [[a, b] for a, b, _ in edges], "edges_total": len(pairs)}


def _plain(o: Any) -> Any:
    """JSON-ready: timestamps to ISO text, NaN to None, tuples to lists."""
    if isinstance(o, dict):
        return {str(k): _plain(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_plain(v) for v in o]
    if isinstance(o, dt.datetime):
        return o.isoformat(sep=" ")
    if isinstance(o, dt.date):
        return o.isoformat()
    if isinstance(o, float) and math.isnan(o):
        return None
    if hasattr(o, "item") and not isinstance(o, str | bytes):
        return o.item()
    return o


# -- rendering ----------------------------------------------------------------------------------


def _esc(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def fmt(v: Any, kind: str = "auto") -> str:
    """A figure as a reader sees it; ``None`` is an explicit "n/a"."""
    if v is None:
        return "n/a"
    if kind == "pct":
        return f"{100 * v:.1f}%"
    if kind == "p":  # below a double's reach a p-value is a bound, not 0
        return "< 1e-300" if v < 1e-300 else f"{v:.2g}"
    if kind == "date":
        return str(v)[:10]
    if kind == "time":
        return str(v)[:16]
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e6):
            return f"{v:.2g}"
        return f"{v:,.2f}" if abs(v) >= 100 else f"{v:.3g}" if kind == "auto" else f"{v:.2f}"
    return str(v)


def fig(v: Any, key: str, kind: str = "auto") -> str:
    """A figure in the text, tagged with where it came from so tests (and readers) can trace it."""
    raw = json.dumps(v, default=str)
    return f'<b class="fig" data-key="{_esc(key)}" data-value="{_esc(raw)}">{_esc(fmt(v, kind))}</b>'


def table(
    rows: list[dict],
    columns: list[tuple[str, str]],
    *,
    total: int | None = None,
    export: str | None = None,
    key: str = "",
    kinds: dict[str, str] | None = None,
) -> str:
    """A sortable, searchable table of ``rows``; says how many rows it leaves out and where they are."""
    kinds = kinds or {}
    if not rows:
        return '<p class="empty">No rows.</p>'
    head = "".join(f'<th data-col="{_esc(c)}">{_esc(label)}</th>' for c, label in columns)
    body = []
    for r in rows[:TABLE_ROWS]:
        cells = []
        for c, _ in columns:
            v = r.get(c)
            sort = "" if v is None else v if isinstance(v, int | float) and not isinstance(v, bool) else str(v)
            text = ", ".join(map(str, v)) if isinstance(v, list) else fmt(v, kinds.get(c, "auto"))
            cls = ' class="num"' if isinstance(v, int | float) and not isinstance(v, bool) else ""
            cells.append(f'<td{cls} data-sort="{_esc(sort)}">{_esc(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    total = len(rows) if total is None else total
    shown = min(len(rows), TABLE_ROWS)
    foot = ""
    if total > shown:
        where = f"; every row is in <code>exports/{_esc(export)}</code>" if export else ""
        foot = f'<p class="more">Showing the first {fmt(shown)} of {fig(total, key + ".rows")} rows{where}.</p>'
    return (
        f'<div class="tbl"><input type="search" class="filter" placeholder="Filter rows…" aria-label="filter">'
        f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>{foot}</div>'
    )


def _notes(notes: list[str]) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{_esc(n)}</li>" for n in notes)
    return f'<div class="notes"><h4>What could not be measured, and limits</h4><ul>{items}</ul></div>'


def _chart(name: str, spec: dict, charts: dict) -> str:
    if not spec:
        return ""
    charts[f"chart-{name}"] = spec
    return f'<div class="chart" id="chart-{name}" role="img" aria-label="{_esc(spec.get("title", name))}"></div>'


def _unavailable(d: dict) -> str:
    return f'<p class="unavailable">Not measured: {_esc(d["error"])}</p>'


def _headline(d: dict) -> str:
    items = []
    det = d["detect"]
    if det["ran"]:
        items.append(
            f"<li><b>Who acts in concert?</b> {fig(len(det['clusters']), 'detect.clusters')} coordinated clusters "
            f"holding {fig(det['flagged'], 'detect.flagged')} of {fig(det['accounts_scored'], 'detect.accounts_scored')} "
            f"accounts, from {fig(det['significant_edges'], 'detect.significant_edges')} ties that beat chance "
            f'(α = {fig(det["params"].get("alpha"), "detect.alpha")}). <a href="#coordination">Evidence</a></li>'
        )
    tl = d["timeline"]
    if "error" not in tl:
        s, p = tl["summary"], tl["params"]
        burst = s.get("largest_burst") or {}
        b = (
            f"; its largest burst began {fig(burst.get('start'), 'timeline.largest_burst.start', 'date')} "
            f"({fig(burst.get('peak_posts'), 'timeline.largest_burst.peak_posts')} posts at the peak, group "
            f"{_esc(burst.get('grp'))}{', near: ' + _esc(burst['nearest_event']) if burst.get('nearest_event') else ''})"
            if burst
            else ""
        )
        items.append(
            f"<li><b>When did it begin?</b> Sustained activity (at least {fig(p.get('sustain_posts'), 'timeline.sustain_posts')} "
            f"posts a {_esc(p.get('freq'))} for {fig(p.get('sustain_periods'), 'timeline.sustain_periods')} "
            f"{_esc(p.get('freq'))}s in a row) from the {_esc(p.get('freq'))} of "
            f"{fig(s.get('first_sustained'), 'timeline.first_sustained', 'date')}; first post "
            f"{fig(s.get('first_post'), 'timeline.first_post', 'time')}{b}. "
            f'{fig(s.get("bursts"), "timeline.bursts")} bursts in all. <a href="#timeline">Timeline</a></li>'
        )
    tg = d["targeting"]
    if "error" not in tg:
        o = tg["summary"]["operation"]
        bs = o.get("both_sides")
        verdict = (
            "not measurable (no political posts)"
            if bs is None
            else "it worked both sides"
            if bs >= 0.5
            else f"mostly one side ({'right' if (o.get('lean') or 0) > 0 else 'left'})"
        )
        items.append(
            f"<li><b>One side or both?</b> Both-sides index {fig(bs, 'targeting.both_sides')} "
            f"[95% CI {fig(o.get('ci_low'), 'targeting.ci_low')}–{fig(o.get('ci_high'), 'targeting.ci_high')}]: "
            f"{verdict}; lean {fig(o.get('lean'), 'targeting.lean')} from {fig(o.get('left_posts'), 'targeting.left_posts')} "
            f"left and {fig(o.get('right_posts'), 'targeting.right_posts')} right posts of "
            f"{fig(o.get('political_posts'), 'targeting.political_posts')} political posts by "
            f'{fig(o.get("political_accounts"), "targeting.political_accounts")} accounts. <a href="#targeting">Targeting</a></li>'
        )
    nr = d["narratives"]
    if "error" not in nr:
        terms = nr["frames"]["terms"]
        used = [t for t in terms if t.get("op_posts")]
        first = sum(1 for t in used if t.get("first_anywhere_in_op") is True)
        later = sum(1 for t in used if t.get("first_anywhere_in_op") is False)
        outside = sum(t.get("outside_posts") or 0 for t in used)
        uptake = sum(1 for t in used if t.get("granger_p") is not None and t["granger_p"] < 0.05)
        items.append(
            f"<li><b>Started or stoked?</b> Of {fig(len(terms), 'narratives.terms')} narratives followed, the "
            f"operation used {fig(len(used), 'narratives.used')}; among the posts in this workspace it was first on "
            f"{fig(first, 'narratives.op_first')} and others were first on {fig(later, 'narratives.others_first')} "
            f"(the rest cannot be told). Outside volume rose after the operation's on "
            f'{fig(uptake, "narratives.uptake")} (lag test p < 0.05; association, not cause). "First" is relative to '
            f"this data: there are {fig(outside, 'narratives.outside_posts')} posts by others on these narratives "
            f'here, not the public conversation. <a href="#narratives">Narratives</a></li>'
        )
    am = d["amplifiers"]
    if "error" not in am:
        s = am["summary"]
        inb, outb = s.get("inbound") or {}, s.get("outbound") or {}
        top = (am["frames"].get("outbound") or [{}])[0]
        items.append(
            f"<li><b>Who amplified it?</b> {fig(inb.get('outside_accounts'), 'amplifiers.inbound_accounts')} accounts "
            f"outside the operation (in this workspace), in {fig(inb.get('posts'), 'amplifiers.inbound_posts')} posts. It amplified "
            f"{fig(outb.get('targets'), 'amplifiers.outbound_targets')} outside accounts in "
            f"{fig(outb.get('posts'), 'amplifiers.outbound_posts')} posts"
            + (
                f", most often @{_esc(top.get('target_handle') or top.get('target'))} "
                f"({fig(top.get('total'), 'amplifiers.top_outbound_total')} posts)"
                if top
                else ""
            )
            + '. <a href="#amplifiers">Amplifiers</a></li>'
        )
    if not items:
        return "<p>No question could be answered: see the sections below.</p>"
    return f'<ul class="headline">{"".join(items)}</ul>'


def _section_data(d: dict) -> str:
    dd = d["data"]
    t = dd["totals"]
    parts = [
        f"<p>{fig(t['posts'], 'data.posts')} posts by {fig(t['accounts'], 'data.accounts')} accounts"
        + (f" on {fig(t['platforms'], 'data.platforms')} platforms" if t.get("platforms", 1) > 1 else "")
        + ", from "
        f"{fig(t['first_post'], 'data.first_post', 'time')} to {fig(t['last_post'], 'data.last_post', 'time')} (UTC); "
        f"{fig(t['labelled_accounts'], 'data.labelled_accounts')} accounts carry labels from the source.</p>",
        "<h3>Ingest runs</h3>",
        table(
            dd["ingests"],
            [
                ("started_at", "started"),
                ("inputs", "inputs"),
                ("readers", "readers"),
                ("files", "files"),
                ("records", "records"),
                ("stored", "stored"),
                ("rejected", "rejected"),
                ("duplicate", "duplicate"),
                ("notes", "notes"),
            ],
            key="data.ingests",
            kinds={"started_at": "time"},
        ),
        "<h3>Sources</h3>",
        table(
            dd["formats"],
            [
                ("platform", "platform"),
                ("source_format", "format"),
                ("files", "files"),
                ("posts", "posts"),
                ("venues", "venues"),
                ("accounts", "accounts"),
                ("first_post", "first"),
                ("last_post", "last"),
            ],
            key="data.formats",
            kinds={"first_post": "time", "last_post": "time"},
        ),
        "<h3>Kinds of post</h3>",
        table(dd["kinds"], [("kind", "kind"), ("posts", "posts")], key="data.kinds"),
        "<h3>Rejected records</h3>",
        table(
            dd["rejects"],
            [("reason", "reason"), ("records", "records"), ("files", "files"), ("example", "example")],
            key="data.rejects",
            export="rejects.csv",
        )
        if dd["rejects"]
        else "<p>No record was rejected.</p>",
    ]
    if dd["labels"]:
        parts += [
            "<h3>Account labels from the source</h3>",
            table(dd["labels"], [("label", "label"), ("value", "value"), ("accounts", "accounts")], key="data.labels"),
        ]
    return "".join(parts)


def _network_svg(net: dict) -> str:
    if not net["nodes"]:
        return '<p class="empty">No flagged accounts to draw.</p>'
    nodes = net["nodes"]
    lines = "".join(
        f'<line x1="{nodes[a]["x"]}" y1="{nodes[a]["y"]}" x2="{nodes[b]["x"]}" y2="{nodes[b]["y"]}"/>'
        for a, b in net["edges"]
    )
    dots = "".join(
        f'<circle cx="{n["x"]}" cy="{n["y"]}" r="3" fill="{PALETTE[(n["cluster_id"] or 0) % len(PALETTE)]}">'
        f"<title>@{_esc(n['handle'])} · cluster {_esc(n['cluster_id'])} · score {fmt(n['score'])}</title></circle>"
        for n in nodes
    )
    return (
        f'<svg class="network" viewBox="0 0 800 600" role="img" aria-label="coordination network">'
        f'<g class="edges">{lines}</g><g class="nodes">{dots}</g></svg>'
        f'<p class="caption">{fig(len(nodes), "detect.network_nodes")} flagged accounts (highest scores first, at most '
        f"{NETWORK_NODES:,}) and {fig(len(net['edges']), 'detect.network_edges')} of their significant ties (each account's {NETWORK_TIES_PER_ACCOUNT} strongest, then the strongest of the rest); "
        "colour = cluster; hover a dot for its handle. Layout: Fruchterman–Reingold, fixed seed. The whole graph is "
        "in <code>exports/coordination.gexf</code> and <code>.graphml</code> for Gephi.</p>"
    )


def _section_coordination(d: dict) -> str:
    det = d["detect"]
    if not det["ran"]:
        return '<p class="unavailable">Detection has not run on this workspace.</p>'
    clusters = [
        c | {"layers": ", ".join(f"{k} {v}" for k, v in sorted(c["layers"].items(), key=lambda kv: -kv[1]))}
        for c in det["clusters"]
    ]
    return "".join(
        [
            "<p>Pairs of accounts that act together (repost, post, link, hashtag, mention or reply to the same thing "
            "within a window, or write near-duplicate texts) more often than a null model allows; clusters are "
            "Leiden communities of the significant ties. A cluster's p-value combines its ties (Simes).</p>",
            table(
                det["edges_by_layer"],
                [
                    ("layer", "layer"),
                    ("candidate_pairs", "candidate pairs"),
                    ("significant_pairs", "significant pairs"),
                ],
                key="detect.layers",
            ),
            "<h3>Clusters</h3>",
            table(
                clusters,
                [
                    ("cluster_id", "cluster"),
                    ("size", "accounts"),
                    ("p_value", "p"),
                    ("density", "density"),
                    ("score", "mean score"),
                    ("layers", "ties per layer"),
                    ("first_at", "first"),
                    ("last_at", "last"),
                    ("handles", "top accounts"),
                ],
                key="detect.clusters",
                export="clusters.csv",
                kinds={"first_at": "time", "last_at": "time", "p_value": "p"},
            ),
            "<h3>The network</h3>",
            _network_svg(det["network"]),
            '<h3 id="evidence">Evidence posts</h3>',
            f"<p>The strongest {EVIDENCE_PER_CLUSTER} pieces of evidence per cluster (of "
            f"{fig(det['evidence_rows'], 'detect.evidence_rows')}; all in <code>exports/evidence.csv</code>): two "
            "accounts' posts on the same item, how far apart, and the tie's p-value.</p>",
            table(
                det["evidence"],
                _placed(
                    [
                        ("cluster_id", "cluster"),
                        ("layer", "layer"),
                        ("handle_a", "account A"),
                        ("time_a", "time A"),
                        ("text_a", "post A"),
                        ("handle_b", "account B"),
                        ("time_b", "time B"),
                        ("text_b", "post B"),
                        ("item", "shared item"),
                        ("seconds_apart", "seconds apart"),
                        ("edge_p_value", "p"),
                    ],
                    det["evidence"],
                    {"handle_a": [("platform_a", "platform A")], "handle_b": [("platform_b", "platform B")]},
                ),
                key="detect.evidence",
                kinds={"time_a": "time", "time_b": "time", "edge_p_value": "p"},
            ),
        ]
    )


PLATFORM = [("platform", "platform")]
WHERE_FROM = [("platform", "platform"), ("venue", "venue")]


def _placed(columns: list[tuple[str, str]], rows: list[dict], extra: dict[str, list[tuple[str, str]]]) -> list:
    """``columns`` with ``extra[c]`` after each column ``c``, those of them the rows carry: the
    investigations add platform and venue only when posts come from several platforms."""
    have = set(rows[0]) if rows else set()
    out = []
    for c in columns:
        out += [c, *(x for x in extra.get(c[0], []) if x[0] in have)]
    return out


def _by_platform(rows: list[dict] | None, columns: list[tuple[str, str]], key: str, **kw: Any) -> str:
    """An investigation's per-platform table, when it has one (posts from several platforms)."""
    if rows is None:
        return ""
    return "<h3>By platform</h3>" + table(rows, columns, key=key, **kw)


def _group_rows(rows: list[dict]) -> list[dict]:
    return [r | {"ci": f"[{fmt(r.get('ci_low'), 'f')}, {fmt(r.get('ci_high'), 'f')}]"} for r in rows]


def _section_timeline(d: dict, charts: dict) -> str:
    r = d["timeline"]
    if "error" in r:
        return _unavailable(r)
    f, n = r["frames"], r["frame_rows"]
    events = [e for e in f["events"] if (e.get("posts_before") or 0) + (e.get("posts_after") or 0) > 0]
    return "".join(
        [
            _chart("timeline", r["chart"], charts),
            "<h3>Onset by group</h3>",
            table(
                f["onset"],
                [
                    ("grp", "group"),
                    ("accounts", "accounts"),
                    ("posts", "posts"),
                    ("first_post", "first post"),
                    ("first_handle", "by"),
                    ("first_text", "text"),
                    ("sustained_from", "sustained from"),
                    ("peak_period", "peak period"),
                    ("peak_posts", "peak posts"),
                    ("last_post", "last post"),
                ],
                key="timeline.onset",
                kinds={"first_post": "time", "sustained_from": "date", "peak_period": "date", "last_post": "time"},
            ),
            _by_platform(
                f.get("by_platform"),
                [
                    ("grp", "group"),
                    ("platform", "platform"),
                    ("posts", "posts"),
                    ("accounts", "accounts"),
                    ("first_post", "first post"),
                    ("last_post", "last post"),
                    ("active_periods", "active periods"),
                ],
                "timeline.by_platform",
                kinds={"first_post": "time", "last_post": "time"},
            ),
            "<h3>Bursts</h3>",
            table(
                f["bursts"],
                [
                    ("grp", "group"),
                    ("start", "start"),
                    ("last_period", "last period"),
                    ("periods", "periods"),
                    ("posts", "posts"),
                    ("peak_posts", "peak posts"),
                    ("max_z", "max z"),
                    ("baseline_mean", "baseline mean"),
                    ("nearest_event", "nearest event"),
                ],
                total=n["bursts"],
                export="timeline.bursts.csv",
                key="timeline.bursts",
                kinds={"start": "date", "last_period": "date"},
            ),
            "<h3>Events</h3>",
            f"<p>Posts in the {fig(r['params'].get('event_window_days'), 'timeline.event_window_days')} days before "
            "and from each event, by group (events with any posts).</p>",
            table(
                events,
                [
                    ("date", "date"),
                    ("event", "event"),
                    ("category", "category"),
                    ("grp", "group"),
                    ("posts_before", "posts before"),
                    ("posts_after", "posts after"),
                    ("source", "source"),
                ],
                total=n["events"],
                export="timeline.events.csv",
                key="timeline.events",
                kinds={"date": "date"},
            ),
            _notes(r["notes"]),
        ]
    )


def _section_targeting(d: dict, charts: dict) -> str:
    r = d["targeting"]
    if "error" in r:
        return _unavailable(r)
    f, n = r["frames"], r["frame_rows"]
    o = r["summary"]["operation"]
    cols = [
        ("grp", "group"),
        ("accounts", "accounts"),
        ("political_accounts", "political accounts"),
        ("posts", "posts"),
        ("political_posts", "political posts"),
        ("left_posts", "left"),
        ("right_posts", "right"),
        ("mixed_posts", "mixed"),
        ("lean", "lean"),
        ("both_sides", "both-sides index"),
        ("ci", "95% CI"),
    ]
    return "".join(
        [
            f"<p>Whole operation: both-sides index {fig(o.get('both_sides'), 'targeting.both_sides')} "
            f"(95% bootstrap interval over accounts, {fig(r['params'].get('bootstrap'), 'targeting.bootstrap')} "
            f"resamples: {fig(o.get('ci_low'), 'targeting.ci_low')} to {fig(o.get('ci_high'), 'targeting.ci_high')}), "
            f"from {fig(o.get('political_posts'), 'targeting.political_posts')} political posts of "
            f"{fig(o.get('posts'), 'targeting.posts')}. 0 = every political post on one side, 1 = an even split; "
            "lean −1 = all left, +1 = all right.</p>",
            _chart("targeting", r["chart"], charts),
            "<h3>By group</h3>",
            table(_group_rows(f["groups"]), cols, key="targeting.groups"),
            _by_platform(
                _group_rows(f["by_platform"]) if f.get("by_platform") is not None else None,
                [("platform", "platform"), *cols[1:]],
                "targeting.by_platform",
            ),
            "<h3>Over time (whole operation)</h3>",
            table(
                _group_rows(f["periods"]),
                [("period", "period"), *cols[1:]],
                total=n["periods"],
                export="targeting.periods.csv",
                key="targeting.periods",
                kinds={"period": "date"},
            ),
            "<h3>Candidates: mentions and tone (VADER)</h3>",
            table(
                f["candidates"],
                [
                    ("grp", "group"),
                    ("candidate", "candidate"),
                    ("party", "party"),
                    ("mentions", "mentions"),
                    ("share_of_posts", "share of posts"),
                    ("accounts", "accounts"),
                    ("mean_compound", "mean compound"),
                    ("net_sentiment", "net sentiment"),
                ],
                total=n["candidates"],
                export="targeting.candidates.csv",
                key="targeting.candidates",
                kinds={"share_of_posts": "pct"},
            ),
            "<h3>Accounts</h3>",
            table(
                f["accounts"],
                _placed(
                    [
                        ("handle", "account"),
                        ("grp", "group"),
                        ("posts", "posts"),
                        ("political_posts", "political"),
                        ("left_posts", "left"),
                        ("right_posts", "right"),
                        ("lean", "lean"),
                        ("side", "side"),
                    ],
                    f["accounts"],
                    {"handle": PLATFORM},
                ),
                total=n["accounts"],
                export="targeting.accounts.csv",
                key="targeting.accounts",
            ),
            _notes(r["notes"]),
        ]
    )


def _section_narratives(d: dict, charts: dict) -> str:
    r = d["narratives"]
    if "error" in r:
        return _unavailable(r)
    f, n = r["frames"], r["frame_rows"]
    return "".join(
        [
            _chart("narratives", r["chart"], charts),
            table(
                f["terms"],
                [
                    ("term", "narrative"),
                    ("op_posts", "operation posts"),
                    ("op_accounts", "accounts"),
                    ("outside_posts", "outside posts"),
                    ("op_share", "operation share"),
                    ("op_first_use", "operation's first use"),
                    ("first_use_anywhere", "first use anywhere"),
                    ("op_lead_days", "lead (days)"),
                    ("lag_test_n", "periods tested"),
                    ("granger_p", "uptake p"),
                    ("verdict", "verdict"),
                ],
                key="narratives.terms",
                kinds={"op_share": "pct", "op_first_use": "time", "first_use_anywhere": "time"},
            ),
            "<h3>By group</h3>",
            table(
                f["by_group"],
                [
                    ("term", "narrative"),
                    ("grp", "group"),
                    ("posts", "posts"),
                    ("accounts", "accounts"),
                    ("first_use", "first use"),
                    ("last_use", "last use"),
                ],
                total=n["by_group"],
                key="narratives.by_group",
                kinds={"first_use": "time", "last_use": "time"},
            ),
            _by_platform(
                f.get("by_platform"),
                [
                    ("term", "narrative"),
                    ("platform", "platform"),
                    ("op_posts", "operation posts"),
                    ("op_accounts", "accounts"),
                    ("outside_posts", "outside posts"),
                    ("outside_accounts", "outside accounts"),
                    ("op_first_use", "operation's first use"),
                    ("outside_first_use", "outside first use"),
                ],
                "narratives.by_platform",
                kinds={"op_first_use": "time", "outside_first_use": "time"},
            ),
            "<h3>The first posts (evidence)</h3>",
            table(
                f["first_posts"],
                _placed(
                    [
                        ("term", "narrative"),
                        ("in_op", "operation?"),
                        ("rank", "rank"),
                        ("created_at", "time"),
                        ("handle", "account"),
                        ("grp", "group"),
                        ("text", "text"),
                    ],
                    f["first_posts"],
                    {"handle": WHERE_FROM},
                ),
                total=n["first_posts"],
                export="narratives.first_posts.csv",
                key="narratives.first_posts",
                kinds={"created_at": "time"},
            ),
            _notes(r["notes"]),
        ]
    )


def _section_amplifiers(d: dict, charts: dict) -> str:
    r = d["amplifiers"]
    if "error" in r:
        return _unavailable(r)
    f, n, s = r["frames"], r["frame_rows"], r["summary"]
    kinds = [("reposts", "reposts"), ("quotes", "quotes"), ("replies", "replies"), ("mentions", "mentions")]
    return "".join(
        [
            f"<p>{fig(s.get('internal_posts'), 'amplifiers.internal_posts')} posts "
            f"({fig(s.get('internal_share'), 'amplifiers.internal_share', 'pct')} of its amplification) amplified "
            "the operation's own accounts.</p>",
            _chart("amplifiers", r["chart"], charts),
            "<h3>Who amplified the operation (inbound)</h3>",
            table(
                f["inbound"],
                _placed(
                    [
                        ("handle", "account"),
                        *kinds,
                        ("total", "total"),
                        ("op_accounts", "operation accounts"),
                        ("first_at", "first"),
                        ("last_at", "last"),
                    ],
                    f["inbound"],
                    {"handle": PLATFORM},
                ),
                total=n["inbound"],
                export="amplifiers.inbound.csv",
                key="amplifiers.inbound",
                kinds={"first_at": "time", "last_at": "time"},
            ),
            "<h3>Their posts (evidence)</h3>",
            table(
                f["inbound_posts"],
                _placed(
                    [
                        ("created_at", "time"),
                        ("handle", "account"),
                        ("kind", "kind"),
                        ("target_handle", "amplified"),
                        ("target_grp", "group"),
                        ("text", "text"),
                    ],
                    f["inbound_posts"],
                    {"handle": WHERE_FROM, "target_handle": [("target_platform", "its platform")]},
                ),
                total=n["inbound_posts"],
                export="amplifiers.inbound_posts.csv",
                key="amplifiers.inbound_posts",
                kinds={"created_at": "time"},
            ),
            "<h3>Whom the operation amplified (outbound)</h3>",
            table(
                f["outbound"],
                _placed(
                    [
                        ("target_handle", "account"),
                        *kinds,
                        ("total", "total"),
                        ("op_accounts", "operation accounts"),
                        ("groups", "groups"),
                        ("target_posts_here", "posts here"),
                    ],
                    f["outbound"],
                    {"target_handle": [("target_platform", "platform")]},
                ),
                total=n["outbound"],
                export="amplifiers.outbound.csv",
                key="amplifiers.outbound",
            ),
            _notes(r["notes"]),
        ]
    )


def _params_table(params: dict, key: str) -> str:
    rows = [
        {"parameter": k, "value": json.dumps(v, default=str) if isinstance(v, dict | list) else v}
        for k, v in params.items()
        if k not in ("layer_figures",)
    ]
    return table(rows, [("parameter", "parameter"), ("value", "value")], key=key)


def _section_methods(d: dict) -> str:
    op = d["operation"] or {}
    parts = [
        f"<p>trollscope {_esc(d['meta']['version'])}, report generated {_esc(d['meta']['generated_at'])} from the "
        f"workspace <code>{_esc(d['meta']['workspace'])}</code>.</p>",
    ]
    if d["meta"].get("command"):
        parts.append(f"<p>Reproduce with: <code>{_esc(d['meta']['command'])}</code></p>")
    if op:
        groups = ", ".join(f"{k} ({v:,})" for k, v in op.get("groups", {}).items())
        parts.append(
            f"<p>The operation: <code>--accounts {_esc(op.get('accounts_spec'))}</code>"
            f"{' <code>--by ' + _esc(op['by']) + '</code>' if op.get('by') else ''}: "
            f"{fig(op.get('accounts'), 'operation.accounts')} accounts; groups: {_esc(groups)}.</p>"
        )
    parts.append(
        "<p>Every figure in this report is computed in DuckDB SQL over the workspace (see the trollscope docs: "
        "detection.md, investigate.md, report.md). Times are UTC. Intervals are 95% bootstrap intervals that "
        "resample accounts; p-values are one-sided tests against the stated null model.</p>"
    )
    for ing in d["data"]["ingests"]:
        parts += [f"<h3>ingest {_esc(ing['ingest_id'])}</h3>", f"<pre>{_esc(ing['params'])}</pre>"]
    if d["detect"]["ran"]:
        parts += ["<h3>detect</h3>", _params_table(d["detect"]["params"], "methods.detect")]
    for name in INVESTIGATIONS:
        r = d[name]
        if "error" not in r:
            parts += [f"<h3>{name}</h3>", _params_table(r["params"], f"methods.{name}")]
    return "".join(parts)


SECTIONS = (
    ("findings", "Headline findings"),
    ("data", "Data"),
    ("coordination", "Coordination"),
    ("timeline", "When: timeline and events"),
    ("targeting", "Which side: targeting"),
    ("narratives", "Started or stoked: narratives"),
    ("amplifiers", "Who amplified"),
    ("methods", "Methods and parameters"),
)


def _template(name: str) -> str:
    return resources.files("trollscope.report").joinpath("templates", name).read_text(encoding="utf-8")


def _vendor_js() -> str:
    parts = []
    for name in VENDOR:
        js = resources.files("trollscope.report").joinpath("vendor", name).read_text(encoding="utf-8")
        parts.append(re.sub(r"//# sourceMappingURL=\S+", "", js))  # no map to fetch
    return "\n".join(parts)


def _script_json(o: Any) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(o, ensure_ascii=False, default=str).replace("</", "<\\/").replace("<!--", "<\\!--")


def render(d: dict) -> str:
    """The report's HTML, every script, style and datum inlined."""
    charts: dict[str, dict] = {}
    bodies = {
        "findings": _headline(d),
        "data": _section_data(d),
        "coordination": _section_coordination(d),
        "timeline": _section_timeline(d, charts),
        "targeting": _section_targeting(d, charts),
        "narratives": _section_narratives(d, charts),
        "amplifiers": _section_amplifiers(d, charts),
        "methods": _section_methods(d),
    }
    op = d["operation"]
    subtitle = (
        f"{fmt(op['accounts'])} accounts selected by <code>{_esc(op['accounts_spec'])}</code>" if op else "no operation"
    )
    nav = "".join(f'<a href="#{k}">{_esc(t)}</a>' for k, t in SECTIONS)
    sections = "".join(f'<section id="{k}"><h2>{_esc(t)}</h2>{bodies[k]}</section>' for k, t in SECTIONS)
    return Template(_template("report.html")).substitute(
        title="trollscope report",
        subtitle=subtitle,
        generated=_esc(d["meta"]["generated_at"]),
        nav=nav,
        sections=sections,
        css=_template("report.css"),
        vendor=_vendor_js(),
        charts=_script_json(charts),
        app=_template("report.js"),
    )


def build_report(
    workspace: str | Path | Workspace,
    out: str | Path,
    *,
    accounts: str | None = None,
    by: str | None = None,
    terms: str | None = None,
    results: dict[str, Result | str] | None = None,
    command: str | None = None,
    freq: str | None = None,
    events: str | Path | None = "builtin",
) -> ReportResult:
    """Write the report for ``workspace`` to ``out``; runs the investigations unless ``results`` are given."""
    t0 = time.perf_counter()
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace, create=False)
    if results is None:
        results = investigate_all(ws, accounts, by, terms=terms, freq=freq, events=events)
    data = collect(ws, results, command=command)
    page = render(data)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return ReportResult(out, out.stat().st_size, time.perf_counter() - t0, not_measured(results))


def not_measured(results: dict[str, Result | str]) -> list[str]:
    """One line per reason an investigation could not run, naming every investigation it stopped
    (detection flagging nobody stops all four: said once, not four times)."""
    by_reason: dict[str, list[str]] = {}
    for name, r in results.items():
        if isinstance(r, str):
            by_reason.setdefault(r, []).append(name)
    return [f"{', '.join(names)}: {reason}" for reason, names in by_reason.items()]
