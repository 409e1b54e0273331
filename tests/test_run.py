"""`trollscope run`, `report` and `demo`: raw files to a report in one command."""

from __future__ import annotations

import csv
import gzip
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_report import parse

from trollscope.cli import main
from trollscope.pipeline import STAGES
from trollscope.simulate import simulate
from trollscope.workspace import Workspace


def _figures(path: Path) -> dict:
    return parse(path).figures


@pytest.fixture(scope="module")
def sim_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("sim") / "data"
    simulate(posts=30_000, seed=5, out=data)
    return data


def test_run_writes_workspace_report_and_exports(sim_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(sim_data), "-o", str(out), "--by", "cluster", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)  # --json: stdout is one document
    assert list(d["stages"]) == list(STAGES)
    assert Path(d["report"]) == out / "report.html" and (out / "report.html").stat().st_size == d["report_bytes"]
    assert (out / "workspace" / "workspace.json").exists()
    assert {Path(f).name for f in d["exports"]} >= {
        "coordination.gexf",
        "coordination.graphml",
        "clusters.csv",
        "timeline.csv",
        "targeting.periods.csv",
        "amplifiers.csv",
    }
    con = Workspace(out / "workspace", create=False).connect()
    assert d["summary"]["clusters"] == con.execute("SELECT count(*) FROM clusters").fetchall()[0][0]
    assert d["stages"]["ingest"]["stored"] == con.execute("SELECT count(*) FROM posts").fetchall()[0][0]
    # the run's choices are in the manifest, so `report -w` rebuilds the same report
    assert Workspace(out / "workspace", create=False).params("run")["by"] == "cluster"
    rebuilt = tmp_path / "again.html"
    r2 = CliRunner().invoke(main, ["report", "-w", str(out / "workspace"), "--output", str(rebuilt)])
    assert r2.exit_code == 0, r2.output
    assert "report: " in r2.stdout
    assert _figures(rebuilt) == _figures(out / "report.html")


def test_run_prints_progress_per_stage_and_a_summary(sim_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(sim_data), "-o", str(out), "--accounts", "all"])
    assert r.exit_code == 0, r.output
    stages = [line.split("]", 1)[1].split()[0] for line in r.stderr.splitlines() if line.startswith("[")]
    assert stages == list(STAGES)
    assert "report: " in r.stdout and "both-sides index" in r.stdout
    figs = _figures(out / "report.html")
    con = Workspace(out / "workspace", create=False).connect()
    assert figs["operation.accounts"] == [con.execute("SELECT count(DISTINCT account_id) FROM posts").fetchall()[0][0]]


def test_report_with_another_operation(sim_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["run", str(sim_data), "-o", str(out), "-q"]).exit_code == 0
    other = tmp_path / "all.html"
    r = CliRunner().invoke(main, ["report", "-w", str(out / "workspace"), "--output", str(other), "--accounts", "all"])
    assert r.exit_code == 0, r.output
    con = Workspace(out / "workspace", create=False).connect()
    assert _figures(other)["operation.accounts"] == [
        con.execute("SELECT count(*) FROM account_scores").fetchall()[0][0]
    ]
    assert _figures(out / "report.html")["operation.accounts"] == [
        con.execute("SELECT count(*) FROM account_scores WHERE flagged").fetchall()[0][0]
    ]


def test_report_needs_a_workspace(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["report", "-w", str(tmp_path / "missing"), "--output", str(tmp_path / "r.html")])
    assert r.exit_code == 1 and "Traceback" not in r.output and "no workspace" in r.stderr


@pytest.mark.slow
def test_demo_runs_end_to_end_within_two_minutes(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    r = CliRunner().invoke(main, ["demo", "-o", str(tmp_path / "demo")])
    seconds = time.perf_counter() - t0
    assert r.exit_code == 0, r.output
    assert seconds < 120
    report = (tmp_path / "demo" / "report.html").resolve()
    assert f"your report is at {report}" in r.stdout
    assert _figures(report)["data.posts"] == [100_000]


def _ira_labels(shared: Path) -> dict[str, str]:
    with open(shared / "ira-by-author" / "authors.csv", newline="", encoding="utf-8") as fh:
        return {r["author"]: r["account_category"] for r in csv.DictReader(fh)}


@pytest.mark.real_data
def test_run_on_ira_files_with_labels(shared: Path, tmp_path: Path) -> None:
    """A few IRA author files: `--accounts label:…` selects by the authors.csv labels."""
    files = sorted((shared / "ira-by-author" / "A").glob("*.csv.gz"))[:25]
    inputs = [str(f) for f in files] + [str(shared / "ira-by-author" / "authors.csv")]
    out = tmp_path / "out"
    r = CliRunner().invoke(
        main,
        [
            "run",
            *inputs,
            "-o",
            str(out),
            "--accounts",
            "label:account_category=LeftTroll,RightTroll",
            "--by",
            "label:account_category",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    labels = _ira_labels(shared)
    authors = {f.name.removesuffix(".csv.gz") for f in files}
    wanted = {a for a in authors if labels.get(a) in ("LeftTroll", "RightTroll")}
    posts = 0
    for f in files:
        if f.name.removesuffix(".csv.gz") in wanted:
            with gzip.open(f, "rt", encoding="utf-8", newline="") as fh:
                posts += sum(1 for _ in csv.DictReader(fh))
    figs = _figures(out / "report.html")
    assert figs["operation.accounts"] == [len(wanted)]
    # the targeting figure counts stored posts: records minus exact repeats the ingest dropped
    con = Workspace(out / "workspace", create=False).connect()
    dup = con.execute("SELECT sum(duplicate) FROM ingest_log").fetchall()[0][0]
    assert posts - dup <= figs["targeting.posts"][0] <= posts


@pytest.mark.real_data
@pytest.mark.slow
def test_whole_ira_run_stays_small_and_answers_the_questions(shared: Path, tmp_path: Path) -> None:
    out = tmp_path / "ira"
    t0 = time.perf_counter()
    r = CliRunner().invoke(
        main,
        [
            "run",
            str(shared / "ira-by-author"),
            "-o",
            str(out),
            "-q",
            "--accounts",
            "label:account_category=LeftTroll,RightTroll",
            "--by",
            "label:account_category",
        ],
    )
    assert r.exit_code == 0, r.output
    assert time.perf_counter() - t0 < 600  # minutes, not tens of minutes
    size = (out / "report.html").stat().st_size
    assert size < 25_000_000
    figs = _figures(out / "report.html")
    labels = _ira_labels(shared)
    assert figs["operation.accounts"] == [sum(1 for v in labels.values() if v in ("LeftTroll", "RightTroll"))]
    for key in ("timeline.first_sustained", "targeting.both_sides", "narratives.used", "amplifiers.outbound_targets"):
        assert figs[key][0] is not None, key
