"""The cross-platform layer with and without near-duplicate texts: what it finds, what it costs.

Writes ``simulate_crossplatform.crossplatform_collection`` at a few sizes (organic channels and
accounts scaled together; the operation stays 6 channels, 10 link accounts and ``--text-accounts``
accounts that push the hub's messages reworded; organic headlines scale with the accounts),
ingests it, and runs ``detect(layers=("cross-platform",))`` with ``cross_near_threshold`` 0.5 and
None. Building and ingesting are not timed; detection is, best of ``--repeat``.

Usage: python benchmarks/crossplatform_near.py [--scales 1,10,100] [--repeat 1]
Prints a Markdown table; paste it into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import trollscope as ts
from trollscope.detect import detect
from trollscope.simulate_crossplatform import crossplatform_collection


def run(scale: int, text_accounts: int, repeat: int, root: Path) -> list[str]:
    c = crossplatform_collection(
        root / f"x{scale}", seed=3, organic_channels=30 * scale, organic_accounts=300 * scale,
        text_accounts=text_accounts, headlines=40 * scale,
    )  # fmt: skip
    ws = root / f"x{scale}" / "ws"
    ts.ingest(str(c.folder), ws)
    posts = c.telegram_messages + c.tweets
    op, text = set(c.operation), set(c.text_accounts)
    rows = []
    for threshold in (0.5, None):
        best, res = float("inf"), None
        for _ in range(repeat):
            t = time.perf_counter()
            res = detect(ws, write=False, layers=("cross-platform",), groups=False, cross_near_threshold=threshold)
            best = min(best, time.perf_counter() - t)
        sig = [e for e in res.edges.to_pylist() if e["significant"]]
        found = {a for e in sig for a in (e["account_a"], e["account_b"])}
        organic = sum(1 for e in sig if not {e["account_a"], e["account_b"]} <= op)
        near = res.layers["cross-platform"].get("near_text") or {}
        rows.append(
            f"| {posts:,} | {threshold} | {len(sig)} | {len(found & text)} of {len(text)} | {organic} | "
            f"{res.layers['cross-platform']['candidate_edges']:,} | {near.get('texts', '–')} | {near.get('items', '–')} | "
            f"{near.get('largest_item', '–')} | {best:.1f} |"
        )
    shutil.rmtree(root / f"x{scale}")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="1,10,100")
    ap.add_argument("--text-accounts", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    print(
        "| posts | cross_near_threshold | significant pairs | text accounts found | organic pairs | candidate pairs "
        "| near texts | near items | largest item (texts) | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for scale in (int(s) for s in args.scales.split(",")):
            for row in run(scale, args.text_accounts, args.repeat, Path(tmp)):
                print(row, flush=True)


if __name__ == "__main__":
    main()
