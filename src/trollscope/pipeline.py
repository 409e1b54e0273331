"""Several stages in one call: the demo now, the whole run (ingest -> report) as stages land."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from .ingest import ingest


def demo(out: str | Path, posts: int = 200_000, seed: int = 0, step: Callable[[str], None] | None = None) -> dict:
    """Simulate a collection into ``out/data``, ingest it into ``out/workspace``; return what happened."""
    from .simulate import simulate

    out = Path(out)
    data, ws = out / "data", out / "workspace"
    shutil.rmtree(data, ignore_errors=True)
    shutil.rmtree(ws, ignore_errors=True)
    sim = simulate(posts=posts, seed=seed, out=data)
    if step:
        step("simulate")
    result = ingest([str(data)], ws)
    if step:
        step("ingest")
    return {
        "data": str(data),
        "truth": str(sim.truth_path),
        "simulated_posts": sim.posts,
        "simulated_accounts": sim.accounts,
        "workspace": str(ws),
        "ingest": result.as_dict(),
    }
