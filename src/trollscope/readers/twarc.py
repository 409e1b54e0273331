"""Twitter JSON lines as twarc writes them: API v2 response pages, ``twarc2 flatten`` output, v1.1 tweets.

Each line is read as text and parsed once in DuckDB (``from_json`` into a struct of the fields we
use), then classified by its shape, so one file may even mix shapes:

- **v2 page** (``twarc2 search`` …): ``{"data": [tweets], "includes": {"users", "tweets"}, …}``.
  Every tweet in ``data`` is one record; authors and the authors of referenced tweets come from
  the page's own ``includes``. Tweets in ``includes.tweets`` are context, not records: they were
  not what the collection asked for.
- **v2 flat** (``twarc2 flatten``): one tweet per line, ``author`` and ``referenced_tweets``
  inlined.
- **v1.1** (twarc1, the streaming/REST API): one tweet per line with ``user``,
  ``retweeted_status``, ``quoted_status``, ``extended_tweet``.

Decisions:

- Text is the tweet's own (``note_tweet.text`` / ``extended_tweet.full_text`` when longer), so a
  retweet keeps its ``RT @handle: …`` text as posted. Entities come from the same object
  (hashtags and mentions lower-cased, URLs as ``expanded_url``); a v2 tweet without ``entities``
  (the API omits the key when empty) gets them from its text at ingest.
- Edited tweets: Twitter gives every version its own id (``edit_history_tweet_ids`` lists the
  chain), and each version found in ``data`` is its own post under its own id, exactly as a
  retweet of a given version names that version. Versions seen only in ``includes`` are not read.
- Lines that are valid JSON but not tweets: a file with no tweets at all (``users.jsonl``,
  ``counts.jsonl``, compliance files, lists) gets a note and no records; user objects in it still
  fill ``accounts``. A non-tweet line inside a file of tweets is a reject (``not a tweet: …``).
  Pages that carry only API errors or an empty result hold no records and are counted in a note.
- A line that is not valid JSON (typically cut off by an interrupted collection) is one rejected
  record, even if it was a page of a hundred tweets: its tweets cannot be counted.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import duckdb

from ..schema import RAW_LIMIT
from . import ReaderOutput, ReadOptions
from ._scan import lines_scan, sql_str

NAME = "twarc"
PLATFORM = "twitter"
__all__ = ["NAME", "detect", "read"]

# --- the fields read, as from_json structures -------------------------------------------------
_V = "VARCHAR"
_USER2 = {
    "id": _V, "username": _V, "name": _V, "description": _V, "created_at": _V, "location": _V,
    "verified": "BOOLEAN", "verified_type": _V, "protected": "BOOLEAN",
    "public_metrics": {"followers_count": "BIGINT", "following_count": "BIGINT", "tweet_count": "BIGINT"},
}  # fmt: skip
_USER1 = {
    "id_str": _V, "screen_name": _V, "name": _V, "description": _V, "created_at": _V, "location": _V,
    "verified": "BOOLEAN", "protected": "BOOLEAN",
    "followers_count": "BIGINT", "friends_count": "BIGINT", "statuses_count": "BIGINT",
}  # fmt: skip
# v2 and v1.1 entities in one struct: each source fills its own keys.
_ENTITIES = {
    "hashtags": [{"tag": _V, "text": _V}],
    "mentions": [_USER2],  # v2 (flattened mentions carry the whole user object)
    "user_mentions": [{"screen_name": _V}],  # v1.1
    "urls": [{"url": _V, "expanded_url": _V}],
}
_TWEET2 = {
    "id": _V, "text": _V, "author_id": _V, "created_at": _V, "lang": _V, "in_reply_to_user_id": _V,
    "referenced_tweets": [{"type": _V, "id": _V, "author_id": _V, "author": _USER2}],
    "entities": _ENTITIES, "note_tweet": {"text": _V, "entities": _ENTITIES},
    "edit_history_tweet_ids": [_V], "author": _USER2, "in_reply_to_user": _USER2,
}  # fmt: skip
# An element of a v2 page's ``data``: a tweet, a user, a count bucket or a list.
_V2OBJ = {**_USER2, **_TWEET2, "tweet_count": "BIGINT", "owner_id": _V, "member_count": "BIGINT"}
_V1 = {
    "id_str": _V, "full_text": _V, "user": _USER1,
    "retweeted_status": {"id_str": _V, "user": _USER1},
    "quoted_status_id_str": _V, "quoted_status": {"id_str": _V, "user": _USER1},
    "in_reply_to_status_id_str": _V, "in_reply_to_user_id_str": _V, "in_reply_to_screen_name": _V,
    "extended_tweet": {"full_text": _V, "entities": _ENTITIES},
}  # fmt: skip
_NOTICES = ("delete", "limit", "scrub_geo", "status_withheld", "user_withheld", "disconnect", "warning")
_LINE = {
    **_V2OBJ, **_V1,
    "data": [_V2OBJ],
    "includes": {"users": [_USER2], "tweets": [{"id": _V, "author_id": _V}]},
    "errors": "JSON", "meta": "JSON", "__twarc": {"retrieved_at": _V},
    "action": _V, "reason": _V,
    **dict.fromkeys(_NOTICES, "JSON"),
}  # fmt: skip

_TWEET_SHAPES = ("v2page", "v2flat", "v1")
# What a line holds when it is not a tweet: (as a file's content, as one line).
_NOT_TWEETS = {
    "users": ("user objects", "a page of user objects"),
    "user": ("user objects", "a user object"),
    "counts": ("tweet counts", "a page of tweet counts"),
    "lists": ("list objects", "a page of list objects"),
    "compliance": ("compliance events", "a compliance event"),
    "notice": ("stream notices", "a stream notice"),
    "other": ("JSON objects of another kind", "a JSON object of another kind"),
}


def _struct(d: dict) -> str:
    return sql_str(json.dumps(d))


def _in(values: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join(sql_str(v) for v in values) + ")"


# --- detection, from the head of a file --------------------------------------------------------


def _shape(obj: object) -> str | None:
    """What a parsed line is (the Python twin of the SQL in ``_classify``), or None if not ours."""
    if not isinstance(obj, dict):
        return None
    data = obj.get("data")
    if isinstance(data, dict):
        data = [data]
    if isinstance(data, list):
        first = data[0] if data else None
        if first is None:
            return "nodata" if "meta" in obj or "__twarc" in obj else None
        if not isinstance(first, dict):
            return None
        if "text" in first and "id" in first:
            return "v2page"
        if "username" in first:
            return "users"
        if "tweet_count" in first:
            return "counts"
        if "owner_id" in first or "member_count" in first:
            return "lists"
        return None
    user = obj.get("user")
    if isinstance(user, dict) and ("screen_name" in user or "id_str" in user) and ("text" in obj or "full_text" in obj):
        return "v1"
    if "text" in obj and "id" in obj and ("author_id" in obj or isinstance(obj.get("author"), dict)):
        return "v2flat"
    if ("errors" in obj or "meta" in obj) and ("__twarc" in obj or set(obj) <= {"errors", "meta", "includes"}):
        return "nodata"
    if "username" in obj and ("public_metrics" in obj or "__twarc" in obj):
        return "user"
    if {"action", "reason"} <= obj.keys() <= {"id", "action", "created_at", "reason", "redacted_at"}:
        return "compliance"
    if len(obj) == 1 and next(iter(obj)) in _NOTICES:
        return "notice"
    return None


def _head_objects(head: str, limit: int = 20) -> list[object]:
    """The first JSON lines of a head; a first line cut off by the head's end (a v2 page runs to
    megabytes) is represented by the first element of its ``data``."""
    out: list[object] = []
    for line in head.lstrip("\ufeff").split("\n"):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError:
            m = re.match(r'\s*\{\s*"data"\s*:\s*\[?\s*', line)
            if not out and m and line[m.end() : m.end() + 1] == "{":
                with contextlib.suppress(ValueError):
                    out.append({"data": [json.JSONDecoder().raw_decode(line, m.end())[0]]})
            break
        if len(out) >= limit:
            break
    return out


def detect(head: str, path: Path) -> bool:
    """Twitter JSON lines: v2 pages, flattened v2 tweets, v1.1 tweets, or twarc's non-tweet files."""
    notices = False
    for obj in _head_objects(head):
        shape = _shape(obj)
        if shape is None:
            return False
        if shape != "notice":
            return True
        notices = True  # a v1.1 stream may open with delete/limit notices: look further
    return notices


# --- reading ------------------------------------------------------------------------------------


def _classify(line: str, ok: str, j: str) -> str:
    """SQL: the shape of a line from its parsed struct ``j`` (see ``_shape``)."""
    first = f"{j}.data[1]"
    notice = " OR ".join(f'{j}."{k}" IS NOT NULL' for k in _NOTICES)
    return f"""CASE
        WHEN NOT {ok} THEN 'invalid'
        WHEN {j}.data IS NOT NULL THEN CASE
            WHEN len({j}.data) = 0 THEN 'nodata'
            WHEN {first}.text IS NOT NULL THEN 'v2page'
            WHEN {first}.username IS NOT NULL THEN 'users'
            WHEN {first}.tweet_count IS NOT NULL THEN 'counts'
            WHEN {first}.owner_id IS NOT NULL OR {first}.member_count IS NOT NULL THEN 'lists'
            ELSE 'other' END
        WHEN {j}."user".id_str IS NOT NULL OR {j}."user".screen_name IS NOT NULL THEN 'v1'
        WHEN {j}.text IS NOT NULL AND ({j}.author_id IS NOT NULL OR {j}.author.id IS NOT NULL) THEN 'v2flat'
        WHEN json_type({line}, '$.data') = 'OBJECT' THEN 'data1'
        WHEN {j}.errors IS NOT NULL OR {j}.meta IS NOT NULL THEN 'nodata'
        WHEN {j}.username IS NOT NULL THEN 'user'
        WHEN {j}.action IS NOT NULL AND {j}.reason IS NOT NULL THEN 'compliance'
        WHEN {notice} THEN 'notice'
        ELSE 'other' END"""


def _materialise(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """``_twarc``: one row per line with its shape and parsed struct ``j`` (the raw line is kept
    only, truncated, where it may be rejected). ``one`` holds the ``data`` of a response whose
    ``data`` is a single object (``/2/tweets/:id``), wrapped as a list."""
    one = {"data": _V2OBJ}
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _twarc AS
        WITH valid AS (
            SELECT source_file, source_line, line, json_valid(line) AS ok FROM {source}
        ), parsed AS (
            SELECT *, CASE WHEN ok THEN from_json(line, {_struct(_LINE)}) END AS j FROM valid
        ), shaped AS (
            SELECT *, {_classify("line", "ok", "j")} AS shape0 FROM parsed
        ), single AS (
            SELECT *, CASE WHEN shape0 = 'data1' THEN [from_json(line, {_struct(one)}).data] END AS one FROM shaped
        )
        SELECT row_number() OVER () AS rid, source_file, source_line, j, one,
               CASE WHEN shape0 <> 'data1' THEN shape0
                    WHEN one[1].text IS NOT NULL THEN 'v2page'
                    WHEN one[1].username IS NOT NULL THEN 'users'
                    ELSE 'other' END AS shape,
               CASE WHEN shape0 NOT IN {_in(_TWEET_SHAPES)} THEN left(line, {RAW_LIMIT}) END AS raw,
               CASE WHEN shape0 = 'invalid' AND NOT rtrim(line, ' ' || chr(9) || chr(13)) LIKE '%}}'
                    THEN 'invalid JSON (cut off?)' WHEN shape0 = 'invalid' THEN 'invalid JSON' END AS invalid
        FROM single
    """)


def _when(col: str) -> str:
    """ISO 8601 (v2) or ``Wed Oct 10 20:19:24 +0000 2018`` (v1.1), as naive UTC."""
    return (
        f"(coalesce(try_cast({col} AS TIMESTAMPTZ), try_strptime({col}, '%a %b %d %H:%M:%S %z %Y')) AT TIME ZONE 'UTC')"
    )


def _entities(e: str) -> str:
    """Canonical entity lists from an entities struct; NULL (derive from text) when there is none."""
    mentions = (
        f"list_concat(coalesce(list_transform({e}.mentions, lambda m: lower(m.username)), []::VARCHAR[]), "
        f"coalesce(list_transform({e}.user_mentions, lambda m: lower(m.screen_name)), []::VARCHAR[]))"
    )
    lists = {
        "hashtags": f"list_transform({e}.hashtags, lambda h: lower(coalesce(h.tag, h.text)))",
        "mentions": mentions,
        "urls": f"list_transform({e}.urls, lambda u: coalesce(nullif(u.expanded_url, ''), u.url))",
    }
    return ", ".join(
        f"CASE WHEN {e} IS NOT NULL THEN coalesce({expr}, []::VARCHAR[]) END AS {name}" for name, expr in lists.items()
    )


def _checked(post_id: str, account: str, created: str, text: str) -> str:
    """reject_reason and raw for a tweet whose time is missing or unreadable."""
    return f"""
        CASE WHEN {created} IS NULL THEN 'no created_at (were tweet.fields narrowed?)'
             WHEN {_when(created)} IS NULL THEN 'bad date: ' || {created} END AS reject_reason,
        CASE WHEN {created} IS NULL OR {_when(created)} IS NULL OR {account} IS NULL
             THEN json_object('id', {post_id}, 'account', {account}, 'created_at', {created}, 'text', {text})::VARCHAR
             END AS raw"""


def _v2_post(t: str, refs: str, account: str, handle: str, reply_handle: str) -> str:
    """Canonical post columns from a v2 tweet ``t`` and its resolved ``refs`` (type, id, author_id, handle)."""

    def ref(kind: str, field: str) -> str:
        return f"list_filter({refs}, lambda r: r.type = '{kind}')[1].{field}"

    text = f"coalesce({t}.note_tweet.text, {t}.text)"
    return f"""
        {t}.id AS post_id, {account} AS account_id, {handle} AS handle, {_when(f"{t}.created_at")} AS created_at,
        {text} AS text, {t}.lang AS lang,
        {ref("retweeted", "id")} AS repost_of_id, {ref("retweeted", "author_id")} AS repost_of_account_id,
        {ref("retweeted", "handle")} AS repost_of_handle,
        {ref("quoted", "id")} AS quote_of_id, {ref("quoted", "author_id")} AS quote_of_account_id,
        {ref("quoted", "handle")} AS quote_of_handle,
        {ref("replied_to", "id")} AS reply_to_id,
        coalesce({t}.in_reply_to_user_id, {ref("replied_to", "author_id")}) AS reply_to_account_id,
        coalesce({reply_handle}, {ref("replied_to", "handle")}) AS reply_to_handle,
        {_entities(f"coalesce({t}.note_tweet.entities, {t}.entities)")},
        source_file, source_line, {_checked(f"{t}.id", account, f"{t}.created_at", text)}"""


def _records_sql() -> str:
    page_refs = "{'type': x.r.type, 'id': x.r.id, 'author_id': it.author_id, 'handle': iu.username}"
    flat_refs = (
        "list_transform(j.referenced_tweets, lambda r: {'type': r.type, 'id': r.id, "
        "'author_id': coalesce(r.author_id, r.author.id), 'handle': r.author.username})"
    )
    text1 = "coalesce(j.extended_tweet.full_text, j.full_text, j.text)"
    not_quote = "j.retweeted_status IS NULL"  # a v1.1 retweet of a quote carries the quote too: it is a repost
    desc = (
        "CASE shape " + " ".join(f"WHEN {sql_str(k)} THEN {sql_str(v)}" for k, (_, v) in _NOT_TWEETS.items()) + " END"
    )
    return f"""
    WITH pt AS (  -- one row per tweet of a v2 page; k is its place in the page
        SELECT rid, source_file, source_line, unnest(d) AS t, unnest(range(len(d))) AS k
        FROM (SELECT rid, source_file, source_line, coalesce(j.data, one) AS d FROM _twarc WHERE shape = 'v2page')
    ), iu AS (
        SELECT rid, u.id AS id, any_value(u.username) AS username
        FROM (SELECT rid, unnest(j.includes.users) AS u FROM _twarc WHERE shape = 'v2page') GROUP BY ALL
    ), it AS (
        SELECT rid, r.id AS id, any_value(r.author_id) AS author_id
        FROM (SELECT rid, unnest(j.includes.tweets) AS r FROM _twarc WHERE shape = 'v2page') GROUP BY ALL
    ), pr AS (
        SELECT x.rid, x.k, list({page_refs}) AS refs
        FROM (SELECT rid, k, unnest(t.referenced_tweets) AS r FROM pt) x
        LEFT JOIN it ON it.rid = x.rid AND it.id = x.r.id
        LEFT JOIN iu ON iu.rid = x.rid AND iu.id = it.author_id
        GROUP BY x.rid, x.k
    ), pages AS (
        SELECT pt.source_file, pt.source_line, pt.t, pr.refs, a.username AS handle, ru.username AS reply_handle
        FROM pt LEFT JOIN pr ON pr.rid = pt.rid AND pr.k = pt.k
        LEFT JOIN iu a ON a.rid = pt.rid AND a.id = pt.t.author_id
        LEFT JOIN iu ru ON ru.rid = pt.rid AND ru.id = pt.t.in_reply_to_user_id
    )
    SELECT {_v2_post("t", "refs", "t.author_id", "handle", "reply_handle")} FROM pages
    UNION ALL BY NAME
    SELECT {_v2_post("j", flat_refs, "coalesce(j.author_id, j.author.id)", "j.author.username", "j.in_reply_to_user.username")}
    FROM _twarc WHERE shape = 'v2flat'
    UNION ALL BY NAME
    SELECT coalesce(j.id_str, j.id) AS post_id, j."user".id_str AS account_id, j."user".screen_name AS handle,
           {_when("j.created_at")} AS created_at, {text1} AS text, j.lang AS lang,
           j.retweeted_status.id_str AS repost_of_id, j.retweeted_status."user".id_str AS repost_of_account_id,
           j.retweeted_status."user".screen_name AS repost_of_handle,
           CASE WHEN {not_quote} THEN coalesce(j.quoted_status_id_str, j.quoted_status.id_str) END AS quote_of_id,
           CASE WHEN {not_quote} THEN j.quoted_status."user".id_str END AS quote_of_account_id,
           CASE WHEN {not_quote} THEN j.quoted_status."user".screen_name END AS quote_of_handle,
           j.in_reply_to_status_id_str AS reply_to_id, j.in_reply_to_user_id_str AS reply_to_account_id,
           j.in_reply_to_screen_name AS reply_to_handle,
           {_entities("coalesce(j.extended_tweet.entities, j.entities)")},
           source_file, source_line,
           {_checked("coalesce(j.id_str, j.id)", 'j."user".id_str', "j.created_at", text1)}
    FROM _twarc WHERE shape = 'v1'
    UNION ALL BY NAME
    SELECT source_file, source_line, invalid AS reject_reason, raw FROM _twarc WHERE shape = 'invalid'
    UNION ALL BY NAME
    SELECT source_file, source_line, 'not a tweet: ' || {desc} AS reject_reason, raw
    FROM _twarc
    WHERE shape IN {_in(list(_NOT_TWEETS))}
      AND source_file IN (SELECT source_file FROM _twarc WHERE shape IN {_in(_TWEET_SHAPES)})
    """


def _user2(u: str, seen: str) -> str:
    return _user(
        u, seen, id=f"{u}.id", handle=f"{u}.username", created=f"{u}.created_at",
        followers=f"{u}.public_metrics.followers_count", following=f"{u}.public_metrics.following_count",
        posts=f"{u}.public_metrics.tweet_count", verified_type=f"{u}.verified_type",
    )  # fmt: skip


def _user1(u: str, seen: str) -> str:
    return _user(
        u, seen, id=f"{u}.id_str", handle=f"{u}.screen_name", created=f"{u}.created_at",
        followers=f"{u}.followers_count", following=f"{u}.friends_count", posts=f"{u}.statuses_count",
        verified_type="NULL",
    )  # fmt: skip


def _user(u: str, seen: str, *, id: str, handle: str, created: str, followers: str, following: str,
          posts: str, verified_type: str) -> str:  # fmt: skip
    labels = (
        f"map_from_entries(list_filter(["
        f"{{'k': 'verified', 'v': CASE WHEN {u}.verified THEN 'true' END}}, "
        f"{{'k': 'verified_type', 'v': nullif({verified_type}, '')}}, "
        f"{{'k': 'location', 'v': nullif(trim({u}.location), '')}}, "
        f"{{'k': 'protected', 'v': CASE WHEN {u}.protected THEN 'true' END}}"
        f"], lambda e: e.v IS NOT NULL))"
    )
    return (
        f"SELECT {id} AS account_id, {handle} AS handle, {u}.name AS name, {u}.description AS description, "
        f"{_when(created)} AS created_at, {followers} AS followers, {following} AS following, "
        f"{posts} AS posts_count, {labels} AS labels, coalesce({seen}, TIMESTAMP '1970-01-01') AS seen"
    )


def _accounts_sql() -> str:
    """Every user object seen, the latest snapshot of each column winning (by retrieval or tweet time)."""
    got = f"{_when('j.__twarc.retrieved_at')}"
    got_or_tweet = f"coalesce({got}, {_when('j.created_at')})"
    seen = [
        f"{_user2('u', 'seen')} FROM (SELECT unnest(j.includes.users) AS u, {got} AS seen FROM _twarc "
        f"WHERE shape = 'v2page')",
        f"{_user2('u', 'seen')} FROM (SELECT unnest(coalesce(j.data, one)) AS u, {got} AS seen FROM _twarc "
        f"WHERE shape = 'users')",
        f"{_user2('j', got)} FROM _twarc WHERE shape = 'user'",
        f"{_user2('j.author', got_or_tweet)} FROM _twarc WHERE shape = 'v2flat'",
        f"{_user2('j.in_reply_to_user', got_or_tweet)} FROM _twarc WHERE shape = 'v2flat'",
        f"{_user2('u', 'seen')} FROM (SELECT unnest(list_concat(list_transform(j.referenced_tweets, "
        f"lambda r: r.author), j.entities.mentions)) AS u, {got_or_tweet} AS seen FROM _twarc WHERE shape = 'v2flat')",
        f"{_user1('j.user', _when('j.created_at'))} FROM _twarc WHERE shape = 'v1'",
        f"{_user1('j.retweeted_status.user', _when('j.created_at'))} FROM _twarc WHERE shape = 'v1'",
        f"{_user1('j.quoted_status.user', _when('j.created_at'))} FROM _twarc WHERE shape = 'v1'",
    ]
    cols = ["handle", "name", "description", "created_at", "followers", "following", "posts_count"]
    latest = ", ".join(f"arg_max({c}, seen) FILTER (WHERE {c} IS NOT NULL) AS {c}" for c in cols)
    return f"""
        SELECT account_id, {latest}, arg_max(labels, seen) FILTER (WHERE cardinality(labels) > 0) AS labels
        FROM ({" UNION ALL ".join(seen)})
        WHERE account_id IS NOT NULL GROUP BY account_id
    """


def _display(path: str) -> str:
    """The name a user gave a file (a decompressed staging copy is ``<name>[.n].plain``)."""
    p = Path(path)
    if p.parent.name == "plain" and p.name.endswith(".plain"):
        return re.sub(r"(\.\d+)?\.plain$", "", p.name)
    return path


def _notes(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(f"""
        SELECT source_file,
               count(*) FILTER (WHERE shape IN {_in(_TWEET_SHAPES)}) AS tweet_lines,
               count(*) FILTER (WHERE shape = 'nodata') AS empty_pages,
               mode(shape) FILTER (WHERE shape IN {_in(list(_NOT_TWEETS))}) AS other,
               sum(CASE WHEN shape = 'users' THEN len(coalesce(j.data, one)) WHEN shape = 'user' THEN 1 END) AS users
        FROM _twarc GROUP BY source_file ORDER BY source_file
    """).fetchall()
    notes = []
    for path, tweet_lines, empty_pages, other, users in rows:
        name = _display(path)
        if tweet_lines == 0 and other is not None:
            kept = f" ({users:,} account profiles kept in accounts)" if users else ""
            notes.append(f"{name} holds {_NOT_TWEETS[other][0]}, not tweets: nothing to read{kept}")
        elif tweet_lines == 0 and empty_pages:
            notes.append(f"{name} holds API responses without tweets (errors or empty results): nothing to read")
        elif empty_pages:
            notes.append(f"{name}: {empty_pages:,} response pages held no tweets (API errors or empty results)")
    return notes


def read(con: duckdb.DuckDBPyConnection, files: list[str], opts: ReadOptions) -> ReaderOutput:
    source, errors = lines_scan(con, files, opts.encoding, opts.strict)
    _materialise(con, source)
    return ReaderOutput(records=_records_sql(), errors=errors, accounts=_accounts_sql(), notes=_notes(con))
