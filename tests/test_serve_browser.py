"""The workbench as a person uses it, in Debian's Chromium driven by Playwright: home page, a cluster,
its WebGL network, an edge's evidence posts, a search, an account, an export, a shared link."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from serve_helpers import detected_workspace, running_server

from trollscope.serve import GraphQuery, PostQuery, Workbench

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
# Chromium's software WebGL reports its own slow paths as console warnings; they say nothing about the page
GL_NOTE = "GL Driver Message"

# Points on the drawn edges, in page pixels, those far from any node first: where a person would click.
EDGE_POINTS = """() => {
  const s = window.workbench.sigma, g = window.workbench.graph, box = s.getContainer().getBoundingClientRect();
  const pos = {};
  g.forEachNode((n) => { pos[n] = s.graphToViewport(g.getNodeAttributes(n)); });
  const out = [];
  g.forEachEdge((e, attr, a, b) => {
    for (const t of [0.5, 0.35, 0.65]) {
      const m = { x: pos[a].x + t * (pos[b].x - pos[a].x), y: pos[a].y + t * (pos[b].y - pos[a].y) };
      if (m.x < 10 || m.y < 10 || m.x > box.width - 10 || m.y > box.height - 10) continue;
      let near = Infinity;
      g.forEachNode((n) => { near = Math.min(near, Math.hypot(pos[n].x - m.x, pos[n].y - m.y)); });
      out.push({ edge: e, x: box.left + m.x, y: box.top + m.y, near });
    }
  });
  return out.sort((p, q) => q.near - p.near).slice(0, 60);
}"""


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Workbench:
    return Workbench(detected_workspace(tmp_path_factory.mktemp("serve-browser")))


def _playwright():
    pw = pytest.importorskip("playwright.sync_api", reason="playwright not installed (.ci/install-browser.sh)")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed (apt-get install chromium; .ci/install-browser.sh)")
    return pw


def test_workbench_in_chromium(wb: Workbench, tmp_path: Path) -> None:
    pw = _playwright()
    with running_server(wb) as url, pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            problems, hosts = [], set()
            page.on(
                "console",
                lambda m: (
                    problems.append(m.text)
                    if m.type == "error" or (m.type == "warning" and GL_NOTE not in m.text)
                    else None
                ),
            )
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: hosts.add(urlparse(r.url).hostname))

            # home: the clusters, strongest first, with their top accounts
            page.goto(url)
            page.wait_for_selector("main[data-ready=home]")
            rows = page.locator("main table").first.locator("tbody tr")
            assert rows.count() == len(wb.clusters()["clusters"]) > 0
            page.screenshot(path=str(tmp_path / "home.png"), full_page=True)

            # a cluster: its network drawn in WebGL
            rows.first.locator("a").first.click()
            page.wait_for_selector("main[data-ready=cluster] #graph canvas")
            cid = int(page.url.split("#/cluster/")[1].split("?")[0])
            graph = wb.graph(GraphQuery(cluster=cid))
            assert page.evaluate("window.workbench.graph.order") == len(graph["nodes"])
            assert page.evaluate("window.workbench.graph.size") == len(graph["edges"])
            size = page.evaluate("[...document.querySelectorAll('#graph canvas')].map(c => c.width * c.height)")
            assert size and max(size) > 100_000

            # click an edge: its evidence posts, with times and texts, as the API has them
            for point in page.evaluate(EDGE_POINTS):  # move along the edges until the pointer is on one
                page.mouse.move(point["x"], point["y"])
                if page.evaluate("window.workbench.hoverEdge && !window.workbench.hoverNode"):
                    break
            else:
                pytest.fail("the pointer found no edge to click")
            page.mouse.click(point["x"], point["y"])
            page.wait_for_selector("#evidence h2")
            chosen = unquote(page.url.split("edge=")[1]).split(
                "|", 2
            )  # the edge under the pointer, as the URL keeps it
            assert chosen[0] in graph["layers"]
            ev = wb.evidence(chosen[0], chosen[1], chosen[2])["evidence"]
            pairs = page.locator("#evidence .evidence-pair")
            assert pairs.count() == len(ev)
            if ev:
                first = pairs.first.inner_text()
                assert ev[0]["text_a"][:30] in first and ev[0]["time_a"] in first
            page.screenshot(path=str(tmp_path / "cluster.png"), full_page=True)

            # the link holds the view: a new tab on it shows the same edge's evidence
            other = browser.new_page(viewport={"width": 1400, "height": 1000})
            other.on("request", lambda r: hosts.add(urlparse(r.url).hostname))
            other.goto(page.url)
            other.wait_for_selector("#evidence h2")
            assert other.locator("#evidence .evidence-pair").count() == len(ev)
            other.close()

            # search the text from the header box
            word = "the"
            page.fill("#quick-q", word)
            page.press("#quick-q", "Enter")
            page.wait_for_selector("main[data-ready=posts]")
            total = wb.posts(PostQuery(q=word))["total"]
            assert f"of {total:,} posts" in page.locator("#post-count").inner_text()
            texts = page.locator("main table tbody td.text").all_inner_texts()
            assert texts and all(word in t.lower() for t in texts)

            # follow an account, then export its posts
            page.locator("main table tbody tr").first.locator("a").first.click()
            page.wait_for_selector("main[data-ready=account]")
            handle = page.locator("h1").inner_text()
            assert handle.startswith("@")
            account = wb.account(page.url.split("#/account/")[1].split("?")[0])
            with page.expect_download() as dl:
                page.get_by_text("Export posts CSV").click()
            saved = tmp_path / "posts.csv"
            dl.value.save_as(saved)
            rows_out = list(csv.DictReader(saved.open(encoding="utf-8-sig")))
            assert len(rows_out) == account["posts"] and {r["account_id"] for r in rows_out} == {account["account_id"]}
            page.screenshot(path=str(tmp_path / "account.png"), full_page=True)

            # the whole flagged network, coloured by cluster
            page.goto(url + "#/graph")
            page.wait_for_selector("main[data-ready=graph] #graph canvas")
            assert page.evaluate("window.workbench.drawMs") < 10_000
        finally:
            browser.close()
    assert problems == []
    assert hosts == {"127.0.0.1"}
    for name in ("home", "cluster", "account"):
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
