"""Source quirks a first hour on real files turns up: bare carriage returns, account tables beside
posts, labels files that name the accounts."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from helpers import write_ioarchive

import trollscope as ts

HEADER = "id|user|created_at|text|lang\n"


def _psv(path: Path, records: list[tuple[str, str, str, str]]) -> Path:
    """Pipe-delimited posts as congress-2015-2018 lays them out: fields unquoted unless they hold a newline."""
    body = HEADER + "".join(f"{i}|{u}|{t}|{x}|en\n" for i, u, t, x in records)
    path.write_bytes(gzip.compress(body.encode()))
    return path


def _posts(ws: Path) -> dict[str, tuple[str, str, str]]:
    con = ts.Workspace(ws).connect()
    return {r[0]: r[1:] for r in con.execute("SELECT post_id, account_id, handle, text FROM posts").fetchall()}


RECORDS = [
    ("1", "101", "Fri Apr 29 15:09:48 +0000 2016", "a plain tweet"),
    ("2", "101", "Fri Apr 29 15:10:48 +0000 2016", "a bare\rcarriage return"),
    ("3", "202", "Fri Apr 29 15:11:48 +0000 2016", '"a quoted\nnewline"'),
    ("4", "202", "Fri Apr 29 15:12:48 +0000 2016", "two\rbare\rreturns"),
]


def test_bare_carriage_return_keeps_the_record_whole(tmp_path, ws_path):
    f = _psv(tmp_path / "tweets.psv.gz", RECORDS)
    r = ts.ingest(str(f), ws_path)
    assert (r.records, r.stored, r.rejected) == (4, 4, 0)
    posts = _posts(ws_path)
    assert posts["2"][2] == "a bare\rcarriage return"
    assert posts["4"][2] == "two\rbare\rreturns"
    assert posts["3"][2] == "a quoted\nnewline"
    assert any("3 bare carriage returns" in n for n in r.notes)
    lines = dict(ts.Workspace(ws_path).connect().execute("SELECT post_id, source_line FROM posts").fetchall())
    assert lines == {"1": 1, "2": 2, "3": 3, "4": 4}


def test_account_table_beside_posts_is_not_read_as_posts(tmp_path, ws_path):
    d = tmp_path / "data"
    d.mkdir()
    _psv(d / "tweets.psv.gz", RECORDS[:1])
    (d / "accounts.csv").write_text("user_id,handle,party\n101,RepA,D\n202,SenB,R\n")
    r = ts.ingest(str(d), ws_path)
    assert (r.records, r.stored, r.rejected) == (1, 1, 0)
    assert any("accounts.csv" in n and "--labels" in n for n in r.notes)


def test_labels_file_mapping_ids_to_handles_names_the_accounts(tmp_path, ws_path):
    f = _psv(tmp_path / "tweets.psv.gz", RECORDS)
    labels = tmp_path / "accounts.csv"
    labels.write_text("user_id,handle,party\n101,RepA,D\n202,@SenB,R\n")
    ts.ingest(str(f), ws_path, options=ts.ReadOptions(labels=str(labels)))
    assert {k: v[1] for k, v in _posts(ws_path).items()} == {"1": "RepA", "2": "RepA", "3": "SenB", "4": "SenB"}
    con = ts.Workspace(ws_path).connect()
    acc = {r[0]: r[1:] for r in con.execute("SELECT account_id, handle, labels['party'] FROM accounts").fetchall()}
    assert acc == {"101": ("RepA", "D"), "202": ("SenB", "R")}


def test_labels_given_later_rename_stored_posts(tmp_path, ws_path):
    f = _psv(tmp_path / "tweets.psv.gz", RECORDS)
    ts.ingest(str(f), ws_path)
    assert {v[1] for v in _posts(ws_path).values()} == {"101", "202"}
    labels = tmp_path / "accounts.csv"
    labels.write_text("user_id,handle,party\n101,RepA,D\n")
    r = ts.ingest(str(f), ws_path, options=ts.ReadOptions(labels=str(labels)))
    assert r.stored == 0 and r.duplicate == 4
    assert {k: v[1] for k, v in _posts(ws_path).items()} == {"1": "RepA", "2": "RepA", "3": "202", "4": "202"}
    assert ts.info(ws_path)["posts"] == 4


@pytest.mark.real_data
def test_congress_reads_every_record_and_names_its_accounts(shared, ws_path):
    d = shared / "congress-2015-2018"
    with gzip.open(d / "tweets.psv.gz", "rb") as fh:
        body = fh.read()
    # a record starts a line with `id|user|` (README); the header is not one
    expected = sum(1 for line in body.split(b"\n")[1:] if line[:1].isdigit() and line.count(b"|") >= 2
                   and line.split(b"|")[0].isdigit() and line.split(b"|")[1].isdigit())  # fmt: skip
    assert expected == 150_457
    r = ts.ingest(str(d), ws_path, options=ts.ReadOptions(labels=str(d / "accounts.csv")))
    assert (r.records, r.stored, r.rejected) == (expected, expected, 0)
    con = ts.Workspace(ws_path).connect()
    handles = dict(line.split(",")[:2] for line in (d / "accounts.csv").read_text().splitlines()[1:])
    got = dict(con.execute("SELECT account_id, any_value(handle) FROM posts GROUP BY 1").fetchall())
    assert got == {k: v for k, v in handles.items() if k in got} and len(got) == 245


def test_archive_quotes_replies_and_retweets_of_quotes_get_their_kind(tmp_path, ws_path):
    """The audit of the other readers for the IRA's error: a quote (own text, a quoted id) is a quote;
    a retweet of a quote carries the quoted id too but is a repost; a reply is a reply."""
    base = {"userid": "1", "user_screen_name": "a", "tweet_time": "2016-03-01 10:00", "is_retweet": "False"}
    rows = [
        {**base, "tweetid": "1", "tweet_text": "an original"},
        {**base, "tweetid": "2", "tweet_text": "my take on it", "quoted_tweet_tweetid": "1"},
        {**base, "tweetid": "3", "tweet_text": "RT @a: my take on it", "is_retweet": "True",
         "retweet_tweetid": "2", "retweet_userid": "1", "quoted_tweet_tweetid": "1"},
        {**base, "tweetid": "4", "tweet_text": "@a yes", "in_reply_to_tweetid": "1", "in_reply_to_userid": "1"},
    ]  # fmt: skip
    write_ioarchive(tmp_path / "a.csv", rows)
    ts.ingest(str(tmp_path / "a.csv"), ws_path)
    con = ts.Workspace(ws_path).connect()
    kinds = dict(con.execute("SELECT post_id, kind FROM posts").fetchall())
    assert kinds == {"1": "original", "2": "quote", "3": "repost", "4": "reply"}
