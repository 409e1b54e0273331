"""Property tests, one per platform reader: whatever mix of posts, repeated posts, broken records
and events that are not posts a file holds, the reader counts exactly the records it should
(computed here from the mix, not from the reader), stores each distinct post once, and keeps the
row equation. Plus fixtures written from the formats' documentation: CrowdTangle, encodings,
files that are not data, workspaces from before platforms."""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trollscope as ts
from trollscope.readers import ReaderError

T0 = 1_600_000_000
# (kind, id): a post, a post repeated with the same id, a record that cannot be read, an event that is not a post
MIX = st.lists(st.tuples(st.sampled_from(["post", "again", "broken", "other"]), st.integers(0, 12)), max_size=20)


def telethon(kind: str, i: int) -> str:
    if kind == "broken":
        return '{"_": "Message", "id": ' + str(i)  # cut off
    if kind == "other":
        return json.dumps({"_": "MessageService", "id": 900 + i, "peer_id": {"_": "PeerChannel", "channel_id": 7}})
    return json.dumps({
        "_": "Message", "id": i, "peer_id": {"_": "PeerChannel", "channel_id": 7}, "date": f"2024-01-25 16:{i % 60:02d}:00",
        "message": f"post {i} https://x.example/{i}", "from_id": {"_": "PeerUser", "user_id": 100 + i % 3},
        "fwd_from": None, "reply_to": None, "entities": [],
    })  # fmt: skip


def reddit(kind: str, i: int) -> str:
    if kind == "broken":
        return '{"id": "c' + str(i) + '", "body": "cut'
    if kind == "other":  # a line of another kind: valid JSON, no created_utc, so a reject
        return json.dumps({"id": f"c{i}", "subreddit": "x", "author": "a", "body": "no time"})
    return json.dumps({
        "id": f"c{i}", "author": "[deleted]" if i % 4 == 0 else f"user{i % 3}", "subreddit": "news",
        "created_utc": T0 + i, "body": f"comment {i}", "link_id": "t3_a", "parent_id": "t3_a",
    })  # fmt: skip


def bluesky(kind: str, i: int) -> str:
    if kind == "broken":
        return '{"did": "did:plc:x", "time_us": 1, "kind": "commit", "commit": {'
    if kind == "other":
        return json.dumps({"did": f"did:plc:u{i}", "time_us": T0 * 10**6, "kind": "commit", "commit": {
            "operation": "create", "collection": "app.bsky.feed.like", "rkey": f"l{i}",
            "record": {"subject": {"uri": "at://did:plc:z/app.bsky.feed.post/1"}}}})  # fmt: skip
    return json.dumps({"did": f"did:plc:u{i % 3}", "time_us": (T0 + i) * 10**6, "kind": "commit", "commit": {
        "operation": "create", "collection": "app.bsky.feed.post", "rkey": f"r{i}",
        "record": {"$type": "app.bsky.feed.post", "createdAt": "2024-07-04T14:38:06.240Z", "text": f"hi {i}"}}})  # fmt: skip


def mastodon(kind: str, i: int) -> str:
    if kind == "broken":
        return '{"id": "' + str(i) + '", "content": "<p>'
    if kind == "other":  # a status without a date: a reject
        return json.dumps(
            {"id": str(i), "content": "<p>x</p>", "account": {"acct": "a", "url": "https://m.example/@a"}}
        )
    return json.dumps({
        "id": str(i), "created_at": f"2024-07-30T18:{i % 60:02d}:02.000Z", "content": f"<p>toot {i} &amp; more</p>",
        "account": {"acct": f"u{i % 3}", "url": f"https://m.example/@u{i % 3}"}, "tags": [], "mentions": [],
        "in_reply_to_id": None, "reblog": None,
    })  # fmt: skip


# For these the expected records: "other" lines are rejects (valid JSON, not a readable post) or noted
# non-posts (Telethon service messages, Bluesky likes).
LINE_FORMATS: dict[str, tuple[Callable[[str, int], str], bool]] = {
    "telethon": (telethon, False),
    "reddit": (reddit, True),
    "bluesky": (bluesky, False),
    "mastodon": (mastodon, True),
}


def expected(mix: list[tuple[str, int]], other_is_record: bool) -> tuple[int, int, int]:
    """(records, stored, rejected) for a mix."""
    posts = [i for k, i in mix if k in ("post", "again")]
    rejected = sum(k == "broken" or (k == "other" and other_is_record) for k, _ in mix)
    return len(posts) + rejected, len(set(posts)), rejected


@pytest.mark.parametrize("fmt", sorted(LINE_FORMATS))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mix=MIX)
def test_line_readers_count_every_record(fmt: str, mix: list[tuple[str, int]]) -> None:
    make, other_is_record = LINE_FORMATS[fmt]
    lines = [make("post", 99)] + [make(k, i) for k, i in mix]  # a first good line so the format is found
    mix = [("post", 99), *mix]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "data.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        r = ts.ingest(str(path), Path(d) / "ws")
        assert r.readers == {fmt: 1}
        assert (r.records, r.stored, r.rejected) == expected(mix, other_is_record)
        assert r.records == r.stored + r.rejected + r.duplicate


def desktop_doc(mix: list[tuple[str, int]]) -> str:
    msgs = []
    for k, i in mix:
        if k == "other":
            msgs.append(
                {"id": 500 + i, "type": "service", "date_unixtime": str(T0), "action": "pin_message", "text": ""}
            )
        else:
            text = [f"post {i} ", {"type": "hashtag", "text": f"#Tag{i}"}]
            msgs.append({
                "id": i, "type": "message", "date_unixtime": str(T0 + i), "from": "Chan", "from_id": "channel42",
                "text": text, "text_entities": [{"type": "plain", "text": f"post {i} "}, {"type": "hashtag", "text": f"#Tag{i}"}],
                **({"date_unixtime": None, "date": None} if k == "broken" else {}),
            })  # fmt: skip
    return json.dumps({"name": "Chan", "type": "public_channel", "id": 42, "messages": msgs}, indent=1)


@settings(max_examples=15, deadline=None)
@given(mix=MIX)
def test_telegram_desktop_counts_every_message(mix: list[tuple[str, int]]) -> None:
    mix = [("post", 99), *mix]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "result.json"
        path.write_text(desktop_doc(mix), encoding="utf-8")
        r = ts.ingest(str(path), Path(d) / "ws")
        assert r.readers == {"telegram": 1}
        posts = [i for k, i in mix if k in ("post", "again")]
        broken = sum(k == "broken" for k, _ in mix)
        # a broken (undated) message with the id of a good one still counts: it is a reject, not a duplicate
        assert (r.records, r.stored, r.rejected) == (len(posts) + broken, len(set(posts)), broken)
        if any(k == "other" for k, _ in mix):
            assert any("service messages" in n for n in r.notes)


def test_telegram_full_export_and_cut_document(tmp_path: Path) -> None:
    chat = json.loads(desktop_doc([("post", 1), ("post", 2)]))
    other = {**chat, "id": 43, "name": "Other"}
    full = {
        "about": "Here is the data you requested.",
        "personal_information": {},
        "chats": {"about": "x", "list": [chat, other]},
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "result.json").write_text(json.dumps(full, indent=1), encoding="utf-8")
    text = desktop_doc([("post", 1)])
    (tmp_path / "a" / "cut.json").write_text(text[: len(text) // 2 + 20], encoding="utf-8")
    r = ts.ingest(str(tmp_path / "a"), tmp_path / "ws")
    assert (r.records, r.stored, r.rejected) == (5, 4, 1)
    assert r.reject_reasons == {"invalid JSON (cut off?)": 1}
    con = ts.Workspace(tmp_path / "ws").connect()
    assert sorted(con.sql("SELECT DISTINCT venue FROM posts").fetchall()) == [("Chan",), ("Other",)]


@settings(max_examples=15, deadline=None)
@given(mix=MIX)
def test_tgdataset_counts_every_message(mix: list[tuple[str, int]]) -> None:
    """Channels keyed by id; a message id repeats only across channels, so every message is stored."""
    mix = [("post", 99), *mix]
    doc: dict[str, dict] = {}
    for n, (k, i) in enumerate(mix):
        ch = doc.setdefault(str(7000 + i % 3), {"username": f"chan{i % 3}", "title": "T", "text_messages": {}})
        date = None if k == "broken" else T0 + n
        ch["text_messages"][str(n)] = {
            "message": f"m {i}",
            "date": date,
            "is_forwarded": k == "again",
            "forwarded_from_id": "5",
        }
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "tg.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        r = ts.ingest(str(path), Path(d) / "ws")
        assert r.readers == {"tgdataset": 1}
        broken = sum(k == "broken" for k, _ in mix)
        assert (r.records, r.stored, r.rejected) == (len(mix), len(mix) - broken, broken)
        con = ts.Workspace(Path(d) / "ws").connect()
        reposts = con.execute("SELECT count(*) FROM posts WHERE kind = 'repost'").fetchall()[0][0]
        assert reposts == sum(k == "again" for k, _ in mix)


@pytest.mark.parametrize("fmt", ["mastodon", "telethon"])
def test_json_array_documents(tmp_path: Path, fmt: str) -> None:
    """The same records as one JSON array (what saving a list with json.dump gives)."""
    make = LINE_FORMATS[fmt][0]
    mix = [("post", 1), ("post", 2), ("again", 2), ("other", 3)]
    path = tmp_path / "data.json"
    path.write_text(json.dumps([json.loads(make(k, i)) for k, i in mix], indent=2), encoding="utf-8")
    r = ts.ingest(str(path), tmp_path / "ws")
    assert r.readers == {fmt: 1}
    assert (r.records, r.stored, r.rejected) == expected(mix, LINE_FORMATS[fmt][1])


CT_HEADER = [
    "Page Name",
    "User Name",
    "Facebook Id",
    "Followers at Posting",
    "Post Created",
    "Type",
    "URL",
    "Message",
    "Link",
    "Final Link",
]


@settings(max_examples=15, deadline=None)
@given(mix=MIX)
def test_crowdtangle_counts_every_row(mix: list[tuple[str, int]]) -> None:
    mix = [("post", 99), *[(k if k != "other" else "broken", i) for k, i in mix]]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CT_HEADER)
    for k, i in mix:
        when = "not a date" if k == "broken" else f"2020-11-03 19:{i % 60:02d}:02 EST"
        w.writerow([f"Page {i % 3}", f"page{i % 3}", str(1000 + i % 3), "1,000", when, "Link",
                    f"https://www.facebook.com/page/posts/{i}", f"Look, {i}\nnew line", f"https://l.example/{i}", ""])  # fmt: skip
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "export.csv"
        path.write_text(buf.getvalue(), encoding="utf-8")
        r = ts.ingest(str(path), Path(d) / "ws")
        assert r.readers == {"crowdtangle": 1}
        assert (r.records, r.stored, r.rejected) == expected(mix, True)


FIXTURES = Path(__file__).parent / "data" / "platforms"


def test_crowdtangle_fixtures_written_from_the_documented_columns(ws_path: Path) -> None:
    r = ts.ingest(str(FIXTURES / "crowdtangle_*.csv"), ws_path)
    assert (r.records, r.stored, r.rejected, r.readers) == (6, 5, 1, {"crowdtangle": 2})
    con = ts.Workspace(ws_path).connect()
    got = {
        p[0]: p[1:]
        for p in con.sql(
            "SELECT post_id, platform, account_id, venue, created_at::VARCHAR, list_sort(urls) FROM posts"
        ).fetchall()
    }
    assert got["facebook:https://www.facebook.com/patriotnewsdaily/posts/111"] == (
        "facebook", "facebook:100000000000001", "Patriot News Daily", "2020-11-04 00:00:02",
        ["https://bit.ly/3abc", "https://example-news.com/stolen-election"],
    )  # fmt: skip
    assert got["instagram:https://www.instagram.com/p/CHabc111/"][:3] == (
        "instagram",
        "instagram:patriotnewsdaily",
        "Patriot News Daily",
    )
    followers = con.execute("SELECT followers FROM accounts WHERE account_id = 'facebook:100000000000001'").fetchall()
    assert followers == [(15400,)]


MCL_HEADER = [
    "id", "creation_time", "text", "lang", "shared_post_id", "link_attachment.link", "statistics.reaction_count",
    "post_owner.type", "post_owner.id", "post_owner.name", "post_owner.username", "surface.type", "surface.id",
    "surface.name",
]  # fmt: skip


@settings(max_examples=15, deadline=None)
@given(mix=MIX)
def test_mcl_counts_every_row(mix: list[tuple[str, int]]) -> None:
    """Meta Content Library CSV: posts, the same post again, a bad date (a reject) and, as the other
    kind, a reshare by another page (a repost of the post it names, by the page that reshared it)."""
    mix = [("post", 99), *mix]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(MCL_HEADER)
    for k, i in mix:
        owner = [f"{7000 + i % 3}", f"Page {i % 3}", f"page{i % 3}"]
        if k == "other":
            w.writerow([f"5{i:05d}", f"2024-03-01T15:{i % 60:02d}:00+0000", "", "", str(i), "", "3", "page", *owner,
                        "page", "9999", "Relay Page"])  # fmt: skip
            continue
        when = "not a date" if k == "broken" else f"2024-03-01T14:{i % 60:02d}:00+0000"
        w.writerow([str(i), when, f"Look, {i}\nnew line", "en", "", f"https://l.example/{i}", "10", "page", *owner,
                    "page", owner[0], owner[1]])  # fmt: skip
    reshares = {i for k, i in mix if k == "other"}
    posts = {i for k, i in mix if k in ("post", "again")}
    broken = sum(k == "broken" for k, _ in mix)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "export.csv"
        path.write_text(buf.getvalue(), encoding="utf-8")
        r = ts.ingest(str(path), Path(d) / "ws")
        assert r.readers == {"mcl": 1}
        assert (r.records, r.stored, r.rejected) == (len(mix), len(posts) + len(reshares), broken)
        con = ts.Workspace(Path(d) / "ws").connect()
        got = con.execute(
            "SELECT count(*) FILTER (WHERE kind = 'repost'), count(DISTINCT repost_of_id), "
            "count(*) FILTER (WHERE kind = 'repost' AND account_id <> 'facebook:9999') FROM posts"
        ).fetchall()
        con.close()
        assert got == [(len(reshares), len(reshares), 0)]


def test_mcl_fixtures_written_from_the_documented_columns(ws_path: Path) -> None:
    """Fixtures written from Meta's data dictionary and the column names of tools that read these CSVs
    (docs/ingest.md): owner, surface, reshare, link attachment, Instagram hashtags, both time forms."""
    r = ts.ingest(str(FIXTURES / "mcl_*.csv"), ws_path)
    assert (r.records, r.stored, r.rejected, r.readers) == (6, 5, 1, {"mcl": 2})
    assert r.reject_reasons == {"bad date": 1}
    con = ts.Workspace(ws_path).connect()
    cols = "platform, account_id, handle, venue, created_at::VARCHAR, kind, repost_of_id, repost_of_account_id"
    got = {p[0]: p[1:] for p in con.sql(f"SELECT post_id, {cols} FROM posts").fetchall()}
    assert got["facebook:811000000000001"] == (
        "facebook", "facebook:933000000000010", "patriotnewsdaily", "Patriot News Daily", "2024-03-01 14:05:09",
        "original", None, None,
    )  # fmt: skip
    # a profile's post in a group: the profile is the account, the group the venue
    assert got["facebook:811000000000002"][1:4] == ("facebook:944000000000020", "jane.roe.77", "Freedom Moms")
    # a reshare: by the page it appears on, of the post shared_post_id names, by that post's owner
    assert got["facebook:811000000000003"] == (
        "facebook", "facebook:966000000000040", "libertyvoice", "Liberty Voice", "2024-03-01 14:09:00", "repost",
        "facebook:811000000000001", "facebook:933000000000010",
    )  # fmt: skip
    assert got["instagram:17900000000000001"][:4] == (
        "instagram",
        "instagram:patriotnewsdaily",
        "PatriotNewsDaily",
        "Patriot News Daily",
    )
    assert got["instagram:17900000000000002"][4] == "2024-03-01 14:00:00"  # epoch seconds 1709301600
    lists = {p[0]: p[1:] for p in con.sql("SELECT post_id, list_sort(urls), hashtags FROM posts").fetchall()}
    assert lists["facebook:811000000000001"] == (
        ["https://bit.ly/4xyz", "https://example-news.com/real-numbers"],
        ["truth"],
    )
    assert lists["instagram:17900000000000001"][1] == ["truth", "wakeup"]  # the hashtags column
    assert lists["instagram:17900000000000002"][1] == ["sun"]  # an empty column: from the text
    names = dict(con.sql("SELECT account_id, name FROM accounts").fetchall())
    assert names["facebook:944000000000020"] == "Jane Roe"


@pytest.mark.parametrize("platform", ["instagram", "facebook"])
def test_mcl_platform_from_the_option(tmp_path: Path, platform: str) -> None:
    r = ts.ingest(str(FIXTURES / "mcl_instagram.csv"), tmp_path / "ws", options=ts.ReadOptions(platform=platform))
    assert r.stored == 2
    con = ts.Workspace(tmp_path / "ws").connect()
    assert con.sql("SELECT DISTINCT platform FROM posts").fetchall() == [(platform,)]
    assert {a.split(":")[0] for (a,) in con.sql("SELECT account_id FROM posts").fetchall()} == {platform}


def test_mcl_platform_from_mcl_url(tmp_path: Path) -> None:
    """A row's mcl_url names its platform, whatever the columns suggest."""
    path = tmp_path / "x.csv"
    path.write_text(
        "id,creation_time,text,post_owner.id,post_owner.username,surface.id,mcl_url\n"
        "1,2024-01-01T00:00:00Z,a,5,u5,5,https://www.facebook.com/transparency-tools/content-library/dataset/9/instagram/entity/1\n"
        "2,2024-01-01T00:00:00Z,b,6,u6,6,https://www.facebook.com/transparency-tools/content-library/dataset/9/facebook/entity/2\n",
        encoding="utf-8",
    )
    ts.ingest(str(path), tmp_path / "ws")
    con = ts.Workspace(tmp_path / "ws").connect()
    assert sorted(con.sql("SELECT post_id, account_id FROM posts").fetchall()) == [
        ("facebook:2", "facebook:6"), ("instagram:1", "instagram:u5"),
    ]  # fmt: skip


# --- encodings and files that are not data -------------------------------------------------------


ROWS = [
    {
        "tweet_id": str(i),
        "screen_name": f"ü{i % 2}",
        "text": f"café №{i} — “quoted”",
        "created_at": f"2020-01-01T00:0{i}:00Z",
    }
    for i in range(5)
]


def _csv(rows: list[dict], delim: str = ",") -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), delimiter=delim, lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-16-be"])
def test_unicode_text_with_a_bom_is_read(tmp_path: Path, encoding: str) -> None:
    """Excel's "Unicode text" (UTF-16 LE with a BOM, tab-separated) and its kin."""
    path = tmp_path / "export.txt"
    data = _csv(ROWS, "\t").encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path.write_bytes(data)
    r = ts.ingest(str(path), tmp_path / "ws")
    assert (r.records, r.stored, r.rejected) == (5, 5, 0)
    con = ts.Workspace(tmp_path / "ws").connect()
    assert sorted(con.sql("SELECT handle, text FROM posts").fetchall()) == sorted(
        (x["screen_name"], x["text"]) for x in ROWS
    )


def test_declared_windows_1252(tmp_path: Path) -> None:
    rows = [{**x, "text": x["text"].replace("№", "No")} for x in ROWS]  # № is not in cp1252
    path = tmp_path / "export.csv"
    path.write_bytes(_csv(rows).encode("cp1252"))
    r = ts.ingest(str(path), tmp_path / "ws", options=ts.ReadOptions(encoding="Windows-1252"))
    assert (r.records, r.stored, r.rejected) == (5, 5, 0)
    con = ts.Workspace(tmp_path / "ws").connect()
    assert sorted(con.sql("SELECT text FROM posts").fetchall()) == sorted((x["text"],) for x in rows)


def test_unknown_encoding_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(_csv(ROWS), encoding="utf-8")
    with pytest.raises(ReaderError, match="unknown encoding 'klingon'"):
        ts.ingest(str(tmp_path / "a.csv"), tmp_path / "ws", options=ts.ReadOptions(encoding="klingon"))


def test_html_page_and_media_folder(tmp_path: Path) -> None:
    export = tmp_path / "ChatExport"
    (export / "photos").mkdir(parents=True)
    (export / "result.json").write_text(desktop_doc([("post", 1)]), encoding="utf-8")
    for n in range(3):
        (export / "photos" / f"photo_{n}.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(100))
    (export / "photos" / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(100))
    (tmp_path / "tweets.json").write_text("<!DOCTYPE html>\n<html><body>429 Too Many Requests</body></html>")
    r = ts.ingest([str(export), str(tmp_path / "tweets.json")], tmp_path / "ws")
    assert (r.records, r.stored, r.rejected) == (2, 1, 1)
    assert [n for n in r.notes if "media files" in n] == [
        f"{export / 'photos'}: 4 media files (3 JPEG image, 1 MP4 video), not posts: not read"
    ]
    assert any(n.startswith(f"{tmp_path / 'tweets.json'}: an HTML page") for n in r.notes)


def test_workspace_from_before_platforms_reads_with_defaults(tmp_path: Path) -> None:
    """Posts parts written without platform and venue read as the platform their reader implies."""
    from helpers import sample_rows, write_ioarchive

    ws = tmp_path / "ws"
    ts.ingest(str(write_ioarchive(tmp_path / "in" / "a.csv", sample_rows(6))), ws)
    w = ts.Workspace(ws)
    for f in w.files("posts"):
        t = pq.read_table(f)
        pq.write_table(t.drop_columns(["platform", "venue"]), f)
    con = w.connect()
    assert con.sql("SELECT DISTINCT platform, venue FROM posts").fetchall() == [("twitter", None)]
    # a new ingest beside the old parts: both kinds of part read together
    shutil.copy(FIXTURES / "crowdtangle_facebook.csv", tmp_path / "in" / "fb.csv")
    ts.ingest(str(tmp_path / "in" / "fb.csv"), ws)
    con = ts.Workspace(ws).connect()
    assert dict(con.sql("SELECT platform, count(*) FROM posts GROUP BY 1").fetchall()) == {"twitter": 6, "facebook": 3}
    assert isinstance(con.sql("SELECT * FROM posts").to_arrow_table(), pa.Table)


def test_cli_unknown_encoding_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from trollscope.cli import main

    (tmp_path / "a.csv").write_text(_csv(ROWS), encoding="utf-8")
    res = CliRunner().invoke(
        main, ["ingest", str(tmp_path / "a.csv"), "-w", str(tmp_path / "ws"), "--encoding", "klingon"]
    )
    assert res.exit_code != 0
    assert res.output.strip().splitlines()[0:1] == [
        "Error: unknown encoding 'klingon': try utf-8, utf-16, cp1252 (Windows) or latin-1"
    ]
