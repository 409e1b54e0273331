"""What the JSON readers of other platforms share: whole documents, JSON lines, times, HTML.

Platform readers read JSON one of two ways. A JSON-lines file (Pushshift, Jetstream, Telethon
dumps) goes through the shared line scan, one record per line. A file that is one JSON document
(a Telegram Desktop ``result.json``, a Mastodon context, TGDataset) is loaded whole and unnested
in SQL; its records are numbered by their position in the document. Either way an unparseable
line or document is one rejected record, so the row equation holds.
"""

from __future__ import annotations

import contextlib
import json
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pyarrow as pa

from ..schema import RAW_LIMIT
from ..sources import open_binary
from . import ReadOptions
from ._scan import lines_scan, sql_str

DOCS = "_json_docs"


def struct(d: dict) -> str:
    """A ``from_json`` structure literal."""
    return sql_str(json.dumps(d))


def documents(con: duckdb.DuckDBPyConnection, files: list[str], opts: ReadOptions) -> str:
    """Each file as one row ``(source_file, content, ok)`` of the table this returns; ``ok`` is
    whether the content is valid JSON. Files are read in Python (whole documents cannot be split)."""
    contents = []
    for f in files:
        with open_binary(f) as fh:
            contents.append(fh.read().decode(opts.encoding, errors="replace").lstrip("\ufeff"))
    con.register(f"{DOCS}_arrow", pa.table({"source_file": files, "content": contents}))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {DOCS} AS SELECT source_file, content, json_valid(content) AS ok "
        f"FROM {DOCS}_arrow"
    )
    con.unregister(f"{DOCS}_arrow")
    return DOCS


def document_rejects(docs: str = DOCS) -> str:
    """Records (one per file) for documents that are not valid JSON."""
    return (
        f"SELECT source_file, 1::BIGINT AS source_line, "
        f"CASE WHEN rtrim(content) SIMILAR TO '.*[}}\\]]' THEN 'invalid JSON' ELSE 'invalid JSON (cut off?)' END "
        f"AS reject_reason, left(content, {RAW_LIMIT}) AS raw FROM {docs} WHERE NOT ok"
    )


def lines(con: duckdb.DuckDBPyConnection, files: list[str], opts: ReadOptions, shape: dict, table: str) -> str:
    """JSON lines parsed into ``table``: ``source_file, source_line, j`` (the struct ``shape``, NULL
    for an invalid line), ``raw`` (the line, truncated) and ``invalid`` (the reason, if any).
    Returns the errors query of the scan (lines it could not even read)."""
    source, errors = lines_scan(con, files, opts.encoding, opts.strict)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT source_file, source_line, CASE WHEN ok THEN from_json(line, {struct(shape)}) END AS j,
               left(line, {RAW_LIMIT}) AS raw,
               CASE WHEN ok THEN NULL WHEN rtrim(line, ' ' || chr(9) || chr(13)) LIKE '%}}' THEN 'invalid JSON'
                    ELSE 'invalid JSON (cut off?)' END AS invalid
        FROM (SELECT *, json_valid(line) AS ok FROM {source})
    """)
    return errors


def text_urls(text: str) -> str:
    """The links in a text, as ingest finds them where a source has no entities (to merge with a
    source's own links)."""
    from ..ingest import URL_RE  # ingest imports the readers: resolved when a reader runs

    return f"CASE WHEN contains({text}, 'http') THEN regexp_extract_all({text}, {sql_str(URL_RE)}) ELSE [] END"


def epoch(x: str) -> str:
    """Seconds since 1970 (number or digits) as a naive UTC timestamp."""
    return f"make_timestamp(CAST(round(try_cast({x} AS DOUBLE) * 1000000) AS BIGINT))"


def utc(x: str) -> str:
    """An ISO 8601 time (with or without a zone; none means UTC) as a naive UTC timestamp."""
    return f"(try_cast({x} AS TIMESTAMPTZ) AT TIME ZONE 'UTC')"


def head_json(head: str) -> object | None:
    """The first JSON value of a head when it is complete (a short document, or a JSON line)."""
    try:
        return json.JSONDecoder().raw_decode(head.lstrip("\ufeff \t\r\n"))[0]
    except ValueError:
        return None


def first_line(head: str) -> object | None:
    line = head.lstrip("\ufeff \t\r\n").split("\n", 1)[0]
    try:
        return json.loads(line)
    except ValueError:
        return None


def display(path: str) -> str:
    return Path(path).name


# --- HTML ---------------------------------------------------------------------------------------


class _Text(HTMLParser):
    """Text and links of an HTML fragment (a Mastodon status): paragraphs and line breaks become
    newlines; links that are mentions or hashtags are not collected as URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")
        elif tag == "a":
            a = dict(attrs)
            cls = (a.get("class") or "").split()
            if a.get("href") and "mention" not in cls and "hashtag" not in cls:
                self.links.append(a["href"])

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(html: str | None) -> dict | None:
    """``{"text", "links"}`` of an HTML fragment, parsed by the standard library's HTML parser."""
    if html is None:
        return None
    p = _Text()
    p.feed(html)
    p.close()
    return {"text": "".join(p.parts).strip(), "links": p.links}


HTML_TYPE = pa.struct([("text", pa.string()), ("links", pa.list_(pa.string()))])


def register_html(con: duckdb.DuckDBPyConnection) -> str:
    """Register ``html_text(VARCHAR)`` on ``con`` (a vectorised UDF over Arrow; the parse itself is
    per value, as HTML parsing must be). Returns its name."""
    name = "trollscope_html_text"

    def udf(values: pa.ChunkedArray) -> pa.Array:
        return pa.array([html_text(v) for v in values.to_pylist()], HTML_TYPE)

    with contextlib.suppress(duckdb.InvalidInputException, duckdb.CatalogException):
        con.remove_function(name)
    con.create_function(
        name, udf, [duckdb.sqltype("VARCHAR")], duckdb.sqltype("STRUCT(text VARCHAR, links VARCHAR[])"), type="arrow"
    )
    return name
