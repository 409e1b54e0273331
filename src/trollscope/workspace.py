"""Where the canonical store lives: a directory of Parquet files and one manifest.

Layout::

    WS/workspace.json        schema version and, per table, the Parquet files that make it up
    WS/tables/<table>/*.parquet
    WS/.staging/<run>/       files being written by a run that has not committed yet

A run writes its files into staging and commits by replacing ``workspace.json`` atomically
(``os.replace``), so readers see either the whole run or none of it, and an interrupted run leaves
the workspace exactly as it was. Files that no manifest names are debris of an interrupted run and
are removed the next time a writer opens the workspace. Any engine that reads Parquet (DuckDB,
Spark) reads a table as the list of files the manifest gives.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import duckdb
import pyarrow as pa

from . import engine
from .engine import sql_list, sql_str
from .schema import FORMAT_PLATFORM, SCHEMA_VERSION, TABLES

DEFAULT_PATH = "trollscope-ws"
PARTS_COMPRESSION = "COMPRESSION zstd, COMPRESSION_LEVEL 1"  # Parquet options of the large tables' parts
MANIFEST = "workspace.json"


@contextlib.contextmanager
def _ctrl_c_noted() -> Iterator[Callable[[], bool]]:
    """Note every SIGINT while the body runs, then pass it on to the handler in place.

    DuckDB turns a SIGINT that arrives during a query into an error, and one that arrives as a query
    completes can vanish altogether; the note lets a transaction refuse to commit after any Ctrl-C.
    Signal handlers belong to the main thread: elsewhere nothing is noted.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous is None:  # None: set outside Python
        yield lambda: False
        return
    seen: list[int] = []

    def note(signum: int, frame: object) -> None:
        seen.append(signum)
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, note)
    try:
        yield lambda: bool(seen)
    finally:
        signal.signal(signal.SIGINT, previous)


class WorkspaceError(Exception):
    """A workspace is missing, locked, or from an incompatible version."""


def local_path(path: str | os.PathLike[str]) -> Path:
    """A workspace location as a local path: a path, or a ``file://`` URI (a path every node of a cluster
    mounts). Other schemes are refused: the commit is an atomic rename of the manifest, which object
    stores (``s3a://``, ``gs://``) do not have (docs/scale.md)."""
    s = os.fspath(path)
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]+):/+(.*)$", s)  # also as a Path writes it: "file:/tmp/ws"
    if m is None:
        return Path(s)
    if m.group(1).lower() == "file":
        return Path("/" + unquote(m.group(2)))
    raise WorkspaceError(
        f"{s}: a workspace on {m.group(1)}:// is not supported yet (its commit renames the manifest "
        "atomically, which object stores cannot): use a local path, or file:// on storage every node mounts"
    )


def default_path() -> Path:
    return Path(os.environ.get("TROLLSCOPE_WORKSPACE", DEFAULT_PATH))


@dataclass
class Transaction:
    """Files staged by one run; committed together or not at all."""

    workspace: Workspace
    run_id: str
    staging: Path
    added: dict[str, list[str]] = field(default_factory=dict)
    replaced: dict[str, list[str]] = field(default_factory=dict)

    def new_file(self, table: str) -> Path:
        """A fresh staging path for a Parquet part of ``table``."""
        d = self.staging / table
        d.mkdir(parents=True, exist_ok=True)
        return d / f"{self.run_id}-{uuid.uuid4().hex[:8]}.parquet"

    def write_parts(self, con: duckdb.DuckDBPyConnection, table: str, query: str) -> list[Path]:
        """Write ``query``'s rows as fresh Parquet parts of ``table``, one file per DuckDB thread.

        DuckDB's Parquet writer keeps one file's row groups in order and so encodes a file largely
        on one core; ``PER_THREAD_OUTPUT`` spreads the encoding over the cores, for tables whose row
        order does not matter. zstd at level 1 writes as fast as snappy here and a third smaller (IRA
        posts: 133 MB against 206 MB), and reads as fast.
        """
        if hasattr(con, "write_parts"):  # the Spark connection (spark_con.py): Spark's tasks write them
            return con.write_parts(self, table, query)
        d = self.new_file(table).with_suffix("")
        con.execute(f"COPY ({query}) TO {sql_str(str(d))} (FORMAT parquet, PER_THREAD_OUTPUT, {PARTS_COMPRESSION})")
        out = []
        for part in sorted(d.iterdir()):
            out.append(self.new_file(table))
            part.replace(out[-1])
        d.rmdir()
        return out

    def append(self, table: str, files: list[Path]) -> None:
        self.added.setdefault(table, []).extend(str(f) for f in files)

    def replace(self, table: str, files: list[Path]) -> None:
        """After commit, ``table`` consists of exactly ``files``."""
        self.replaced[table] = [str(f) for f in files]
        self.added.pop(table, None)


class Workspace:
    """A trollscope workspace directory."""

    def __init__(self, path: str | os.PathLike[str] | None = None, create: bool = True) -> None:
        self.path = local_path(path) if path is not None else default_path()
        manifest = self.path / MANIFEST
        if not manifest.exists():
            if not create:
                raise WorkspaceError(f"no workspace at {self.path}: run `trollscope ingest -w {self.path} FILES` first")
            self.path.mkdir(parents=True, exist_ok=True)
            self._write_manifest({"schema_version": SCHEMA_VERSION, "tables": {}, "params": {}})
        m = self.manifest()
        if m.get("schema_version") != SCHEMA_VERSION:
            raise WorkspaceError(
                f"{self.path} has schema version {m.get('schema_version')}, this trollscope "
                f"reads version {SCHEMA_VERSION}: re-ingest into a new workspace"
            )

    # -- manifest -------------------------------------------------------------------------
    def manifest(self) -> dict:
        return json.loads((self.path / MANIFEST).read_text())

    def _write_manifest(self, m: dict) -> None:
        tmp = self.path / f".{MANIFEST}.{uuid.uuid4().hex}.tmp"
        with open(tmp, "w") as f:
            json.dump(m, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path / MANIFEST)

    def files(self, table: str) -> list[Path]:
        """The Parquet files that make up ``table`` (absolute paths)."""
        return [self.path / f for f in self.manifest()["tables"].get(table, [])]

    def tables(self) -> list[str]:
        return sorted(self.manifest()["tables"])

    def params(self, key: str) -> dict | None:
        """Parameters recorded by the stage ``key`` (e.g. ``detect``)."""
        return self.manifest().get("params", {}).get(key)

    # -- writing ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive writer lock; also the moment to sweep debris of interrupted runs."""
        with open(self.path / ".lock", "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise WorkspaceError(f"{self.path} is being written by another trollscope run") from None
            self._sweep()
            yield

    def _sweep(self) -> None:
        shutil.rmtree(self.path / ".staging", ignore_errors=True)
        for tmp in self.path.glob(f".{MANIFEST}.*.tmp"):
            tmp.unlink(missing_ok=True)
        known = {f for fs in self.manifest()["tables"].values() for f in fs}
        tables_dir = self.path / "tables"
        if tables_dir.exists():
            for f in tables_dir.rglob("*.parquet"):
                if str(f.relative_to(self.path)) not in known:
                    f.unlink()

    @contextlib.contextmanager
    def transaction(self, params: dict[str, dict] | None = None) -> Iterator[Transaction]:
        """Stage files, then publish them in one atomic manifest swap.

        ``params`` maps a stage name to the parameters it ran with, recorded in the manifest.
        If the body raises (or the process dies), nothing becomes visible.
        """
        with self.lock():
            run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
            staging = self.path / ".staging" / run_id
            staging.mkdir(parents=True)
            txn = Transaction(self, run_id, staging)
            try:
                with _ctrl_c_noted() as interrupted:
                    yield txn
                    if interrupted():  # a Ctrl-C that DuckDB swallowed still stops the run before it commits
                        raise KeyboardInterrupt
                    self._commit(txn, params or {})
            finally:
                shutil.rmtree(staging, ignore_errors=True)

    def _commit(self, txn: Transaction, params: dict[str, dict]) -> None:
        m = self.manifest()
        old_files: list[Path] = []
        moved: dict[str, list[str]] = {}
        for table, files in list(txn.added.items()) + list(txn.replaced.items()):
            dest = self.path / "tables" / table
            dest.mkdir(parents=True, exist_ok=True)
            rel = []
            for f in files:
                target = dest / Path(f).name
                os.replace(f, target)  # same file system: atomic, and invisible until the manifest names it
                rel.append(str(target.relative_to(self.path)))
            moved[table] = rel
        for table, rel in moved.items():
            if table in txn.replaced:
                old_files += [self.path / f for f in m["tables"].get(table, [])]
                m["tables"][table] = rel
            else:
                m["tables"][table] = m["tables"].get(table, []) + rel
        m.setdefault("params", {}).update(params)
        self._write_manifest(m)
        for f in old_files:
            f.unlink(missing_ok=True)

    # -- reading ------------------------------------------------------------------------------
    def connect(self, con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with one view per table (empty canonical tables included)."""
        con = con or engine.connect()
        manifest = self.manifest()["tables"]
        for name in sorted(set(TABLES) | set(manifest)):
            files = [str(self.path / f) for f in manifest.get(name, [])]
            if files:
                scan = _posts_scan(con, files) if name == "posts" else f"SELECT * FROM read_parquet({sql_list(files)})"
                con.execute(f"CREATE OR REPLACE VIEW {name} AS {scan}")
            elif name in TABLES:
                con.register(f"_empty_{name}", pa.table({f.name: pa.array([], f.type) for f in TABLES[name]}))
                con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM _empty_{name}")
        return con

    def table(self, name: str) -> pa.Table:
        """A whole table as Arrow (for small tables: accounts, clusters, logs)."""
        con = self.connect()
        try:
            return con.sql(f"SELECT * FROM {name}").to_arrow_table()
        finally:
            con.close()

    def has(self, table: str) -> bool:
        return table in self.manifest()["tables"]


def _posts_scan(con: duckdb.DuckDBPyConnection, files: list[str]) -> str:
    """Posts as one relation, with ``platform`` and ``venue`` even in parts written before posts had
    them (the platform their reader implies, else ``unknown``): such workspaces stay readable as they are."""
    scan = f"read_parquet({sql_list(files)})"
    have = con.execute(
        f"SELECT count(DISTINCT file_name) FROM parquet_schema({sql_list(files)}) WHERE name = 'platform'"
    ).fetchall()[0][0]
    if have == len(files):
        return f"SELECT * FROM {scan}"
    implied = " ".join(f"WHEN {sql_str(f)} THEN {sql_str(p)}" for f, p in FORMAT_PLATFORM.items())
    implied = f"CASE source_format {implied} ELSE 'unknown' END"
    if have == 0:
        return f"SELECT *, {implied} AS platform, NULL::VARCHAR AS venue FROM {scan}"
    scan = f"read_parquet({sql_list(files)}, union_by_name=true)"
    return f"SELECT * REPLACE (coalesce(platform, {implied}) AS platform) FROM {scan}"
