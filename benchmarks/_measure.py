"""Wall time and peak memory of one command, measured from outside (shared by the benchmarks)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TROLLSCOPE_SHARED", ROOT.parent / "shared")) / "data"
WORK = ROOT / "benchmarks" / ".work"
PEERS_VENV = ROOT / "benchmarks" / ".venv-peers"


@dataclass
class Measure:
    seconds: float
    peak_mb: float
    returncode: int
    stdout: str


def run(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> Measure:
    """Run ``cmd``; its wall time and peak resident memory (from wait4, so only this child counts)."""
    t0 = time.perf_counter()
    with open(os.devnull, "w") as devnull:
        p = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=devnull, env={**os.environ, **(env or {})}, cwd=cwd, text=True
        )
        out = p.stdout.read() if p.stdout else ""
        _, status, usage = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return Measure(seconds, usage.ru_maxrss / 1024, p.returncode, out)


def peers_python() -> str:
    """The interpreter of the peers' own environment (created on first use; the project never imports them)."""
    py = PEERS_VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "coordination-network-toolkit", "coordinationz"], check=True
        )
    return str(py)


def table(rows: list[tuple], headers: tuple[str, ...]) -> str:
    """A Markdown table."""
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)
