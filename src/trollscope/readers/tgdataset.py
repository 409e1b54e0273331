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
from ._json import document_rejects, documents, epoch, sql_str

NAME = "tgdataset"
PLATFORM = "telegram"
__all__ = ["NAME", "PLATFORM", "detect", "read"]

_MESSAGE = {
    "message": "VARCHAR", "date": "DOUBLE", "author": "VARCHAR", "is_forwarded": "BOOLEAN",
    "forwarded_from_id": "VARCHAR",
}  # fmt: skip
_CHANNEL = {"username": "VARCHAR", "title": "VARCHAR", "description": "VARCHAR", "n_subscribers": "BIGINT"}
_DOC = sql_str(
    '"MAP(VARCHAR, STRUCT('
    + ", ".join(f"{k} {v}" for k, v in _CHANNEL.items())
    + ", text_messages MAP(VARCHAR, STRUCT("
    + ", ".join(f"{k} {v}" for k, v in _MESSAGE.items())
    + '))))"'
)


def detect(head: str, path: Path) -> bool:
    return bool(re.match(r'\s*\{\s*"-?\d+"\s*:\s*\{', head.lstrip("\ufeff"))) and '"text_messages"' in head


def read(con: duckdb.DuckDBPyConnection, files: list[str], opts: ReadOptions) -> ReaderOutput:
    docs = documents(con, files, opts)
    # The document parsed once into maps (channel id -> channel, message id -> message); json_each
    # would carry the whole document along with every row it gives.
    fields = ", ".join(f"{k} := c.value.{k}" for k in _CHANNEL)  # not the messages: they are the rows
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _tgd AS
        WITH d AS (SELECT source_file, map_entries(from_json(content, {_DOC})) AS cs FROM {docs} WHERE ok),
        c AS (SELECT source_file, unnest(cs) AS c, unnest(range(len(cs))) AS ci FROM d),
        m AS (
            SELECT source_file, ci, c.key AS channel_id, struct_pack({fields}) AS ch, unnest(map_entries(c.value.text_messages)) AS e,
                   unnest(range(len(map_entries(c.value.text_messages)))) AS mi
            FROM c
        )
        SELECT source_file, channel_id, ch, e.key AS message_id, e.value AS m,
               row_number() OVER (PARTITION BY source_file ORDER BY ci, mi) AS source_line
        FROM m
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
        SELECT 'telegram:channel' || e.key AS account_id, e.value.username AS handle
        FROM (SELECT unnest(map_entries(from_json(content, {_DOC}))) AS e FROM {docs} WHERE ok)
        WHERE e.key NOT IN (SELECT channel_id FROM _tgd)
    """
    return ReaderOutput(records=records, accounts=accounts)
