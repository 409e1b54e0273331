"""`trollscope serve` and `trollscope run --serve` as commands: the URL they print answers, and
anything but a loopback --host needs --allow-remote and is warned about."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from serve_helpers import detected_workspace, tree_digest

from trollscope.cli import main
from trollscope.simulate import simulate

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _start(args: list[str]) -> tuple[subprocess.Popen, str]:
    """Start a trollscope command that serves; wait for the URL line it prints (on stdout or stderr)."""
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "trollscope", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)  # fmt: skip
    deadline = time.monotonic() + 120
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "workbench on http://" in line:
            return proc, line.split("workbench on ")[1].split()[0]
    proc.kill()
    raise AssertionError("no URL printed:\n" + "".join(lines))


def _stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(20)
    finally:
        if proc.poll() is None:
            proc.kill()


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def test_serve_prints_a_url_that_answers(tmp_path: Path) -> None:
    ws = detected_workspace(tmp_path, posts=10_000, seed=2)
    before = tree_digest(ws)
    proc, url = _start(["serve", "-w", str(ws), "-p", "0"])
    try:
        assert url.startswith("http://127.0.0.1:")
        summary = _get(url + "api/summary")
        assert summary["posts"] > 0 and summary["workspace"] == str(ws)
        with urllib.request.urlopen(url, timeout=30) as r:
            assert b"trollscope workbench" in r.read()
    finally:
        _stop(proc)
    assert tree_digest(ws) == before


def test_serve_json_is_one_document_on_stdout(tmp_path: Path) -> None:
    ws = detected_workspace(tmp_path, posts=5_000, seed=3)
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "trollscope", "serve", "-w", str(ws), "-p", "0", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)  # fmt: skip
    try:
        lines = []
        while not lines or lines[-1] != "}\n":
            line = proc.stdout.readline()
            assert line, "serve --json printed no document"
            lines.append(line)
        d = json.loads("".join(lines))
        assert d["url"].startswith("http://127.0.0.1:") and d["read_only"] is True
        assert _get(d["url"] + "api/summary")["posts"] == d["posts"] > 0
    finally:
        _stop(proc)


def test_remote_host_needs_the_flag_and_is_warned_about(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["serve", "-w", str(tmp_path / "nowhere"), "--host", "0.0.0.0"])
    assert r.exit_code == 2 and "--allow-remote" in r.output
    r = CliRunner().invoke(main, ["serve", "-w", str(tmp_path / "nowhere"), "--host", "0.0.0.0", "--allow-remote"])
    assert "warning: serving on 0.0.0.0" in r.output and "no login" in r.output
    assert r.exit_code == 1 and "no workspace" in r.output  # it stops at the missing workspace, before listening
    assert "--host" in CliRunner().invoke(main, ["serve", "--help"]).output


@pytest.mark.slow
def test_run_then_serve(tmp_path: Path) -> None:
    simulate(posts=20_000, seed=4, out=tmp_path / "data")
    proc, url = _start(["run", str(tmp_path / "data"), "-o", str(tmp_path / "out"), "-q", "--serve", "--port", "0"])
    try:
        summary = _get(url + "api/summary")
        assert summary["workspace"] == str(tmp_path / "out" / "workspace")
        assert summary["detection"]["clusters"] == len(_get(url + "api/clusters")["clusters"]) > 0
    finally:
        _stop(proc)
    assert (tmp_path / "out" / "report.html").exists()
