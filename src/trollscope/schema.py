"""The canonical tables of a workspace, defined once.

Every reader produces rows of ``POSTS`` and ``ACCOUNTS``; every later stage reads them. Times are
UTC stored as naive timestamps (Parquet ``isAdjustedToUTC=false``) so DuckDB and Spark read the
same wall-clock values without a session time zone getting in the way.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = 1

KINDS = ("original", "repost", "quote", "reply")

# Platforms the readers write; `--platform` may name any other, as a lower-case word (``tiktok``, ``vk``).
UNKNOWN_PLATFORM = "unknown"  # a file that does not say its platform (generic, without --platform)
PLATFORMS = ("twitter", "telegram", "reddit", "facebook", "instagram", "mastodon", "bluesky", UNKNOWN_PLATFORM)
PLATFORM_NAME = r"^[a-z0-9][a-z0-9_.-]{0,31}$"

_str = pa.string()
_list = pa.list_(pa.string())

POSTS = pa.schema(
    [
        ("post_id", _str),  # source id, or a stable synthetic id ("s:…") where the source has none
        ("account_id", _str),
        ("handle", _str),  # as written by the source
        ("created_at", pa.timestamp("us")),  # UTC
        ("text", _str),
        ("lang", _str),
        ("platform", _str),  # twitter, telegram, reddit, facebook, instagram, mastodon, bluesky, unknown
        ("venue", _str),  # where it was posted: channel or group, subreddit, page, instance; NULL on Twitter
        ("kind", _str),  # one of KINDS
        ("repost_of_id", _str),  # source id, or "rt:…" derived from `RT @handle: text`
        ("repost_of_account_id", _str),
        ("repost_of_handle", _str),  # lower case
        ("quote_of_id", _str),
        ("quote_of_account_id", _str),
        ("quote_of_handle", _str),
        ("reply_to_id", _str),
        ("reply_to_account_id", _str),
        ("reply_to_handle", _str),
        ("urls", _list),  # expanded where the source has it
        ("hashtags", _list),  # lower case, without '#'
        ("mentions", _list),  # lower-case handles, without '@'
        ("source_format", _str),
        ("source_file", _str),
        ("source_line", pa.int64()),  # record number in the file (1 = first record after any header)
        ("ingest_id", _str),
    ]
)

ACCOUNTS = pa.schema(
    [
        ("account_id", _str),
        ("handle", _str),
        ("name", _str),
        ("description", _str),
        ("created_at", pa.timestamp("us")),
        ("followers", pa.int64()),
        ("following", pa.int64()),
        ("posts_count", pa.int64()),
        ("labels", pa.map_(pa.string(), pa.string())),  # labels the source provides
        ("source_format", _str),
        ("ingest_id", _str),
    ]
)

REJECTS = pa.schema(
    [
        ("source_format", _str),
        ("source_file", _str),
        ("source_line", pa.int64()),  # record number, as posts count them; NULL when the whole file is rejected
        ("byte_offset", pa.int64()),
        ("reason", _str),
        ("raw", _str),  # the offending text, truncated to RAW_LIMIT characters
        ("ingest_id", _str),
    ]
)

INGEST_LOG = pa.schema(
    [
        ("ingest_id", _str),
        ("started_at", pa.timestamp("us")),
        ("seconds", pa.float64()),
        ("inputs", _list),
        ("readers", _list),
        ("params", _str),  # JSON of every option that changes the result
        ("files", pa.int64()),
        ("records", pa.int64()),
        ("stored", pa.int64()),
        ("rejected", pa.int64()),
        ("duplicate", pa.int64()),
        ("notes", _list),
    ]
)

# Accounts the user knows to be one actor (`--links FILE`): they act as the actor across platforms.
ACCOUNT_LINKS = pa.schema([("account_id", _str), ("actor", _str), ("source_file", _str), ("source_line", pa.int64())])

RAW_LIMIT = 500

# Workspaces written before posts had ``platform``: the platform their reader implies.
FORMAT_PLATFORM = {"ira": "twitter", "ioarchive": "twitter", "twarc": "twitter"}

TABLES: dict[str, pa.Schema] = {
    "posts": POSTS,
    "accounts": ACCOUNTS,
    "rejects": REJECTS,
    "ingest_log": INGEST_LOG,
    "account_links": ACCOUNT_LINKS,
}


def sql_type(t: pa.DataType) -> str:
    """DuckDB SQL type for an Arrow type used in these schemas."""
    if pa.types.is_string(t):
        return "VARCHAR"
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_float64(t):
        return "DOUBLE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_list(t):
        return sql_type(t.value_type) + "[]"
    if pa.types.is_map(t):
        return f"MAP({sql_type(t.key_type)}, {sql_type(t.item_type)})"
    raise TypeError(f"no SQL type for {t}")


def select_canonical(schema: pa.Schema, available: set[str], source: str, extra: list[str] | None = None) -> str:
    """A SELECT over ``source`` that yields ``schema``'s columns (NULL where absent), then ``extra``."""
    cols = []
    for f in schema:
        expr = f.name if f.name in available else "NULL"
        cols.append(f"CAST({expr} AS {sql_type(f.type)}) AS {f.name}")
    return f"SELECT {', '.join(cols + (extra or []))} FROM {source}"
