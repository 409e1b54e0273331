"""near-dup's MinHash/LSH candidates on Spark: the same signatures as on DuckDB, computed in Spark tasks.

On DuckDB, ``layers.near_dup_layer`` hashes each text's words in DuckDB and turns them into shingle
hashes and LSH band keys in numpy on one machine (``word_shingles``, ``band_keys``). On Spark the
texts stay in the cluster: each task takes a slice of ``_texts`` as Arrow batches (``mapInArrow``)
and runs those very functions on it, the words hashed by an embedded DuckDB, as ingest's tasks run
the readers (ingest_spark.py). So a text's shingles and band keys are bit for bit the ones DuckDB
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
    from ..spark_con import SparkConnection

SIGNATURE_SCHEMA = "aid INT, pid BIGINT, ts BIGINT, sh ARRAY<BIGINT>, keys ARRAY<BIGINT>"


def _signatures(batches: Iterator[pa.RecordBatch], *, shingle: int, bands: int, rows: int, seed: int):
    """A Spark task: each batch of ``(aid, pid, ts, norm)`` rows with its shingle hashes and band keys
    (uint64 values carried as int64 of the same bits: Spark has no unsigned integers)."""
    import duckdb

    from .layers import band_keys, word_shingles

    con = duckdb.connect()
    for batch in batches:
        if not batch.num_rows:
            continue
        con.register("_batch", pa.Table.from_batches([batch]))
        t = con.sql(
            "SELECT aid, pid, ts, list_transform(string_split(norm, ' '), lambda w: hash(w)) AS wh FROM _batch"
        ).to_arrow_table()
        con.unregister("_batch")
        sh = word_shingles(t.column("wh"), shingle)
        keys = band_keys(sh, bands, rows, seed)
        signed = pa.ListArray.from_arrays(sh.offsets, pa.array(sh.flatten().to_numpy().view(np.int64)))
        yield pa.RecordBatch.from_arrays(
            [
                t.column("aid").combine_chunks().cast(pa.int32()),
                t.column("pid").combine_chunks().cast(pa.int64()),
                t.column("ts").combine_chunks().cast(pa.int64()),
                signed,
                pa.FixedSizeListArray.from_arrays(pa.array(keys.view(np.int64).ravel()), bands).cast(
                    pa.list_(pa.int64())
                ),
            ],
            names=["aid", "pid", "ts", "sh", "keys"],
        )


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
    texts = spark.table("_texts").where(f"length(norm) >= {int(min_text_chars)}").select("aid", "pid", "ts", "norm")
    task = partial(_signatures, shingle=int(shingle), bands=int(bands), rows=int(rows), seed=int(seed))
    # Computed once and cut from their lineage (localCheckpoint, as spark_con makes every temp table):
    # the plans that read them stay short, and dropping a view cannot drop them.
    con.frame("_nd_posts", texts.mapInArrow(task, SIGNATURE_SCHEMA).localCheckpoint(eager=True))
    cap = int(max_item_accounts)
    # Band keys held by more than one post, and the posts holding a key that more than ``cap``
    # accounts share: the text everyone posts, counted as actions and never paired.
    con.frame(
        "_nd_keys",
        con.spark_sql(
            """SELECT aid, pid, ts, CAST(band AS SMALLINT) AS band, key
            FROM _nd_posts LATERAL VIEW posexplode(keys) k AS band, key"""
        ),
    )
    con.frame(
        "_nd_key_groups",
        con.spark_sql(
            "SELECT band, key, count(DISTINCT aid) AS actors FROM _nd_keys GROUP BY band, key HAVING count(*) > 1"
        ).localCheckpoint(eager=True),
    )
    con.frame(
        "_nd_crowded",
        con.spark_sql(
            f"""SELECT DISTINCT k.pid FROM _nd_keys k JOIN _nd_key_groups g ON g.band = k.band AND g.key = k.key
            WHERE g.actors > {cap}"""
        ).localCheckpoint(eager=True),
    )
    con.frame(
        "_nd_shared",
        con.spark_sql(
            """SELECT k.aid, k.pid, k.ts, k.band, k.key FROM _nd_keys k
            JOIN _nd_key_groups g ON g.band = k.band AND g.key = k.key
            LEFT ANTI JOIN _nd_crowded c ON c.pid = k.pid"""
        ).localCheckpoint(eager=True),
    )
    counts = con.spark_sql("SELECT aid, count(*) AS n FROM _nd_posts GROUP BY aid").toArrow()
    activity = np.zeros((n_accounts, 1))
    activity[counts.column("aid").to_numpy(), 0] = counts.column("n").to_numpy()
    excluded = int(con.spark_sql("SELECT count(*) AS n FROM _nd_crowded").collect()[0][0])
    return int(activity.sum()), activity, excluded
