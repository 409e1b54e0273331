"""TGDataset (La Morgia et al.): Telegram channels keyed by id, each with its ``text_messages``.

A file is one JSON object ``{channel_id: {username, title, …, text_messages: {message_id:
{message, date, author, is_forwarded, forwarded_from_id, forwarded_message_date}}}}``. Every
text message is a record, numbered by its position in the file. The channel is the account
(``telegram:channel<id>``, as the other Telegram readers name it) and the venue (its username).
A forward is a repost; the dataset names the original channel but not the message, so ingest
identifies the original by its text. ``generic_media`` entries hold no text and are not read.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from . import ReaderOutput, ReadOptions
from ._json import document_rejects, documents, epoch, struct

NAME = "tgdataset"
PLATFORM = "telegram"
__all__ = ["NAME", "PLATFORM", "detect", "read"]

_MESSAGE = {
    "message": "VARCHAR", "date": "DOUBLE", "author": "VARCHAR", "is_forwarded": "BOOLEAN",
    "forwarded_from_id": "VARCHAR",
}  # fmt: skip
_CHANNEL = {"username": "VARCHAR", "title": "VARCHAR", "description": "VARCHAR", "n_subscribers": "BIGINT"}


def detect(head: str, path: Path) -> bool:
    return bool(re.match(r'\s*\{\s*"-?\d+"\s*:\s*\{', head.lstrip("\ufeff"))) and '"text_messages"' in head


def read(con: duckdb.DuckDBPyConnection, files: list[str], opts: ReadOptions) -> ReaderOutput:
    docs = documents(con, files, opts)
    # json_each walks the objects in document order without parsing them into one large struct.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _tgd AS
        WITH c AS (  -- one row per channel: its fields parsed once, not once per message
            SELECT d.source_file, c.id AS ci, c.key AS channel_id, from_json(c.value, {struct(_CHANNEL)}) AS ch,
                   c.value->'text_messages' AS msgs
            FROM {docs} d, json_each(d.content) c WHERE d.ok
        )
        SELECT c.source_file, c.channel_id, c.ch, m.key AS message_id, from_json(m.value, {struct(_MESSAGE)}) AS m,
               row_number() OVER (PARTITION BY c.source_file ORDER BY c.ci, m.id) AS source_line
        FROM c, json_each(c.msgs) m
    """)
    records = f"""
        SELECT 'telegram:' || channel_id || '/' || message_id AS post_id,
               'telegram:channel' || channel_id AS account_id, coalesce(ch.username, ch.title) AS handle,
               {epoch("m.date")} AS created_at, coalesce(m.message, '') AS text,
               coalesce(ch.username, ch.title, channel_id) AS venue,
               CASE WHEN m.is_forwarded THEN 'repost' END AS kind,
               CASE WHEN m.is_forwarded THEN 'telegram:channel' || m.forwarded_from_id END AS repost_of_account_id,
               source_file, source_line
        FROM _tgd
        UNION ALL BY NAME {document_rejects(docs)}
    """
    accounts = f"""
        SELECT DISTINCT ON (channel_id) 'telegram:channel' || channel_id AS account_id,
               coalesce(ch.username, ch.title) AS handle, ch.title AS name, nullif(ch.description, '') AS description,
               ch.n_subscribers AS followers
        FROM _tgd
        UNION ALL BY NAME
        SELECT 'telegram:channel' || c.key AS account_id, c.value->>'$.username' AS handle
        FROM {docs} d, json_each(d.content) c WHERE d.ok AND c.key NOT IN (SELECT channel_id FROM _tgd)
    """
    return ReaderOutput(records=records, accounts=accounts)
