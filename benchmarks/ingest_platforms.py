"""Ingest speed per platform format.

The real samples in ../shared/data/platforms are too small to time, so each is scaled up: its
records are repeated with new ids (and new times) until the file holds about ``--records``
records, then ingested into a fresh workspace, best of ``--repeat`` runs. CrowdTangle and the Meta
Content Library have no real sample: their fixtures (tests/data/platforms) are repeated the same way. Building the inputs is not
timed. The Twitter formats are measured in the "Ingest" section of RESULTS.md.

Usage: python benchmarks/ingest_platforms.py [--records 50000] [--repeat 3]
Prints a Markdown table; paste it into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import zstandard

import trollscope as ts

ROOT = Path(__file__).resolve().parents[1]
PLATFORMS = ROOT.parent / "shared" / "data" / "platforms"
FIXTURES = ROOT / "tests" / "data" / "platforms"


def _jsonl(path: Path) -> list[dict]:
    raw = path.read_bytes()
    if raw[:4] == b"\x28\xb5\x2f\xfd":
        raw = zstandard.ZstdDecompressor().stream_reader(raw).read()
    return [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]


def _copies(items: list, n: int, renew: Callable[[object, int], object]) -> list:
    """``n`` items: the originals, then copies with their ids made unique by ``renew(item, k)``."""
    out = []
    k = 0
    while len(out) < n:
        for x in items:
            out.append(renew(copy.deepcopy(x), k) if k else x)
            if len(out) == n:
                break
        k += 1
    return out


def reddit(out: Path, n: int) -> Path:
    lines = _jsonl(PLATFORMS / "reddit_pushshift" / "RC_2006-01.ndjson")

    def renew(x: dict, k: int) -> dict:
        x["id"] = f"{x['id']}x{k}"
        x["created_utc"] = int(x["created_utc"]) + k
        return x

    p = out / "RC.ndjson"
    p.write_text("\n".join(json.dumps(x) for x in _copies(lines, n, renew)) + "\n")
    return p


def telethon(out: Path, n: int) -> Path:
    lines = _jsonl(PLATFORMS / "telegram_telethon" / "onepiecespoilhere_1508897975.txt")

    def renew(x: dict, k: int) -> dict:
        x["id"] = x["id"] + 10_000_000 * k
        return x

    p = out / "dump.jsonl"
    p.write_text("\n".join(json.dumps(x) for x in _copies(lines, n, renew)) + "\n")
    return p


def bluesky(out: Path, n: int) -> Path:
    events = [
        e
        for e in _jsonl(PLATFORMS / "bluesky_jetstream" / "jetstream_v1_capture_2026-07-04.jsonl")
        if e.get("commit", {}).get("collection") in ("app.bsky.feed.post", "app.bsky.feed.repost")
        and e["commit"]["operation"] == "create"
    ]

    def renew(x: dict, k: int) -> dict:
        x["commit"]["rkey"] += f"x{k}"
        return x

    p = out / "jetstream.jsonl"
    p.write_text("\n".join(json.dumps(x) for x in _copies(events, n, renew)) + "\n")
    return p


def telegram(out: Path, n: int) -> Path:
    doc = json.loads((PLATFORMS / "telegram_desktop" / "trantor_library_public_channel_result.json").read_text())
    msgs = [m for m in doc["messages"] if m["type"] == "message"]

    def renew(m: dict, k: int) -> dict:
        m["id"] = m["id"] + 1_000_000 * k
        return m

    doc["messages"] = _copies(msgs, n, renew)
    p = out / "result.json"
    p.write_text(json.dumps(doc, ensure_ascii=False, indent=1))
    return p


def mastodon(out: Path, n: int) -> Path:
    doc = json.loads((PLATFORMS / "mastodon" / "context_112877048885433037.json").read_text())
    statuses = doc["ancestors"] + doc["descendants"]

    def renew(s: dict, k: int) -> dict:
        s["id"] = f"{s['id']}{k:04d}"
        s["content"] += f"<p>copy {k}</p>"  # every HTML distinct: the parse runs once per distinct one
        return s

    p = out / "statuses.json"
    p.write_text(json.dumps(_copies(statuses, n, renew)))
    return p


def tgdataset(out: Path, n: int) -> Path:
    doc = json.loads((PLATFORMS / "telegram_tgdataset" / "tgdataset_preview.json").read_text())
    per = sum(len(c["text_messages"]) for c in doc.values())
    big = {}
    for k in range(-(-n // per)):
        for cid, c in doc.items():
            big[f"{cid}{k:03d}"] = c
    p = out / "tgdataset.json"
    p.write_text(json.dumps(big))
    return p


def _repeat_csv(fixture: str, out: Path, n: int, id_column: str, suffix: Callable[[int], str]) -> Path:
    """``n`` rows of a fixture's readable rows (those with a date), each id made unique by ``suffix(i)``."""
    with open(FIXTURES / fixture, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    body = [r for r in rows[1:] if not {"not a date", "yesterday"} & set(r)]
    key = header.index(id_column)
    p = out / fixture
    with open(p, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i in range(n):
            r = list(body[i % len(body)])
            r[key] += suffix(i)
            w.writerow(r)
    return p


def crowdtangle(out: Path, n: int) -> Path:
    return _repeat_csv("crowdtangle_facebook.csv", out, n, "URL", lambda i: f"?n={i}")


def mcl(out: Path, n: int) -> Path:
    return _repeat_csv("mcl_facebook.csv", out, n, "id", lambda i: f"{i:07d}")


FORMATS = {
    "telegram": telegram, "telethon": telethon, "tgdataset": tgdataset, "reddit": reddit,
    "mastodon": mastodon, "bluesky": bluesky, "crowdtangle": crowdtangle, "mcl": mcl,
}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", nargs="*", help="formats to time (default: all)")
    args = ap.parse_args()
    print("| format | input | records | stored | seconds (best) | records/s |")
    print("|---|---|---|---|---|---|")
    for name, build in FORMATS.items():
        if args.only and name not in args.only:
            continue
        with tempfile.TemporaryDirectory() as d:
            src = Path(d) / "in"
            src.mkdir()
            path = build(src, args.records)
            best, r = float("inf"), None
            for _ in range(args.repeat):
                ws = Path(d) / "ws"
                shutil.rmtree(ws, ignore_errors=True)
                t = time.perf_counter()
                r = ts.ingest(str(path), ws)
                best = min(best, time.perf_counter() - t)
            assert r is not None and r.readers == {name: 1}, r
            assert r.records == r.stored + r.rejected + r.duplicate
            size = path.stat().st_size / 1e6
            print(
                f"| `{name}` | {path.name}, {size:,.0f} MB | {r.records:,} | {r.stored:,} | {best:.2f} | {r.records / best:,.0f} |"
            )


if __name__ == "__main__":
    main()
