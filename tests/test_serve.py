"""The workbench's JSON API: its answers equal independent queries of the workspace, and it is safe
by default (bounded parameters, JSON errors, no traversal, a CSP, the workspace left untouched)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serve_helpers import detected_workspace, running_server, tree_digest
from starlette.testclient import TestClient

from trollscope.serve import Workbench, create_app
from trollscope.serve.app import CSP
from trollscope.serve.data import MAX_LIMIT
from trollscope.workspace import Workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return detected_workspace(tmp_path_factory.mktemp("serve"))


@pytest.fixture(scope="module")
def digest_before(ws: Path) -> dict:
    return tree_digest(ws)


@pytest.fixture(scope="module")
def wb(ws: Path, digest_before: dict) -> Workbench:
    return Workbench(ws)


@pytest.fixture(scope="module")
def client(wb: Workbench) -> TestClient:
    # Host 127.0.0.1, as a browser on this machine sends it; server errors come back as responses
    return TestClient(create_app(wb), base_url="http://127.0.0.1:8765", raise_server_exceptions=False)


@pytest.fixture(scope="module")
def con(ws: Path):
    c = Workspace(ws, create=False).connect()
    yield c
    c.close()


def q(con, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def get(client: TestClient, url: str, status: int = 200) -> dict:
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:300])
    return r.json()


# -- answers equal the workspace --------------------------------------------------------------
def test_summary_counts(client: TestClient, con) -> None:
    s = get(client, "/api/summary")
    posts, accounts, first, last = q(
        con, "SELECT count(*), count(DISTINCT account_id), min(created_at), max(created_at) FROM posts"
    )[0]
    assert (s["posts"], s["accounts"]) == (posts, accounts)
    assert s["first_post"] == str(first) and s["last_post"] == str(last)
    assert s["detection"]["clusters"] == q(con, "SELECT count(*) FROM clusters")[0][0] > 0
    assert s["detection"]["flagged"] == q(con, "SELECT count(*) FROM account_scores WHERE flagged")[0][0]
    assert {x["layer"]: x["significant"] for x in s["layers"]} == dict(
        q(con, "SELECT layer, count(*) FILTER (significant) FROM edges GROUP BY 1")
    )
    assert sum(x["posts"] for x in s["timeline"]) == posts
    assert s["sources"][0]["stored"] == posts
    months = get(client, "/api/summary?scale=month")["timeline"]
    assert sum(x["posts"] for x in months) == posts and len(months) < len(s["timeline"])
    assert s["params"]["alpha"] == Workspace(s["workspace"], create=False).params("detect")["alpha"]


def test_clusters_ranked_by_evidence_with_top_accounts(client: TestClient, con) -> None:
    c = get(client, "/api/clusters")
    expected = [r[0] for r in q(con, "SELECT cluster_id FROM clusters ORDER BY p_value, score DESC, cluster_id")]
    assert [x["cluster_id"] for x in c["clusters"]] == expected and c["total"] == len(expected)
    for x in c["clusters"]:
        members = {
            r[0] for r in q(con, "SELECT account_id FROM cluster_members WHERE cluster_id = ?", [x["cluster_id"]])
        }
        tops = [a["account_id"] for a in x["top_accounts"]]
        assert 0 < len(tops) <= 5 and set(tops) <= members
    page = get(client, "/api/clusters?limit=1&offset=1")
    assert [x["cluster_id"] for x in page["clusters"]] == expected[1:2]
    layer = q(con, "SELECT layer FROM edges WHERE significant GROUP BY 1 ORDER BY count(*) LIMIT 1")[0][0]
    some = get(client, f"/api/clusters?layer={layer}")["clusters"]
    assert all(x["layers"].get(layer, 0) > 0 for x in some)


def test_cluster_members_and_timeline_against_the_rest(client: TestClient, con) -> None:
    cid = q(con, "SELECT cluster_id FROM clusters ORDER BY size DESC LIMIT 1")[0][0]
    c = get(client, f"/api/clusters/{cid}")
    members = {r[0] for r in q(con, "SELECT account_id FROM cluster_members WHERE cluster_id = ?", [cid])}
    assert {m["account_id"] for m in c["members"]} == members and c["cluster"]["size"] == len(members)
    in_posts = q(
        con,
        "SELECT count(*) FROM posts WHERE account_id IN (SELECT account_id FROM cluster_members WHERE cluster_id = ?)",
        [cid],
    )[0][0]
    total = q(con, "SELECT count(*) FROM posts")[0][0]
    assert sum(w["cluster"] for w in c["timeline"]) == in_posts
    assert sum(w["rest"] for w in c["timeline"]) == total - in_posts
    assert sum(m["posts"] for m in c["members"]) == in_posts
    get(client, "/api/clusters/999999", 404)


def test_account_by_id_or_handle(client: TestClient, con) -> None:
    account_id, handle = q(
        con, "SELECT account_id, handle FROM account_scores WHERE flagged ORDER BY partners DESC LIMIT 1"
    )[0]
    a = get(client, f"/api/accounts/{account_id}")
    assert get(client, f"/api/accounts/@{handle.upper()}")["account_id"] == account_id
    assert a["posts"] == q(con, "SELECT count(*) FROM posts WHERE account_id = ?", [account_id])[0][0]
    assert a["detection"]["flagged"] is True and a["clusters"]
    partners = q(
        con,
        """SELECT CASE WHEN account_a = ? THEN account_b ELSE account_a END AS p, count(*), sum(count)
                         FROM edges WHERE significant AND ? IN (account_a, account_b) GROUP BY 1""",
        [account_id] * 2,
    )
    assert {p["account_id"]: (len(p["layers"]), p["count"]) for p in a["partners"]} == {
        p: (n, c) for p, n, c in partners
    }
    assert sum(w["posts"] for w in a["timeline"]) == a["posts"]
    assert a["classifier"] is None  # no --model
    get(client, "/api/accounts/nobody-has-this-handle", 404)


def test_post_search_filters(client: TestClient, con) -> None:
    word = "the"
    cid = q(con, "SELECT cluster_id FROM clusters ORDER BY size DESC LIMIT 1")[0][0]
    url = f"/api/posts?q={word.upper()}&cluster={cid}&since=2016-01-01&until=2016-12-31&limit=7"
    res = get(client, url)
    expected = q(
        con,
        """SELECT post_id FROM posts WHERE strpos(lower(text), ?) > 0
                         AND account_id IN (SELECT account_id FROM cluster_members WHERE cluster_id = ?)
                         AND created_at >= '2016-01-01' AND created_at < '2017-01-01' ORDER BY created_at, post_id""",
        [word, cid],
    )
    assert res["total"] == len(expected) > 7
    pages = [p["post_id"] for o in range(0, len(expected), 7) for p in get(client, url + f"&offset={o}")["posts"]]
    assert pages == [r[0] for r in expected]
    # characters that mean something in a LIKE or a pattern are matched as themselves
    for term in (".", "(", "%", "_", "\\", "*", "'"):
        n = q(con, "SELECT count(*) FROM posts WHERE strpos(text, ?) > 0", [term])[0][0]
        assert get(client, f"/api/posts?q={_enc(term)}&limit=1")["total"] == n, term
    kind = get(client, "/api/posts?kind=repost&limit=500")
    assert kind["total"] == q(con, "SELECT count(*) FROM posts WHERE kind = 'repost'")[0][0]
    assert all(p["kind"] == "repost" for p in kind["posts"])


def _enc(s: str) -> str:
    from urllib.parse import quote

    return quote(s, safe="")


def test_graph_of_a_cluster(client: TestClient, con) -> None:
    cid = q(con, "SELECT cluster_id FROM clusters ORDER BY size DESC LIMIT 1")[0][0]
    g = get(client, f"/api/graph?cluster={cid}")
    members = {r[0] for r in q(con, "SELECT account_id FROM cluster_members WHERE cluster_id = ?", [cid])}
    assert {n["id"] for n in g["nodes"]} == members
    expected = q(
        con,
        """SELECT layer, account_a, account_b, count FROM edges WHERE significant
                         AND account_a IN (SELECT account_id FROM cluster_members WHERE cluster_id = ?)
                         AND account_b IN (SELECT account_id FROM cluster_members WHERE cluster_id = ?)""",
        [cid, cid],
    )
    assert sorted((e["layer"], e["source"], e["target"], e["weight"]) for e in g["edges"]) == sorted(expected)
    layer = expected[0][0]
    weights = sorted(x[3] for x in expected if x[0] == layer)
    heavy = weights[len(weights) // 2]
    f = get(client, f"/api/graph?cluster={cid}&layer={layer}&min_weight={heavy}")
    assert f["edges"] and all(e["layer"] == layer and e["weight"] >= heavy for e in f["edges"])
    assert len(f["edges"]) == sum(1 for x in expected if x[0] == layer and x[3] >= heavy)
    first, last = q(con, "SELECT min(first_at), max(last_at) FROM edges WHERE significant")[0]
    mid = first + (last - first) / 2
    day = mid.date().isoformat()
    dated = get(client, f"/api/graph?cluster={cid}&since={day}&until={day}")
    in_span = q(con, """SELECT count(*) FROM edges WHERE significant AND last_at >= ?::DATE AND first_at < ?::DATE + 1
                        AND account_a IN (SELECT account_id FROM cluster_members WHERE cluster_id = ?)
                        AND account_b IN (SELECT account_id FROM cluster_members WHERE cluster_id = ?)""", [day, day, cid, cid])[0][0]  # fmt: skip
    assert len(dated["edges"]) == in_span < len(expected)
    whole = get(client, "/api/graph")
    assert {n["id"] for n in whole["nodes"]} == {
        r[0] for r in q(con, "SELECT account_id FROM account_scores WHERE flagged")
    }
    assert len(get(client, "/api/graph?max_nodes=3")["nodes"]) == 3
    get(client, "/api/graph?cluster=999999", 404)


def test_evidence_behind_an_edge(client: TestClient, con) -> None:
    layer, a, b, n = q(con, "SELECT layer, account_a, account_b, len(evidence) FROM edges WHERE significant AND len(evidence) > 0 "
                            "ORDER BY count DESC LIMIT 1")[0]  # fmt: skip
    ev = get(client, f"/api/evidence?layer={layer}&a={_enc(b)}&b={_enc(a)}")  # either order
    assert len(ev["evidence"]) == n
    texts = dict(q(con, "SELECT post_id, text FROM posts WHERE account_id IN (?, ?)", [a, b]))
    for x in ev["evidence"]:
        assert texts[x["post_a"]] == x["text_a"] and texts[x["post_b"]] == x["text_b"]
        assert x["time_a"] and x["time_b"]
    get(client, f"/api/evidence?layer={layer}&a={_enc(a)}&b=nobody", 404)
    get(client, f"/api/evidence?layer={layer}&a={_enc(a)}", 400)


def test_exports(client: TestClient, con) -> None:
    cid = q(con, "SELECT cluster_id FROM clusters ORDER BY size DESC LIMIT 1")[0][0]
    g = get(client, f"/api/graph?cluster={cid}")
    r = client.get(f"/api/graph.gexf?cluster={cid}")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    root = ET.fromstring(r.content)
    ns = {"g": "http://gexf.net/1.3"}
    assert {n.get("id") for n in root.iterfind(".//g:node", ns)} == {n["id"] for n in g["nodes"]}
    assert len(root.findall(".//g:edge", ns)) == len(g["edges"])
    edges = list(csv.DictReader(io.StringIO(client.get(f"/api/graph.csv?cluster={cid}").content.decode("utf-8-sig"))))
    assert len(edges) == len(g["edges"]) and {"source_handle", "layer", "weight"} <= set(edges[0])
    members = list(
        csv.DictReader(io.StringIO(client.get(f"/api/clusters/{cid}/members.csv").content.decode("utf-8-sig")))
    )
    assert len(members) == len(g["nodes"])
    posts = list(csv.DictReader(io.StringIO(client.get(f"/api/posts.csv?cluster={cid}").content.decode("utf-8-sig"))))
    assert len(posts) == get(client, f"/api/posts?cluster={cid}")["total"]


def test_csv_cells_cannot_run_as_formulas() -> None:
    from trollscope.serve.export import to_csv

    out = to_csv([{"text": '=HYPERLINK("x")', "n": -3, "h": "@user"}]).decode("utf-8-sig")
    row = list(csv.reader(io.StringIO(out)))[1]
    assert row == ['\'=HYPERLINK("x")', "-3", "'@user"]


# -- safe by default ----------------------------------------------------------------------------
def test_errors_are_json_and_bounded(client: TestClient) -> None:
    for url, status in [
        ("/api/nope", 404),
        ("/nope", 404),
        ("/api/clusters/abc", 400),
        ("/api/clusters/-1", 400),
        ("/api/posts?limit=ten", 400),
        ("/api/posts?since=yesterday", 400),
        ("/api/posts?layer=not-a-layer", 400),
        ("/api/posts?q=" + "x" * 201, 400),
        ("/api/posts?q=%00", 400),
        ("/api/graph?min_weight=nan", 400),
        ("/api/summary?scale=year", 400),
    ]:
        r = client.get(url)
        assert r.status_code == status, url
        assert r.headers["content-type"].startswith("application/json") and "error" in r.json(), url
        assert "Traceback" not in r.text and 'File "' not in r.text
    assert get(client, "/api/posts?limit=1000000")["limit"] == MAX_LIMIT
    assert get(client, "/api/posts?limit=-5")["limit"] == 1
    assert get(client, "/api/posts?offset=-5")["offset"] == 0
    assert client.post("/api/summary").status_code == 405


def test_headers_hosts_and_static_files(client: TestClient) -> None:
    for url in ("/", "/api/summary", "/static/app.js", "/api/nope"):
        r = client.get(url)
        assert r.headers["content-security-policy"] == CSP and r.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in CSP and "script-src 'self'" in CSP and "unsafe" not in CSP
    # a page from another site that got the browser to resolve its name to 127.0.0.1 (DNS rebinding)
    r = client.get("/api/summary", headers={"host": "attacker.example"})
    assert r.status_code == 400 and r.json()["error"]
    assert client.get("/api/summary", headers={"host": "localhost:8765"}).status_code == 200
    for url in (
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
        "/static/vendor/../../data.py",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/....//app.py",
    ):
        r = client.get(url)
        assert r.status_code == 404, url
        assert b"import" not in r.content and b"root:" not in r.content
    html = client.get("/").text
    assert "http://" not in html and "https://" not in html  # every script and style from this server


ROUTES = [
    "/api/summary",
    "/api/clusters",
    "/api/clusters/{id}",
    "/api/clusters/{id}/members.csv",
    "/api/accounts/{id}",
    "/api/posts",
    "/api/posts.csv",
    "/api/graph",
    "/api/graph.gexf",
    "/api/graph.csv",
    "/api/evidence",
    "/static/{id}",
]
PARAMS = ["account", "cluster", "q", "since", "until", "limit", "offset", "layer", "kind", "min_weight",
          "max_nodes", "scale", "a", "b"]  # fmt: skip
NASTY = st.sampled_from([
    "' OR '1'='1", "1; DROP TABLE posts; --", "1 OR 1=1", "') UNION SELECT * FROM accounts --", "%", "_", "*", ".*",
    "../../etc/passwd", "..%2f..%2fapp.py", "\\", "\"", "NULL", "-1", "99999999999999999999", "1e308", "nan", "inf",
    "2016-02-30", "0", "@", "%00", "\u202e", "🙂", "co-repost", "week", "2016-01-01T00:00:00+05:00", " ", "",
])  # fmt: skip
VALUES = st.one_of(NASTY, st.text(max_size=60), st.integers(-(10**20), 10**20).map(str))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), ident=VALUES, params=st.dictionaries(st.sampled_from(PARAMS), VALUES, max_size=5))
def test_fuzz_every_route(client: TestClient, con, route: str, ident: str, params: dict) -> None:
    """Never a server error, never a row an injected clause would add, never a file from outside."""
    from urllib.parse import quote

    url = route.replace("{id}", quote(ident, safe="") or "x")
    r = client.get(url, params=params)
    assert r.status_code in (200, 400, 404, 405), (url, params, r.status_code, r.text[:200])
    assert "Traceback" not in r.text
    if route.startswith("/static"):
        assert r.status_code == 404 or ident in ("app.js", "app.css", "index.html")
        return
    if r.status_code != 200 or route != "/api/posts":
        assert r.status_code == 200 or "error" in r.json()
        return
    res = r.json()
    term = params.get("q") or None
    if term is not None:
        expected = q(con, "SELECT count(*) FROM posts WHERE strpos(lower(text), lower(?)) > 0", [term])[0][0]
        assert res["total"] <= expected  # other filters only narrow; an injected OR would widen
        ids = [p["post_id"] for p in res["posts"]]
        assert q(con, "SELECT count(*) FROM posts WHERE post_id IN (SELECT unnest(?::VARCHAR[])) "
                      "AND NOT contains(lower(text), lower(?))", [ids, term])[0][0] == 0  # fmt: skip
    if params.get("account"):
        ids = {p["account_id"] for p in res["posts"]}
        assert len(ids) <= 1
        key = params["account"].removeprefix("@").lower()
        assert all(
            i == params["account"] or (p["handle"] or "").lower() == key
            for p in res["posts"]
            for i in [p["account_id"]]
        )


def test_served_workspace_is_unchanged(client: TestClient, ws: Path, digest_before: dict) -> None:
    """After every other test here (they ran first in this module), not a byte or a time stamp moved."""
    for url in ("/api/summary", "/api/clusters", "/api/graph", "/api/posts?q=a", "/api/posts.csv", "/api/graph.gexf"):
        assert client.get(url).status_code == 200
    assert tree_digest(ws) == digest_before


def test_the_database_cannot_touch_files(wb: Workbench, tmp_path: Path) -> None:
    import duckdb

    cur = wb.con.cursor()
    with pytest.raises(duckdb.Error):
        cur.execute(f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'")
    with pytest.raises(duckdb.Error):
        cur.execute(f"SELECT * FROM read_parquet('{next(wb.path.rglob('*.parquet'))}')")
    with pytest.raises(duckdb.Error):
        cur.execute("SET enable_external_access = true")
    assert not (tmp_path / "x.csv").exists()


def test_load_over_loopback(wb: Workbench, con) -> None:
    """200 concurrent requests over the routes on a real server: all answer, p95 latency reported."""
    import httpx

    cid = q(con, "SELECT cluster_id FROM clusters ORDER BY size DESC LIMIT 1")[0][0]
    acc = q(con, "SELECT account_id FROM account_scores WHERE flagged LIMIT 1")[0][0]
    paths = ["/api/summary", "/api/clusters", f"/api/clusters/{cid}", f"/api/accounts/{acc}", "/api/posts?q=the",
             f"/api/posts?cluster={cid}&since=2016-01-01", f"/api/graph?cluster={cid}", "/api/graph"]  # fmt: skip

    async def load(url: str) -> list[tuple[int, float]]:
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as c:

            async def one(i: int) -> tuple[int, float]:
                t0 = time.perf_counter()
                r = await c.get(paths[i % len(paths)])
                return r.status_code, time.perf_counter() - t0

            return await asyncio.gather(*(one(i) for i in range(200)))

    with running_server(wb) as url:
        assert url.startswith("http://127.0.0.1:")
        t0 = time.perf_counter()
        out = asyncio.run(load(url))
        wall = time.perf_counter() - t0
    assert [s for s, _ in out] == [200] * 200
    lat = sorted(t for _, t in out)
    p95 = lat[int(0.95 * len(lat)) - 1]
    print(json.dumps({"requests": 200, "concurrent": 200, "p50_ms": round(lat[99] * 1000), "p95_ms": round(p95 * 1000),
                      "wall_s": round(wall, 2)}))  # fmt: skip
    assert wall < 60


def test_account_shows_the_classifier_score(ws: Path, tmp_path: Path) -> None:
    """With a model (`serve --model`), an account's classifier score is the model's own for it."""
    from click.testing import CliRunner

    from trollscope.classify.model import load, score_accounts
    from trollscope.cli import main

    sim = ws.parent / "data"
    with open(sim / "truth.csv", encoding="utf-8") as f:
        truth = list(csv.DictReader(f))
    labels = tmp_path / "labels.csv"
    with open(labels, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["account_id", "label"])
        w.writerows([t["account_id"], "organic" if t["campaign"] == "organic" else "operation"] for t in truth)
    model = tmp_path / "model.pkl"
    r = CliRunner().invoke(main, ["classify", "train", "-w", str(ws), "--truth", str(labels), "--output", str(model)])
    assert r.exit_code == 0, r.output
    con = Workspace(ws, create=False).connect()
    expected = {r["account_id"]: r["score"] for r in score_accounts(con, load(model)["model"]).to_pylist()}
    con.close()
    client = TestClient(create_app(Workbench(ws, model=model)), base_url="http://127.0.0.1")
    some = next(t["account_id"] for t in truth if t["campaign"] != "organic" and t["account_id"] in expected)
    a = get(client, f"/api/accounts/{some}")
    assert a["classifier"]["score"] == pytest.approx(expected[some])
    assert a["classifier"]["model"]["path"] == str(model)
    assert get(client, "/api/summary")["model"]["path"] == str(model)


def test_a_groups_table_is_shown_whatever_its_columns(ws: Path, tmp_path: Path) -> None:
    """Detection may add a `groups` table (issue 13); the summary lists it, members capped at 20."""
    import shutil

    copy = tmp_path / "ws"
    shutil.copytree(ws, copy)
    w = Workspace(copy, create=False)
    with w.transaction() as txn:
        con = w.connect()
        files = txn.write_parts(con, "groups", """SELECT cluster_id AS id, list(account_id ORDER BY account_id) AS members,
                                                  'co-post' AS layer, 60.0 AS window, 1e-9 * cluster_id AS p
                                           FROM cluster_members GROUP BY 1""")  # fmt: skip
        txn.replace("groups", files)
    con = w.connect()
    expected = q(con, "SELECT id, len(members) FROM groups ORDER BY p")
    s = get(TestClient(create_app(Workbench(copy)), base_url="http://127.0.0.1"), "/api/summary")
    assert "groups" in s["tables"]
    assert [(g["id"], g["members_count"]) for g in s["groups"]] == expected
    assert all(len(g["members"]) == min(20, g["members_count"]) for g in s["groups"])
