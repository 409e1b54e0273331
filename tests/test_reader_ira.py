"""The IRA reader on the real per-author files, checked against Python's csv module."""

from __future__ import annotations

import csv
import gzip
import re
from datetime import datetime
from pathlib import Path

import pytest
from helpers import typed_retweet

import trollscope as ts

pytestmark = pytest.mark.real_data


def _read(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _authors(shared: Path) -> dict[str, dict]:
    with open(shared / "ira-by-author" / "authors.csv", newline="") as fh:
        return {r["author_id"]: r for r in csv.DictReader(fh)}


def _some_files(shared: Path, n: int = 25) -> list[Path]:
    files = sorted((shared / "ira-by-author").glob("*/*.csv.gz"))
    return files[:: max(1, len(files) // n)][:n]


def test_subset_matches_csv_module(shared, tmp_path, ws_path):
    files = _some_files(shared)
    # copy into one folder with authors.csv, as a user would lay out a subset
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "authors.csv").write_bytes((shared / "ira-by-author" / "authors.csv").read_bytes())
    for f in files:
        (sub / f.name).write_bytes(f.read_bytes())
    r = ts.ingest(str(sub), ws_path)
    expected = {f.name.removesuffix(".csv.gz"): _read(f) for f in files}
    total = sum(len(v) for v in expected.values())
    assert r.records == total and r.records == r.stored + r.rejected + r.duplicate
    con = ts.Workspace(ws_path).connect()
    authors = _authors(shared)
    for author_id, rows in expected.items():
        n, first, n_rt, handle = con.execute(
            "SELECT count(*), min(created_at), count(*) FILTER (WHERE kind = 'repost'), any_value(handle) "
            "FROM posts WHERE account_id = ?",
            [author_id],
        ).fetchone()
        # no tweet ids here: a row repeating an earlier one's author, minute and text is a duplicate
        uniq = list({(x["publish_date"], x["content"]): x for x in reversed(rows)}.values())
        assert n == len(uniq)
        assert first == min(datetime.strptime(x["publish_date"], "%Y-%m-%d %H:%M:%S") for x in rows)
        # a repost is flagged by the data (retweet=1) or written as a manual `RT @handle:` retweet; a
        # quote (post_type Q, also retweet=1) is not one
        assert n_rt == sum(
            1 for x in uniq if x["post_type"] != "Q" and (x["retweet"] == "1" or re.match(r"RT @\w+:", x["content"]))
        )
        assert handle == authors[author_id]["author"]
        cat = con.execute(
            "SELECT labels['account_category'] FROM accounts WHERE account_id = ?", [author_id]
        ).fetchone()
        assert cat == (authors[author_id]["account_category"],)


def test_retweet_text_is_parsed(shared, ws_path):
    files = sorted((shared / "ira-by-author").glob("A/*.csv.gz"))[:60]
    ts.ingest([str(f) for f in files], ws_path)
    con = ts.Workspace(ws_path).connect()
    # `RT @handle:` and the original quoted by hand, `“@handle:` (helpers.typed_retweet)
    rows = [x for f in files for x in _read(f) if typed_retweet(x["content"])]
    assert rows, "sample has retweets"
    expected = {re.search(r"@(\w+):", x["content"]).group(1).lower() for x in rows}
    got = {
        x[0]
        for x in con.execute(
            "SELECT DISTINCT repost_of_handle FROM posts WHERE repost_of_handle IS NOT NULL"
        ).fetchall()
    }
    assert got == expected
    # the same retweet text from different personas gets one repost_of_id
    by_text: dict[str, set[str]] = {}
    for f in files:
        for x in _read(f):
            if x["content"].startswith("RT @"):
                by_text.setdefault(x["content"], set()).add(x["author_id"])
    shared_texts = [t for t, a in by_text.items() if len(a) > 1]
    assert shared_texts, "sample has a retweet shared by two personas"
    for t in shared_texts[:50]:
        ids = con.execute(
            "SELECT count(DISTINCT repost_of_id), count(DISTINCT account_id) FROM posts WHERE text = ?", [t]
        ).fetchone()
        assert ids == (1, len(by_text[t]))


@pytest.mark.slow
def test_whole_collection_every_row_accounted(shared, ws_path):
    files = sorted((shared / "ira-by-author").glob("*/*.csv.gz"))
    expected = 0
    for f in files:
        with gzip.open(f, "rt", encoding="utf-8", newline="") as fh:
            expected += sum(1 for _ in csv.reader(fh)) - 1
    r = ts.ingest(str(shared / "ira-by-author"), ws_path)
    assert r.records == expected
    assert r.records == r.stored + r.rejected + r.duplicate
    assert r.files == len(files) + 1  # + authors.csv, read as labels
    info = ts.info(ws_path)
    assert info["accounts"] == len(files)


def test_quotes_are_quotes_not_reposts(shared, ws_path):
    """post_type Q rows carry retweet=1 too; they are quotes (own text), counted as such by info."""
    files = sorted((shared / "ira-by-author").glob("A/*.csv.gz"))[:80]
    ts.ingest([str(f) for f in files], ws_path)
    rows = [x for f in files for x in _read(f)]
    uniq = {(x["author_id"], x["publish_date"], x["content"]): x for x in reversed(rows)}.values()
    quotes = sum(1 for x in uniq if x["post_type"] == "Q")
    reposts = sum(
        1 for x in uniq if x["post_type"] != "Q" and (x["retweet"] == "1" or re.match(r"RT @\w+:", x["content"]))
    )
    assert quotes > 0, "sample has quotes"
    kinds = ts.info(ws_path)["kinds"]
    assert kinds.get("quote", 0) == quotes
    assert kinds.get("repost", 0) == reposts
