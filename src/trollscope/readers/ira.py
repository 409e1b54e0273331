"""FiveThirtyEight's Russian troll tweets (Linvill & Warren, Clemson).

Two layouts: the original ``IRAhandle_tweets_N.csv`` (``external_author_id,author,content,…``)
and one file per author (``author_id,content,region,…``, as in ``ira-by-author``), whose
``authors.csv`` beside the files is joined as account labels. There is no tweet id in the per-author
layout; ``post_type`` says R (retweet) or Q (quote), and a retweet names its original only as
``RT @handle: text``; ingest derives ids and targets. A quote is a post with its own text (the data
also sets ``retweet=1`` on it), so it is read as a quote, not a repost. Timestamps are minute
resolution with no stated zone: read as UTC.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ..sources import open_text
from . import ReaderOutput, ReadOptions
from ._scan import csv_scan, header, layout, sql_str

NAME = "ira"
PLATFORM = "twitter"
__all__ = ["NAME", "companion", "detect", "layout", "read"]

PER_AUTHOR = [
    "author_id", "content", "region", "language", "publish_date", "harvested_date",
    "following", "followers", "updates", "post_type", "retweet",
]  # fmt: skip
ORIGINAL_CORE = ["external_author_id", "author", "content", "region", "language", "publish_date"]
AUTHOR_LABELS = ["account_type", "account_category", "new_june_2018", "in_congress_2017", "in_congress_2018"]

# Languages as the data names them -> ISO 639-1, for the ones that matter in this data.
_LANGS = {
    "English": "en", "Russian": "ru", "German": "de", "Ukrainian": "uk", "Italian": "it",
    "Spanish": "es", "French": "fr", "Arabic": "ar", "Uzbek": "uz", "Bulgarian": "bg",
    "Macedonian": "mk", "Serbian": "sr", "Farsi (Persian)": "fa", "Dutch": "nl",
}  # fmt: skip


def detect(head: str, path: Path) -> bool:
    cols = header(head)
    return cols[: len(PER_AUTHOR)] == PER_AUTHOR or all(c in cols for c in ORIGINAL_CORE)


def companion(head: str, path: Path) -> bool:
    """``authors.csv``: account labels, joined by ``read`` rather than read as posts."""
    return header(head)[:3] == ["author_id", "author", "external_author_id"]


def _authors_file(files: list[str]) -> Path | None:
    """``authors.csv`` in the files' folder or up to two folders above."""
    for start in {Path(f).parent for f in files}:
        for d in [start, *list(start.parents)[:2]]:
            if (d / "authors.csv").exists():
                return d / "authors.csv"
    return None


def read(con: duckdb.DuckDBPyConnection, files: list[str], opts: ReadOptions) -> ReaderOutput:
    with open_text(files[0], opts.encoding) as fh:
        cols = header(fh.readline())
    per_author = cols[: len(PER_AUTHOR)] == PER_AUTHOR
    source, errors = csv_scan(con, files, cols, encoding=opts.encoding, strict=opts.strict)
    when = (
        "coalesce(try_strptime(publish_date, '%Y-%m-%d %H:%M:%S'), try_strptime(publish_date, '%m/%d/%Y %H:%M'),"
        " try_strptime(publish_date, '%Y-%m-%d %H:%M'))"
    )
    lang = "CASE language " + " ".join(f"WHEN {sql_str(k)} THEN {sql_str(v)}" for k, v in _LANGS.items())
    lang += " ELSE lower(language) END"
    # A quote carries its own text beside the quoted item: it is a post, not a repost, even though the
    # data also sets retweet=1 on it (about 18,000 rows of the 538 files have post_type Q and retweet 1).
    kind = (
        "CASE WHEN post_type IN ('Q', 'QUOTE_TWEET') THEN 'quote' "
        "WHEN retweet = '1' OR post_type IN ('R', 'RETWEET') THEN 'repost' END"
    )
    notes: list[str] = []
    if per_author:
        authors = _authors_file(files)
        if authors is not None:
            label_cols = ", ".join(f"{c}" for c in AUTHOR_LABELS)
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE ira_authors AS SELECT author_id, author, external_author_id, "
                f"{label_cols} FROM read_csv({sql_str(str(authors))}, all_varchar=true, header=true)"
            )
            notes.append(f"account labels joined from {authors}")
        else:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE ira_authors AS SELECT NULL::VARCHAR AS author_id, "
                "NULL::VARCHAR AS author, NULL::VARCHAR AS external_author_id, "
                + ", ".join(f"NULL::VARCHAR AS {c}" for c in AUTHOR_LABELS)
            )
        records = f"""
            SELECT r.author_id AS account_id, coalesce(a.author, r.author_id) AS handle,
                   _t AS created_at, content AS text, {lang} AS lang, {kind} AS kind,
                   source_file, source_line,
                   CASE WHEN _t IS NULL THEN 'bad date: ' || coalesce(publish_date, '(empty)')
                        WHEN r.author_id IS NULL THEN 'no author' END AS reject_reason,
                   CASE WHEN _t IS NULL OR r.author_id IS NULL
                        THEN concat_ws(',', r.author_id, content, publish_date) END AS raw,
                   following, followers, updates
            FROM (SELECT *, {when} AS _t FROM {source}) r LEFT JOIN ira_authors a ON a.author_id = r.author_id
        """
        labels = (
            "map_from_entries(list_filter(["
            + ", ".join(
                f"struct_pack(k := {sql_str(c)}, v := any_value(a.{c}))" for c in [*AUTHOR_LABELS, "external_author_id"]
            )
            + "], lambda e: e.v IS NOT NULL AND e.v <> ''))"
        )
        accounts = f"""
            SELECT account_id, any_value(handle) AS handle,
                   arg_max(try_cast(followers AS BIGINT), created_at) AS followers,
                   arg_max(try_cast(following AS BIGINT), created_at) AS following,
                   max(try_cast(updates AS BIGINT)) AS posts_count,
                   {labels} AS labels
            FROM _records r LEFT JOIN ira_authors a ON a.author_id = r.account_id
            WHERE reject_reason IS NULL GROUP BY account_id
        """
    else:
        has = set(cols)
        post_id = "nullif(tweet_id, '')" if "tweet_id" in has else "NULL"
        label_cols = [c for c in ("account_type", "account_category", "new_june_2018") if c in has]
        records = f"""
            SELECT external_author_id AS account_id, author AS handle, {post_id} AS post_id,
                   _t AS created_at, content AS text, {lang} AS lang, {kind} AS kind,
                   source_file, source_line,
                   CASE WHEN _t IS NULL THEN 'bad date: ' || coalesce(publish_date, '(empty)')
                        WHEN coalesce(external_author_id, author) IS NULL THEN 'no author' END AS reject_reason,
                   CASE WHEN _t IS NULL OR coalesce(external_author_id, author) IS NULL
                        THEN concat_ws(',', external_author_id, author, content, publish_date) END AS raw,
                   {", ".join(label_cols + [c for c in ("following", "followers", "updates") if c in has]) or "1 AS _none"}
            FROM (SELECT *, {when} AS _t FROM {source})
        """
        labels = (
            "map_from_entries(list_filter(["
            + ", ".join(f"struct_pack(k := {sql_str(c)}, v := any_value({c}))" for c in label_cols)
            + "], lambda e: e.v IS NOT NULL AND e.v <> ''))"
            if label_cols
            else "NULL"
        )
        counts = ", ".join(
            f"arg_max(try_cast({c} AS BIGINT), created_at) AS {c}" for c in ("followers", "following") if c in has
        )
        accounts = f"""
            SELECT coalesce(account_id, handle) AS account_id, any_value(handle) AS handle,
                   {counts + "," if counts else ""} {labels} AS labels
            FROM _records WHERE reject_reason IS NULL GROUP BY 1
        """
    return ReaderOutput(records=records, errors=errors, accounts=accounts, notes=notes)
