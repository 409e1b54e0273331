"""The HTML report: its figures equal the workspace's, it is self-contained, and it renders in Chromium."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import sample_rows, write_ioarchive

from trollscope.ingest import ingest
from trollscope.investigate.narratives import DEFAULT_TERMS
from trollscope.pipeline import run
from trollscope.report import build_report
from trollscope.simulate import simulate
from trollscope.workspace import Workspace

SECTIONS = ("findings", "data", "coordination", "timeline", "targeting", "narratives", "amplifiers", "methods")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


class _Figures(HTMLParser):
    """Every tagged figure (``data-key`` -> parsed ``data-value``), chart div and section of a report."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, list] = {}
        self.charts: list[str] = []
        self.sections: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if "data-key" in a:
            self.figures.setdefault(a["data-key"], []).append(json.loads(a["data-value"]))
        if "chart" in (a.get("class") or "").split():
            self.charts.append(a["id"])
        if tag == "section":
            self.sections.append(a["id"])
        for attr in ("src", "href"):
            v = a.get(attr) or ""
            if tag in ("script", "link", "img", "iframe") and v and not v.startswith(("#", "data:")):
                self.external.append(v)


def parse(path: Path) -> _Figures:
    p = _Figures()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def value(figs: _Figures, key: str):
    vals = figs.figures[key]
    assert all(v == vals[0] for v in vals), f"{key} shown with different values: {vals}"
    return vals[0]


@pytest.fixture(scope="module")
def simulated_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    simulate(posts=60_000, seed=3, out=out / "data")
    run([str(out / "data")], out, by="cluster")
    return out


def one(con, sql: str, params: list | None = None):
    return con.execute(sql, params or []).fetchall()[0][0]


def test_report_figures_equal_the_workspace(simulated_run: Path) -> None:
    figs = parse(simulated_run / "report.html")
    con = Workspace(simulated_run / "workspace", create=False).connect()
    # data
    assert value(figs, "data.posts") == one(con, "SELECT count(*) FROM posts")
    assert value(figs, "data.accounts") == one(con, "SELECT count(DISTINCT account_id) FROM posts")
    assert value(figs, "data.first_post") == str(one(con, "SELECT min(created_at) FROM posts"))
    assert value(figs, "data.last_post") == str(one(con, "SELECT max(created_at) FROM posts"))
    # coordination
    assert value(figs, "detect.clusters") == one(con, "SELECT count(*) FROM clusters") > 0
    assert value(figs, "detect.flagged") == one(con, "SELECT count(*) FROM account_scores WHERE flagged")
    assert value(figs, "detect.accounts_scored") == one(con, "SELECT count(*) FROM account_scores")
    assert value(figs, "detect.significant_edges") == one(con, "SELECT count(*) FROM edges WHERE significant")
    assert value(figs, "detect.evidence_rows") == one(con, "SELECT count(*) FROM evidence")
    # the operation is the flagged accounts (run's default)
    op = "account_id IN (SELECT account_id FROM account_scores WHERE flagged)"
    assert value(figs, "operation.accounts") == one(con, f"SELECT count(*) FROM account_scores WHERE {op}")
    assert value(figs, "timeline.first_post") == str(one(con, f"SELECT min(created_at) FROM posts WHERE {op}"))
    assert value(figs, "targeting.posts") == one(con, f"SELECT count(*) FROM posts WHERE {op}")
    # the both-sides index is 1 - |L - R| / (L + R) of the left and right posts it reports
    left, right = value(figs, "targeting.left_posts"), value(figs, "targeting.right_posts")
    assert value(figs, "targeting.both_sides") == pytest.approx(1 - abs(left - right) / (left + right))
    assert value(figs, "targeting.ci_low") <= value(figs, "targeting.both_sides") <= value(figs, "targeting.ci_high")
    # every default narrative is listed
    assert value(figs, "narratives.terms") == len(DEFAULT_TERMS.split(","))
    # inbound amplification: outside accounts that repost, quote, reply to or mention an operation account,
    # named by account id, by the referenced post's author, or by handle
    inbound = one(
        con,
        f"""WITH op AS (SELECT account_id, lower(handle) AS h FROM account_scores WHERE flagged),
                 op_post AS (SELECT post_id FROM posts WHERE {op})
            SELECT count(DISTINCT account_id) FROM posts WHERE NOT ({op}) AND (
                   repost_of_account_id IN (SELECT account_id FROM op) OR repost_of_id IN (SELECT post_id FROM op_post)
                OR lower(repost_of_handle) IN (SELECT h FROM op)
                OR quote_of_account_id IN (SELECT account_id FROM op) OR quote_of_id IN (SELECT post_id FROM op_post)
                OR lower(quote_of_handle) IN (SELECT h FROM op)
                OR reply_to_account_id IN (SELECT account_id FROM op) OR reply_to_id IN (SELECT post_id FROM op_post)
                OR lower(reply_to_handle) IN (SELECT h FROM op)
                OR list_has_any(mentions, (SELECT list(h) FROM op)))""",
    )
    assert value(figs, "amplifiers.inbound_accounts") == inbound


def test_report_is_one_self_contained_file(simulated_run: Path) -> None:
    html = (simulated_run / "report.html").read_text(encoding="utf-8")
    figs = parse(simulated_run / "report.html")
    assert figs.sections == list(SECTIONS)
    assert figs.external == []  # no script, style or image from elsewhere
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"https?:", html)
    assert "sourceMappingURL" not in html
    assert set(figs.charts) == {"chart-timeline", "chart-targeting", "chart-narratives", "chart-amplifiers"}
    assert "vegaEmbed" in html and "default-src 'none'" in html  # CSP: the browser itself refuses any fetch
    # every parameter that changed a result is in the methods section
    params = Workspace(simulated_run / "workspace", create=False).params("detect")
    methods = html[html.index('<section id="methods">') :]
    for k in ("alpha", "window", "min_count", "resolution", "seed"):
        assert f">{k}<" in methods and k in params


def test_exports_hold_every_row(simulated_run: Path) -> None:
    ex = simulated_run / "exports"
    for name in (
        "coordination.gexf",
        "coordination.graphml",
        "clusters.csv",
        "evidence.csv",
        "account_scores.csv",
        "timeline.csv",
        "targeting.csv",
        "narratives.csv",
        "amplifiers.csv",
        "amplifiers.inbound_posts.csv",
    ):
        assert (ex / name).stat().st_size > 0, name
    con = Workspace(simulated_run / "workspace", create=False).connect()
    import csv

    with open(ex / "clusters.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == one(con, "SELECT count(*) FROM clusters")


def test_report_says_what_it_could_not_measure(tmp_path: Path) -> None:
    """No detection run and a rejected record: every question says why it is unanswered; rejects are counted."""
    rows = sample_rows(12)
    rows[3]["tweet_time"] = "not a time"
    rows[7]["tweet_time"] = ""
    write_ioarchive(tmp_path / "in" / "tweets.csv", rows)
    ws = tmp_path / "ws"
    ingest([str(tmp_path / "in")], ws)
    r = build_report(ws, tmp_path / "r.html")
    html = r.path.read_text(encoding="utf-8")
    assert html.count('class="unavailable"') == 5  # coordination + the four questions
    assert "Detection has not run" in html
    assert html.count("Not measured: which accounts are the operation?") == 4  # in each section
    (note,) = r.notes  # and once for the command line, naming the four
    assert note.startswith("timeline, targeting, narratives, amplifiers: which accounts are the operation?")
    con = Workspace(ws, create=False).connect()
    rejects = dict(con.execute("SELECT reason, count(*) FROM rejects GROUP BY reason").fetchall())
    assert sum(rejects.values()) == 2
    for reason, n in rejects.items():
        assert f">{reason}<" in html.replace("&#x27;", "'") or reason in html
        assert f'data-sort="{n}"' in html
    assert value(parse(r.path), "data.posts") == 10


# -- in a real browser ------------------------------------------------------------------------


def _browser():
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright not installed (.ci/install-browser.sh)")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed (apt-get install chromium; .ci/install-browser.sh)")
    return playwright


ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def test_report_renders_in_chromium(simulated_run: Path, tmp_path: Path) -> None:
    pw = _browser()
    report = (simulated_run / "report.html").resolve()
    url = report.as_uri()
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            errors, requests = [], []
            page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(url)
            page.wait_for_function(
                "Array.from(document.querySelectorAll('.chart')).every(d => d.querySelector('svg, canvas'))",
                timeout=30_000,
            )
            assert requests == [url]
            assert errors == []
            for s in SECTIONS:
                box = page.locator(f"section#{s}").bounding_box()
                assert box and box["height"] > 50, s
            charts = page.eval_on_selector_all(
                ".chart", "ds => ds.map(d => [d.id, d.querySelectorAll('svg path, svg line, svg rect').length])"
            )
            assert len(charts) == 4 and all(n > 10 for _, n in charts), charts
            assert page.locator("svg.network circle").count() == value(parse(report), "detect.network_nodes")
            # the clusters table comes largest first; one click on its size column sorts it ascending
            table = page.locator("#coordination table").nth(1)
            table.locator('th[data-col="size"]').click()
            sizes = [int(s.replace(",", "")) for s in table.locator("tbody tr td:nth-child(2)").all_inner_texts()]
            assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
            # filter the evidence table to one cluster
            evidence = page.locator("#coordination .tbl").nth(2)
            evidence.locator("input.filter").fill("co-post")
            shown = evidence.locator("tbody tr:visible").all_inner_texts()
            assert shown and all("co-post" in r for r in shown)
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
            page.emulate_media(media="print")
            assert page.locator("nav").is_hidden()
        finally:
            browser.close()
    assert (tmp_path / "report.png").stat().st_size > 10_000
