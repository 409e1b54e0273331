"""Bluesky posts and reposts from Jetstream, one event a JSON line (``did``, ``time_us``, ``kind``,
``commit``).

Records are the ``create`` commits of ``app.bsky.feed.post`` and ``app.bsky.feed.repost``. The
other events of the stream (likes, follows, blocks, profile and status updates, deletes, identity
and account events) are not posts: they are counted by kind in a note, not read.

Mapping:

- ``post_id`` is the record's AT URI, ``at://<did>/<collection>/<rkey>``: what replies, quotes
  and reposts name. ``account_id`` is ``bluesky:<did>``; Jetstream carries no handles, so the
  handle is the DID. Bluesky has no venues.
- A repost is a repost of ``subject.uri``; a post with ``reply`` replies to ``reply.parent.uri``;
  an embedded record (``app.bsky.embed.record``, or ``recordWithMedia``) is a quote. The author
  of the referenced post is the DID inside its URI.
- Links are the facets' link features and an external embed's URI (the text shows links
  shortened); hashtags are tag facets and the record's ``tags``; mentions are the mentioned DIDs.
- Time is the record's ``createdAt`` (what the client says), else the event time ``time_us``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from . import ReaderOutput, ReadOptions
from ._json import first_line, lines, utc

NAME = "bluesky"
PLATFORM = "bluesky"
__all__ = ["NAME", "PLATFORM", "detect", "read"]

_V = "VARCHAR"
_REF = {"uri": _V}
_RECORD = {
    "$type": _V, "createdAt": _V, "text": _V, "langs": [_V], "tags": [_V],
    "reply": {"parent": _REF, "root": _REF}, "subject": _REF,
    "facets": [{"features": [{"$type": _V, "uri": _V, "tag": _V, "did": _V}]}],
    "embed": {"$type": _V, "external": {"uri": _V}, "record": {"uri": _V, "record": _REF}},
}  # fmt: skip
_EVENT = {
    "did": _V, "time_us": "BIGINT", "kind": _V,
    "commit": {"operation": _V, "collection": _V, "rkey": _V, "record": _RECORD},
}  # fmt: skip
_POSTS = ("app.bsky.feed.post", "app.bsky.feed.repost")


def detect(head: str, path: Path) -> bool:
    obj = first_line(head)
    return isinstance(obj, dict) and {"did", "time_us", "kind"} <= obj.keys()


def _did(uri: str) -> str:
    return f"'bluesky:' || nullif(regexp_extract({uri}, '^at://([^/]+)', 1), '')"


def read(con: duckdb.DuckDBPyConnection, files: list[str], opts: ReadOptions) -> ReaderOutput:
    errors = lines(con, files, opts, _EVENT, "_bs")
    r = "j.commit.record"
    features = f"flatten(list_transform(coalesce({r}.facets, []), lambda f: coalesce(f.features, [])))"

    def feature(kind: str, field: str) -> str:
        return f"list_transform(list_filter({features}, lambda x: x.\"$type\" = 'app.bsky.richtext.facet#{kind}'), lambda x: x.{field})"

    quote = f"coalesce({r}.embed.record.record.uri, {r}.embed.record.uri)"
    post = "j.commit.collection = 'app.bsky.feed.post'"
    when = f"coalesce({utc(f'{r}.createdAt')}, make_timestamp(j.time_us))"
    records = f"""
        SELECT 'at://' || j.did || '/' || j.commit.collection || '/' || j.commit.rkey AS post_id,
               'bluesky:' || j.did AS account_id, j.did AS handle, {when} AS created_at,
               coalesce({r}.text, '') AS text, {r}.langs[1] AS lang,
               CASE WHEN NOT {post} THEN 'repost' END AS kind,
               CASE WHEN NOT {post} THEN {r}.subject.uri END AS repost_of_id,
               CASE WHEN NOT {post} THEN {_did(f"{r}.subject.uri")} END AS repost_of_account_id,
               CASE WHEN {post} AND {quote} LIKE '%/app.bsky.feed.post/%' THEN {quote} END AS quote_of_id,
               CASE WHEN {post} AND {quote} LIKE '%/app.bsky.feed.post/%' THEN {_did(quote)} END AS quote_of_account_id,
               {r}.reply.parent.uri AS reply_to_id, {_did(f"{r}.reply.parent.uri")} AS reply_to_account_id,
               list_distinct(list_concat({feature("link", "uri")},
                   CASE WHEN {r}.embed.external.uri IS NOT NULL THEN [{r}.embed.external.uri] ELSE [] END)) AS urls,
               list_distinct(list_transform(list_concat({feature("tag", "tag")}, coalesce({r}.tags, [])), lambda t: lower(t))) AS hashtags,
               {feature("mention", "did")} AS mentions,
               source_file, source_line,
               CASE WHEN {when} IS NULL THEN 'no createdAt or time_us' END AS reject_reason,
               CASE WHEN {when} IS NULL THEN raw END AS raw
        FROM _bs
        WHERE invalid IS NULL AND j.kind = 'commit' AND j.commit.operation = 'create'
          AND j.commit.collection IN {_POSTS}
        UNION ALL BY NAME
        SELECT source_file, source_line, invalid AS reject_reason, raw FROM _bs WHERE invalid IS NOT NULL
    """
    notes = []
    for path, other in con.execute(f"""
        SELECT source_file, string_agg(n || ' ' || what, ', ' ORDER BY n DESC) FROM (
            SELECT source_file, coalesce(j.commit.operation || ' ' || j.commit.collection, j.kind) AS what, count(*) AS n
            FROM _bs WHERE invalid IS NULL AND NOT coalesce(j.kind = 'commit' AND j.commit.operation = 'create'
                AND j.commit.collection IN {_POSTS}, false)
            GROUP BY ALL) GROUP BY 1 ORDER BY 1
    """).fetchall():
        notes.append(f"{path}: events that are not posts, not read: {other}")
    return ReaderOutput(records=records, errors=errors, notes=notes)
