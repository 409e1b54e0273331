"""How values print in every command: p-values, time spans, the evidence behind a cluster."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from ..engine import EngineSpec
from ..workspace import Workspace

P_FLOOR = 1e-300  # below this a double's p-value is rounding noise (or 0.0): print a bound, not 0.0e+00


def fmt_p(p: float | None) -> str:
    if p is None:
        return ""
    return f"< {P_FLOOR:.0e}" if p < P_FLOOR else f"{p:.1e}"


def fmt_span(first: object, last: object) -> str:
    """``2016-01-13 14:21 .. 2016-04-11 15:30``; empty when the times are unknown (never ``None .. None``)."""
    if first is None and last is None:
        return ""
    return f"{str(first or '?')[:16]} .. {str(last or '?')[:16]}"


def _short(text: str | None, n: int = 90) -> str:
    t = " ".join((text or "").split())
    return t if len(t) <= n else t[: n - 1] + "…"


def post_texts(workspace: str | Path, ids: list[str], engine: EngineSpec | None = None) -> dict[str, str]:
    """The texts of the posts ``ids`` (evidence names posts by id; a reader wants what they said),
    read by ``engine`` (the command's own: a Spark run does not open DuckDB behind the user's back)."""
    if not ids:
        return {}
    ws = Workspace(workspace, create=False)
    if engine is not None and engine.is_spark:
        from ..spark_con import connect_workspace

        con = connect_workspace(ws, engine)
    else:
        con = ws.connect()
    try:
        con.register("_wanted_posts", pa.table({"post_id": pa.array(sorted(set(ids)), pa.string())}))
        rows = con.execute(
            "SELECT post_id, text FROM posts WHERE post_id IN (SELECT post_id FROM _wanted_posts)"
        ).fetchall()
    finally:
        con.close()
    return dict(rows)


def evidence_lines(evidence: list[dict], texts: dict[str, str]) -> list[str]:
    """Each co-action as the two handles, when and how far apart, and what the posts said."""
    out = []
    for e in evidence:
        a, b = texts.get(str(e["post_a"])), texts.get(str(e["post_b"]))
        out.append(
            f"  [{e['layer']}] @{e['handle_a']} and @{e['handle_b']}, {e['seconds_apart']:,.0f} s apart "
            f"({str(e['time_a'])[:16]} UTC)"
        )
        if a is not None:
            out.append(f'      @{e["handle_a"]}: "{_short(a)}"')
        if b is not None and b != a:
            out.append(f'      @{e["handle_b"]}: "{_short(b)}"')
    return out
