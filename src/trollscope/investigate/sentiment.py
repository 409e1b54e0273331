"""VADER sentiment for the posts that need it, scored once per distinct text and cached.

VADER (Hutto & Gilbert, ICWSM 2014) is a lexicon-and-rules scorer built for social-media text;
its compound score runs from -1 (most negative) to +1, with the authors' thresholds of ±0.05 for
positive and negative. It is pure Python, so it is the one step here that is not vectorised: we
score each *distinct* text once (an operation reposts the same text many times), spread the
texts over the machine's cores, and keep the scores in the workspace table ``sentiment``
(``text_md5, compound, model``) so later runs only score texts they have not seen.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from importlib.metadata import PackageNotFoundError, version

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ..workspace import Workspace, WorkspaceError

CHUNK = 5000
PARALLEL_FROM = 20000  # below this, starting worker processes costs more than it saves


def model_name() -> str:
    try:
        return f"vaderSentiment {version('vaderSentiment')}"
    except PackageNotFoundError:
        raise RuntimeError("sentiment needs the vaderSentiment package: pip install vaderSentiment") from None


_ANALYZER = None


def _score_chunk(texts: list[str]) -> list[float]:
    """Compound scores of ``texts`` (one analyzer per process: loading its lexicon takes ~0.1 s)."""
    global _ANALYZER
    if _ANALYZER is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _ANALYZER = SentimentIntensityAnalyzer()
    return [_ANALYZER.polarity_scores(t)["compound"] for t in texts]


def score_texts(
    con: duckdb.DuckDBPyConnection,
    ws: Workspace,
    texts_sql: str,
    *,
    cache: bool = True,
    progress: Callable[[int], None] | None = None,
) -> tuple[str, list[str]]:
    """Make a temp table ``_sentiment(text_md5, compound)`` covering every text of ``texts_sql``.

    ``texts_sql`` selects a column ``text``. Returns the model name and notes.
    """
    model = model_name()
    notes: list[str] = []
    cached = ws.has("sentiment")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _need AS
        SELECT * FROM (SELECT md5(text) AS text_md5, any_value(text) AS text FROM ({texts_sql})
                       WHERE text IS NOT NULL GROUP BY 1) t
        {"ANTI JOIN (SELECT text_md5 FROM sentiment WHERE model = $model) s USING (text_md5)" if cached else ""}""",
        {"model": model} if cached else None,
    )
    rows = con.execute("SELECT text_md5, text FROM _need").fetchall()
    hashes = [r[0] for r in rows]
    texts = [r[1] for r in rows]
    scores: list[float] = []
    chunks = [texts[i : i + CHUNK] for i in range(0, len(texts), CHUNK)]
    workers = min(os.cpu_count() or 1, 8)
    if len(texts) >= PARALLEL_FROM and workers > 1:
        # forkserver, not fork: the parent holds DuckDB's threads, which a forked child must not inherit
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
            for part in pool.map(_score_chunk, chunks):
                scores += part
                if progress:
                    progress(len(part))
    else:
        for chunk in chunks:
            scores += _score_chunk(chunk)
            if progress:
                progress(len(chunk))
    new = pa.table(
        {
            "text_md5": pa.array(hashes, pa.string()),
            "compound": pa.array(scores, pa.float64()),
            "model": pa.array([model] * len(hashes), pa.string()),
        }
    )
    con.register("_sentiment_new", new)
    old = "SELECT text_md5, compound FROM sentiment WHERE model = $model UNION ALL " if cached else ""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _sentiment AS {old}SELECT text_md5, compound FROM _sentiment_new",
        {"model": model} if cached else None,
    )
    if cache and new.num_rows:
        try:
            with ws.transaction() as txn:
                target = txn.new_file("sentiment")
                pq.write_table(new, target, compression="zstd")  # from Arrow: the same on either engine
                txn.append("sentiment", [target])
        except (WorkspaceError, OSError) as e:
            notes.append(f"sentiment scores not cached ({e}); they will be computed again next time")
    return model, notes
