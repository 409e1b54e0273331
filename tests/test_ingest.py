"""Ingest on small files the tests write: row accounting, derivations, bad input, compression."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
import shutil
import zlib
from pathlib import Path

import pytest
import zstandard
from helpers import IOARCHIVE_HEADER, sample_rows, write_ioarchive

import trollscope as ts


def _balanced(r: ts.IngestResult) -> bool:
    return r.records == r.stored + r.rejected + r.duplicate


def _posts(ws: Path, sql: str = "SELECT * FROM posts ORDER BY post_id"):
    con = ts.Workspace(ws).connect()
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_ioarchive_fields_and_derivations(tmp_path, ws_path):
    rows = sample_rows(20)
    f = write_ioarchive(tmp_path / "a.csv", rows)
    r = ts.ingest(str(f), ws_path)
    assert (r.records, r.stored, r.rejected, r.duplicate) == (20, 20, 0, 0)
    got = {
        p[0]: p
        for p in _posts(
            ws_path,
            "SELECT post_id, account_id, handle, kind, repost_of_id, repost_of_handle, hashtags, mentions, urls, "
            "source_line, created_at::VARCHAR FROM posts",
        )
    }
    for line, row in enumerate(rows, start=1):
        p = got[row["tweetid"]]
        assert p[1] == row["userid"] and p[2] == row["user_screen_name"]
        assert p[9] == line
        assert p[10].startswith(row["tweet_time"])
        if row["is_retweet"] == "True":
            assert p[3] == "repost" and p[4] == row["retweet_tweetid"]
            assert p[5] == row["tweet_text"].split(":")[0][4:].lower()
        else:
            assert p[3] == "original" and p[4] is None
            assert p[6] == [row["hashtags"].strip("[]")]
            assert p[8] == [row["urls"].strip("[]")]
        mentioned = [w[1:].lower() for w in row["tweet_text"].split() if w.startswith("@")]
        assert p[7] == [m.rstrip(":") for m in mentioned]


def test_reingest_is_idempotent_and_appends(tmp_path, ws_path):
    f1 = write_ioarchive(tmp_path / "a.csv", sample_rows(20))
    more = sample_rows(30)[20:]
    f2 = write_ioarchive(tmp_path / "b.csv", more)
    ts.ingest(str(f1), ws_path)
    again = ts.ingest(str(f1), ws_path)
    assert (again.stored, again.duplicate, again.rejected) == (0, 20, 0)
    both = ts.ingest([str(f1), str(f2)], ws_path)
    assert (both.stored, both.duplicate) == (10, 20) and _balanced(both)
    assert len(_posts(ws_path)) == 30
    info = ts.info(ws_path)
    assert info["ingests"]["runs"] == 3 and info["posts"] == 30


def test_duplicate_rows_within_a_run(tmp_path, ws_path):
    rows = sample_rows(6)
    f = write_ioarchive(tmp_path / "a.csv", rows + rows[:2])
    r = ts.ingest(str(f), ws_path)
    assert (r.records, r.stored, r.duplicate) == (8, 6, 2)


def test_bad_rows_are_rejected_with_file_and_line(tmp_path, ws_path):
    rows = sample_rows(10)
    rows[3]["tweet_time"] = "not a date"
    rows[6]["userid"] = ""
    f = write_ioarchive(tmp_path / "a.csv", rows)
    r = ts.ingest(str(f), ws_path)
    assert (r.records, r.stored, r.rejected) == (10, 8, 2) and _balanced(r)
    rej = _posts(ws_path, "SELECT source_file, source_line, reason, raw FROM rejects ORDER BY source_line")
    assert [x[1] for x in rej] == [4, 7]
    assert rej[0][0] == str(f.resolve()) and "bad date" in rej[0][2] and "not a date" in rej[0][3]
    assert "userid" in rej[1][2]


def test_broken_csv_unclosed_quote_and_column_counts(tmp_path, ws_path):
    f = write_ioarchive(tmp_path / "a.csv", sample_rows(6))
    lines = f.read_text().splitlines()
    lines.insert(3, "999,1,x,2016-01-01 00:00,too,few")  # too few columns
    lines.append('1234,5,y,2016-01-01 00:00,"unclosed quote,False,,,,,,[],[],1,en')
    lines.append("1235,5,y,2016-01-01 00:01,after the quote,False,,,,,,[],[],1,en")
    f.write_text("\n".join(lines) + "\n")
    other = write_ioarchive(tmp_path / "b.csv", sample_rows(12)[6:])
    r = ts.ingest([str(f), str(other)], ws_path)
    assert _balanced(r)
    assert r.stored == 12  # every good row of both files
    rej = _posts(ws_path, "SELECT source_line, reason FROM rejects ORDER BY source_line")
    # record numbers count from the first record after the header (the list's index, header at 0)
    assert rej[0][0] == lines.index("999,1,x,2016-01-01 00:00,too,few") and rej[0][1].startswith("too few fields: ")
    assert any("unclosed quote" in x[1] for x in rej)


def test_records_keep_their_numbers_past_rejected_records(tmp_path, ws_path):
    """Posts and rejects carry the record's number in its file, counted as Python's csv module counts
    records (a quoted newline stays inside its record), however many records before it were rejected."""
    rows = sample_rows(8)
    rows[1]["tweet_text"] = "two\nlines"
    rows[4]["tweet_text"] = "three\nphysical\nlines"
    records = list(csv.reader(io.StringIO(write_ioarchive(tmp_path / "a.csv", rows).read_text(), newline="")))
    body = records[1:]
    body.insert(2, ["999", "1", "x", "2016-01-01 00:00", "too", "few"])  # too few columns
    body.insert(6, ["998"] + ["y"] * 20)  # too many
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([records[0], *body])
    f = tmp_path / "a.csv"
    f.write_text(out.getvalue())
    expected = {b[0]: n for n, b in enumerate(csv.reader(io.StringIO(out.getvalue(), newline="")), start=0) if n}
    r = ts.ingest(str(f), ws_path)
    assert (r.stored, r.rejected) == (8, 2) and _balanced(r)
    got = dict(_posts(ws_path, "SELECT post_id, source_line FROM posts"))
    assert got == {k: v for k, v in expected.items() if k not in ("999", "998")}
    rejected = [x[0] for x in _posts(ws_path, "SELECT source_line FROM rejects ORDER BY 1")]
    assert rejected == [expected["999"], expected["998"]]


def test_wrong_encoding_is_rejected_then_read_with_encoding(tmp_path):
    rows = sample_rows(5)
    rows[2]["tweet_text"] = "café crème"
    f = tmp_path / "latin.csv"
    write_ioarchive(f, rows)
    f.write_bytes(f.read_text(encoding="utf-8").encode("latin-1"))
    r = ts.ingest(str(f), tmp_path / "ws1")
    assert (r.stored, r.rejected) == (4, 1) and _balanced(r)
    reason = _posts(tmp_path / "ws1", "SELECT reason FROM rejects")[0][0]
    assert "latin-1" in reason
    r2 = ts.ingest(str(f), tmp_path / "ws2", options=ts.ReadOptions(encoding="latin-1"))
    assert (r2.stored, r2.rejected) == (5, 0)
    assert _posts(tmp_path / "ws2", "SELECT count(*) FROM posts WHERE text = 'café crème'")[0][0] == 1


def test_empty_and_unknown_files_are_reported_not_fatal(tmp_path, ws_path):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "notes.txt").write_text("these are my notes, not tweets\n")
    write_ioarchive(tmp_path / "good.csv", sample_rows(5))
    r = ts.ingest(str(tmp_path), ws_path)
    assert r.stored == 5 and _balanced(r)
    assert any("empty" in n and "empty.csv" in n for n in r.notes)
    note = next(n for n in r.notes if "notes.txt" in n)
    assert "unknown format" in note or "--map" in note  # says what to try
    assert r.rejected == 1


@pytest.mark.parametrize(
    "suffix,compress",
    [
        (".gz", gzip.compress),
        (".bz2", bz2.compress),
        (".zst", lambda b: zstandard.ZstdCompressor().compress(b)),
        (".xz", lzma.compress),
        ("", gzip.compress),  # gzip without its extension: found by magic bytes
    ],
)
def test_compressed_inputs(tmp_path, ws_path, suffix, compress):
    plain = write_ioarchive(tmp_path / "a.csv", sample_rows(12))
    packed = tmp_path / f"packed.csv{suffix}"
    packed.write_bytes(compress(plain.read_bytes()))
    plain.unlink()
    r = ts.ingest(str(packed), ws_path)
    assert (r.stored, r.rejected) == (12, 0)
    files = {x[0] for x in _posts(ws_path, "SELECT DISTINCT source_file FROM posts")}
    assert files == {str(packed.resolve())}  # the user's file, not a staging copy


def test_gzip_of_several_members_reads_every_member(tmp_path, ws_path):
    # `cat a.gz b.gz > all.gz` is valid gzip; a reader that stops after the first member loses rows.
    rows = sample_rows(40)
    data = write_ioarchive(tmp_path / "a.csv", rows).read_bytes()
    cut = data.index(b"\n", len(data) // 2) + 1
    packed = tmp_path / "all.csv.gz"
    packed.write_bytes(gzip.compress(data[:cut]) + gzip.compress(data[cut:]))
    expected = gzip.decompress(packed.read_bytes()).decode().count("\n") - 1  # Python reads every member
    r = ts.ingest(str(packed), ws_path)
    assert (r.stored, r.rejected) == (expected, 0) == (len(rows), 0)


def test_notes_name_the_users_file_not_a_staging_copy(tmp_path, ws_path):
    # bzip2 is decompressed into a staging copy before it is read; the generic reader's notes
    # (which columns it mapped) must still name the file the user gave.
    text = "id,screen_name,created_at,text\n" + "".join(
        f"{i},user{i % 3},2016-03-01 10:{i:02d}:00,post {i}\n" for i in range(20)
    )
    packed = tmp_path / "posts.csv.bz2"
    packed.write_bytes(bz2.compress(text.encode()))
    r = ts.ingest(str(packed), ws_path)
    assert r.stored == 20 and r.notes
    assert all(str(packed.resolve()) in n and ".staging" not in n for n in r.notes)


def test_directories_and_globs(tmp_path, ws_path):
    for i in range(3):
        write_ioarchive(tmp_path / "d" / f"sub{i}" / f"f{i}.csv", sample_rows(10 * (i + 1))[10 * i :])
    r = ts.ingest(str(tmp_path / "d"), ws_path)
    assert (r.files, r.stored) == (3, 30)
    r2 = ts.ingest(str(tmp_path / "d" / "*" / "f1.csv"), tmp_path / "ws2")
    assert (r2.files, r2.stored) == (1, 10)
    with pytest.raises(ts.sources.InputError, match="nothing-here"):
        ts.ingest(str(tmp_path / "nothing-here*"), ws_path)


def test_a_file_named_twice_or_through_a_link_is_read_once(tmp_path):
    from trollscope import sources

    d = tmp_path / "d"
    write_ioarchive(d / "a.csv", sample_rows(3))
    write_ioarchive(d / "sub" / "b.csv", sample_rows(3))
    (d / "link.csv").symlink_to(d / "sub" / "b.csv")
    (tmp_path / "linked-dir").symlink_to(d)
    got = sources.resolve([str(tmp_path / "linked-dir"), str(d / "a.csv"), str(d / "*" / "b.csv")])
    assert got == [(d / "a.csv").resolve(), (d / "sub" / "b.csv").resolve()]
    assert all(p == p.resolve() for p in got)


def test_workspace_inside_the_input_is_not_read(tmp_path):
    write_ioarchive(tmp_path / "good.csv", sample_rows(5))
    ts.ingest(str(tmp_path), tmp_path / "ws")
    again = ts.ingest(str(tmp_path), tmp_path / "ws")
    assert (again.files, again.duplicate, again.rejected) == (1, 5, 0)


def test_many_files_in_small_batches(tmp_path, ws_path):
    rows = sample_rows(200)
    for i in range(40):
        write_ioarchive(tmp_path / "many" / f"f{i:02d}.csv", rows[5 * i : 5 * i + 5])
    r = ts.ingest(str(tmp_path / "many"), ws_path, batch_bytes=2000)  # forces many batches
    assert (r.files, r.stored) == (40, 200)
    assert len({x[0] for x in _posts(ws_path, "SELECT post_id FROM posts")}) == 200


def test_forced_format_that_does_not_fit(tmp_path, ws_path):
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2\n")
    r = ts.ingest(str(f), ws_path, format="ioarchive")
    assert r.stored == 0 and r.rejected == 1 and "not an information-operations archive" in r.notes[0]


def test_header_only_and_original_ira_layout(tmp_path, ws_path):
    write_ioarchive(tmp_path / "h.csv", [])
    ira = tmp_path / "IRAhandle_tweets_1.csv"
    ira.write_text(
        "external_author_id,author,content,region,language,publish_date,harvested_date,following,followers,"
        "updates,post_type,account_type,retweet,account_category,new_june_2018,alt_external_id,tweet_id\n"
        '906000000000000000,10_GOP,"RT @foo: hello, world #MAGA",Unknown,English,10/1/2017 19:58,10/1/2017 19:59,'
        "1052,9636,253,RETWEET,Right,1,RightTroll,0,905874659358453760,914580356430536707\n"
        "906000000000000000,10_GOP,We stand,Unknown,English,10/1/2017 22:43,10/1/2017 22:43,1054,9637,254,,"
        "Right,0,RightTroll,0,905874659358453760,914622022486831104\n"
    )
    r = ts.ingest([str(tmp_path / "h.csv"), str(ira)], ws_path)
    assert (r.records, r.stored) == (2, 2) and r.readers == {"ioarchive": 1, "ira": 1}
    got = _posts(
        ws_path,
        "SELECT post_id, kind, repost_of_handle, hashtags, created_at::VARCHAR FROM posts ORDER BY post_id",
    )
    assert got[0] == ("914580356430536707", "repost", "foo", ["maga"], "2017-10-01 19:58:00")
    assert got[1][1] == "original"
    labels = _posts(ws_path, "SELECT labels['account_category'] FROM accounts")
    assert labels == [("RightTroll",)]


def test_header_matches_helper():
    # the helper writes exactly the columns the reader's detect() needs
    from trollscope.readers import ioarchive

    assert ioarchive.detect(",".join(IOARCHIVE_HEADER) + "\n", Path("x.csv"))


def test_workspace_copy_is_readable_elsewhere(tmp_path, ws_path):
    write_ioarchive(tmp_path / "a.csv", sample_rows(8))
    ts.ingest(str(tmp_path / "a.csv"), ws_path)
    moved = tmp_path / "moved"
    shutil.copytree(ws_path, moved)
    assert ts.info(moved)["posts"] == 8  # manifest paths are relative


def _damaged(path, new: bytes, sep: bytes = b"\r\n") -> list[bytes]:
    """An archive file whose fourth line has ``post number`` replaced by ``new``, with CRLF line ends
    for the first five lines and LF after: mixed line ends, as merged exports have."""
    f = write_ioarchive(path, sample_rows(8))
    lines = f.read_bytes().split(sep)
    lines[3] = lines[3].replace(b"post number", new, 1)
    f.write_bytes(b"\r\n".join(lines[:5]) + b"\n" + b"\n".join(lines[5:]))
    return lines


def test_bare_carriage_return_in_a_record_keeps_it_whole(tmp_path, ws_path):
    # a bare CR inside one record (as in the real congress file) makes both CSV parsers split it
    lines = _damaged(tmp_path / "a.csv", b"post\rnumber")
    r = ts.ingest(str(tmp_path / "a.csv"), ws_path)
    # the CR is kept inside its record (masked while parsing), so nothing is split or rejected
    assert _balanced(r) and (r.stored, r.rejected) == (8, 0)
    assert any("1 bare carriage returns inside records kept" in n for n in r.notes)
    texts = [t for (t,) in _posts(ws_path, "SELECT text FROM posts") if "\r" in t]
    assert texts == [lines[3].decode().split(",")[4]]


def test_file_the_strict_parser_refuses_is_read_leniently(tmp_path, ws_path):
    # a bare CR that cannot be masked: the file already holds the mask character
    _damaged(tmp_path / "a.csv", "post\rnumber \ue000".encode())
    r = ts.ingest(str(tmp_path / "a.csv"), ws_path)
    assert _balanced(r) and r.stored >= 6
    assert any("read it leniently" in n for n in r.notes)


def test_simulated_output_folder_ingests_without_rejects(tmp_path, ws_path):
    from trollscope.simulate import simulate

    sim = simulate(posts=20_000, seed=3, out=tmp_path / "sim")
    r = ts.ingest(str(tmp_path / "sim"), ws_path)
    assert (r.records, r.stored, r.rejected) == (sim.posts, sim.posts, 0)
    assert sum("holds no posts" in n for n in r.notes) == 2  # truth.csv and simulation.json


def test_labels_file_joins_and_merges_key_by_key(tmp_path, ws_path):
    f = write_ioarchive(tmp_path / "a.csv", sample_rows(8))
    (tmp_path / "by_id.csv").write_text("userid,party\n10,D\n11,R\n999,X\n")
    r = ts.ingest(str(f), ws_path, options=ts.ReadOptions(labels=str(tmp_path / "by_id.csv")))
    assert any("joined to 2 accounts" in n and "1 of its 3 rows" in n for n in r.notes)
    (tmp_path / "by_handle.csv").write_text("handle,group\n@USER0,alpha\nuser2,beta\n")
    ts.ingest(str(f), ws_path, options=ts.ReadOptions(labels=str(tmp_path / "by_handle.csv")))
    got = dict(_posts(ws_path, "SELECT handle, labels FROM accounts"))
    assert got["user0"] == {"group": "alpha", "party": "D"}
    assert got["user1"] == {"party": "R"} and got["user2"] == {"group": "beta"} and got["user3"] is None
    (tmp_path / "bad.csv").write_text("colour,size\nred,1\n")
    with pytest.raises(ts.readers.ReaderError, match="no account column"):
        ts.ingest(str(f), ws_path, options=ts.ReadOptions(labels=str(tmp_path / "bad.csv")))


def test_a_labels_file_alone_joins_its_labels_and_is_not_a_failure(tmp_path, ws_path):
    f = write_ioarchive(tmp_path / "a.csv", sample_rows(3))
    ts.ingest(str(f), ws_path)
    labels = tmp_path / "labels.csv"
    labels.write_text("userid,party\n10,D\n12,R\n")
    r = ts.ingest(str(labels), ws_path, options=ts.ReadOptions(labels=str(labels)))
    assert (r.files, r.records, r.stored, r.labelled, r.failure) == (0, 0, 0, 2, None)
    assert dict(_posts(ws_path, "SELECT account_id, labels['party'] FROM accounts")) == {
        "10": "D",
        "11": None,
        "12": "R",
    }
    (tmp_path / "none.csv").write_text("userid,party\n99,X\n")
    r = ts.ingest(str(tmp_path / "none.csv"), ws_path, options=ts.ReadOptions(labels=str(tmp_path / "none.csv")))
    assert r.labelled == 0 and r.failure.startswith("nothing stored")  # labels that name no account: still one


@pytest.mark.parametrize("magic", [b"\x1f\x8b", b"BZh", b"\x28\xb5\x2f\xfd", b"\xfd7zXZ\x00"])
def test_broken_compressed_file_is_rejected_and_the_rest_ingests(tmp_path, ws_path, magic):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "broken.csv").write_bytes(magic + b"not really compressed at all, just junk\n" * 3)
    write_ioarchive(tmp_path / "in" / "good.csv", sample_rows(6))
    r = ts.ingest(str(tmp_path / "in"), ws_path)
    assert r.stored == 6 and r.rejected == 1 and _balanced(r)
    assert any("broken.csv" in n for n in r.notes)


_PACK = {
    "gzip": gzip.compress,
    "bz2": bz2.compress,
    "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
    "xz": lzma.compress,
}


def _readable_prefix(packed: bytes, codec: str) -> bytes:
    """What the standard decompressors give of a cut stream before they run out."""
    d = {
        "gzip": lambda: zlib.decompressobj(31),
        "bz2": bz2.BZ2Decompressor,
        "xz": lzma.LZMADecompressor,
        "zstd": lambda: zstandard.ZstdDecompressor().decompressobj(),
    }[codec]()
    out = b""
    for i in range(0, len(packed), 4096):  # small steps: each gives what it can
        out += d.decompress(packed[i : i + 4096])
    return out


@pytest.mark.parametrize("codec", ["gzip", "gzip streamed", "bz2", "zstd", "xz"])
@pytest.mark.parametrize("keep", [0.6, 0.02])  # a partial download; and one cut inside the format's head
def test_a_compressed_file_cut_short_keeps_the_records_before_the_break(tmp_path, ws_path, monkeypatch, codec, keep):
    if codec == "gzip streamed":  # small gzip files are inflated whole, large ones streamed
        monkeypatch.setattr("trollscope.readers._scan._BIG_FILE", 0)
        codec = "gzip"
    rows = sample_rows(20_000)  # over two of bzip2's 900 KB blocks: it gives nothing before a block ends
    data = write_ioarchive(tmp_path / "a.csv", rows).read_bytes()
    (tmp_path / "a.csv").unlink()
    packed = _PACK[codec](data)
    (tmp_path / "in").mkdir()
    cut = tmp_path / "in" / "cut.csv.x"
    cut.write_bytes(packed[: int(len(packed) * keep)])
    write_ioarchive(tmp_path / "in" / "good.csv", sample_rows(4)[:2])
    prefix = _readable_prefix(cut.read_bytes(), codec)
    complete = prefix[: prefix.rfind(b"\n") + 1].count(b"\n") - 1  # whole records after the header
    r = ts.ingest(str(tmp_path / "in"), ws_path)
    if complete <= 0:  # bzip2 and zstd give nothing before a block ends: the file is one rejected record
        assert codec in ("bz2", "zstd") and keep < 0.5
        assert (r.stored, r.rejected, r.duplicate) == (2, 1, 0) and _balanced(r)
        assert any("cut.csv.x" in n and "cannot be" in n for n in r.notes)
        return
    assert complete < len(rows)  # the cut leaves something to save and something lost
    assert _balanced(r) and r.rejected == 1 and r.duplicate == 2  # good.csv repeats the first two records
    assert r.stored == complete
    stored = [
        x[0] for x in _posts(ws_path, f"SELECT post_id FROM posts WHERE source_file = '{cut}' ORDER BY source_line")
    ]
    assert stored == [row["tweetid"] for row in rows[:complete]]
    (line, offset, reason, raw) = _posts(ws_path, "SELECT source_line, byte_offset, reason, raw FROM rejects")[0]
    assert reason.startswith("broken compressed stream") and "partial download" in reason
    assert (line, offset) == (complete + 1, prefix.rfind(b"\n") + 1)
    assert raw == prefix[prefix.rfind(b"\n") + 1 :].decode()[: len(raw)] and r.reject_reasons == {
        "broken compressed stream": 1
    }


@pytest.mark.parametrize("streamed", [False, True])  # small files are inflated whole, large ones streamed
@pytest.mark.parametrize("damage", ["bytes", "checksum"])
def test_a_damaged_gzip_stream_keeps_the_records_before_the_damage(tmp_path, ws_path, monkeypatch, streamed, damage):
    if streamed:
        monkeypatch.setattr("trollscope.readers._scan._BIG_FILE", 0)
    rows = sample_rows(4000)
    packed = bytearray(gzip.compress(write_ioarchive(tmp_path / "a.csv", rows).read_bytes()))
    if damage == "bytes":
        packed[len(packed) // 2 : len(packed) // 2 + 64] = b"\xff" * 64
    else:  # the data intact, its CRC-32 (8 bytes from the end) wrong: DuckDB's own scan reads it quietly
        packed[-8] ^= 0xFF
    f = tmp_path / "damaged.csv.gz"
    f.write_bytes(bytes(packed))
    r = ts.ingest(str(f), ws_path)
    # gzip's checksum fails only at the end: garbled records are rejected one by one (or, parsing, may
    # look whole), and the file's break is reported with a warning.
    assert _balanced(r) and r.reject_reasons.pop("broken compressed stream") == 1
    if damage == "bytes":
        assert 0 < r.stored < len(rows)
    else:  # all but the last step of output before the failed check (8 KB: under 100 of these records)
        assert len(rows) - 100 < r.stored < len(rows) and r.rejected == 1
    (reason,) = _posts(ws_path, "SELECT reason FROM rejects WHERE reason LIKE 'broken%'")[0]
    assert "gzip" in reason and "garbled" in reason


def test_an_empty_directory_is_an_error_naming_it(tmp_path, ws_path):
    (tmp_path / "nothing").mkdir()
    with pytest.raises(ts.sources.InputError, match="nothing: the directory holds no files"):
        ts.ingest(str(tmp_path / "nothing"), ws_path)


@pytest.mark.parametrize("packing", ["plain", "gzip", "gzip members"])
def test_head_reads_more_only_when_the_start_needs_it(tmp_path, packing):
    from trollscope import sources

    def write(path: Path, text: str) -> None:
        data = text.encode()
        if packing == "gzip":
            data = gzip.compress(data)
        elif packing == "gzip members":  # a 100-byte first member, then the rest
            data = gzip.compress(data[:100]) + gzip.compress(data[100:])
        path.write_bytes(data)

    body = "".join(f"{i},some text {i}\n" for i in range(20_000))
    short, wide, jsonl = tmp_path / "short.csv", tmp_path / "wide.csv", tmp_path / "t.jsonl"
    write(short, "id,text\n" + body)
    wide_header = ",".join(f"column_{i}" for i in range(2_000))  # longer than the short read
    write(wide, wide_header + "\n" + body)
    lines = "".join(f'{{"id": {i}, "text": "x"}}\n' for i in range(20_000))
    write(jsonl, lines)
    assert sources.head(short) == ("id,text\n" + body)[: sources.SHORT_HEAD_BYTES]
    assert sources.head(wide).split("\n", 1)[0] == wide_header
    assert sources.head(jsonl) == lines[: sources.HEAD_BYTES]


def test_repost_key_of_bare_text_retweets(tmp_path, ws_path):
    """A retweet without the original's id is keyed by 'rt:' + md5 of the first 100 characters of its
    text without the 'RT @handle: ' prefix, trimmed of space separators and lower-cased."""
    import hashlib
    import unicodedata

    def strip_zs(s: str) -> str:
        i, j = 0, len(s)
        while i < j and unicodedata.category(s[i]) == "Zs":
            i += 1
        while j > i and unicodedata.category(s[j - 1]) == "Zs":
            j -= 1
        return s[i:j]

    bodies = [
        "   Leading spaces and trailing NBSP\u00a0\u00a0",
        "x" * 99 + " and the hundredth character is a space",
        "Short",
        "Ends with a space ",
        "Y" * 150 + "   ",
        "\u2003em space first, " + "z" * 120,
    ]
    texts = [f"RT @bob: {b}" for b in bodies] + bodies  # with and without the prefix
    rows = [
        {"tweetid": str(i), "userid": "7", "user_screen_name": "amy", "tweet_time": f"2016-03-01 10:{i:02d}",
         "tweet_text": t, "is_retweet": "True"}
        for i, t in enumerate(texts)
    ]  # fmt: skip
    ts.ingest(str(write_ioarchive(tmp_path / "rt.csv", rows)), ws_path)
    got = dict(_posts(ws_path, "SELECT post_id, repost_of_id FROM posts"))
    for i, t in enumerate(texts):
        body = t[len("RT @bob: ") :] if t.startswith("RT @") else t
        expected = "rt:" + hashlib.md5(strip_zs(body)[:100].lower().encode()).hexdigest()
        assert got[str(i)] == expected, t
