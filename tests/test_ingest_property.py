"""Randomly corrupted input never loses a row without counting it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from helpers import sample_rows, write_ioarchive
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trollscope as ts

# An edit: (position as a fraction of the file, kind, payload)
edits = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=1),
        st.sampled_from(["insert", "delete", "truncate", "duplicate_line"]),
        st.binary(min_size=1, max_size=12) | st.sampled_from([b'"', b"\n", b",", b"\xff\xfe", b"\r\n", b'""', b"\x00"]),
    ),
    min_size=1,
    max_size=6,
)


def _corrupt(data: bytes, ops: list[tuple[float, str, bytes]]) -> bytes:
    for frac, kind, payload in ops:
        i = int(frac * len(data))
        if kind == "insert":
            data = data[:i] + payload + data[i:]
        elif kind == "delete":
            data = data[:i] + data[i + len(payload) :]
        elif kind == "truncate":
            data = data[: max(i, 1)]
        else:
            start = data.rfind(b"\n", 0, i) + 1
            end = data.find(b"\n", i)
            end = len(data) if end < 0 else end + 1
            data = data[:end] + data[start:end] + data[end:]
    return data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=edits, extra=st.booleans())
def test_row_equation_holds_on_corrupted_csv(ops, extra):
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        clean = write_ioarchive(tmp / "clean.csv", sample_rows(30)).read_bytes()
        bad = tmp / "in" / "bad.csv"
        bad.parent.mkdir()
        bad.write_bytes(_corrupt(clean, ops))
        inputs = [str(bad)]
        if extra:  # a clean file beside the broken one must still ingest whole
            good = write_ioarchive(tmp / "in" / "good.csv", sample_rows(40)[30:])
            inputs.append(str(good))
        r = ts.ingest(inputs, tmp / "ws")
        assert r.records == r.stored + r.rejected + r.duplicate
        con = ts.Workspace(tmp / "ws").connect()
        assert con.execute("SELECT count(*) FROM posts").fetchone()[0] == r.stored
        assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] == r.rejected
        if extra:
            n_good = con.execute("SELECT count(*) FROM posts WHERE source_file LIKE '%good.csv'").fetchone()[0]
            assert n_good == 10


_PACKERS = {
    "gzip": __import__("gzip").compress,
    "bz2": __import__("bz2").compress,
    "xz": __import__("lzma").compress,
    "zstd": lambda b: __import__("zstandard").ZstdCompressor().compress(b),
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(codec=st.sampled_from(sorted(_PACKERS)), ops=edits, rows=st.integers(min_value=1, max_value=3000))
def test_row_equation_holds_on_corrupted_compressed_files(codec, ops, rows):
    """Cut, damaged or padded compressed streams (partial downloads, bit rot): every record that comes
    out is counted, nothing raises, and a clean file beside the broken one ingests whole."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        clean = write_ioarchive(tmp / "clean.csv", sample_rows(rows)).read_bytes()
        bad = tmp / "in" / "bad.csv.x"
        bad.parent.mkdir()
        bad.write_bytes(_corrupt(_PACKERS[codec](clean), ops))
        good = write_ioarchive(tmp / "in" / "good.csv", sample_rows(rows + 10)[rows:])
        r = ts.ingest([str(bad), str(good)], tmp / "ws")
        assert r.records == r.stored + r.rejected + r.duplicate
        con = ts.Workspace(tmp / "ws").connect()
        assert con.execute("SELECT count(*) FROM posts").fetchone()[0] == r.stored
        assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] == r.rejected
        assert con.execute("SELECT count(*) FROM posts WHERE source_file LIKE '%good.csv'").fetchone()[0] == 10


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    layout=st.lists(st.sampled_from(["ok", "ok", "ok", "multiline", "few", "many"]), min_size=1, max_size=40),
)
def test_record_numbers_survive_rejected_records(layout):
    """Posts and rejects carry the record's number as Python's csv module counts records, whatever
    mix of good, multi-line and malformed records precedes it."""
    import csv
    import io

    rows = sample_rows(len(layout))
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        records = list(csv.reader(io.StringIO(write_ioarchive(tmp / "x.csv", rows).read_text(), newline="")))
        header, body = records[0], records[1:]
        out = []
        for i, (kind, rec) in enumerate(zip(layout, body, strict=True)):
            if kind == "multiline":
                rec = [*rec[:4], f"line one of {i}\nline two", *rec[5:]]  # the text column
            elif kind == "few":
                rec = rec[:5]
            elif kind == "many":
                rec = [*rec, "extra", "fields"]
            out.append(rec)
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([header, *out])
        f = tmp / "in.csv"
        f.write_text(buf.getvalue())
        numbered = list(enumerate(csv.reader(io.StringIO(buf.getvalue(), newline="")), start=0))[1:]
        r = ts.ingest(str(f), tmp / "ws")
        assert r.records == r.stored + r.rejected + r.duplicate
        con = ts.Workspace(tmp / "ws").connect()
        got = dict(con.execute("SELECT post_id, source_line FROM posts").fetchall())
        assert got == {rec[0]: n for n, rec in numbered if len(rec) == len(header)}
        bad = [x[0] for x in con.execute("SELECT source_line FROM rejects ORDER BY 1").fetchall()]
        assert bad == [n for n, rec in numbered if len(rec) != len(header)]
