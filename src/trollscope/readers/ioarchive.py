"""Twitter's information-operations archive CSV (the election-integrity releases, 2018–2021).

Releases differ in which columns they carry; any file with the core columns (``tweetid``,
``userid``, ``tweet_time``, ``tweet_text``) reads, and every optional column that is present is
used. ``user_mentions`` holds user ids, not handles, so mentions come from the text.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ..sources import open_text
from . import ReaderOutput, ReadOptions
from ._scan import bracket_list, csv_scan, header, layout, sql_str

NAME = "ioarchive"
PLATFORM = "twitter"
__all__ = ["NAME", "companion", "detect", "layout", "read"]

CORE = ["tweetid", "userid", "tweet_time", "tweet_text"]

# canonical post column -> SQL over archive columns (used when every column it names is present)
_POST_COLS: dict[str, tuple[str, list[str]]] = {
    "handle": ("nullif(user_screen_name, '')", ["user_screen_name"]),
    "lang": ("nullif(tweet_language, '')", ["tweet_language"]),
    "repost_of_id": ("CASE WHEN lower(is_retweet) = 'true' THEN nullif(retweet_tweetid, '') END", ["is_retweet", "retweet_tweetid"]),
    "repost_of_account_id": ("nullif(retweet_userid, '')", ["retweet_userid"]),
    "quote_of_id": ("nullif(quoted_tweet_tweetid, '')", ["quoted_tweet_tweetid"]),
    "reply_to_id": ("nullif(in_reply_to_tweetid, '')", ["in_reply_to_tweetid"]),
    "reply_to_account_id": ("nullif(in_reply_to_userid, '')", ["in_reply_to_userid"]),
    "hashtags": (bracket_list("hashtags"), ["hashtags"]),
    "urls": (
        "CASE WHEN urls IS NULL THEN NULL ELSE list_filter(list_transform(string_split(trim(urls, '[] '), ','),"
        " lambda u: trim(u, ' ''\"')), lambda u: u <> '') END",
        ["urls"],
    ),  # like bracket_list, but URLs keep their case
    "kind": ("CASE WHEN lower(is_retweet) = 'true' THEN 'repost' END", ["is_retweet"]),
}  # fmt: skip
_ACCOUNT_COLS = {
    "handle": "user_screen_name",
    "name": "user_display_name",
    "description": "user_profile_description",
    "followers": "follower_count",
    "following": "following_count",
}
_ACCOUNT_LABELS = ["user_reported_location", "account_language"]
_TIME = (
    "coalesce(try_strptime(tweet_time, '%Y-%m-%d %H:%M'), try_strptime(tweet_time, '%Y-%m-%d %H:%M:%S'),"
    " try_strptime(tweet_time, '%Y-%m-%dT%H:%M:%S'))"
)


def companion(head: str, path: Path) -> bool:
    """Files that travel with archive tweets but hold none: the release's users file, and the
    ``truth.csv`` / ``simulation.json`` that ``trollscope simulate`` writes beside its archive files."""
    cols = header(head)
    if "userid" in cols and "tweetid" not in cols and "user_screen_name" in cols:
        return True
    if cols[:4] == ["account_id", "handle", "campaign", "style"]:
        return True
    return path.name == "simulation.json" and head.lstrip().startswith("{")


def detect(head: str, path: Path) -> bool:
    return all(c in header(head) for c in CORE)


def read(con: duckdb.DuckDBPyConnection, files: list[str], opts: ReadOptions) -> ReaderOutput:
    with open_text(files[0], opts.encoding) as fh:
        cols = header(fh.readline())
    missing = [c for c in CORE if c not in cols]
    if missing:
        from . import ReaderError

        raise ReaderError(f"{files[0]}: not an information-operations archive file (no {', '.join(missing)})")
    has = set(cols)
    source, errors = csv_scan(con, files, cols, encoding=opts.encoding, strict=opts.strict)
    selected = [f"{expr} AS {name}" for name, (expr, need) in _POST_COLS.items() if all(c in has for c in need)]
    extra = [c for c in list(_ACCOUNT_COLS.values()) + _ACCOUNT_LABELS + ["account_creation_date"] if c in has]
    records = f"""
        SELECT nullif(tweetid, '') AS post_id, nullif(userid, '') AS account_id, {_TIME} AS created_at,
               tweet_text AS text, {", ".join(selected + [f"{c} AS _a_{c}" for c in extra]) or "NULL AS _none"},
               source_file, source_line,
               CASE WHEN {_TIME} IS NULL THEN 'bad date: ' || coalesce(tweet_time, '(empty)')
                    WHEN nullif(userid, '') IS NULL THEN 'no userid' END AS reject_reason,
               CASE WHEN {_TIME} IS NULL OR nullif(userid, '') IS NULL
                    THEN concat_ws(',', tweetid, userid, tweet_time, tweet_text) END AS raw
        FROM {source}
    """
    acc = []
    for name, src in _ACCOUNT_COLS.items():
        if src in has:
            value = f"try_cast(_a_{src} AS BIGINT)" if name in ("followers", "following") else f"nullif(_a_{src}, '')"
            acc.append(f"arg_max({value}, created_at) AS {name}")  # the latest value seen
    if "account_creation_date" in has:
        acc.append("try_cast(any_value(_a_account_creation_date) AS TIMESTAMP) AS created_at")
    labels = [c for c in _ACCOUNT_LABELS if c in has]
    if labels:
        entries = ", ".join(f"struct_pack(k := {sql_str(c)}, v := any_value(_a_{c}))" for c in labels)
        acc.append(f"map_from_entries(list_filter([{entries}], lambda e: e.v IS NOT NULL AND e.v <> '')) AS labels")
    accounts = (
        f"SELECT account_id, {', '.join(acc)} FROM _records WHERE reject_reason IS NULL GROUP BY account_id"
        if acc
        else None
    )
    return ReaderOutput(records=records, errors=errors, accounts=accounts)
