"""A workspace at a glance: counts, dates, sources, platforms and venues, labels, top accounts, reject reasons."""

from __future__ import annotations

from pathlib import Path

from .engine import sql_str
from .ingest import REASON_KIND, reject_runs
from .workspace import Workspace


def info(workspace: str | Path | Workspace | None = None, top: int = 10) -> dict:
    """Summary of a workspace as plain data (the CLI prints it; ``--json`` dumps it)."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace, create=False)
    con = ws.connect()
    try:
        posts, accounts, first, last = con.execute(
            "SELECT count(*), count(DISTINCT account_id), min(created_at), max(created_at) FROM posts"
        ).fetchone()
        kinds = dict(con.execute("SELECT kind, count(*) FROM posts GROUP BY 1 ORDER BY 2 DESC").fetchall())
        sources = _rows(
            con,
            ("format", "files", "posts"),
            "SELECT source_format, count(DISTINCT source_file), count(*) FROM posts GROUP BY 1 ORDER BY 3 DESC",
        )
        platforms = _rows(
            con,
            ("platform", "venues", "accounts", "posts"),
            "SELECT platform, count(DISTINCT venue), count(DISTINCT account_id), count(*) FROM posts "
            "GROUP BY 1 ORDER BY 4 DESC",
        )
        venues = _rows(con, ("platform", "venue", "accounts", "posts"),
                       "SELECT platform, venue, count(DISTINCT account_id), count(*) AS n FROM posts "
                       "WHERE venue IS NOT NULL GROUP BY 1, 2 ORDER BY n DESC, 1, 2 LIMIT ?", [top])  # fmt: skip
        labels = [
            dict(zip(("label", "value", "accounts"), r, strict=True))
            for r in con.execute(
                # labels with few values (categories), not per-account ids
                """WITH e AS (SELECT unnest(map_entries(labels)) AS e FROM accounts),
                   c AS (SELECT e.key AS k, e.value AS v, count(*) AS n FROM e GROUP BY ALL)
                   SELECT k, v, n FROM c QUALIFY count(*) OVER (PARTITION BY k) <= 50 ORDER BY k, n DESC"""
            ).fetchall()
        ]
        top_accounts = [
            dict(zip(("handle", "account_id", "posts"), r, strict=True))
            for r in con.execute(
                "SELECT any_value(handle), account_id, count(*) AS n FROM posts GROUP BY account_id "
                "ORDER BY n DESC, account_id LIMIT ?",
                [top],
            ).fetchall()
        ]
        rejects = dict(
            con.execute(f"SELECT {REASON_KIND}, count(*) FROM rejects GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
        )
        runs = con.execute(
            "SELECT count(*), coalesce(sum(records), 0), coalesce(sum(stored), 0), coalesce(sum(rejected), 0), "
            "coalesce(sum(duplicate), 0) FROM ingest_log"
        ).fetchone()
    finally:
        con.close()
    return {
        "workspace": str(ws.path),
        "posts": posts,
        "accounts": accounts,
        "first_post": first,
        "last_post": last,
        "kinds": kinds,
        "sources": sources,
        "platforms": platforms,
        "venues": venues,  # the most active ``top``
        "labels": labels,
        "top_accounts": top_accounts,
        "reject_reasons": rejects,
        "ingests": dict(zip(("runs", "records", "stored", "rejected", "duplicate"), runs, strict=True)),
        "tables": ws.tables(),
    }


def rejects(workspace: str | Path | Workspace | None = None, output: str | Path | None = None) -> dict:
    """Every rejected record, as runs of one file and reason (see ``ingest.reject_runs``); with
    ``output`` (.csv or .parquet) also every reject row written there, in file and line order."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace, create=False)
    con = ws.connect()
    try:
        runs = reject_runs(con)
        total = con.execute("SELECT count(*) FROM rejects").fetchone()[0]
        if output is not None:
            fmt = "parquet" if str(output).lower().endswith(".parquet") else "csv"
            con.execute(
                f"COPY (SELECT * FROM rejects ORDER BY source_file, source_line NULLS FIRST) "
                f"TO {sql_str(str(output))} (FORMAT {fmt})"
            )
    finally:
        con.close()
    return {
        "workspace": str(ws.path),
        "rejected": total,
        "runs": runs,
        "output": None if output is None else str(output),
    }


def _rows(con, keys: tuple[str, ...], sql: str, params: list | None = None) -> list[dict]:
    """A query's rows as dicts with ``keys``."""
    return [dict(zip(keys, r, strict=True)) for r in con.execute(sql, params or []).fetchall()]
