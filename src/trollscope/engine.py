"""The engine-neutral query layer.

Pipeline logic is written once, as SQL in DuckDB's dialect restricted to a portable subset (see
docs/decisions/0001-query-engine.md). DuckDB runs it directly on :func:`connect`; for Spark the
same text goes through :func:`to_dialect`, in a session configured with :data:`SPARK_CONF`.
Engine quirks live here and nowhere else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import duckdb

DEFAULT_MEMORY_LIMIT = os.environ.get("TROLLSCOPE_MEMORY_LIMIT", "4GB")

# Session settings a Spark run of our SQL needs. Times are naive UTC; Spark reads them as
# TIMESTAMP_NTZ, but unix_timestamp() and date_trunc() go through the session time zone, so any
# zone other than UTC shifts buckets and days (checked on Spark 4.3 with America/New_York).
SPARK_CONF = {"spark.sql.session.timeZone": "UTC"}


ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class EngineSpec:
    """Which engine a stage runs on: ``duckdb`` (embedded, the default) or ``spark``.

    ``master`` and ``conf`` apply to Spark only: the master URL (default ``$SPARK_MASTER`` or
    ``local[*]``) and ``KEY=VALUE`` settings on top of ``spark-defaults.conf``.
    """

    name: str = "duckdb"
    master: str | None = None
    conf: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise ValueError(f"unknown engine {self.name!r}: choose one of {', '.join(ENGINES)}")

    @property
    def is_spark(self) -> bool:
        return self.name == "spark"


def engine_spec(engine: str | EngineSpec | None) -> EngineSpec:
    """``"duckdb"``, ``"spark"``, an :class:`EngineSpec` or None (DuckDB) as an :class:`EngineSpec`."""
    if isinstance(engine, EngineSpec):
        return engine
    return EngineSpec(engine or "duckdb")


def connect(memory_limit: str | None = None, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with bounded memory (it spills to disk beyond the limit)."""
    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit = '{memory_limit or DEFAULT_MEMORY_LIMIT}'")
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # its bar writes to stdout, where --json output goes
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def sql_str(s: str) -> str:
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def sql_list(items: list[str]) -> str:
    """A SQL list literal of strings (file lists for read_parquet and read_csv)."""
    return "[" + ", ".join(sql_str(s) for s in items) + "]"


def stable_hash_sql(expr: str) -> str:
    """A 60-bit hash of a string expression with the same value on every engine (the first 15 hex
    digits of its md5), where ``hash()`` differs between DuckDB and Spark: for keys whose values
    decide something (which half of the items an item falls in, an order among ties).

    About 20x the cost of ``hash()`` on DuckDB (0.2 us a row), so surrogate keys keep ``hash()``.
    """
    return f"CAST(('0x' || left(md5({expr}), 15)) AS BIGINT)"


class NotPortable(ValueError):
    """A query uses a DuckDB construct that Spark lacks or would run with a different result."""


def to_dialect(sql: str, dialect: str = "spark") -> str:
    """Translate one of our DuckDB-dialect queries for another engine.

    For Spark, constructs outside the portable subset raise :class:`NotPortable` (so an ordinary
    test catches them, no Spark needed), and sqlglot's output is corrected where it would run but
    give a different result. Rules and evidence: docs/decisions/0001-query-engine.md.
    """
    from ._spark_sql import transpile  # sqlglot is imported only by the code that translates

    return transpile(sql, dialect)
