"""The two CSV scans: Arrow's fast path and DuckDB's strict scan give the same rows, values and
record numbers on clean files, and the fast path steps aside for anything it cannot read whole."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import duckdb
import pytest

from trollscope.readers._scan import _arrow_read, csv_scan, lines_scan

COLS = ["id", "text", "when"]
ROWS = [
    ["1", "plain", "2016-01-01 10:00:00"],
    ["2", "a quoted, comma", "2016-01-01 10:01:00"],
    ["3", 'doubled "quotes" inside', "2016-01-01 10:02:00"],
    ["4", "a newline\ninside and a CRLF\r\ninside", "2016-01-01 10:03:00"],
    ["5", "", "2016-01-01 10:04:00"],  # empty: NULL in both
    ["6", "Ünïcödé — ✓ 😀", ""],
    ["7", " leading and trailing spaces ", "2016-01-01 10:06:00"],
]


def _write(path: Path, rows: list[list[str]], *, bom: bool = False, crlf: bool = False, blank: bool = False) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    w.writerow(COLS)
    for i, r in enumerate(rows):
        w.writerow(r)
        if blank and i == 2:
            buf.write("\r\n" if crlf else "\n")
    data = ("\ufeff" if bom else "") + buf.getvalue()
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data.encode()))
    else:
        path.write_text(data, encoding="utf-8", newline="")
    return path


def _scan(files: list[Path], arrow: bool, **kw) -> list[tuple]:
    con = duckdb.connect()
    source, _ = csv_scan(con, [str(f) for f in files], COLS, arrow=arrow, **kw)
    return con.sql(f"SELECT * FROM {source} ORDER BY source_file, source_line").fetchall()


def _expected(files: list[Path]) -> list[tuple]:
    """The rows as Python's csv module reads them, empty fields as NULL, numbered per file."""
    out = []
    for f in sorted(files, key=str):
        raw = gzip.decompress(f.read_bytes()) if f.suffix == ".gz" else f.read_bytes()
        rows = [r for r in csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")) if r][1:]
        out += [(*[v or None for v in r], str(f), i) for i, r in enumerate(rows, 1)]
    return out


def test_arrow_and_duckdb_scans_agree_on_clean_files(tmp_path):
    files = [
        _write(tmp_path / "a.csv", ROWS),
        _write(tmp_path / "b.csv", ROWS[::-1], bom=True, crlf=True),
        _write(tmp_path / "c.csv.gz", ROWS[2:], blank=True),
    ]
    fast, slow = _scan(files, True), _scan(files, False)
    assert fast == slow == _expected(files)
    assert _arrow_read([str(f) for f in files], COLS, delim=",", quote='"', escape='"', header=True, encoding="utf-8")


def test_line_scan_numbers_blank_lines_like_duckdb(tmp_path):
    f = tmp_path / "t.jsonl"
    f.write_text('{"a": 1}\n\n{"a": "x,\\"y\\""}\n   \n{"a": 3}\n', encoding="utf-8-sig")  # with a BOM
    got = {}
    for arrow in (True, False):
        con = duckdb.connect()
        source, _ = lines_scan(con, [str(f)], arrow=arrow)
        got[arrow] = con.sql(f"SELECT line, source_line FROM {source} ORDER BY source_line").fetchall()
    assert got[True] == got[False] == [('{"a": 1}', 1), ('{"a": "x,\\"y\\""}', 3), ('{"a": 3}', 5)]


@pytest.mark.parametrize(
    "content",
    [
        b'id,text,when\n1,"unclosed quote,2016-01-01\n2,b,2016-01-01 10:00:00\n',  # a quote never closed
        b"id,text,when\n1,a,2016-01-01 10:00:00\n2,b\n",  # too few fields
        b"id,text,when\n1,caf\xe9,2016-01-01 10:00:00\n",  # latin-1 bytes read as UTF-8
    ],
)
def test_fast_path_steps_aside_for_bad_files(tmp_path, content):
    good = _write(tmp_path / "good.csv", ROWS)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    files = [str(good), str(bad)]
    assert _arrow_read(files, COLS, delim=",", quote='"', escape='"', header=True, encoding="utf-8") is None
    con = duckdb.connect()
    source, _ = csv_scan(con, files, COLS)
    assert "_arrow_scan" not in source  # DuckDB's scan, which rejects the bad records one by one
    rows = con.execute(f"SELECT source_file, source_line FROM {source}").fetchall()
    assert sorted(n for f, n in rows if f == str(good)) == list(range(1, len(ROWS) + 1))


def test_latin1_files_read_by_both_scans(tmp_path):
    f = tmp_path / "l.csv"
    f.write_bytes("id,text,when\n1,café crème,2016-01-01 10:00:00\n".encode("latin-1"))
    for arrow in (True, False):
        con = duckdb.connect()
        source, _ = csv_scan(con, [str(f)], COLS, encoding="latin-1", arrow=arrow)
        assert con.sql(f"SELECT text, source_line FROM {source}").fetchall() == [("café crème", 1)]


@pytest.mark.real_data
def test_scans_agree_on_real_ira_files(shared):
    from trollscope.readers.ira import PER_AUTHOR

    files = sorted((shared / "ira-by-author").glob("*/*.csv.gz"))[::40]
    got = {}
    for arrow in (True, False):
        con = duckdb.connect()
        source, _ = csv_scan(con, [str(f) for f in files], PER_AUTHOR, arrow=arrow)
        got[arrow] = con.sql(f"SELECT * FROM {source} ORDER BY source_file, source_line").fetchall()
    assert len(got[True]) > 10_000
    assert got[True] == got[False]


def test_a_batch_too_large_for_memory_is_left_to_duckdb(tmp_path, monkeypatch):
    from trollscope.readers import _scan

    files = [_write(tmp_path / "a.csv", ROWS), _write(tmp_path / "b.csv.gz", ROWS)]
    size = (tmp_path / "a.csv").stat().st_size + 8 * (tmp_path / "b.csv.gz").stat().st_size
    monkeypatch.setattr(_scan, "ARROW_MAX_BYTES", size)
    assert _arrow_read([str(f) for f in files], COLS, delim=",", quote='"', escape='"', header=True, encoding="utf-8")
    monkeypatch.setattr(_scan, "ARROW_MAX_BYTES", size - 1)
    assert (
        _arrow_read([str(f) for f in files], COLS, delim=",", quote='"', escape='"', header=True, encoding="utf-8")
        is None
    )
    con = duckdb.connect()
    source, _ = csv_scan(con, [str(f) for f in files], COLS)
    assert "_arrow_scan" not in source
    assert con.sql(f"SELECT * FROM {source} ORDER BY source_file, source_line").fetchall() == _expected(files)
