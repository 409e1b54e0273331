"""What the workbench tests share: a small detected workspace and a real server on a free loopback port."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from trollscope.detect import detect
from trollscope.ingest import ingest
from trollscope.serve import Workbench, create_app
from trollscope.serve.app import bind, url_of
from trollscope.simulate import simulate


def detected_workspace(root: Path, posts: int = 30_000, seed: int = 7) -> Path:
    """A simulated collection with planted operations, ingested and detected."""
    simulate(posts=posts, seed=seed, out=root / "data")
    ingest(str(root / "data"), root / "ws")
    detect(root / "ws")
    return root / "ws"


def tree_digest(path: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``path``: content hash and modification time (nanoseconds)."""
    return {
        str(f.relative_to(path)): (hashlib.sha256(f.read_bytes()).hexdigest(), f.stat().st_mtime_ns)
        for f in sorted(path.rglob("*"))
        if f.is_file()
    }


@contextmanager
def running_server(wb: Workbench) -> Iterator[str]:
    """The workbench served by uvicorn on 127.0.0.1 (a free port) in a thread; yields its URL."""
    import uvicorn

    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(create_app(wb), log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
