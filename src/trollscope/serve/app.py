"""The workbench's web app: a JSON API over :class:`Workbench` and the static pages that use it.

Starlette on uvicorn (docs/decisions/0002-serve-framework.md). Safe by default: only GET, every
parameter parsed and bounded before it reaches a query, unknown routes 404, every error a JSON
object without a traceback, a strict Content Security Policy (the pages load nothing from
anywhere but this server), and a Host check that refuses DNS-rebinding requests.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import export
from .data import MAX_GRAPH_NODES, MAX_LIMIT, MAX_OFFSET, SCALES, GraphQuery, NotFound, PostQuery, Workbench

STATIC = Path(__file__).parent / "static"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_TEXT = 200  # characters of a search term or an id
MAX_EXPORT_ROWS = 100_000
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
KINDS = ("original", "repost", "quote", "reply")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
log = logging.getLogger("trollscope.serve")


class BadRequest(ValueError):
    """A parameter the API cannot use; the message says which and what it accepts."""


# -- parameters -------------------------------------------------------------------------------
def _text(v: str | None, name: str) -> str | None:
    if v is None or v == "":
        return None
    if len(v) > MAX_TEXT:
        raise BadRequest(f"{name} is longer than {MAX_TEXT} characters")
    if _CONTROL.search(v):
        raise BadRequest(f"{name} contains control characters")
    return v


def _int(v: str | None, name: str, default: int, lo: int, hi: int) -> int:
    """An integer clamped to [lo, hi]; limits and offsets outside the range are brought into it."""
    if v is None or v == "":
        return default
    if not re.fullmatch(r"[+-]?\d{1,18}", v.strip()):
        raise BadRequest(f"{name} must be a whole number, not {v[:40]!r}")
    return max(lo, min(hi, int(v)))


def _id(v: str | None, name: str) -> int | None:
    if v is None or v == "":
        return None
    if not re.fullmatch(r"\d{1,18}", v):
        raise BadRequest(f"{name} must be a cluster id (a whole number), not {v[:40]!r}")
    return int(v)


def _float(v: str | None, name: str, default: float) -> float:
    if v is None or v == "":
        return default
    try:
        x = float(v)
    except ValueError:
        raise BadRequest(f"{name} must be a number, not {v[:40]!r}") from None
    if x != x or abs(x) > 1e12:
        raise BadRequest(f"{name} must be a number between -1e12 and 1e12")
    return x


def _time(v: str | None, name: str) -> dt.datetime | None:
    """A date (``2016-11-08``) or UTC time (``2016-11-08T12:00``); a zone, if given, is converted to UTC."""
    if v is None or v == "":
        return None
    try:
        t = dt.datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            f"{name} must be a date like 2016-11-08 or a time like 2016-11-08T12:00, not {v[:40]!r}"
        ) from None
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return t


def _choice(v: str | None, name: str, choices: list[str] | tuple[str, ...]) -> str | None:
    if v is None or v == "":
        return None
    if v not in choices:
        shown = ", ".join(choices) if choices else "none in this workspace"
        raise BadRequest(f"{name} must be one of: {shown}")
    return v


def _span(request: Request) -> tuple[dt.datetime | None, dt.datetime | None]:
    """``since`` and ``until`` as a half-open interval; a date as ``until`` includes that whole day."""
    p = request.query_params
    since, until = _time(p.get("since"), "since"), _time(p.get("until"), "until")
    if until is not None and len(p.get("until", "").strip()) <= 10:
        until += dt.timedelta(days=1)
    return since, until


def post_query(request: Request, wb: Workbench, max_limit: int = MAX_LIMIT) -> PostQuery:
    p = request.query_params
    since, until = _span(request)
    return PostQuery(
        account=_text(p.get("account"), "account"),
        cluster=_id(p.get("cluster"), "cluster"),
        q=_text(p.get("q"), "q"),
        since=since,
        until=until,
        layer=_choice(p.get("layer"), "layer", wb.layers),
        kind=_choice(p.get("kind"), "kind", KINDS),
        limit=_int(p.get("limit"), "limit", 50, 1, max_limit),
        offset=_int(p.get("offset"), "offset", 0, 0, MAX_OFFSET),
    )


def graph_query(request: Request, wb: Workbench) -> GraphQuery:
    p = request.query_params
    since, until = _span(request)
    return GraphQuery(
        cluster=_id(p.get("cluster"), "cluster"),
        layer=_choice(p.get("layer"), "layer", wb.layers),
        min_weight=_float(p.get("min_weight"), "min_weight", 0.0),
        max_nodes=_int(p.get("max_nodes"), "max_nodes", 2000, 1, MAX_GRAPH_NODES),
        since=since,
        until=until,
    )


# -- the app ------------------------------------------------------------------------------------
class Guard:
    """Refuses requests for another Host (DNS rebinding) and adds the CSP and related headers to
    every response, errors and static files included."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app = app
        self.allowed = set(allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if "*" not in self.allowed and name not in self.allowed:
            response = JSONResponse({"error": "this server answers only to its own address", "status": 400}, 400)
            response.headers.update({k.decode(): v.decode() for k, v in SECURITY_HEADERS})
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    h for h in SECURITY_HEADERS if h[0] not in names
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _download(body: bytes, name: str, media: str) -> Response:
    return Response(body, media_type=media, headers={"content-disposition": f'attachment; filename="{name}"'})


def create_app(workbench: Workbench | str | Path, allowed_hosts: list[str] | None = None) -> Starlette:
    """The ASGI app over ``workbench`` (or the workspace at that path)."""
    wb = workbench if isinstance(workbench, Workbench) else Workbench(workbench)

    def api(fn: Callable[[Request], Any]) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:  # sync: Starlette runs it in its thread pool
            return JSONResponse(fn(request))

        return endpoint

    def scale(request: Request) -> str:
        return _choice(request.query_params.get("scale"), "scale", SCALES) or "week"

    def summary(request: Request) -> dict:
        return wb.summary(scale(request))

    def clusters(request: Request) -> dict:
        p = request.query_params
        return wb.clusters(
            layer=_choice(p.get("layer"), "layer", wb.layers),
            limit=_int(p.get("limit"), "limit", 100, 1, MAX_LIMIT),
            offset=_int(p.get("offset"), "offset", 0, 0, MAX_OFFSET),
        )

    def cluster(request: Request) -> dict:
        cid = _id(request.path_params["cluster_id"], "cluster id")
        assert cid is not None
        return wb.cluster(cid, scale(request))

    def account(request: Request) -> dict:
        key = _text(request.path_params["key"], "account")
        if key is None:
            raise BadRequest("an account id or handle is needed")
        return wb.account(key, scale(request))

    def posts(request: Request) -> dict:
        return wb.posts(post_query(request, wb))

    def graph(request: Request) -> dict:
        return wb.graph(graph_query(request, wb))

    def evidence(request: Request) -> dict:
        p = request.query_params
        layer = _choice(p.get("layer"), "layer", wb.layers)
        a, b = _text(p.get("a"), "a"), _text(p.get("b"), "b")
        if layer is None or a is None or b is None:
            raise BadRequest("layer, a and b (the edge's two account ids) are needed")
        return wb.evidence(layer, a, b)

    def graph_gexf(request: Request) -> Response:
        q = graph_query(request, wb)
        name = f"trollscope-cluster-{q.cluster}.gexf" if q.cluster is not None else "trollscope-graph.gexf"
        return _download(export.gexf(wb.graph(q)), name, "application/gexf+xml")

    def graph_csv(request: Request) -> Response:
        g = wb.graph(graph_query(request, wb))
        handles = {n["id"]: n["handle"] for n in g["nodes"]}
        rows = [
            {"source_handle": handles.get(e["source"]), "target_handle": handles.get(e["target"]), **e}
            for e in g["edges"]
        ]
        name = f"trollscope-cluster-{g['cluster']}-edges.csv" if g["cluster"] is not None else "trollscope-edges.csv"
        return _download(export.to_csv(rows), name, "text/csv; charset=utf-8")

    def posts_csv(request: Request) -> Response:
        q = post_query(request, wb, max_limit=MAX_EXPORT_ROWS)
        if "limit" not in request.query_params:
            q = PostQuery(**{**q.__dict__, "limit": MAX_EXPORT_ROWS})
        rows = wb.posts(q)["posts"]
        return _download(
            export.to_csv(rows, list(rows[0]) if rows else ["post_id"]),
            "trollscope-posts.csv",
            "text/csv; charset=utf-8",
        )

    def members_csv(request: Request) -> Response:
        cid = _id(request.path_params["cluster_id"], "cluster id")
        assert cid is not None
        rows = wb.cluster(cid)["members"]
        return _download(export.to_csv(rows), f"trollscope-cluster-{cid}-members.csv", "text/csv; charset=utf-8")

    def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return JSONResponse({"error": exc.detail, "status": exc.status_code}, status_code=exc.status_code,
                            headers=exc.headers)  # fmt: skip

    async def bad_request(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": str(exc), "status": 400}, status_code=400)

    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": exc.args[0] if exc.args else "not found", "status": 404}, status_code=404)

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("error answering %s", request.url.path)  # the traceback goes to the server's log only
        return JSONResponse({"error": "internal error", "status": 500}, status_code=500)

    routes = [
        Route("/", index),
        Route("/api/summary", api(summary)),
        Route("/api/clusters", api(clusters)),
        Route("/api/clusters/{cluster_id}", api(cluster)),
        Route("/api/clusters/{cluster_id}/members.csv", members_csv),
        Route("/api/accounts/{key}", api(account)),
        Route("/api/posts", api(posts)),
        Route("/api/posts.csv", posts_csv),
        Route("/api/graph", api(graph)),
        Route("/api/graph.gexf", graph_gexf),
        Route("/api/graph.csv", graph_csv),
        Route("/api/evidence", api(evidence)),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    hosts = allowed_hosts if allowed_hosts is not None else [*LOOPBACK, "[::1]"]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Guard, allowed_hosts=hosts)],
        exception_handlers={
            HTTPException: http_error,
            BadRequest: bad_request,
            NotFound: not_found,
            Exception: server_error,
        },
    )
    app.state.workbench = wb
    return app


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (``port`` 0 picks a free one), so the URL printed is the one that answers."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it, uvicorn's separate writes of headers and body
    # meet the client's delayed ACK and every answer waits ~40 ms (seen on loopback here)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def serve(
    workbench: Workbench,
    host: str = "127.0.0.1",
    port: int = 8765,
    open_browser: bool = False,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until interrupted; ``ready(url)`` is called once the socket listens."""
    import uvicorn

    sock = bind(host, port)
    url = url_of(sock)
    hosts = [*LOOPBACK, "[::1]"] if is_loopback(host) else ["*"]
    app = create_app(workbench, allowed_hosts=hosts)
    config = uvicorn.Config(app, log_level="warning", access_log=False, server_header=False, lifespan="off")
    server = uvicorn.Server(config)
    if ready:
        ready(url)
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
