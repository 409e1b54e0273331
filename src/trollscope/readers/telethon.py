"""Telegram API dumps: Telethon messages as ``to_dict()``/``to_json()`` write them.

One message per JSON line (what ``json.dumps(message.to_dict(), default=str)`` per line gives), or
one JSON array of messages. A ``Message`` is a record; a ``MessageService`` (joins, pins) is not a
post and is counted in a note.

Mapping (ids follow the Telegram Desktop reader's, so both sources of one chat agree):

- ``post_id`` is ``telegram:<chat id>/<id>`` with the chat from ``peer_id`` (channel, chat or
  user); the venue is the peer as ``channel123``.
- ``account_id`` is ``telegram:user<id>`` (``from_id``), or the channel for a channel's own posts
  (``from_id`` is null there). Dumps carry no names, so the handle is the id.
- A forward (``fwd_from``) is a repost of ``telegram:<channel>/<channel_post>`` when the original
  is a channel post, else of its text (``rt:…``, as for Desktop exports); its author is
  ``fwd_from.from_id``. ``reply_to.reply_to_msg_id`` is a reply in the same chat, or in
  ``reply_to_peer_id``.
- ``date`` is UTC. Links are the ``MessageEntityTextUrl`` targets plus the URLs in the text;
  hashtags and mentions come from the text. ``views`` and ``forwards`` are not kept.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from . import ReaderOutput, ReadOptions
from ._json import document_rejects, documents, lines, struct, text_urls, utc

NAME = "telethon"
PLATFORM = "telegram"
__all__ = ["NAME", "PLATFORM", "detect", "read"]

_PEER = {"_": "VARCHAR", "user_id": "VARCHAR", "channel_id": "VARCHAR", "chat_id": "VARCHAR"}
_MESSAGE = {
    "_": "VARCHAR", "id": "VARCHAR", "peer_id": _PEER, "from_id": _PEER, "date": "VARCHAR", "message": "VARCHAR",
    "fwd_from": {"date": "VARCHAR", "from_id": _PEER, "from_name": "VARCHAR", "channel_post": "VARCHAR"},
    "reply_to": {"reply_to_msg_id": "VARCHAR", "reply_to_peer_id": _PEER},
    "entities": [{"_": "VARCHAR", "url": "VARCHAR"}], "post_author": "VARCHAR",
}  # fmt: skip
_IS_MESSAGE = re.compile(r'"_"\s*:\s*"Message(Service)?"')


def detect(head: str, path: Path) -> bool:
    """JSON lines, or a JSON array, of Telethon ``Message`` objects."""
    start = head.lstrip("\ufeff \t\r\n")
    return start[:1] in ("{", "[") and bool(_IS_MESSAGE.search(start[:2000])) and '"peer_id"' in start


def _peer(p: str) -> str:
    """``channel123`` / ``chat123`` / ``user123`` for a Telethon peer."""
    return (
        f"CASE WHEN {p}.channel_id IS NOT NULL THEN 'channel' || {p}.channel_id "
        f"WHEN {p}.chat_id IS NOT NULL THEN 'chat' || {p}.chat_id WHEN {p}.user_id IS NOT NULL THEN 'user' || {p}.user_id END"
    )


def _chat(p: str) -> str:
    return f"coalesce({p}.channel_id, {p}.chat_id, {p}.user_id)"


def read(con: duckdb.DuckDBPyConnection, files: list[str], opts: ReadOptions) -> ReaderOutput:
    errors = None
    rejects = ""
    with open(files[0], "rb") as fh:
        array = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"["
    if array:  # one JSON document: its messages, numbered by position
        docs = documents(con, files, opts)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _tl AS
            SELECT source_file, unnest(l) AS j, unnest(range(1, len(l) + 1)) AS source_line,
                   NULL::VARCHAR AS raw, NULL::VARCHAR AS invalid
            FROM (SELECT source_file, from_json(content, {struct([_MESSAGE])}) AS l FROM {docs} WHERE ok)
        """)
        rejects = f"UNION ALL BY NAME {document_rejects(docs)}"
    else:
        errors = lines(con, files, opts, _MESSAGE, "_tl")
    text = "coalesce(j.message, '')"
    records = f"""
        SELECT 'telegram:' || {_chat("j.peer_id")} || '/' || j.id AS post_id,
               'telegram:' || coalesce({_peer("j.from_id")}, {_peer("j.peer_id")}) AS account_id,
               coalesce({_peer("j.from_id")}, {_peer("j.peer_id")}) AS handle,
               {utc("j.date")} AS created_at, {text} AS text, {_peer("j.peer_id")} AS venue,
               CASE WHEN j.fwd_from IS NOT NULL THEN 'repost' END AS kind,
               CASE WHEN j.fwd_from.channel_post IS NOT NULL AND j.fwd_from.from_id.channel_id IS NOT NULL
                    THEN 'telegram:' || j.fwd_from.from_id.channel_id || '/' || j.fwd_from.channel_post END AS repost_of_id,
               'telegram:' || {_peer("j.fwd_from.from_id")} AS repost_of_account_id,
               coalesce(j.fwd_from.from_name, {_peer("j.fwd_from.from_id")}) AS repost_of_handle,
               CASE WHEN j.reply_to.reply_to_msg_id IS NOT NULL THEN 'telegram:' ||
                    coalesce({_chat("j.reply_to.reply_to_peer_id")}, {_chat("j.peer_id")}) || '/' || j.reply_to.reply_to_msg_id
                    END AS reply_to_id,
               list_distinct(list_concat(
                   list_transform(list_filter(coalesce(j.entities, []), lambda e: e.url IS NOT NULL), lambda e: e.url),
                   {text_urls(text)})) AS urls,
               source_file, source_line,
               CASE WHEN j.date IS NULL THEN 'no date' WHEN {utc("j.date")} IS NULL THEN 'bad date: ' || j.date
                    WHEN j.peer_id IS NULL THEN 'no peer_id (not a chat message)' END AS reject_reason,
               CASE WHEN j.date IS NULL OR {utc("j.date")} IS NULL OR j.peer_id IS NULL THEN raw END AS raw
        FROM _tl WHERE j._ = 'Message'
        UNION ALL BY NAME
        SELECT source_file, source_line, invalid AS reject_reason, raw FROM _tl WHERE invalid IS NOT NULL
        UNION ALL BY NAME
        SELECT source_file, source_line, 'not a Telethon message' AS reject_reason, raw
        FROM _tl WHERE invalid IS NULL AND j._ IS DISTINCT FROM 'Message' AND j._ IS DISTINCT FROM 'MessageService'
        {rejects}
    """
    notes = [
        f"{path}: {n:,} service messages (joins, pins…) are not posts: not read"
        for path, n in con.execute(
            "SELECT source_file, count(*) FROM _tl WHERE j._ = 'MessageService' GROUP BY 1 ORDER BY 1"
        ).fetchall()
    ]
    return ReaderOutput(records=records, errors=errors, notes=notes)
