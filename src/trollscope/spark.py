"""The Spark engine's session and workspace views (``--engine spark``).

trollscope's queries are DuckDB SQL in a portable subset (docs/decisions/0001-query-engine.md);
on Spark they run through :func:`trollscope.engine.to_dialect`. This module owns what only Spark
needs: starting (or joining) a session the standard way, so the same command runs on a laptop's
``local[*]``, under ``spark-submit`` or on a managed cluster, and exposing a workspace's tables to
it as temporary views over the manifest's Parquet files.

PySpark is an optional dependency (``pip install 'trollscope[spark]'``) and needs Java 17; both are
checked here with a message that says what to install, never a JVM traceback.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from .engine import SPARK_CONF, EngineSpec, to_dialect
from .schema import TABLES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from .workspace import Transaction, Workspace

DEFAULT_MASTER = "local[*]"
SHUFFLE_PARTITIONS = "spark.sql.shuffle.partitions"


class SparkUnavailable(RuntimeError):
    """PySpark or Java is missing, or the session could not start."""


def master_of(spec: EngineSpec) -> str:
    """The master URL: ``--spark-master``, else ``$SPARK_MASTER``, else ``local[*]``."""
    return spec.master or os.environ.get("SPARK_MASTER") or DEFAULT_MASTER


def session(spec: EngineSpec) -> SparkSession:
    """The Spark session for ``spec``: the active one if there is one (``spark-submit``, Databricks,
    a notebook that made its own), else a new one.

    Settings come the standard way: ``$SPARK_CONF_DIR/spark-defaults.conf`` is read by Spark's own
    launcher, and ``spec.conf`` (the CLI's ``--conf KEY=VALUE``) goes on top. :data:`SPARK_CONF`
    (the UTC session zone our naive-UTC times need) is always applied, even to a joined session.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable("--engine spark needs PySpark: pip install 'trollscope[spark]' (and Java 17)") from None
    active = SparkSession.getActiveSession()
    if active is not None:
        for k, v in {**dict(spec.conf), **SPARK_CONF}.items():
            if active.conf.isModifiable(k):  # core settings (spark.ui.*, spark.driver.*) are fixed at start
                active.conf.set(k, v)
        return active
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise SparkUnavailable(
            "--engine spark needs Java 17 and found none: install it (Debian: apt-get install "
            "openjdk-17-jre-headless) or set JAVA_HOME"
        )
    builder = SparkSession.builder.appName("trollscope")
    if not under_spark_submit():  # there spark-submit's --master (or spark-defaults.conf) decides
        builder = builder.master(master_of(spec))
    settings = {
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.parquet.compression.codec": "zstd",
        "spark.ui.showConsoleProgress": "false",  # its bar writes to stderr lines our --json callers read
        **dict(spec.conf),
        **SPARK_CONF,
    }
    for k, v in settings.items():
        builder = builder.config(k, v)
    try:
        spark = builder.getOrCreate()
    except Exception as e:  # the JVM's own failure (bad master URL, no memory): one line, not a Java trace
        raise SparkUnavailable(f"Spark did not start on {master_of(spec)}: {str(e).strip().splitlines()[0]}") from e
    spark.sparkContext.setLogLevel(os.environ.get("TROLLSCOPE_SPARK_LOG_LEVEL", "ERROR"))
    _local_shuffle_partitions(spark)
    return spark


def _local_shuffle_partitions(spark: SparkSession) -> None:
    """In local mode, unless the user set it, ``spark.sql.shuffle.partitions`` is two per core, not
    Spark's 200: with 200, every shuffle of a small table is 200 tasks each writing 200 files, a
    large part of why a detection of 100,000 posts on ``local[2]`` did not finish in 15 minutes.
    On a cluster Spark's default (or the user's) stands: its cores are not known at the start."""
    sc = spark.sparkContext
    if sc.master.startswith("local") and not sc.getConf().contains(SHUFFLE_PARTITIONS):
        spark.conf.set(SHUFFLE_PARTITIONS, str(max(2, 2 * sc.defaultParallelism)))


def under_spark_submit() -> bool:
    """Whether this process was started by ``spark-submit``, whose JVM is already waiting for it."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def uri(path: Path) -> str:
    """A local path as a ``file://`` URI, so Spark on a cluster (whose default file system is HDFS or an
    object store) reads and writes the path itself: a workspace on storage every node mounts."""
    return path.resolve().as_uri()


def spark_schema(schema: pa.Schema):
    """A Spark schema of an Arrow one; naive timestamps as TIMESTAMP_NTZ, so Parquet keeps
    ``isAdjustedToUTC=false`` and DuckDB reads the same wall-clock times."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema, prefer_timestamp_ntz=True)


def register_workspace(spark: SparkSession, ws: Workspace) -> list[str]:
    """One temporary view per canonical table (empty ones included, from the schema), as in
    :meth:`Workspace.connect`; returns the view names."""
    manifest = ws.manifest()["tables"]
    names = sorted(set(TABLES) | set(manifest))
    for name in names:
        files = [uri(ws.path / f) for f in manifest.get(name, [])]
        if files:
            df = spark.read.parquet(*files)
        else:
            df = spark.createDataFrame(pa.table({f.name: pa.array([], f.type) for f in TABLES[name]}))
        df.createOrReplaceTempView(name)
    return names


def sql(spark: SparkSession, query: str) -> DataFrame:
    """Run one of our DuckDB-dialect queries on Spark (translated and checked by ``to_dialect``)."""
    return spark.sql(to_dialect(query, "spark"))


def arrow(spark: SparkSession, query: str) -> pa.Table:
    """A query's (small) result as Arrow. Arrow, not ``collect()``: ``collect()`` turns timestamps into
    the Python process's local time."""
    return sql(spark, query).toArrow()


def write_parts(spark: SparkSession, df: DataFrame, txn: Transaction, table: str) -> tuple[list[Path], int]:
    """Write ``df`` as Parquet parts of ``table`` in the transaction's staging folder, named as an
    in-process run names its parts (``Transaction.write_parts``), for the same manifest swap to
    publish; returns the parts (none when ``df`` is empty) and their rows."""
    out = txn.staging / f"spark-{table}-{uuid.uuid4().hex[:8]}"  # a run may write a table twice (--labels)
    df.write.option("compression", "zstd").parquet(uri(out))
    rows = spark.read.schema(df.schema).parquet(uri(out)).count()  # from the parts' footers
    if not rows:
        return [], 0
    parts = []
    for part in sorted(out.glob("*.parquet")):
        parts.append(txn.new_file(table))
        part.replace(parts[-1])
    return parts, rows
