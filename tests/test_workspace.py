"""The store: atomic commits, interrupted runs leave nothing behind, version checks."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import sample_rows, write_ioarchive

import trollscope as ts


def _snapshot(ws: Path) -> dict[str, bytes]:
    """Every file a reader of the workspace can see: the manifest and the files it names."""
    m = json.loads((ws / "workspace.json").read_text())
    files = {"workspace.json": (ws / "workspace.json").read_bytes()}
    for fs in m["tables"].values():
        for f in fs:
            files[f] = (ws / f).read_bytes()
    return files


def test_failed_transaction_changes_nothing(tmp_path, ws_path):
    write_ioarchive(tmp_path / "a.csv", sample_rows(10))
    ts.ingest(str(tmp_path / "a.csv"), ws_path)
    before = _snapshot(ws_path)
    ws = ts.Workspace(ws_path)
    with pytest.raises(RuntimeError), ws.transaction() as txn:
        f = txn.new_file("posts")
        f.write_bytes(b"half-written")
        txn.append("posts", [f])
        raise RuntimeError("boom")
    assert _snapshot(ws_path) == before
    assert not (ws_path / ".staging").exists() or not any((ws_path / ".staging").iterdir())


def test_a_swallowed_ctrl_c_still_stops_the_commit(tmp_path, ws_path):
    write_ioarchive(tmp_path / "a.csv", sample_rows(10))
    ts.ingest(str(tmp_path / "a.csv"), ws_path)
    before = _snapshot(ws_path)
    handler = signal.getsignal(signal.SIGINT)
    ws = ts.Workspace(ws_path)
    with pytest.raises(KeyboardInterrupt), ws.transaction() as txn:
        f = txn.new_file("posts")
        shutil.copy(ws.files("posts")[0], f)
        txn.append("posts", [f])
        with contextlib.suppress(KeyboardInterrupt):  # as DuckDB does with one landing as a query completes
            signal.raise_signal(signal.SIGINT)
    assert _snapshot(ws_path) == before
    assert signal.getsignal(signal.SIGINT) is handler  # the caller's handler is back


def _big_input(tmp_path: Path) -> Path:
    rows = sample_rows(20)
    d = tmp_path / "big"
    for i in range(300):
        for r in rows:
            r["tweetid"] = str(int(r["tweetid"]) + 20)
        write_ioarchive(d / f"f{i:03d}.csv", rows)
    return d


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_interrupted_ingest_leaves_workspace_unchanged(tmp_path, ws_path, sig):
    write_ioarchive(tmp_path / "a.csv", sample_rows(10))
    ts.ingest(str(tmp_path / "a.csv"), ws_path)
    before = _snapshot(ws_path)
    big = _big_input(tmp_path)
    code = (
        "import sys, trollscope as ts; "
        "ts.ingest(sys.argv[1], sys.argv[2], batch_bytes=20_000)"  # many small batches: a long run
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(big), str(ws_path)])
    staging = ws_path / ".staging"
    deadline = time.time() + 60
    while time.time() < deadline and not (staging.exists() and list(staging.rglob("*.parquet"))):
        time.sleep(0.02)
    assert proc.poll() is None, "ingest finished before it could be interrupted"
    os.kill(proc.pid, sig)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    assert _snapshot(ws_path) == before
    # The next writer sweeps any debris and works normally.
    r = ts.ingest(str(tmp_path / "a.csv"), ws_path)
    assert r.duplicate == 10
    assert not list((ws_path / ".staging").rglob("*.parquet")) if (ws_path / ".staging").exists() else True
    assert ts.info(ws_path)["posts"] == 10


def test_missing_workspace_and_wrong_version(tmp_path):
    with pytest.raises(ts.WorkspaceError, match="no workspace"):
        ts.Workspace(tmp_path / "nope", create=False)
    ws = ts.Workspace(tmp_path / "old")
    m = json.loads((ws.path / "workspace.json").read_text())
    m["schema_version"] = 999
    (ws.path / "workspace.json").write_text(json.dumps(m))
    with pytest.raises(ts.WorkspaceError, match="schema version 999"):
        ts.Workspace(ws.path)


def test_empty_workspace_has_typed_empty_tables(ws_path):
    ws = ts.Workspace(ws_path)
    con = ws.connect()
    assert con.execute("SELECT count(*) FROM posts").fetchone() == (0,)
    assert "created_at" in con.sql("SELECT * FROM posts").columns
    info = ts.info(ws_path)
    assert info["posts"] == 0 and info["first_post"] is None


def test_concurrent_writer_is_refused(tmp_path, ws_path):
    ws = ts.Workspace(ws_path)
    with ws.transaction(), pytest.raises(ts.WorkspaceError, match="another trollscope run"):
        ts.ingest(str(write_ioarchive(tmp_path / "a.csv", sample_rows(3))), ws_path)


def test_ctrl_c_inside_a_query_stops_the_ingest_instead_of_rejecting_the_file(tmp_path, ws_path, monkeypatch):
    """DuckDB turns SIGINT during a query into its own InterruptException, a duckdb.Error: ingest must
    not take it for a broken file and carry on (found when the SIGINT test above ran on a loaded machine)."""
    import duckdb

    from trollscope.readers import ioarchive

    write_ioarchive(tmp_path / "a.csv", sample_rows(10))
    ts.ingest(str(tmp_path / "a.csv"), ws_path)
    before = _snapshot(ws_path)

    def interrupted(*args, **kwargs):
        raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")

    monkeypatch.setattr(ioarchive, "read", interrupted)
    write_ioarchive(tmp_path / "b.csv", sample_rows(12))
    with pytest.raises(KeyboardInterrupt):
        ts.ingest(str(tmp_path / "b.csv"), ws_path)
    assert _snapshot(ws_path) == before


def test_per_thread_parts_become_table_parts(tmp_path):
    import duckdb

    ws = ts.Workspace(tmp_path / "ws")
    con = duckdb.connect()
    con.execute("SET threads = 2")
    with ws.transaction() as txn:
        parts = txn.write_parts(con, "posts", "SELECT range AS x FROM range(300000)")
        empty = txn.write_parts(con, "posts", "SELECT 1 AS x WHERE false")
        assert parts and all(p.suffix == ".parquet" and p.parent == txn.staging / "posts" for p in parts)
        assert sorted(p.name for p in (txn.staging / "posts").iterdir()) == sorted(p.name for p in parts + empty)
        txn.append("posts", parts + empty)
    files = [str(f) for f in ws.files("posts")]
    got = duckdb.connect().execute(f"SELECT count(*), sum(x) FROM read_parquet({files})").fetchone()
    assert got == (300000, sum(range(300000)))
