"""Wall time and peak memory of one command, measured from outside (shared by the benchmarks)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
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
    """Run ``cmd``; its wall time and peak resident memory.

    The command runs under the small launcher ``_peak.py``: a child's ru_maxrss starts at the size of
    the process it was forked from, so measuring from this (possibly large) process would inflate it.
    """
    t0 = time.perf_counter()
    launcher = [sys.executable, str(Path(__file__).resolve().parent / "_peak.py")]
    with open(os.devnull, "w") as devnull:
        p = subprocess.run(
            [*launcher, *cmd],
            stdout=subprocess.PIPE,
            stderr=devnull,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            text=True,
        )
    seconds = time.perf_counter() - t0
    lines = p.stdout.rstrip().splitlines()
    peak_mb = float("nan")
    if lines and lines[-1].startswith("PEAK_KB "):
        peak_mb = int(lines[-1].split()[1]) / 1024
        lines = lines[:-1]
    return Measure(seconds, peak_mb, p.returncode, "\n".join(lines))


def tree_rss_kb(root: int) -> int:
    """Resident memory of ``root`` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as fh:
                    parents[int(d)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    tree, frontier = {root}, [root]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parents.items() if pp == p and c not in tree]
        tree.update(kids)
        frontier += kids
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
        except OSError:
            continue
    return total


def run_tree(cmd: list[str], env: dict | None = None) -> Measure:
    """Run ``cmd``; its wall time and the peak of the summed resident memory of its process tree,
    sampled every 0.2 s: a Spark command's JVM is not a child it waits for, so ``wait4`` misses it."""
    t0 = time.perf_counter()
    p = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})}, text=True
    )
    peak = [0]

    def sample() -> None:
        while p.poll() is None:
            peak[0] = max(peak[0], tree_rss_kb(p.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = p.communicate()
    sampler.join()
    return Measure(time.perf_counter() - t0, peak[0] / 1024, p.returncode, out)


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
