"""Ingest on Spark (``--engine spark``): the same readers, run by Spark tasks; the run's
deduplication, accounts and counts in Spark SQL.

The per-file readers are the unit of parallelism. The driver plans as an in-process ingest does
(resolve the inputs, sniff each file's head, pick its reader, reject what no reader reads), then
cuts each reader's files into batches, one Spark task per batch. A task reads its batch with
:func:`trollscope.ingest.read_files`, the very code an in-process ingest runs (DuckDB embedded in the
Python worker): it stages the batch's posts as Parquet parts in the run's staging folder, with the
same writer, and hands back rejects, accounts, its record count and its parts as Arrow
(``mapInArrow``). So every reader, present and future, runs on both engines with no Spark code of
its own. What spans batches runs in Spark SQL (our DuckDB-dialect queries through
``engine.to_dialect``): whether a post id repeats across batches or is in the workspace already
(if so, the first occurrence of each is kept and Spark writes them; if not, the staged parts are the
posts as they are, as in-process), the run's accounts merged with the workspace's, the rejects
already recorded, the reasons and their first runs, and a ``--labels`` file's joins (the file itself,
small, read on the driver). The same manifest swap commits it all, so
DuckDB reads what Spark wrote and the other way round.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from . import spark as sp
from .ingest import (
    _KNOWN_REJECT,
    BATCH_BYTES,
    FIRST_REJECTS,
    REJECT_RUN_KEYS,
    UNNAMED_POSTS_SQL,
    BatchRead,
    IngestResult,
    _batches,
    _merge_accounts_sql,
    _posting_accounts_sql,
    _reason_counts_sql,
    _Run,
    label_accounts_sql,
    label_matches_sql,
    named_posts_sql,
    read_files,
    reject_runs_sql,
    renamed_note,
)
from .readers import ReadOptions
from .schema import ACCOUNTS, POSTS, REJECTS, select_canonical
from .spark_tasks import task_threads

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


MIN_BATCH_BYTES = 1024 * 1024  # below this a task's start-up (~50 ms) outweighs its reading
TASKS_PER_CORE = 2  # batches per core, so a slow batch does not leave the other cores idle

# A task's rows: a reject or an account per row, and one "meta" row per batch with its record count,
# notes, posts and the Parquet parts it staged them in. One schema because mapInArrow returns one.
READ = pa.schema(
    [
        ("kind", pa.string()),
        ("reject", pa.struct(list(REJECTS))),
        ("account", pa.struct(list(ACCOUNTS))),
        ("records", pa.int64()),
        ("notes", pa.list_(pa.string())),
        ("parts", pa.list_(pa.string())),
        ("counts", pa.struct([("posts", pa.int64()), ("rejects", pa.int64()), ("accounts", pa.int64())])),
    ]
)
CHUNK_ROWS = 20_000  # rows per Arrow batch a task returns

Batch = tuple[str, list[str], dict[str, str]]  # reader, files, encodings their heads showed


class TaskFailed(RuntimeError):
    """A Spark task that reads files failed (readers reject bad records; this is a bug or a lost executor)."""


def ingest_on_spark(
    spark: SparkSession,
    run: _Run,
    groups: dict[tuple[str, str], list[Path]],
    *,
    started: datetime,
    inputs: list[str],
    params: dict,
    t0: float,
    options: dict[str, ReadOptions] | None = None,
) -> IngestResult:
    """Read ``groups`` (reader and layout -> files, as the driver planned them) on Spark and finish
    the run ``run`` (its transaction open, its whole-file rejects and notes already made).
    ``options``: a reader's own read options where they differ from the run's (``--platform``)."""
    txn = run.txn
    sc = spark.sparkContext
    plan = plan_batches(groups, run.encodings, sc.defaultParallelism * TASKS_PER_CORE)
    step = _describer(spark, txn.run_id)
    schema = sp.spark_schema(READ)
    handles = _driver_table(run, "_label_handles") if run.label_handles else None
    if plan:
        step("read the files, one task per batch")
        read_dir = sp.uri(txn.staging / "spark-read")
        tasks = spark.range(0, len(plan), 1, len(plan)).mapInArrow(
            _read_task(plan, run.opts, txn.run_id, str(txn.staging), options or {}, handles), schema
        )
        try:
            tasks.write.parquet(read_dir)  # once: the steps below read it, and a task must not run twice
        except Exception as e:  # a reader's own failure, as one line rather than the JVM's report of it
            raise TaskFailed(f"a Spark task reading the files failed: {_python_error(e)}") from e
        read = spark.read.schema(schema).parquet(read_dir)
    else:
        read = spark.createDataFrame([], schema)
    sp.register_workspace(spark, txn.workspace)

    step("count records, collect notes")
    meta = read.where("kind = 'meta'").select("records", "notes", "parts", "counts").toArrow()
    run.records += sum(meta.column("records").to_pylist())
    run.notes += [n for notes in meta.column("notes").to_pylist() for n in notes or []]
    read_counts = {k: sum(c[k] for c in meta.column("counts").to_pylist()) for k in ("posts", "rejects", "accounts")}
    # The parts the tasks' meta rows name: a failed task attempt's parts are left out (and swept).
    parts = [Path(p) for ps in meta.column("parts").to_pylist() for p in ps or []]
    for _, files, _ in plan:
        for f in files:
            run.tick(Path(f))
    posts_schema = sp.spark_schema(POSTS)
    if parts:
        staged = spark.read.schema(posts_schema).parquet(*[sp.uri(p) for p in parts])
    else:
        staged = spark.createDataFrame([], posts_schema)
    _conform(staged, POSTS).createOrReplaceTempView("_staged")

    stored = 0
    added: list[Path] = []  # this run's posts parts
    if parts:
        step("posts: repeated ids across batches, ids the workspace has")
        n, distinct, known = (
            sp.arrow(
                spark,
                "SELECT count(*) AS n, count(DISTINCT s.post_id) AS d, count(p.post_id) AS k FROM _staged s "
                "LEFT JOIN (SELECT DISTINCT post_id FROM posts) p ON p.post_id = s.post_id",
            )
            .to_pylist()[0]
            .values()
        )
        if n == distinct and known == 0:  # the usual case: the staged parts are the new posts as they are
            stored = n
            added = parts
        else:
            step("posts: keep the first occurrence of each post id, write them")
            cols = ", ".join(f.name for f in POSTS)
            new_posts = sp.sql(
                spark,
                f"""SELECT {cols} FROM (
                    SELECT *, row_number() OVER (PARTITION BY post_id ORDER BY source_file, source_line) AS _first
                    FROM _staged
                ) s WHERE _first = 1 AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.post_id = s.post_id)""",
            )
            added, stored = sp.write_parts(spark, _conform(new_posts, POSTS), txn, "posts")
        if added:
            txn.append("posts", added)

    step("merge accounts")
    posting = sp.sql(
        spark,
        select_canonical(
            ACCOUNTS,
            {"account_id", "handle", "source_format", "ingest_id"},
            f"({_posting_accounts_sql('_staged', txn.run_id)}) p",
        ),
    )
    described = read.where("kind = 'account'").select("account.*")
    accounts_run = _conform(described, ACCOUNTS).unionByName(_conform(posting, ACCOUNTS))
    accounts_run.createOrReplaceTempView("_accounts_run")
    labelled = 0
    if run.opts.labels:
        step("labels: join the labels file to the accounts, name stored posts")
        labelled, labelled_accounts = _join_labels(spark, run, added)
        accounts_run.unionByName(labelled_accounts).createOrReplaceTempView("_accounts_run")
    if read_counts["posts"] or read_counts["accounts"] or labelled:
        merged = _conform(sp.sql(spark, _merge_accounts_sql("_accounts_run")), ACCOUNTS)
        txn.replace("accounts", sp.write_parts(spark, merged, txn, "accounts")[0])

    step("rejects: reasons, first runs, those not recorded before")
    planned = _driver_table(run, "_rejects_run").cast(REJECTS)  # whole files, by the driver
    run.con.close()
    _conform(read.where("kind = 'reject'").select("reject.*"), REJECTS).unionByName(
        spark.createDataFrame(planned, sp.spark_schema(REJECTS))
    ).createOrReplaceTempView("_rejects_run")
    reasons: dict[str, int] = {}
    first_rejects: list[dict] = []
    rejected = recorded = 0
    if read_counts["rejects"] or planned.num_rows:
        reasons = {r["r"]: r["n"] for r in sp.arrow(spark, _reason_counts_sql("_rejects_run")).to_pylist()}
        rejected = sum(reasons.values())
        first_rejects = [
            dict(zip(REJECT_RUN_KEYS, r.values(), strict=True))
            for r in sp.arrow(spark, reject_runs_sql("_rejects_run", FIRST_REJECTS)).to_pylist()
        ]
        fresh = sp.sql(spark, f"SELECT * FROM _rejects_run r WHERE NOT {_KNOWN_REJECT}")
        rejects_files, recorded = sp.write_parts(spark, _conform(fresh, REJECTS), txn, "rejects")
        if rejects_files:
            txn.append("rejects", rejects_files)
    step("done")
    return run.conclude(
        ingest_id=txn.run_id, started=started, inputs=inputs, params=params, t0=t0, stored=stored,
        rejected=rejected, known_rejects=rejected - recorded, reasons=reasons, first_rejects=first_rejects,
    )  # fmt: skip


def _join_labels(spark: SparkSession, run: _Run, added: list[Path]) -> tuple[int, DataFrame]:
    """``--labels`` on Spark: the (small) file read on the driver by the in-process code, its joins
    with the accounts and the stored posts in Spark SQL. Returns how many accounts it labels, and
    their rows for ``_accounts_run``; stored posts named only by their id get the file's handle, as in-process."""
    rows = run.load_label_rows(run.opts.labels)
    for name in ("_label_rows", "_label_handles"):
        t = _driver_table(run, name)
        spark.createDataFrame(t, sp.spark_schema(t.schema)).createOrReplaceTempView(name)
    labels = sp.sql(spark, label_matches_sql(rows.by_id)).localCheckpoint(eager=True)  # read twice below
    labels.createOrReplaceTempView("_labels")
    matched = run.labelled = labels.count()
    available = {"account_id", "handle", "labels", "source_format", "ingest_id"}
    accounts = sp.sql(spark, select_canonical(ACCOUNTS, available, f"({label_accounts_sql(run.txn.run_id)}) l"))
    run.notes.append(run.label_note(rows, matched))
    if run.label_handles:
        n = sp.arrow(spark, UNNAMED_POSTS_SQL).column("n")[0].as_py()
        if n:
            renamed, _ = sp.write_parts(spark, _conform(sp.sql(spark, named_posts_sql()), POSTS), run.txn, "posts")
            run.txn.replace("posts", [*renamed, *added])
            run.notes.append(renamed_note(n))
    return matched, _conform(accounts, ACCOUNTS)


def _driver_table(run: _Run, name: str) -> pa.Table:
    """A temporary table of the driver's in-process connection (the run's plan, a labels file)."""
    return run.con.sql(f"SELECT * FROM {name}").to_arrow_table()


def plan_batches(groups: dict[tuple[str, str], list[Path]], encodings: dict[Path, str], tasks: int) -> list[Batch]:
    """The batches of files Spark reads, one task each: batches as an in-process ingest cuts them, made
    smaller when that gives fewer than ``tasks`` (down to ``MIN_BATCH_BYTES``), so every core reads."""
    total = sum(f.stat().st_size for group in groups.values() for f in group)
    limit = min(BATCH_BYTES, max(MIN_BATCH_BYTES, total // max(tasks, 1)))
    return [
        (reader, [str(f) for f in batch], {str(f): encodings[f] for f in batch if f in encodings})
        for (reader, _), group in groups.items()
        for batch in _batches(group, limit)
    ]


def _read_task(
    plan: list[Batch],
    options: ReadOptions,
    ingest_id: str,
    staging: str,
    per_reader: dict[str, ReadOptions],
    label_handles: pa.Table | None = None,
) -> Callable:
    """The function a Spark task runs: read the batches whose numbers it is given (``label_handles``:
    the driver's handles from a ``--labels`` file, shipped with the function)."""

    def read(numbers: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        threads = task_threads()
        for rb in numbers:
            for i in rb.column(0).to_pylist():
                reader, files, encodings = plan[i]
                opts = per_reader.get(reader, options)
                yield from task_rows(
                    read_files(reader, files, opts, ingest_id, staging, encodings, threads, label_handles)
                )

    return read


def task_rows(out: BatchRead) -> Iterator[pa.RecordBatch]:
    """A batch's result as rows of ``READ``."""
    for kind, table in (("reject", out.rejects), ("account", out.accounts)):
        for chunk in table.to_batches(max_chunksize=CHUNK_ROWS):
            struct = pa.StructArray.from_arrays(chunk.columns, fields=list(chunk.schema))
            yield _rows(kind, chunk.num_rows, {kind: struct})
    counts = {"posts": out.posts, "rejects": out.rejects.num_rows, "accounts": out.accounts.num_rows}
    meta = {"records": [out.records], "notes": [out.notes], "parts": [out.parts], "counts": [counts]}
    yield _rows("meta", 1, {k: pa.array(v, READ.field(k).type) for k, v in meta.items()})


def _rows(kind: str, n: int, columns: dict[str, pa.Array]) -> pa.RecordBatch:
    arrays = [pa.array([kind] * n, pa.string())]
    arrays += [columns.get(f.name, pa.nulls(n, f.type)) for f in READ if f.name != "kind"]
    return pa.RecordBatch.from_arrays(arrays, schema=READ)


def _conform(df: DataFrame, schema: pa.Schema) -> DataFrame:
    """``df`` with exactly ``schema``'s columns and types, in its order."""
    from pyspark.sql.functions import col

    return df.select([col(f.name).cast(f.dataType).alias(f.name) for f in sp.spark_schema(schema).fields])


def _python_error(e: Exception) -> str:
    """The Python exception line inside Spark's report of a failed task (else its first line)."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[A-Za-z_.]+(Error|Exception)\b:", line)]
    return (errors or lines or [type(e).__name__])[-1 if errors else 0]


def _describer(spark: SparkSession, run_id: str) -> Callable[[str], None]:
    """Names the Spark jobs of each step after the run, as the Spark UI and event log show them."""
    sc = spark.sparkContext
    sc.setJobGroup(f"trollscope-ingest-{run_id}", f"trollscope ingest {run_id}")
    return lambda what: sc.setJobDescription(f"trollscope ingest {run_id}: {what}")
