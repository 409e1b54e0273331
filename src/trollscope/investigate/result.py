"""What every investigation returns: named Arrow frames, the parameters, notes and a chart.

The CLI prints these frames, ``--json`` dumps them, ``-o`` writes them, and the report stage
draws ``chart`` (a Vega-Lite spec with its data inline) — so all four see the same numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from .selection import Operation


@dataclass
class Result:
    """Base of every investigation result; subclasses add their frames as ``pa.Table`` fields."""

    operation: Operation
    params: dict[str, Any]
    summary: dict[str, Any] = field(default_factory=dict)  # headline figures, plain data
    notes: list[str] = field(default_factory=list)  # what could not be measured, and why
    chart: dict[str, Any] = field(default_factory=dict)  # Vega-Lite
    seconds: float = 0.0

    def frames(self) -> dict[str, pa.Table]:
        """The result's tables by name, the main one first."""
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), pa.Table)}

    def as_dict(self, rows: int | None = None) -> dict[str, Any]:
        """Plain data for JSON: every frame as a list of records (``rows`` caps each frame)."""
        return {
            "operation": self.operation.as_dict(),
            "params": self.params,
            "summary": self.summary,
            "notes": self.operation.notes + self.notes,
            "seconds": round(self.seconds, 3),
            "frames": {k: (t.slice(0, rows) if rows else t).to_pylist() for k, t in self.frames().items()},
            "frame_rows": {k: t.num_rows for k, t in self.frames().items()},  # before any ``rows`` cap
            "chart": self.chart,
        }

    def write(self, path: str | Path) -> list[Path]:
        """Write the main frame to ``path`` (CSV or Parquet, by extension), the others beside it.

        ``out.csv`` gets the main frame; ``out.onset.csv``, ``out.bursts.csv``… get the rest.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".parquet"):
            raise ValueError(f"{path}: write .csv or .parquet (got {suffix or 'no extension'})")
        fmt = "csv" if suffix == ".csv" else "parquet"
        written = []
        con = duckdb.connect()
        try:
            for i, (name, table) in enumerate(self.frames().items()):
                target = path if i == 0 else path.with_name(f"{path.stem}.{name}{path.suffix}")
                con.register("_frame", table)
                target_sql = "'" + str(target).replace("'", "''") + "'"
                con.execute(f"COPY _frame TO {target_sql} (FORMAT {fmt})")
                con.unregister("_frame")
                written.append(target)
        finally:
            con.close()
        return written


def platforms(con: duckdb.DuckDBPyConnection) -> int:
    """How many platforms the workspace's posts come from."""
    return con.execute("SELECT count(DISTINCT platform) FROM posts").fetchall()[0][0]


# (key column, the columns it gets, the column they follow if present)
_WHERE_FROM = (
    ("post_id", "p.platform, p.venue", "handle"),
    ("account_id", "a.platform", "handle"),
    ("target_account_id", "t.platform AS target_platform", "target_handle"),
)


def with_platforms(con: duckdb.DuckDBPyConnection, *frames: pa.Table) -> list[pa.Table]:
    """With posts from more than one platform, say where each row comes from: a frame keyed by
    ``post_id`` gets the post's ``platform`` and ``venue``, one keyed by ``account_id`` the account's
    ``platform`` (accounts are namespaced by platform, so each has one), and ``target_account_id``
    a ``target_platform``; beside the handle. With one platform the frames stay as they are."""
    if platforms(con) < 2:
        return list(frames)
    return [_with_platform(con, t) for t in frames]


def _with_platform(con: duckdb.DuckDBPyConnection, t: pa.Table) -> pa.Table:
    cols = t.column_names
    keys = [k for k, _, _ in _WHERE_FROM if k in cols]
    if "platform" in cols or not keys:
        return t
    if "post_id" in keys:  # the post's own platform: its account needs no second look-up
        keys = [k for k in keys if k != "account_id"]
    accounts = "(SELECT account_id, mode(platform) AS platform FROM posts WHERE account_id IN ({ids}) GROUP BY 1)"
    joins = {
        "post_id": "LEFT JOIN (SELECT post_id, platform, venue FROM posts WHERE post_id IN "
        "(SELECT post_id FROM _frame)) p ON p.post_id = f.post_id",
        "account_id": f"LEFT JOIN {accounts.format(ids='SELECT account_id FROM _frame')} a "
        "ON a.account_id = f.account_id",
        "target_account_id": f"LEFT JOIN {accounts.format(ids='SELECT target_account_id FROM _frame')} t "
        "ON t.account_id = f.target_account_id",
    }
    select = []
    for c in cols:
        select.append(f'f."{c}"')
        select += [add for k, add, after in _WHERE_FROM if k in keys and c == (after if after in cols else k)]
    con.register("_frame", t.append_column("_row", pa.array(range(t.num_rows), pa.int64())))
    try:
        return con.sql(
            f"SELECT {', '.join(select)} FROM _frame f {' '.join(joins[k] for k in keys)} ORDER BY f._row"
        ).to_arrow_table()
    finally:
        con.unregister("_frame")


def arrow(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pa.Table:
    """A query's result as an Arrow table."""
    return con.sql(sql, params=params).to_arrow_table()


def vl_values(table: pa.Table, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows for a Vega-Lite ``data.values``: JSON-ready, timestamps as ISO strings."""
    t = table.select(columns) if columns else table
    rows = t.to_pylist()
    for r in rows:
        for k, v in r.items():
            if isinstance(v, dt.datetime | dt.date):
                r[k] = v.isoformat()
    return rows


VEGA_LITE = "https://vega.github.io/schema/vega-lite/v5.json"
