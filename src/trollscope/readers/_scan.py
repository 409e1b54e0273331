"""The scans every reader shares: a strict CSV scan and a line scan for JSON files.

Both keep the file and record number of every row and route what cannot be parsed into a rejects
table with its line number, byte offset and raw text, so no record disappears silently. Dialects
are given, never sniffed: sniffing fails on real collections (an unclosed quote, one odd file in a
thousand) and costs a pass over every file.

The CSV scan first tries Arrow's multi-threaded CSV reader, which parses a clean batch about twice
as fast as DuckDB's strict scan; a batch Arrow cannot take whole (a malformed record, bytes that
are not valid in the encoding) is scanned by DuckDB instead, which rejects the bad records one by
one with their line numbers. Both give the same rows, values and record numbers for clean files.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from isal import igzip, igzip_lib

from ..engine import sql_list, sql_str
from ..schema import RAW_LIMIT
from ..sources import BrokenStream, check_stream, compression, open_text

# DuckDB's own "max_line_size" guard: a twarc page of 100 tweets with expansions runs to megabytes.
MAX_LINE = 256 * 1024 * 1024


def _encoding(enc: str) -> str:
    e = enc.lower().replace("_", "-")
    return {"utf8": "utf-8", "latin1": "latin-1", "iso-8859-1": "latin-1", "utf16": "utf-16"}.get(e, e)


def csv_scan(
    con: duckdb.DuckDBPyConnection,
    files: list[str],
    columns: list[str],
    *,
    delim: str = ",",
    quote: str = '"',
    escape: str = '"',
    header: bool = True,
    encoding: str = "utf-8",
    strict: bool = True,
    arrow: bool = True,
) -> tuple[str, str]:
    """A strict scan of CSV ``files`` laid out as ``columns`` (all VARCHAR).

    Returns ``(source, errors)``: ``source`` is a FROM-able subquery with the columns plus
    ``source_file`` and ``source_line`` (the record number within its file); ``errors`` selects the
    rejected lines. ``errors`` is filled only once ``source`` has been scanned. ``strict=False`` is the
    fallback for files DuckDB's strict parser refuses whole (mixed line endings, e.g. a bare CR inside a
    field): it reads them and rejects only the records that do not fit. ``arrow=False`` skips the
    Arrow fast path.
    """
    tag = uuid.uuid4().hex[:10]
    if strict and arrow:
        table = _arrow_read(files, columns, delim=delim, quote=quote, escape=escape, header=header, encoding=encoding)
        if table is not None:
            con.register(ARROW_VIEW, table)  # replaces the previous batch's table, freeing it
            return f"(SELECT * FROM {ARROW_VIEW})", ""
    cols = "{" + ", ".join(f"{sql_str(c)}: 'VARCHAR'" for c in columns) + "}"
    scan = (
        f"read_csv({sql_list(files)}, auto_detect=false, columns={cols}, header={str(header).lower()}, "
        f"delim={sql_str(delim)}, quote={sql_str(quote)}, escape={sql_str(escape)}, "
        f"encoding={sql_str(_encoding(encoding))}, filename=true, strict_mode={str(strict).lower()}, "
        f"ignore_errors=true, store_rejects=true, rejects_table='rej_{tag}', rejects_scan='scan_{tag}', "
        f"max_line_size={MAX_LINE}, buffer_size={2 * MAX_LINE})"
    )
    # Record number within a file: DuckDB keeps scan order (preserve_insertion_order) and reads the
    # files one after another, so a file's records are numbered by their position in the scan less
    # the position of the file's first record (checked against Python's csv module on the IRA files;
    # no sort needed, unlike a row_number per file).
    source = (
        f"(SELECT * EXCLUDE (filename, file_index, _g), filename AS source_file, "
        f"_g - min(_g) OVER (PARTITION BY file_index) + 1 AS source_line "
        f"FROM (SELECT *, file_index, row_number() OVER () AS _g FROM {scan}))"
    )
    return source, _csv_errors(tag, header)


ARROW_VIEW = "_arrow_scan"


def release(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the batch's Arrow table once its records are materialised (it holds the whole batch)."""
    with contextlib.suppress(duckdb.Error, KeyError):
        con.unregister(ARROW_VIEW)


# Files above this size are parsed with Arrow's own threads; smaller ones one per thread.
_BIG_FILE = 16 * 1024 * 1024
# Arrow holds a whole batch in memory, DuckDB's scan streams and spills: a batch larger than this
# once decompressed (gzip taken as 8x its size) is left to DuckDB, so memory stays bounded however
# large one input file is.
ARROW_MAX_BYTES = 1024 * 1024 * 1024


def _pool() -> pa.MemoryPool:
    """jemalloc where pyarrow has it, else the system allocator.

    Parsing thousands of files, Arrow's default pool (mimalloc) returned and re-requested memory
    from the kernel so often that a third of the read went on system time here (IRA read: 1.2 s with
    mimalloc, 0.87 s with jemalloc). Passed per call rather than set globally: a library should not
    change its host's allocator.
    """
    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:  # e.g. Windows wheels are built without it
        return pa.system_memory_pool()


def _arrow_read(
    files: list[str], columns: list[str], *, delim: str, quote: str, escape: str, header: bool, encoding: str
) -> pa.Table | None:
    """``files`` as one Arrow table with ``source_file`` and ``source_line``, or None when any file
    is not clean CSV for Arrow (the caller then scans with DuckDB, which rejects record by record).

    Values follow DuckDB's: empty fields (quoted or not) are NULL, blank lines of a CSV are skipped,
    and a record's number is its position in its file after the header.
    """
    enc = _encoding(encoding)
    if enc not in ("utf-8", "latin-1"):
        return None
    try:
        kinds = [compression(f) for f in files]
        sizes = [os.path.getsize(f) for f in files]
    except OSError:
        return None
    if any(k not in (None, "gzip") for k in kinds):  # ingest decompresses the others first
        return None
    if sum(n * (8 if k == "gzip" else 1) for n, k in zip(sizes, kinds, strict=True)) > ARROW_MAX_BYTES:
        return None
    single = len(columns) == 1
    mem = _pool()
    parse = pacsv.ParseOptions(
        delimiter=delim,
        quote_char=quote or False,
        double_quote=bool(quote) and escape == quote,
        escape_char=escape if escape and escape != quote else False,
        newlines_in_values=bool(quote),
        ignore_empty_lines=not single,  # a line scan numbers lines, blank ones included
    )
    convert = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in columns},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )

    def one(i: int, big: bool) -> pa.Table:
        path = files[i]
        opts = pacsv.ReadOptions(
            column_names=columns,
            skip_rows=1 if header else 0,
            encoding="utf8" if enc == "utf-8" else enc,
            use_threads=big,
            block_size=8 * 1024 * 1024,
        )
        if kinds[i] == "gzip" and not big:  # a small file whole: ISA-L inflates about twice as fast as zlib
            with open(path, "rb") as fh:
                stream = pa.BufferReader(_gunzip(fh.read()))
        else:
            stream = pa.input_stream(path, compression=kinds[i])
        with stream as fh:
            try:
                t = pacsv.read_csv(fh, read_options=opts, parse_options=parse, convert_options=convert, memory_pool=mem)
            except OSError:
                if kinds[i] == "gzip" and big:  # Arrow's stream checks gzip's checksum, DuckDB's scan does not
                    check_stream(Path(path))
                raise
        n = t.num_rows
        where = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([path]))
        return t.append_column("source_file", where).append_column("source_line", pa.array(np.arange(1, n + 1)))

    try:
        big = [i for i, n in enumerate(sizes) if n > _BIG_FILE]
        small = sorted(set(range(len(files))) - set(big))
        parts: dict[int, pa.Table] = {i: one(i, True) for i in big}
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            parts.update(zip(small, pool.map(lambda i: one(i, False), small), strict=True))
    except BrokenStream:
        raise
    except (pa.ArrowException, UnicodeError, OSError, ValueError):
        return None
    return pa.concat_tables([parts[i] for i in range(len(files))], memory_pool=mem)


def _gunzip(data: bytes) -> bytes:
    """All gzip members of ``data``. A broken stream raises :class:`BrokenStream` out of the read (the
    file is then read up to the break, see ``ingest``): DuckDB's scan would not notice a bad checksum."""
    try:
        return igzip.decompress(data)
    except (EOFError, igzip.BadGzipFile, igzip_lib.IsalError) as e:
        raise BrokenStream(0, f"the gzip stream is broken ({e})") from e


# DuckDB's rejects as sentences a user can act on; "kind: detail", grouped by kind in summaries.
_FIELDS = (
    "regexp_extract(e.error_message, 'Found: (\\d+)', 1) || ' where the header names ' "
    "|| regexp_extract(e.error_message, 'Columns: (\\d+)', 1)"
)
_REASON = f"""CASE e.error_type
    WHEN 'MISSING COLUMNS' THEN 'too few fields: ' || {_FIELDS} || '; a field holds a line break '
        || 'the quoting does not cover, or the record is cut short'
    WHEN 'TOO MANY COLUMNS' THEN 'too many fields: ' || {_FIELDS} || '; a field holds the '
        || 'delimiter without quotes around it'
    WHEN 'UNQUOTED VALUE' THEN 'unclosed quote: a field opens a quote that no later quote closes, so the '
        || 'rest of the file was read as one field'
    WHEN 'INVALID ENCODING' THEN 'bytes that are not text in the given encoding: try --encoding latin-1'
    WHEN 'INVALID UNICODE' THEN 'bytes that are not text in the given encoding: try --encoding latin-1'
    WHEN 'LINE SIZE OVER MAXIMUM' THEN 'a record longer than 256 MB: a quote left open?'
    ELSE lower(e.error_type) || ': ' || e.error_message END"""


def _csv_errors(tag: str, header: bool) -> str:
    # One bad line can raise several errors (one per column): keep the first per line. DuckDB numbers
    # records (a quoted newline does not start a new one) counting the header as the first: less
    # it, the number is the record number posts carry.
    return f"""
        SELECT s.file_path AS source_file, (e.line - {int(header)})::BIGINT AS source_line,
               e.byte_position::BIGINT AS byte_offset,
               {_REASON} AS reason,
               left(e.csv_line, {RAW_LIMIT}) AS raw
        FROM rej_{tag} e JOIN scan_{tag} s ON e.scan_id = s.scan_id AND e.file_id = s.file_id
        QUALIFY row_number() OVER (PARTITION BY e.scan_id, e.file_id, e.line ORDER BY e.column_idx) = 1
    """


def lines_scan(
    con: duckdb.DuckDBPyConnection,
    files: list[str],
    encoding: str = "utf-8",
    strict: bool = True,
    arrow: bool = True,
) -> tuple[str, str]:
    """Each line of ``files`` as one VARCHAR column ``line`` (for JSON-lines formats).

    Returns ``(source, errors)`` like :func:`csv_scan`; ``source_line`` is the line number. Blank
    lines are dropped here (they hold no record). Parse the JSON with ``json_valid``/``json_extract``
    in SQL and reject invalid lines with a reason.
    """
    # 0x1F (unit separator) cannot occur raw inside valid JSON, so every line is one field.
    source, errors = csv_scan(
        con,
        files,
        ["line"],
        delim="\x1f",
        quote="",
        escape="",
        header=False,
        encoding=encoding,
        strict=strict,
        arrow=arrow,
    )
    return f"(SELECT * FROM {source} WHERE trim(line) <> '')", errors


def header(head: str, delim: str = ",") -> list[str]:
    """Column names from the first line of a delimited file's head."""
    line = head.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    return [c.strip().strip('"') for c in line.split(delim)]


@dataclass
class NamedCsv:
    """A strict scan of CSV files read by their header's column names (CrowdTangle, the Meta Content
    Library): ``source`` and ``errors`` as :func:`csv_scan` gives them."""

    columns: list[str]
    source: str
    errors: str

    def col(self, *names: str) -> str:
        """SQL: the first non-empty of the named columns the files have, trimmed; NULL if none."""
        present = [f"nullif(trim(\"{n}\"), '')" for n in names if n in self.columns]
        return f"coalesce({', '.join(present)})" if present else "NULL"


def named_csv(con: duckdb.DuckDBPyConnection, files: list[str], *, encoding: str, strict: bool) -> NamedCsv:
    with open_text(files[0], encoding) as fh:
        cols = header(fh.read(64 * 1024))
    return NamedCsv(cols, *csv_scan(con, files, cols, encoding=encoding, strict=strict))


def layout(head: str) -> str:
    """Files with the same header line are read in one scan."""
    return head.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")


def bracket_list(col: str) -> str:
    """SQL for a list column written as text, ``[a, b]`` or ``['a', 'b']``; empty text is an empty list."""
    return (
        f"CASE WHEN {col} IS NULL THEN NULL ELSE list_filter(list_transform(string_split(trim({col}, '[] '), ','), "
        f"lambda t: lower(trim(t, ' ''\"#'))), lambda t: t <> '') END"
    )
