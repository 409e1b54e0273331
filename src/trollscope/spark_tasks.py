"""DuckDB inside Spark's tasks: the in-process engine's own SQL, run where the rows are.

Some steps must give DuckDB's answer to the bit, and Spark SQL cannot: RE2's regular expressions
(Java's differ on ``\\b``, case folding and more; targeting's flags), the word hashes near-dup's
MinHash starts from. On Spark those steps run in the Python workers instead: each task takes its
partition as Arrow batches (``mapInArrow``), hands each batch to an embedded DuckDB as the view
``_batch``, and runs the query the DuckDB engine runs over the whole table. Nothing of the rows
comes back to the driver. Ingest's tasks run the readers the same way (ingest_spark.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

BATCH = "_batch"  # the view a task's query reads: one Arrow batch of its partition


def task_threads() -> int | None:
    """DuckDB's threads in a Spark task: the task's cores (``spark.task.cpus``); None outside a task."""
    from pyspark import TaskContext

    ctx = TaskContext.get()
    return max(1, int(ctx.cpus())) if ctx is not None else None


def per_batch(batches: Iterator[pa.RecordBatch], query: str) -> Iterator[pa.Table]:
    """``query`` (over the view ``_batch``) run by one embedded DuckDB on each non-empty batch."""
    import duckdb

    threads = task_threads()
    con = duckdb.connect(config={"threads": threads} if threads else {})
    try:
        for batch in batches:
            if not batch.num_rows:
                continue
            con.register(BATCH, pa.Table.from_batches([batch]))
            yield con.sql(query).to_arrow_table()
            con.unregister(BATCH)
    finally:
        con.close()


def duckdb_map(df: DataFrame, query: str, schema: pa.Schema) -> DataFrame:
    """``query``, DuckDB SQL over ``_batch``, run in Spark tasks on the rows of ``df``: a DataFrame of
    ``schema``, which the query's columns are cast to (a row-wise query: each batch on its own)."""
    from .spark import spark_schema

    return df.mapInArrow(partial(_rows_of, query=query, schema=schema), spark_schema(schema))


def _rows_of(batches: Iterator[pa.RecordBatch], *, query: str, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    for t in per_batch(batches, query):
        yield from t.cast(schema).to_batches()
