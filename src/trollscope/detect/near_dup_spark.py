"""near-dup's MinHash/LSH candidates on Spark: the same signatures as on DuckDB, computed in Spark tasks.

On DuckDB, ``layers.near_dup_layer`` hashes each text's words in DuckDB and turns them into shingle
hashes and LSH band keys in numpy on one machine (``word_shingles``, ``band_keys``). On Spark the
texts stay in the cluster: each task takes a slice of ``_texts`` as Arrow batches (``mapInArrow``)
and runs those very functions on it, the words hashed by an embedded DuckDB (spark_tasks.py), as
ingest's tasks run the readers (ingest_spark.py). So a text's shingles and band keys are bit for bit the ones DuckDB
computes, and the candidates, the exact Jaccard and the edges are the same on both engines
(tests/test_spark_near_dup.py). Which band keys are shared, and which are a crowd's (shared by more
than ``max_item_accounts`` accounts), is Spark SQL; nothing per text comes back to the driver, only
the per-account action counts the null model needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from ..spark_con import SparkConnection

_SPARK_TYPES = {"aid": "INT", "pid": "BIGINT", "ts": "BIGINT", "tid": "BIGINT", "mask": "BIGINT"}


def _signatures(batches: Iterator[pa.RecordBatch], *, keep: tuple[str, ...], text: str, shingle: int, bands: int,
                rows: int, seed: int):  # fmt: skip
    """A Spark task: each batch's ``keep`` columns with its ``text``'s shingle hashes ``sh`` and band
    keys ``keys`` (uint64 values carried as int64 of the same bits: Spark has no unsigned integers)."""
    from ..spark_tasks import BATCH, per_batch
    from .layers import band_keys, word_hashes_sql, word_shingles

    for t in per_batch(batches, f"SELECT {', '.join(keep)}, {word_hashes_sql(text)} AS wh FROM {BATCH}"):
        sh = word_shingles(t.column("wh"), shingle)
        keys = band_keys(sh, bands, rows, seed)
        signed = pa.ListArray.from_arrays(sh.offsets, pa.array(sh.flatten().to_numpy().view(np.int64)))
        flat = pa.array(keys.view(np.int64).ravel())
        yield pa.RecordBatch.from_arrays(
            [t.column(c).combine_chunks().cast(pa.int32() if _SPARK_TYPES[c] == "INT" else pa.int64()) for c in keep]
            + [signed, pa.FixedSizeListArray.from_arrays(flat, bands).cast(pa.list_(pa.int64()))],
            names=[*keep, "sh", "keys"],
        )


def text_signatures(df: DataFrame, *, keep: tuple[str, ...], text: str, shingle: int, bands: int, rows: int,
                    seed: int) -> DataFrame:  # fmt: skip
    """``df``'s ``keep`` columns with the shingle hashes and band keys of its column ``text``, computed
    in Spark tasks by near-dup's own functions, once (``localCheckpoint``)."""
    task = partial(_signatures, keep=keep, text=text, shingle=int(shingle), bands=int(bands), rows=int(rows),
                   seed=int(seed))  # fmt: skip
    schema = ", ".join(f"{c} {_SPARK_TYPES[c]}" for c in keep) + ", sh ARRAY<BIGINT>, keys ARRAY<BIGINT>"
    return df.select(*keep, text).mapInArrow(task, schema).localCheckpoint(eager=True)


def signatures(
    con: SparkConnection,
    *,
    n_accounts: int,
    min_text_chars: int,
    shingle: int,
    bands: int,
    rows: int,
    seed: int,
    max_item_accounts: int,
) -> tuple[int, np.ndarray, int]:
    """``_nd_posts (aid, pid, ts, sh)`` and ``_nd_shared (aid, pid, ts, band, key)`` as Spark views,
    as ``near_dup_layer`` makes them on DuckDB. Returns (texts, activity (accounts x 1), crowded posts)."""
    spark = con.spark
    texts = spark.table("_texts").where(f"length(norm) >= {int(min_text_chars)}")
    # Computed once and cut from their lineage (localCheckpoint, as spark_con makes every temp table):
    # the plans that read them stay short, and dropping a view cannot drop them.
    sig = text_signatures(texts, keep=("aid", "pid", "ts"), text="norm", shingle=shingle, bands=bands, rows=rows,
                          seed=seed)  # fmt: skip
    con.frame("_nd_posts", sig)
    # Posts holding a key that more than max_item_accounts accounts share are the text everyone
    # posts: counted as actions, never paired.
    excluded = shared_keys(con, "_nd_posts", "_nd_shared", cols=("aid", "pid", "ts"), row="pid", actor="aid",
                           cap=max_item_accounts)  # fmt: skip
    counts = con.spark_sql("SELECT aid, count(*) AS n FROM _nd_posts GROUP BY aid").toArrow()
    activity = np.zeros((n_accounts, 1))
    activity[counts.column("aid").to_numpy(), 0] = counts.column("n").to_numpy()
    return int(activity.sum()), activity, excluded


def cross_platform_keys(con: SparkConnection, *, shingle: int, bands: int, rows: int, seed: int, max_texts: int) -> int:
    """``_xp_sh (tid, mask, sh)`` and ``_xp_keys (tid, band, key)`` for ``crossplatform.near_items`` on
    Spark: every distinct text's shingles, and its band keys that another text holds, leaving out
    keys more than ``max_texts`` texts hold (a template). Returns the number of texts."""
    sig = text_signatures(con.spark.table("_xp_distinct"), keep=("tid", "mask"), text="n", shingle=shingle,
                          bands=bands, rows=rows, seed=seed)  # fmt: skip
    con.frame("_xp_sh", sig)
    shared_keys(con, "_xp_sh", "_xp_keys", cols=("tid",), row="tid", actor="tid", cap=max_texts)
    return int(con.spark_sql("SELECT count(*) FROM _xp_sh").collect()[0][0])


def shared_keys(con: SparkConnection, source: str, name: str, *, cols: tuple[str, ...], row: str, actor: str,
                cap: int) -> int:  # fmt: skip
    """``layers.shared_buckets`` in Spark SQL: ``name`` holds ``cols, band, key`` for every band key of
    ``source``'s rows that another row holds too, leaving out each ``row`` holding a key that more
    than ``cap`` distinct ``actor``s hold. Returns how many rows were left out so."""
    keys = f"SELECT {', '.join(cols)}, CAST(band AS SMALLINT) AS band, key FROM {source} LATERAL VIEW posexplode(keys) e AS band, key"
    groups = f"SELECT band, key, count(DISTINCT {actor}) AS actors FROM k GROUP BY band, key HAVING count(*) > 1"
    con.frame("_crowded_rows", con.spark_sql(
        f"""WITH k AS ({keys}), g AS ({groups})
        SELECT DISTINCT k.{row} FROM k JOIN g ON g.band = k.band AND g.key = k.key WHERE g.actors > {int(cap)}"""
    ).localCheckpoint(eager=True))  # fmt: skip
    con.frame(name, con.spark_sql(
        f"""WITH k AS ({keys}), g AS ({groups})
        SELECT k.* FROM k JOIN g ON g.band = k.band AND g.key = k.key LEFT ANTI JOIN _crowded_rows c ON c.{row} = k.{row}"""
    ).localCheckpoint(eager=True))  # fmt: skip
    left_out = int(con.spark_sql("SELECT count(*) FROM _crowded_rows").collect()[0][0])
    con.unregister("_crowded_rows")
    return left_out
