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
