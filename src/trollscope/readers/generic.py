"""Any table of posts: CSV/TSV (any delimiter), JSON lines, Parquet — with a column mapping.

The fallback reader, tried after every specific format. Columns are mapped to the canonical ones
by ``--map`` (``canonical=source``) and, for what the map leaves out, by common names
(``tweet_id``, ``screen_name``, ``full_text``, ``user.screen_name``…); the mapping used is
reported in a note. Timestamps follow ``--time-format`` or, without it, any of ISO 8601, epoch
seconds or milliseconds, Twitter's ``Wed Oct 10 20:19:24 +0000 2018`` and US
``09/26/2016 21:00:00 EDT`` (zone abbreviation converted to UTC); a time without a zone is read as
UTC. All reading and parsing is SQL; Python only looks at the first rows of the first file to
choose the mapping and name what it found.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..sources import HEAD_BYTES, open_text
from . import ReaderError, ReaderOutput, ReadOptions
from ._scan import bracket_list, csv_scan, header, lines_scan, sql_list, sql_str

NAME = "generic"
__all__ = ["COMPANION_HINT", "NAME", "companion", "detect", "layout", "read"]

DELIMITERS = (",", "\t", "|", ";")
_DELIMITER_NAMES = {"\\t": "\t", "tab": "\t", "comma": ",", "pipe": "|", "semicolon": ";"}

# canonical column -> source names tried, in order, for what --map leaves out (case-insensitive)
AUTO: dict[str, tuple[str, ...]] = {
    "post_id": ("post_id", "tweet_id", "tweetid", "id_str", "id"),
    "account_id": ("account_id", "user_id", "userid", "user.id_str", "user.id", "author_id", "user"),
    "handle": ("handle", "screen_name", "user_screen_name", "user.screen_name", "username", "user.username", "name"),
    "text": ("text", "full_text", "tweet_text", "content", "extended_tweet.full_text"),
    "created_at": ("created_at", "timestamp", "tweet_time", "tweet_created", "publish_date", "date", "datetime"),
    "lang": ("lang", "language", "tweet_language"),
    "platform": ("platform",),  # else "unknown": say which with --map platform=COLUMN
    "venue": ("venue", "subreddit", "channel"),
    # account fields, carried into the accounts table
    "name": ("display_name", "user_display_name", "user.name"),
    "description": ("description", "user.description", "user_profile_description"),
    "followers": ("followers", "followers_count", "follower_count", "user.followers_count", "followers_account"),
    "following": ("following", "following_count", "friends_count", "user.friends_count"),
    "posts_count": ("posts_count", "statuses_count", "user.statuses_count"),
    "account_created_at": ("account_created_at", "account_creation_date", "user.created_at"),
}
# canonical columns read only when --map names them (their meaning varies too much to guess)
MAP_ONLY = (
    "kind", "repost_of_id", "repost_of_account_id", "repost_of_handle", "quote_of_id", "quote_of_account_id",
    "quote_of_handle", "reply_to_id", "reply_to_account_id", "reply_to_handle", "urls", "hashtags", "mentions",
)  # fmt: skip
ACCOUNT_FIELDS = ("name", "description", "followers", "following", "posts_count", "account_created_at")
MAPPABLE = (*AUTO, *MAP_ONLY)

_KINDS = {
    "original": "original", "tweet": "original", "repost": "repost", "retweet": "repost", "retweeted": "repost",
    "rt": "repost", "r": "repost", "quote": "quote", "quoted": "quote", "quote_tweet": "quote", "q": "quote",
    "reply": "reply", "replied_to": "reply",
}  # fmt: skip

# Zone abbreviations as US collections write them (`09/26/2016 21:00:00 EDT`) -> hours east of UTC.
# Ambiguous ones (IST, and CST as China time) are read the North-American/European way.
ZONES = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "CEST": 2, "EET": 2,
    "EEST": 3, "MSK": 3, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11, "EST": -5, "EDT": -4, "CST": -6,
    "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10,
}  # fmt: skip

# A post id a spreadsheet turned into a float (`5.70306E+17`, `570306133677760512.0`).
_FLOAT_ID = r"^[+-]?[0-9]+(\.[0-9]*)?[eE][+-]?[0-9]+$|^[0-9]+\.[0-9]+$"


def detect(head: str, path: Path) -> bool:
    """Parquet, JSON objects one per line, or text with a delimited header line."""
    if head.startswith("PAR1"):
        return True
    first = _first_line(head)
    if first.startswith("{"):
        return True
    if first.startswith("[") or "\x00" in head[:4096]:
        return False
    return any(d in first for d in DELIMITERS)


COMPANION_HINT = "join it as account labels with --labels FILE, or name its text and time columns with --map"


def companion(head: str, path: Path) -> bool:
    """A delimited table of accounts beside the posts (congress-2015-2018's ``accounts.csv``: user_id,
    handle, party…): an account column but no text and no timestamp column, so not posts."""
    if _kind(head) != "csv":
        return False
    cols = {c.lower() for c in header(head, _delimiter(head, None))}
    has = {canon: any(n in cols for n in AUTO[canon]) for canon in ("account_id", "handle", "text", "created_at")}
    return (has["account_id"] or has["handle"]) and not has["text"] and not has["created_at"]


def layout(head: str) -> str:
    """Files read in one scan share a kind and, for text files, a header line (or first keys)."""
    kind = _kind(head)
    if kind == "parquet":
        return "parquet"
    if kind == "jsonl":
        try:
            return "jsonl:" + ",".join(sorted(json.loads(_first_line(head))))
        except (ValueError, TypeError):
            return "jsonl"
    return "csv:" + _first_line(head)


def read(con: duckdb.DuckDBPyConnection, files: list[str], opts: ReadOptions) -> ReaderOutput:
    kind = "parquet" if Path(files[0]).suffix.lower() == ".parquet" else None
    text = "" if kind else _head_text(files[0], opts.encoding)
    kind = kind or _kind(text)
    src = {"parquet": _parquet_source, "jsonl": _jsonl_source, "csv": _csv_source}[kind](con, files, text, opts)
    mapping, notes = _resolve_mapping(src, files, opts)
    return _records(con, src, mapping, files, opts, notes)


# --- sources: every format becomes a relation of VARCHAR columns plus source_file, source_line ---


@dataclass
class _Source:
    columns: list[str]  # as the file names them
    sample: list[dict[str, str | None]]  # the first rows of the first file, for choosing and reporting
    relation: Callable[[list[str]], str]  # FROM-able SQL projecting the given columns, by name
    errors: str | None = None
    broken: str = "NULL"  # SQL: why a row could not be read at all (invalid JSON), else NULL
    raw: str = "NULL"  # SQL: the record's text, for rejects
    native_time: dict[str, str] | None = None  # typed Parquet timestamps: column -> UTC TIMESTAMP SQL
    open_columns: bool = False  # JSON: --map may name a field the first rows do not show


def _csv_source(con: duckdb.DuckDBPyConnection, files: list[str], text: str, opts: ReadOptions) -> _Source:
    delim = _delimiter(text, opts.delimiter)
    columns = _unique([c or f"column{i}" for i, c in enumerate(header(text, delim))])
    scan, errors = csv_scan(con, files, columns, delim=delim, encoding=opts.encoding, strict=opts.strict)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delim))[1:-1]  # last may be cut
    sample = [dict(zip(columns, (v or None for v in r), strict=False)) for r in rows if len(r) == len(columns)]
    raw = f"concat_ws({sql_str(delim)}, {', '.join(_ident(c) for c in columns)})"
    return _Source(columns, sample, lambda used: scan, errors, raw=raw)


def _jsonl_source(con: duckdb.DuckDBPyConnection, files: list[str], text: str, opts: ReadOptions) -> _Source:
    sample: list[dict[str, str | None]] = []
    paths: dict[str, list[str]] = {}  # field name (`user.screen_name`) -> JSON paths: flat key, nested, or both
    for line in text.split("\n")[:-1]:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            flat = _flatten(obj)
            for name, (path, _) in flat.items():
                if path not in paths.setdefault(name, []):
                    paths[name].append(path)
            sample.append({k: None if v[1] is None else str(v[1]) for k, v in flat.items()})
    lines, errors = lines_scan(con, files, opts.encoding, opts.strict)

    def relation(used: list[str]) -> str:
        # A field the first rows lack (named by --map) is looked for both as a flat and a nested name.
        wanted = [paths.get(c) or list(dict.fromkeys([_path([c]), _path(c.split("."))])) for c in used]
        flat = [p for ps in wanted for p in ps]
        cols, i = [], 0
        for c, ps in zip(used, wanted, strict=True):
            cols.append(f"coalesce({', '.join(f'_v[{i + k + 1}]' for k in range(len(ps)))}) AS {_ident(c)}")
            i += len(ps)
        extract = f"CASE WHEN json_valid(line) THEN json_extract_string(line, {sql_list(flat)}) END"
        return f"(SELECT *, {', '.join(cols)} FROM (SELECT *, {extract} AS _v FROM {lines}))"

    broken = (
        "CASE WHEN NOT json_valid(line) THEN 'invalid JSON: not one complete JSON object on this line (cut off?)' "
        "WHEN json_type(line) <> 'OBJECT' THEN 'not a JSON object: ' || lower(json_type(line)) END"
    )
    return _Source(list(paths), sample, relation, errors, broken=broken, raw="line", open_columns=True)


def _parquet_source(con: duckdb.DuckDBPyConnection, files: list[str], text: str, opts: ReadOptions) -> _Source:
    scan = f"read_parquet({sql_list(files)}, filename=true, file_row_number=true, union_by_name=true)"
    described = con.execute(f"DESCRIBE SELECT * EXCLUDE (filename, file_row_number) FROM {scan}").fetchall()
    types = {r[0]: r[1] for r in described}

    def as_text(c: str) -> str:
        if types[c].startswith("TIMESTAMP WITH TIME ZONE"):
            return f"CAST(timezone('UTC', {_ident(c)}) AS VARCHAR)"
        return f"CAST({_ident(c)} AS VARCHAR)"

    # typed timestamps are used as they are, not printed and parsed again
    native = {
        c: f"timezone('UTC', {_ident(c)})"
        if t.startswith("TIMESTAMP WITH TIME ZONE")
        else f"CAST({_ident(c)} AS TIMESTAMP)"
        for c, t in types.items()
        if t.startswith(("TIMESTAMP", "DATE")) and not t.endswith("]")
    }

    def relation(used: list[str]) -> str:
        cols = [f"{as_text(c)} AS {_ident(c)}" for c in used]
        cols += [f"{native[c]} AS {_ident('_t_' + c)}" for c in used if c in native]
        raw = "concat_ws(' | ', " + ", ".join(f"{sql_str(c + '=')} || {as_text(c)}" for c in used) + ")"
        return (
            f"(SELECT {', '.join(cols)}, {raw} AS _raw_text, filename AS source_file, "
            f"file_row_number + 1 AS source_line FROM {scan})"
        )

    columns = list(types)
    sample_sql = f"SELECT {', '.join(f'{as_text(c)} AS {_ident(c)}' for c in columns)} FROM {scan} LIMIT 200"
    sample = [dict(zip(columns, row, strict=True)) for row in con.execute(sample_sql).fetchall()]
    timestamps = {c: _ident("_t_" + c) for c in native}
    return _Source(columns, sample, relation, raw="_raw_text", native_time=timestamps)


# --- mapping ---


def _resolve_mapping(src: _Source, files: list[str], opts: ReadOptions) -> tuple[dict[str, str], list[str]]:
    """Canonical column -> source column: ``--map`` first, then common names for the rest."""
    by_lower = {c.lower(): c for c in src.columns}
    unknown = [k for k in opts.mapping if k not in MAPPABLE]
    if unknown:
        raise ReaderError(
            f"--map names {', '.join(map(repr, unknown))}, which are not canonical columns; use {', '.join(MAPPABLE)}"
        )
    mapping: dict[str, str] = {}
    for canon, source in opts.mapping.items():
        if not source:  # `--map post_id=` means: this file has none
            continue
        found = source if source in src.columns else by_lower.get(source.lower(), source if src.open_columns else None)
        if found is None:
            raise ReaderError(
                f"{files[0]}: --map {canon}={source}: no column {source!r}; its columns are "
                f"{_list_columns(src.columns)}"
            )
        mapping[canon] = found
    used = set(mapping.values())
    auto: dict[str, str] = {}
    for canon, names in AUTO.items():
        if canon in opts.mapping:
            continue
        found = next((by_lower[n] for n in names if n in by_lower and by_lower[n] not in used), None)
        if found is not None:
            auto[canon] = found
            used.add(found)
    mapping |= auto
    missing = [
        what
        for what, ok in (
            ("text", "text" in mapping),
            ("account (account_id or handle)", "account_id" in mapping or "handle" in mapping),
            ("timestamp (created_at)", "created_at" in mapping),
        )
        if not ok
    ]
    if missing:
        raise ReaderError(
            f"{files[0]}: no {', no '.join(missing)} column found; its columns are {_list_columns(src.columns)}. "
            f"Name them with --map, e.g. --map text=COLUMN,handle=COLUMN,created_at=COLUMN"
        )
    given = ", ".join(f"{k}={v}" for k, v in mapping.items() if k not in auto)
    found = ", ".join(f"{k}={v}" for k, v in auto.items())
    where = files[0] if len(files) == 1 else f"{files[0]} (and {len(files) - 1} more files like it)"
    parts = [f"{given} (from --map)" if given else "", f"{found} (found by name)" if found else ""]
    return mapping, [f"{where}: columns mapped {'; '.join(p for p in parts if p)}"]


# --- records ---


def _records(
    con: duckdb.DuckDBPyConnection,
    src: _Source,
    mapping: dict[str, str],
    files: list[str],
    opts: ReadOptions,
    notes: list[str],
) -> ReaderOutput:
    exprs = {("_a_" + c if c in ACCOUNT_FIELDS else c): _value_sql(c, mapping[c], con) for c in mapping}
    del exprs["created_at"]
    if opts.platform:  # --platform: every post of these files, whatever a platform column says
        exprs["platform"] = sql_str(opts.platform)
        notes.append(f"{files[0]}: platform {opts.platform} (from --platform)")
    if "platform" in exprs and "account_id" not in exprs:  # the account id is namespaced below
        exprs["account_id"] = f"lower({exprs['handle']})"
    when_col = mapping["created_at"]
    native = (src.native_time or {}).get(when_col)
    if native:
        when_src, when_sql, how = native, "_t", "a Parquet timestamp"
    else:
        when_sql, how = _time_sql("_t", opts.time_format, [r.get(when_col) for r in src.sample], con)
        when_src = _ident(when_col)
    notes.append(f"{files[0]}: created_at from {when_col!r}: {how}")
    guess = None if opts.time_format or native else guess_time_format([str(r[when_col]) for r in src.sample
                                                                         if r.get(when_col)][:200], con)  # fmt: skip
    hint = (
        f"not in --time-format {opts.time_format}"
        if opts.time_format
        else f"try --time-format '{guess}'"
        if guess
        else "try --time-format, e.g. --time-format '%d/%m/%Y %H:%M'"
    )
    ids = ""
    if "post_id" in mapping:
        # Ids a spreadsheet rounded to floats, or ids that different records share, are not ids: a
        # file with any loses them all, and ingest makes stable synthetic ones instead.
        key = ", ".join(c for c in ("account_id", "handle", "text") if c in exprs)
        ids = f"""
            i AS (
                SELECT *, post_id IS NOT NULL AND (regexp_matches(post_id, {sql_str(_FLOAT_ID)})
                          OR min(hash({key})) OVER (PARTITION BY source_file, post_id)
                             <> max(hash({key})) OVER (PARTITION BY source_file, post_id)) AS _bad_id
                FROM t
            ),"""
        notes += _id_note(src, mapping, files[0])
    swaps = {"post_id": "CASE WHEN bool_or(_bad_id) OVER (PARTITION BY source_file) THEN NULL ELSE post_id END"}
    swaps = {k: v for k, v in swaps.items() if ids}
    if "platform" in exprs:
        swaps |= {c: _namespaced(swaps.get(c, c)) for c in NAMESPACED if c in exprs}
    replace = f"REPLACE ({', '.join(f'{v} AS {k}' for k, v in swaps.items())})" if swaps else ""
    records = f"""
        WITH s AS (
            SELECT {", ".join(f"{e} AS {k}" for k, e in exprs.items())}, {when_src} AS _t,
                   {src.broken} AS _broken, {src.raw} AS _raw, source_file, source_line
            FROM {src.relation(list(dict.fromkeys(mapping.values())))}
        ),
        t AS (SELECT *, {when_sql} AS created_at FROM s),{ids}
        last AS (SELECT * FROM {"i" if ids else "t"})
        SELECT * EXCLUDE (_t, _broken, _raw{", _bad_id" if ids else ""}) {replace},
            CASE WHEN _broken IS NOT NULL THEN _broken
                 WHEN created_at IS NULL
                 THEN 'bad date: ' || coalesce(CAST(_t AS VARCHAR), '(empty)') || {sql_str(f" ({hint})")}
            END AS reject_reason,
            CASE WHEN _broken IS NOT NULL OR created_at IS NULL THEN _raw END AS raw
        FROM last
    """
    return ReaderOutput(
        records=records, errors=src.errors, accounts=_accounts_sql(mapping, "account_id" in exprs), notes=notes
    )


# Ids namespaced by platform as the platform readers' are (docs/ingest.md, "Other platforms").
NAMESPACED = (
    "post_id", "account_id", "repost_of_id", "repost_of_account_id", "quote_of_id", "quote_of_account_id",
    "reply_to_id", "reply_to_account_id",
)  # fmt: skip


def _namespaced(v: str) -> str:
    """``v`` as ``platform:v``: the same handle or id on two platforms is two accounts or posts. Twitter's
    and unknown platforms' ids stay bare (as before platforms), and an id already prefixed stays as it is."""
    p = "lower(platform)"
    return (
        f"CASE WHEN {v} IS NULL OR {p} IS NULL OR {p} IN ('twitter', 'unknown') OR starts_with({v}, {p} || ':') "
        f"THEN {v} ELSE {p} || ':' || {v} END"
    )


def _value_sql(canon: str, column: str, con: duckdb.DuckDBPyConnection) -> str:
    """SQL for one canonical column from its (text) source column."""
    if canon == "text":
        return _ident(column)  # as written, spaces and all
    v = f"nullif(trim({_ident(column)}), '')"
    if canon.endswith("handle"):
        return f"ltrim({v}, '@')"
    if canon == "lang":
        return f"lower({v})"
    if canon == "kind":
        return (
            f"CASE lower({v}) " + " ".join(f"WHEN {sql_str(k)} THEN {sql_str(x)}" for k, x in _KINDS.items()) + " END"
        )
    if canon in ("hashtags", "mentions"):
        return bracket_list(v)
    if canon == "urls":  # like bracket_list, but URLs keep their case
        return (
            f"CASE WHEN {v} IS NULL THEN NULL ELSE list_filter(list_transform(string_split(trim({v}, '[] '), ','), "
            "lambda u: trim(u, ' ''\"')), lambda u: u <> '') END"
        )
    if canon == "account_created_at":
        return _time_sql(v, None, [], con)[0]
    return v


def _accounts_sql(mapping: dict[str, str], account_id: bool) -> str | None:
    """The account fields the file carries (followers, name…), the latest value of each per account.
    ``account_id``: the records have an account id column (else accounts are named by handle)."""
    fields = [f for f in ACCOUNT_FIELDS if f in mapping]
    if not fields:
        return None
    cols = []
    for f in fields:
        v = f"_a_{f}"
        if f in ("followers", "following", "posts_count"):
            v = f"try_cast(try_cast(replace(_a_{f}, ',', '') AS DOUBLE) AS BIGINT)"
        cols.append(
            f"arg_max({v}, created_at) FILTER (WHERE {v} IS NOT NULL) AS {'created_at' if f == 'account_created_at' else f}"
        )
    handle = "arg_max(handle, created_at) FILTER (WHERE handle IS NOT NULL)" if "handle" in mapping else "NULL"
    return f"""
        SELECT coalesce({"account_id" if account_id else "NULL"}, lower({"handle" if "handle" in mapping else "NULL"})) AS account_id,
               {handle} AS handle, {", ".join(cols)}
        FROM _records WHERE reject_reason IS NULL GROUP BY 1
    """


def _id_note(src: _Source, mapping: dict[str, str], where: str) -> list[str]:
    """Say so when the first rows already show the post ids are damaged."""
    col = mapping["post_id"]
    ids = [r.get(col) for r in src.sample if r.get(col)]
    floats = [i for i in ids if re.match(_FLOAT_ID, i.strip())]
    texts: dict[str, set] = {}
    for r in src.sample:
        if r.get(col):
            texts.setdefault(r[col], set()).add((r.get(mapping.get("handle", "")), r.get(mapping.get("text", ""))))
    shared = sum(1 for t in texts.values() if len(t) > 1)
    if not floats and not shared:
        return []
    why = f"values such as {floats[0]!r} are floats a spreadsheet rounded" if floats else ""
    why += ("; " if why else "") + (f"{shared} ids in the first rows are shared by different posts" if shared else "")
    return [
        f"{where}: post ids in column {col!r} are not usable as ids ({why}): left empty, ingest makes stable synthetic ids"
    ]


# --- timestamps ---


def _time_sql(
    v: str, time_format: str | None, sample: list[str | None], con: duckdb.DuckDBPyConnection
) -> tuple[str, str]:
    """SQL turning the text column ``v`` into a UTC timestamp, and a note of how."""
    if time_format:
        try:
            con.execute("SELECT try_strptime('2016-01-01', ?)", [time_format])
        except duckdb.Error as e:
            raise ReaderError(
                f"--time-format {time_format!r} is not a strptime format: {str(e).splitlines()[0]}"
            ) from e
        return _strptime_sql(v, time_format), f"parsed with --time-format {time_format!r}" + (
            "" if re.search("%[zZ]", time_format) else " (no zone in the format: read as UTC)"
        )
    parsers = _auto_parsers(v)
    values = [s for s in sample if s is not None][:200]
    if not values:
        return (
            f"coalesce({', '.join(p for _, p in parsers)})",
            "format detected per value (ISO 8601, epoch, Twitter, US with zone)",
        )
    hits = con.execute(
        "SELECT "
        + ", ".join(f"count({p})" for _, p in _auto_parsers("x"))
        + " FROM (SELECT unnest(?::VARCHAR[]) AS x)",
        [values],
    ).fetchone()
    best = max(range(len(parsers)), key=lambda i: hits[i])
    order = [parsers[best], *(p for i, p in enumerate(parsers) if i != best)]
    sql = f"coalesce({', '.join(p for _, p in order)})"
    if hits[best] == 0:
        guess = guess_time_format(values, con)
        return sql, (
            f"no known timestamp format matches the first values (e.g. {values[0]!r}): those rows are rejected; "
            + (f"give --time-format '{guess}' (it reads every one of them)" if guess else "give --time-format")
        )
    return sql, f"{parsers[best][0]}, detected from the first rows"


def guess_time_format(values: list[str], con: duckdb.DuckDBPyConnection) -> str | None:
    """A strptime format that reads every one of ``values`` (day-month-year, month-day-year or
    year-month-day with `-`, `/` or `.`; hours and minutes with `:` or `.`, seconds optional), or
    None. Day-first is tried before month-first: where both read every value, a date can only be
    told apart by a day above 12, and both reading all of them means there is none."""
    dates = [f"%{a}{s}%{b}{s}%{c}" for a, b, c in (("d", "m", "Y"), ("m", "d", "Y"), ("Y", "m", "d")) for s in "-/."]
    times = ["%H:%M:%S", "%H:%M", "%H.%M.%S", "%H.%M", ""]
    formats = [f"{d} {t}".strip() for d in dates for t in times]
    counts = con.execute(
        "SELECT "
        + ", ".join(f"count(try_strptime(trim(x), {sql_str(f)}))" for f in formats)
        + " FROM (SELECT unnest(?::VARCHAR[]) AS x)",
        [values],
    ).fetchone()
    return next((f for f, n in zip(formats, counts, strict=True) if n == len(values)), None)


def _auto_parsers(v: str) -> list[tuple[str, str]]:
    """(description, SQL) for each format read without --time-format; they never disagree on a value."""
    t = f"trim({v})"
    iso_zoned = r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}.*(Z|[+-]\d{2}(:?\d{2})?)$"
    us = r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}(:\d{2})?\s*[A-Za-z]{0,5}$"
    return [
        (
            "ISO 8601 (offsets converted to UTC; times without one read as UTC)",
            f"CASE WHEN regexp_matches({t}, {sql_str(iso_zoned)}) THEN timezone('UTC', try_cast({t} AS TIMESTAMPTZ)) "
            rf"WHEN regexp_matches({t}, '^\d{{4}}-\d{{2}}-\d{{2}}') THEN try_cast({t} AS TIMESTAMP) END",
        ),
        (
            "epoch seconds or milliseconds",
            rf"CASE WHEN regexp_matches({t}, '^\d{{9,13}}(\.\d+)?$') THEN epoch_ms(CAST(CASE WHEN CAST({t} AS DOUBLE) >= 1e11 "
            f"THEN CAST({t} AS DOUBLE) ELSE CAST({t} AS DOUBLE) * 1000 END AS BIGINT)) END",
        ),
        (
            "Twitter's 'Wed Oct 10 20:19:24 +0000 2018' (converted to UTC)",
            f"timezone('UTC', try_strptime({t}, '%a %b %d %H:%M:%S %z %Y'))",
        ),
        (
            "MM/DD/YYYY HH:MM[:SS] ZONE (abbreviations such as EDT converted to UTC; no zone read as UTC)",
            f"CASE WHEN regexp_matches({t}, {sql_str(us)}) THEN "
            + _zoned(t, "['%m/%d/%Y %H:%M:%S', '%m/%d/%Y %H:%M']")
            + " END",
        ),
    ]


def _strptime_sql(v: str, fmt: str) -> str:
    t = f"trim({v})"
    if "%z" in fmt:
        return f"timezone('UTC', try_strptime({t}, {sql_str(fmt)}))"
    if fmt.endswith("%Z"):  # DuckDB cannot parse zone names: abbreviations are looked up here
        return _zoned(t, sql_str(fmt[:-2].rstrip()))
    return f"try_strptime({t}, {sql_str(fmt)})"


def _zoned(t: str, formats: str) -> str:
    """Local time then an optional zone abbreviation (``EDT``), as UTC; an unknown zone is NULL."""
    zone = f"regexp_extract({t}, '[A-Za-z]*$')"
    offsets = "MAP {" + ", ".join(f"{sql_str(k)}: {h}" for k, h in {"": 0, **ZONES}.items()) + "}"
    # one map lookup: a CASE over the zone would evaluate its argument once per branch
    return (
        f"try_strptime(rtrim(left({t}, length({t}) - length({zone}))), {formats}) - to_hours({offsets}[upper({zone})])"
    )


# --- helpers ---


def _kind(head: str) -> str:
    if head.startswith("PAR1"):
        return "parquet"
    return "jsonl" if _first_line(head).startswith("{") else "csv"


def _first_line(head: str) -> str:
    for line in head.lstrip("\ufeff").split("\n"):
        if line.strip():
            return line.strip()
    return ""


def _head_text(path: str, encoding: str) -> str:
    with open_text(path, encoding) as fh:
        return fh.read(HEAD_BYTES)


def _delimiter(head: str, given: str | None) -> str:
    """``--delimiter``, else the candidate seen most often in the header line (outside quotes)."""
    if given:
        return _DELIMITER_NAMES.get(given.lower(), given)
    line = re.sub(r'"[^"]*"', "", _first_line(head))
    counts = [line.count(d) for d in DELIMITERS]
    return DELIMITERS[counts.index(max(counts))] if max(counts) else ","


def _flatten(obj: dict, prefix: str = "", path: str = "$", depth: int = 0) -> dict[str, tuple[str, object]]:
    """Field name (``user.screen_name``, flat or nested) -> (JSON path, value) for a sample object."""
    out: dict[str, tuple[str, object]] = {}
    for k, v in obj.items():
        if '"' in k:
            continue
        name, p = prefix + k, path + _path([k])[1:]
        if isinstance(v, dict) and depth < 3:
            out |= _flatten(v, name + ".", p, depth + 1)
        else:
            out[name] = (p, json.dumps(v) if isinstance(v, list) else v)
    return out


def _path(keys: list[str]) -> str:
    return "$" + "".join(f'."{k}"' for k in keys)


def _unique(names: list[str]) -> list[str]:
    """Header names made unique and clear of the names the scan adds itself."""
    seen: set[str] = {"filename", "source_file", "source_line", "_g"}
    out = []
    for n in names:
        m, i = n, 1
        while m.lower() in seen:
            i += 1
            m = f"{n}_{i}"
        seen.add(m.lower())
        out.append(m)
    return out


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _list_columns(columns: list[str]) -> str:
    shown = ", ".join(columns[:30])
    return shown + (f" … ({len(columns)} in all)" if len(columns) > 30 else "") if columns else "(none)"
