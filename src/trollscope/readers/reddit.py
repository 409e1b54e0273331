"""Reddit as Pushshift and Arctic Shift dump it: comments (``RC_…``) and submissions (``RS_…``),
one JSON object a line, plain or compressed (the dumps are zstd; ingest decompresses them).

Mapping:

- ``post_id`` is ``reddit:<fullname>`` (``t1_…`` for a comment, ``t3_…`` for a submission), so
  ``link_id`` and ``parent_id``, which are fullnames, name posts directly. The venue is the
  subreddit.
- ``account_id`` is ``reddit:<author>``. Authors Reddit no longer names (``[deleted]``,
  ``[removed]``) are kept apart: each such post gets an account of its own
  (``reddit:[deleted]:<fullname>``), so thousands of unrelated posts never merge into one account
  that seems to act in concert.
- A comment is a reply to ``parent_id`` (the submission or the comment above it), which is what
  co-reply compares; its thread (``link_id``) is not kept. A submission is original, or a repost of ``crosspost_parent`` when it is a
  crosspost.
- Text: a comment's ``body``; a submission's ``title`` and ``selftext`` (without the
  ``[removed]``/``[deleted]`` placeholders). Links: a link submission's ``url`` and the links in
  the text. ``created_utc`` is seconds (a number or a string, as the dumps vary).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from . import ReaderOutput, ReadOptions
from ._json import epoch, first_line, lines, text_urls

NAME = "reddit"
PLATFORM = "reddit"
__all__ = ["NAME", "PLATFORM", "detect", "read"]

_V = "VARCHAR"
_LINE = {
    "id": _V, "name": _V, "author": _V, "author_fullname": _V, "subreddit": _V, "created_utc": _V,
    "body": _V, "title": _V, "selftext": _V, "link_id": _V, "parent_id": _V, "url": _V, "is_self": "BOOLEAN",
    "crosspost_parent": _V, "domain": _V,
}  # fmt: skip
_GONE = ("[deleted]", "[removed]")


def detect(head: str, path: Path) -> bool:
    obj = first_line(head)
    return (
        isinstance(obj, dict)
        and "subreddit" in obj
        and "created_utc" in obj
        and "author" in obj
        and ("body" in obj or "title" in obj)
    )


def read(con: duckdb.DuckDBPyConnection, files: list[str], opts: ReadOptions) -> ReaderOutput:
    errors = lines(con, files, opts, _LINE, "_rd")
    gone = "(" + ", ".join(f"'{g}'" for g in _GONE) + ")"
    fullname = "CASE WHEN j.body IS NOT NULL OR j.parent_id IS NOT NULL THEN 't1_' ELSE 't3_' END || j.id"
    selftext = f"CASE WHEN j.selftext IN {gone} THEN '' ELSE coalesce(j.selftext, '') END"
    text = f"CASE WHEN j.title IS NOT NULL AND j.body IS NULL THEN concat_ws(chr(10) || chr(10), j.title, nullif({selftext}, '')) ELSE j.body END"
    link = "CASE WHEN j.title IS NOT NULL AND NOT coalesce(j.is_self, false) AND j.url LIKE 'http%' THEN [j.url] ELSE [] END"
    records = f"""
        WITH r AS (
            SELECT *, coalesce(j.name, {fullname}) AS fn, {text} AS t FROM _rd WHERE invalid IS NULL
        )
        SELECT 'reddit:' || fn AS post_id,
               'reddit:' || CASE WHEN j.author IN {gone} OR j.author IS NULL THEN coalesce(j.author, '[deleted]') || ':' || fn
                                 ELSE lower(j.author) END AS account_id,  -- names are unique whatever their case
               coalesce(j.author, '[deleted]') AS handle, {epoch("j.created_utc")} AS created_at, t AS text,
               j.subreddit AS venue,
               'reddit:' || j.parent_id AS reply_to_id,
               'reddit:' || j.crosspost_parent AS repost_of_id,
               list_distinct(list_concat({link}, {text_urls("t")})) AS urls,
               source_file, source_line,
               CASE WHEN j.id IS NULL THEN 'no id' WHEN {epoch("j.created_utc")} IS NULL
                    THEN 'bad or missing created_utc: ' || coalesce(j.created_utc, '(none)') END AS reject_reason,
               CASE WHEN j.id IS NULL OR {epoch("j.created_utc")} IS NULL THEN raw END AS raw
        FROM r
        UNION ALL BY NAME
        SELECT source_file, source_line, invalid AS reject_reason, raw FROM _rd WHERE invalid IS NOT NULL
    """
    accounts = (
        "SELECT account_id, any_value(handle) AS handle FROM _records "
        f"WHERE account_id IS NOT NULL AND reject_reason IS NULL AND handle NOT IN {gone} GROUP BY 1"
    )
    return ReaderOutput(records=records, errors=errors, accounts=accounts)
