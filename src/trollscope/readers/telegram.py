"""Telegram Desktop's "Export chat history" JSON (``result.json``): one chat, or a full export.

A one-chat export is ``{name, type, id, messages: [...]}``; a full export ("Export Telegram data")
holds its chats in ``chats.list`` and ``left_chats.list``. Each message of type ``message`` is a
record, numbered by its position in the file; service messages (channel created, member joined,
pinned…) are not posts and are counted in a note.

Mapping:

- ``post_id`` is ``telegram:<chat id>/<message id>`` (message ids are per chat); the venue is the
  chat's name.
- ``account_id`` is ``telegram:<from_id>`` (``user123`` or ``channel456``, as the export writes
  it), so a channel's own posts are the channel's; the display name is the handle.
- Time is ``date_unixtime`` (UTC); ``date`` is the exporting computer's local time and is used
  only by exports too old to have the former.
- ``text`` is the concatenation of ``text_entities`` (or of ``text``, a string or a list of
  strings and entity objects); hashtags, mentions and links come from the entities (``text_link``
  gives its ``href``).
- A forward (``forwarded_from``) is a repost. The export names the original's author but not the
  original message, so ingest identifies the original by its text (``rt:…``): forwards of one
  message share it and feed co-repost. ``reply_to_message_id`` is a reply within the chat.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from . import ReaderOutput, ReadOptions
from ._json import document_rejects, documents, epoch, struct

NAME = "telegram"
PLATFORM = "telegram"
__all__ = ["NAME", "PLATFORM", "detect", "read"]

_ENTITY = {"type": "VARCHAR", "text": "VARCHAR", "href": "VARCHAR", "user_id": "VARCHAR"}
_MESSAGE = {
    "id": "VARCHAR", "type": "VARCHAR", "date": "VARCHAR", "date_unixtime": "VARCHAR",
    "from": "VARCHAR", "from_id": "VARCHAR", "forwarded_from": "VARCHAR", "forwarded_from_id": "VARCHAR",
    "reply_to_message_id": "VARCHAR", "reply_to_peer_id": "VARCHAR", "action": "VARCHAR",
    "text": "JSON", "text_entities": [_ENTITY],
}  # fmt: skip
_CHAT = {"name": "VARCHAR", "type": "VARCHAR", "id": "VARCHAR", "messages": [_MESSAGE]}


def detect(head: str, path: Path) -> bool:
    """A JSON object whose head shows Telegram Desktop's chat export keys."""
    start = head.lstrip("\ufeff \t\r\n")
    if not start.startswith("{"):
        return False
    chat = re.search(r'"messages"\s*:\s*\[', start) and ('"date_unixtime"' in start or '"from_id"' in start)
    full = '"personal_information"' in start or re.search(r'"chats"\s*:\s*\{\s*"about"', start)
    return bool(chat or full)


def _text(m: str) -> str:
    """A message's text: its entities' texts in order, else ``text`` (string, or list of strings and entities)."""
    from_list = (
        f"array_to_string(list_transform(CAST({m}.text AS JSON[]), lambda x: "
        f"CASE WHEN json_type(x) = 'VARCHAR' THEN x->>'$' ELSE x->>'$.text' END), '')"
    )
    return (
        f"coalesce(CASE WHEN len({m}.text_entities) > 0 THEN array_to_string(list_transform({m}.text_entities, "
        f"lambda e: e.text), '') END, CASE json_type({m}.text) WHEN 'VARCHAR' THEN {m}.text->>'$' "
        f"WHEN 'ARRAY' THEN {from_list} END, '')"
    )


def _entities(m: str) -> str:
    """Hashtags, mentions and links from the entities; NULL (derived from the text) without them."""
    te = f"{m}.text_entities"
    links = "'link', 'text_link'"

    def of(types: str, expr: str) -> str:
        return f"list_transform(list_filter({te}, lambda e: e.type IN ({types})), lambda e: {expr})"

    return (
        f"CASE WHEN {te} IS NOT NULL THEN {of(repr('hashtag'), 'lower(ltrim(e.text, chr(35)))')} END AS hashtags, "
        f"CASE WHEN {te} IS NOT NULL THEN {of(repr('mention'), 'lower(ltrim(e.text, chr(64)))')} END AS mentions, "
        f"CASE WHEN {te} IS NOT NULL THEN {of(links, 'coalesce(e.href, e.text)')} END AS urls"
    )


def read(con: duckdb.DuckDBPyConnection, files: list[str], opts: ReadOptions) -> ReaderOutput:
    docs = documents(con, files, opts)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _tg AS
        WITH chats AS (
            SELECT source_file, CASE WHEN json_exists(content, '$.chats') OR json_exists(content, '$.left_chats')
                THEN list_concat(coalesce(from_json(content->'$.chats.list', {struct([_CHAT])}), []),
                                 coalesce(from_json(content->'$.left_chats.list', {struct([_CHAT])}), []))
                ELSE [from_json(content, {struct(_CHAT)})] END AS cs
            FROM {docs} WHERE ok
        ), c AS (
            SELECT source_file, unnest(cs) AS c, unnest(range(len(cs))) AS ci FROM chats
        ), m AS (
            SELECT source_file, ci, c.id AS chat_id, c.name AS chat, unnest(c.messages) AS m,
                   unnest(range(len(c.messages))) AS mi
            FROM c
        )
        SELECT *, row_number() OVER (PARTITION BY source_file ORDER BY ci, mi) AS n FROM m
    """)
    records = f"""
        SELECT 'telegram:' || chat_id || '/' || m.id AS post_id, 'telegram:' || m.from_id AS account_id,
               m."from" AS handle, coalesce({epoch("m.date_unixtime")}, try_cast(m.date AS TIMESTAMP)) AS created_at,
               {_text("m")} AS text, chat AS venue,
               CASE WHEN m.forwarded_from IS NOT NULL OR m.forwarded_from_id IS NOT NULL THEN 'repost' END AS kind,
               'telegram:' || m.forwarded_from_id AS repost_of_account_id, m.forwarded_from AS repost_of_handle,
               CASE WHEN m.reply_to_message_id IS NOT NULL
                    THEN 'telegram:' || coalesce(regexp_extract(m.reply_to_peer_id, '(\\d+)$', 1), chat_id) || '/'
                         || m.reply_to_message_id END AS reply_to_id,
               {_entities("m")}, source_file, n AS source_line,
               CASE WHEN m.date_unixtime IS NULL AND m.date IS NULL THEN 'no date' END AS reject_reason,
               CASE WHEN m.date_unixtime IS NULL AND m.date IS NULL THEN left(m::VARCHAR, 500) END AS raw
        FROM _tg WHERE m.type = 'message'
        UNION ALL BY NAME {document_rejects(docs)}
    """
    notes = []
    for path, service, chats in con.execute(
        "SELECT source_file, count(*) FILTER (WHERE m.type IS DISTINCT FROM 'message'), count(DISTINCT ci) "
        "FROM _tg GROUP BY 1 ORDER BY 1"
    ).fetchall():
        if service:
            notes.append(f"{path}: {service:,} service messages (joins, pins, calls…) are not posts: not read")
        if chats > 1:
            notes.append(f"{path}: a full export of {chats:,} chats")
    accounts = (
        "SELECT account_id, arg_max(handle, created_at) AS handle, arg_max(handle, created_at) AS name "
        "FROM _records WHERE account_id IS NOT NULL AND reject_reason IS NULL GROUP BY 1"
    )
    return ReaderOutput(records=records, accounts=accounts, notes=notes)
