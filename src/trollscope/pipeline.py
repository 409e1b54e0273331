"""Several stages in one call: ``run`` (ingest -> detect -> investigate -> report) and the ``demo``.

``run`` leaves everything a reader or a re-analysis needs in one folder: ``workspace/`` (the
store, with the run's choices in its manifest under ``params.run``), ``report.html`` and
``exports/`` (the coordination graph for Gephi, the detection tables and every investigation
table as CSV, the posts as Parquet; with posts from several platforms, the cross-platform pairs
and groups of ``crossplatform.py``).
"""

from __future__ import annotations

import shlex
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .engine import EngineSpec, connect
from .ingest import ingest
from .readers import ReadOptions
from .workspace import Workspace

Step = Callable[[str, dict[str, Any]], None]
# Every run's stages in order; a run on posts from more than one platform adds "cross-platform" after "export".
STAGES = ("ingest", "detect", "export", "timeline", "targeting", "narratives", "amplifiers", "report")
DETECT_TABLES = ("clusters", "cluster_members", "account_scores", "evidence")


def run(
    inputs: list[str],
    out: str | Path,
    *,
    format: str | None = None,
    options: ReadOptions | None = None,
    accounts: str | None = None,
    by: str | None = None,
    terms: str | None = None,
    detect_params: dict[str, Any] | None = None,
    investigate_params: dict[str, Any] | None = None,
    step: Step | None = None,
    command: str | None = None,
    engine: str | EngineSpec | None = None,
) -> dict[str, Any]:
    """Ingest ``inputs`` into ``out/workspace``, detect, investigate, write exports and ``out/report.html``.

    ``accounts``/``by`` choose the operation as the investigation commands do (default: the
    accounts detection flags). ``detect_params`` go to ``detect``, ``investigate_params`` (``freq``,
    ``events``) to the investigations. ``step(stage, figures)`` is called as each stage finishes.
    ``engine`` runs ingest, detection and the investigations on DuckDB (default) or Spark (docs/scale.md).
    Raises :class:`NothingIngested` with ingest's reason when the workspace ends up with no posts.
    """
    from . import detect as det
    from .report import build_report, investigate_all

    t0 = time.perf_counter()
    out = Path(out)
    ws_path, exports = out / "workspace", out / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    done: dict[str, Any] = {}

    def finish(stage: str, figures: dict[str, Any]) -> None:
        done[stage] = figures
        if step:
            step(stage, figures)

    ing = ingest(inputs, ws_path, format=format, options=options, engine=engine)
    finish("ingest", ing.as_dict())
    ws = Workspace(ws_path, create=False)
    if ing.failure and not _has_posts(ws):
        raise NothingIngested(ing.failure)

    t = time.perf_counter()
    found = det.detect(ws, engine=engine, **(detect_params or {}))
    finish(
        "detect",
        {
            "clusters": found.clusters.num_rows,
            "flagged": len(found.flagged),
            "seconds": round(time.perf_counter() - t, 3),
        },
    )

    t = time.perf_counter()
    files = export_workspace(ws, exports)
    finish("export", {"files": len(files), "seconds": round(time.perf_counter() - t, 3)})
    files += _cross_platform(ws, exports, finish)

    inv = investigate_params or {}
    choices = {"accounts": accounts, "by": by, "terms": terms, "command": command, **inv}
    with ws.transaction(params={"run": choices}):
        pass  # records the operation choice so `trollscope report -w` rebuilds the same report

    def investigated(name: str, result) -> None:
        if result is not None:
            files.extend(result.write(exports / f"{name}.csv"))
        finish(name, {"seconds": round(result.seconds, 3)} if result is not None else {"skipped": True})

    results = investigate_all(ws, accounts, by, terms=terms, step=investigated, engine=engine, **inv)
    report = build_report(ws, out / "report.html", results=results, command=command)
    finish("report", report.as_dict())
    return {
        "out": str(out),
        "workspace": str(ws_path),
        "report": str(report.path),
        "report_bytes": report.bytes,
        "exports": [str(f) for f in files],
        "stages": done,
        "not_measured": report.notes,
        "summary": _summary(results, found),
        "seconds": round(time.perf_counter() - t0, 3),
    }


class NothingIngested(Exception):
    """``run`` stopped after ingest: the workspace holds no posts (the message is ingest's reason)."""


def _has_posts(ws: Workspace) -> bool:
    con = ws.connect()
    try:
        return con.execute("SELECT count(*) FROM (SELECT 1 FROM posts LIMIT 1)").fetchone()[0] > 0
    finally:
        con.close()


def _cross_platform(ws: Workspace, exports: Path, finish: Callable[[str, dict], None]) -> list[Path]:
    """With posts from more than one platform: the cross-platform pairs and groups, as CSV."""
    from . import crossplatform

    con = ws.connect(connect())
    try:
        if con.execute("SELECT count(DISTINCT platform) FROM posts").fetchall()[0][0] < 2:
            return []
        t = time.perf_counter()
        found = crossplatform.cross_platform(con=con)
    finally:
        con.close()
    files = crossplatform.write(found, exports)
    finish(
        "cross-platform",
        {"pairs": found.pairs.num_rows, "groups": found.groups, "seconds": round(time.perf_counter() - t, 3)},
    )
    return files


def export_workspace(ws: Workspace, exports: Path) -> list[Path]:
    """The coordination graph (GEXF, GraphML), detection tables as CSV, posts and edges as Parquet."""
    from .detect import write_gexf, write_graphml

    files = [exports / "coordination.gexf", exports / "coordination.graphml"]
    write_gexf(ws, files[0])
    write_graphml(ws, files[1])
    con = ws.connect(connect())
    try:
        con.execute("SET enable_progress_bar = false")
        for table in DETECT_TABLES:
            files.append(exports / f"{table}.csv")
            con.execute(f"COPY (SELECT * FROM {table}) TO {_sql_path(files[-1])} (FORMAT csv)")
        files.append(exports / "edges.parquet")
        con.execute(f"COPY (SELECT * FROM edges WHERE significant) TO {_sql_path(files[-1])} (FORMAT parquet)")
        files.append(exports / "rejects.csv")
        con.execute(f"COPY (SELECT * FROM rejects) TO {_sql_path(files[-1])} (FORMAT csv)")
    finally:
        con.close()
    return files


def _sql_path(p: Path) -> str:
    return "'" + str(p).replace("'", "''") + "'"


def _summary(results: dict, found) -> dict[str, Any]:
    """The few figures the CLI prints at the end (the report holds the rest)."""
    s: dict[str, Any] = {"clusters": found.clusters.num_rows, "flagged": len(found.flagged)}
    for name, r in results.items():
        if isinstance(r, str):
            s[name] = {"not_measured": r}
    if not isinstance(results.get("timeline"), str):
        s["first_sustained"] = results["timeline"].summary.get("first_sustained")
        s["operation_accounts"] = results["timeline"].operation.accounts
    if not isinstance(results.get("targeting"), str):
        o = results["targeting"].summary["operation"]
        s["both_sides"] = {k: o.get(k) for k in ("both_sides", "ci_low", "ci_high", "political_posts")}
    if not isinstance(results.get("amplifiers"), str):
        s["inbound"] = results["amplifiers"].summary.get("inbound")
    return s


def run_command(inputs: list[str], out: str | Path, **choices: str | None) -> str:
    """The shell command that reproduces a run (recorded in the report's methods)."""
    parts = ["trollscope", "run", *inputs, "-o", str(out)]
    for k, v in choices.items():
        if v:
            parts += [f"--{k.replace('_', '-')}", v]
    return shlex.join(parts)


def demo(out: str | Path, posts: int = 100_000, seed: int = 42, step: Step | None = None) -> dict:
    """Simulate a collection with planted operations into ``out/data``, then ``run`` it into ``out``."""
    from .simulate import simulate

    out = Path(out)
    data = out / "data"
    for old in (data, out / "workspace", out / "exports"):
        shutil.rmtree(old, ignore_errors=True)
    sim = simulate(posts=posts, seed=seed, out=data)
    if step:
        step("simulate", {"posts": sim.posts, "accounts": sim.accounts})
    # Compare the detected clusters with each other: the simulator plants several operations.
    result = run([str(data)], out, by="cluster", step=step, command=run_command([str(data)], out, by="cluster"))
    return result | {
        "data": str(data),
        "truth": str(sim.truth_path),
        "simulated_posts": sim.posts,
        "simulated_accounts": sim.accounts,
    }
