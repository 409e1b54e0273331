"""Workbench latency on a workspace: every API route over loopback, a 200-request burst, and how long
Chromium takes to lay out and draw the largest graph.

    python benchmarks/serve.py WORKSPACE [--repeat 30] [--draws 5]

Prints one JSON document. Each route is asked ``--repeat`` times one after another (after one warm-up
request), through a real uvicorn server on 127.0.0.1; p50/p95 are over those answers. The burst is
200 requests at once over the same routes but the exports. The draw is the network view of every flagged account
(#/graph), timed in the page from the graph data's arrival to sigma's first frame
(``window.workbench.drawMs``), plus the whole navigation until the canvas is there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import httpx
from serve_helpers import running_server

from trollscope.serve import GraphQuery, Workbench


def routes(wb: Workbench) -> dict[str, str]:
    """Representative calls: the largest cluster, its busiest member, a common and a rare word."""
    clusters = wb.clusters(limit=500)["clusters"]
    big = max(clusters, key=lambda c: c["size"])["cluster_id"]
    member = max(wb.cluster(big)["members"], key=lambda m: m["posts"])["account_id"]
    edge = max(wb.graph(GraphQuery(cluster=big))["edges"], key=lambda e: e["evidence"])
    return {
        "summary": "/api/summary",
        "clusters": "/api/clusters",
        "cluster (largest)": f"/api/clusters/{big}",
        "account (busiest member)": f"/api/accounts/{quote(member)}",
        "posts: search 'the'": "/api/posts?q=the",
        "posts: search 'fracking'": "/api/posts?q=fracking",
        "posts: cluster + dates": f"/api/posts?cluster={big}&since=2016-01-01&until=2016-12-31",
        "posts: account, page 3": f"/api/posts?account={quote(member)}&offset=100",
        "graph (largest cluster)": f"/api/graph?cluster={big}",
        "graph (all flagged)": "/api/graph",
        "evidence (one edge)": f"/api/evidence?layer={edge['layer']}&a={quote(edge['source'])}&b={quote(edge['target'])}",
        "export GEXF (largest cluster)": f"/api/graph.gexf?cluster={big}",
        "export posts CSV (largest cluster)": f"/api/posts.csv?cluster={big}",
    }


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p * len(xs)) - 1))]


def sequential(url: str, paths: dict[str, str], repeat: int) -> dict[str, dict]:
    out = {}
    with httpx.Client(base_url=url, timeout=60) as c:
        for name, path in paths.items():
            assert c.get(path).status_code == 200, path
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                r = c.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200
            out[name] = {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(pct(times, 0.95), 1),
                         "bytes": len(r.content)}  # fmt: skip
    return out


def burst(url: str, paths: list[str], n: int = 200) -> dict:
    async def go() -> list[float]:
        async with httpx.AsyncClient(base_url=url, timeout=120, limits=httpx.Limits(max_connections=n)) as c:

            async def one(i: int) -> float:
                t0 = time.perf_counter()
                r = await c.get(paths[i % len(paths)])
                assert r.status_code == 200
                return (time.perf_counter() - t0) * 1000

            return await asyncio.gather(*(one(i) for i in range(n)))

    t0 = time.perf_counter()
    times = asyncio.run(go())
    return {"requests": n, "p50_ms": round(statistics.median(times)), "p95_ms": round(pct(times, 0.95)),
            "wall_s": round(time.perf_counter() - t0, 2)}  # fmt: skip


def draw(url: str, draws: int) -> dict:
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
    inside, whole, nodes, edges = [], [], 0, 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=args)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for i in range(draws + 1):
            page.goto(url + "#/")
            page.wait_for_selector("main[data-ready=home]")
            t0 = time.perf_counter()
            page.goto(url + "#/graph")
            page.wait_for_selector("main[data-ready=graph] #graph canvas")
            if i:  # the first draw warms the browser's caches
                whole.append((time.perf_counter() - t0) * 1000)
                inside.append(page.evaluate("window.workbench.drawMs"))
            nodes, edges = page.evaluate("[window.workbench.graph.order, window.workbench.graph.size]")
        page.screenshot(path="/tmp/trollscope-serve-graph.png")
        browser.close()
    return {"nodes": nodes, "edges": edges, "layout_and_draw_ms": {"median": round(statistics.median(inside)), "max": round(max(inside))},
            "navigation_ms": {"median": round(statistics.median(whole)), "max": round(max(whole))}}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("workspace", type=Path)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--draws", type=int, default=5)
    a = ap.parse_args()
    t0 = time.perf_counter()
    wb = Workbench(a.workspace)
    load_s = time.perf_counter() - t0
    paths = routes(wb)
    with running_server(wb) as url:
        out = {
            "workspace": str(a.workspace),
            "posts": wb.summary()["posts"],
            "load_s": round(load_s, 2),
            "routes": sequential(url, paths, a.repeat),
            "burst": burst(url, [v for k, v in paths.items() if not k.startswith("export")]),
            "draw": draw(url, a.draws),
        }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
