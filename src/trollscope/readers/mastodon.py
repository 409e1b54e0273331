"""Mastodon API statuses: a JSON array (a timeline, a search), a status context (``ancestors`` and
``descendants``), one status, or one status per JSON line.

Mapping:

- ``post_id`` is ``mastodon:<id>``; ``in_reply_to_id`` and ``reblog.id`` are ids on the same
  server, so replies and reblogs point at posts of the collection. (Ids are those of the server
  the collection queried: the same status fetched from two servers has two ids.)
- ``account_id`` is ``mastodon:<user@instance>``: ``acct`` is ``user`` for the queried server's
  own accounts, so the instance comes from the account's ``url`` when ``acct`` lacks it. The
  venue is the account's instance.
- ``content`` is HTML: it is reduced to text by a real HTML parser (the standard library's;
  paragraphs and ``<br>`` become newlines, entities are decoded) and its links are the anchors
  that are neither mentions nor hashtags, plus the preview ``card``'s URL. Hashtags come from
  ``tags``, mentions from ``mentions`` (as ``user@instance``).
- A reblog is a repost of ``reblog.id`` by ``reblog.account``, with the reblogged status's text.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from . import ReaderOutput, ReadOptions
from ._json import document_rejects, documents, first_line, head_json, lines, register_html, struct, utc

NAME = "mastodon"
PLATFORM = "mastodon"
__all__ = ["NAME", "PLATFORM", "detect", "read"]

_V = "VARCHAR"
_ACCOUNT = {
    "id": _V, "acct": _V, "username": _V, "display_name": _V, "url": _V, "note": _V, "created_at": _V,
    "followers_count": "BIGINT", "following_count": "BIGINT", "statuses_count": "BIGINT", "bot": "BOOLEAN",
}  # fmt: skip
_CORE = {
    "id": _V, "uri": _V, "created_at": _V, "content": _V, "language": _V, "in_reply_to_id": _V,
    "account": _ACCOUNT, "tags": [{"name": _V}], "mentions": [{"acct": _V, "url": _V}], "card": {"url": _V},
}  # fmt: skip
_STATUS = {**_CORE, "reblog": _CORE}


def _is_status(obj: object) -> bool:
    return (
        isinstance(obj, dict) and isinstance(obj.get("account"), dict) and "acct" in obj["account"] and "content" in obj
    )


def detect(head: str, path: Path) -> bool:
    """Mastodon Status objects: JSON lines, an array, a context, or one status."""
    start = head.lstrip("\ufeff \t\r\n")
    if start.startswith("{"):
        if _is_status(first_line(start)) or _is_status(head_json(start)):
            return True
        return '"ancestors"' in start[:200] and '"acct"' in start and '"content"' in start
    if start.startswith("["):
        return '"acct"' in start and '"content"' in start and '"in_reply_to_id"' in start
    return False


def _acct(a: str) -> str:
    """``user@instance`` of an account (or mention) object."""
    return (
        f"lower(CASE WHEN contains({a}.acct, '@') THEN {a}.acct "
        f"ELSE {a}.acct || '@' || regexp_extract({a}.url, '^https?://([^/]+)', 1) END)"
    )


def read(con: duckdb.DuckDBPyConnection, files: list[str], opts: ReadOptions) -> ReaderOutput:
    html = register_html(con)
    errors, rejects = None, ""
    with open(files[0], "rb") as fh:
        document = not _is_status(first_line(fh.read(1 << 20).decode("utf-8", errors="replace")))
    if document:  # an array, a context or one (pretty-printed) status: numbered by position
        docs = documents(con, files, opts)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _ms AS
            WITH l AS (
                SELECT source_file, CASE
                    WHEN json_type(content) = 'ARRAY' THEN from_json(content, {struct([_STATUS])})
                    WHEN json_exists(content, '$.ancestors') OR json_exists(content, '$.descendants')
                    THEN list_concat(coalesce(from_json(content->'$.ancestors', {struct([_STATUS])}), []),
                                     coalesce(from_json(content->'$.descendants', {struct([_STATUS])}), []))
                    ELSE [from_json(content, {struct(_STATUS)})] END AS l
                FROM {docs} WHERE ok
            )
            SELECT source_file, unnest(l) AS j, unnest(range(1, len(l) + 1)) AS source_line,
                   NULL::VARCHAR AS raw, NULL::VARCHAR AS invalid
            FROM l
        """)
        rejects = f"UNION ALL BY NAME {document_rejects(docs)}"
    else:
        errors = lines(con, files, opts, _STATUS, "_ms")
    # Each distinct HTML parsed once (the parse runs in Python), and materialised so it runs once.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ms_html AS
        SELECT c AS content, {html}(c) AS h
        FROM (SELECT DISTINCT coalesce(j.reblog.content, j.content) AS c FROM _ms WHERE invalid IS NULL)
    """)
    records = f"""
        WITH s AS (
            SELECT _ms.*, x.h FROM _ms LEFT JOIN _ms_html x ON x.content = coalesce(j.reblog.content, j.content)
            WHERE invalid IS NULL
        )
        SELECT 'mastodon:' || j.id AS post_id, 'mastodon:' || {_acct("j.account")} AS account_id,
               {_acct("j.account")} AS handle, {utc("j.created_at")} AS created_at, h.text AS text,
               coalesce(j.reblog.language, j.language) AS lang,
               regexp_extract(j.account.url, '^https?://([^/]+)', 1) AS venue,
               'mastodon:' || j.reblog.id AS repost_of_id,
               'mastodon:' || {_acct("j.reblog.account")} AS repost_of_account_id,
               {_acct("j.reblog.account")} AS repost_of_handle,
               'mastodon:' || j.in_reply_to_id AS reply_to_id,
               list_distinct(list_concat(h.links, CASE WHEN coalesce(j.reblog.card.url, j.card.url) IS NOT NULL
                   THEN [coalesce(j.reblog.card.url, j.card.url)] ELSE [] END)) AS urls,
               list_transform(coalesce(j.reblog.tags, j.tags, []), lambda t: lower(t.name)) AS hashtags,
               list_transform(coalesce(j.reblog.mentions, j.mentions, []), lambda m: {_acct("m")}) AS mentions,
               source_file, source_line,
               CASE WHEN j.id IS NULL THEN 'no id' WHEN j.account.acct IS NULL THEN 'no account'
                    WHEN {utc("j.created_at")} IS NULL THEN 'bad date: ' || coalesce(j.created_at, '(none)') END
                    AS reject_reason,
               CASE WHEN j.id IS NULL OR j.account.acct IS NULL OR {utc("j.created_at")} IS NULL THEN raw END AS raw
        FROM s
        UNION ALL BY NAME
        SELECT source_file, source_line, invalid AS reject_reason, raw FROM _ms WHERE invalid IS NOT NULL
        {rejects}
    """
    accounts = f"""
        SELECT 'mastodon:' || {_acct("a")} AS account_id, any_value({_acct("a")}) AS handle,
               any_value(a.display_name) AS name, {html}(any_value(a.note)).text AS description,
               any_value({utc("a.created_at")}) AS created_at, max(a.followers_count) AS followers,
               max(a.following_count) AS following, max(a.statuses_count) AS posts_count,
               any_value(CASE WHEN a.bot THEN MAP {{'bot': 'true'}} END) AS labels
        FROM (SELECT j.account AS a FROM _ms UNION ALL SELECT j.reblog.account FROM _ms)
        WHERE a.acct IS NOT NULL GROUP BY 1
    """
    return ReaderOutput(records=records, errors=errors, accounts=accounts)
