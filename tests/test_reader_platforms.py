"""Readers of other platforms on the real samples in ../shared/data/platforms, each count and field
checked against the sample as Python's json module reads it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zstandard

import trollscope as ts

P = "platforms"


def ingest(path: Path, ws: Path) -> ts.IngestResult:
    r = ts.ingest(str(path), ws)
    assert r.records == r.stored + r.rejected + r.duplicate
    return r


def rows(ws: Path, sql: str) -> list[dict]:
    con = ts.Workspace(ws).connect()
    try:
        rel = con.sql(sql)
        return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]
    finally:
        con.close()


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


@pytest.mark.real_data
def test_telegram_desktop_export(shared: Path, ws_path: Path) -> None:
    path = shared / P / "telegram_desktop" / "trantor_library_public_channel_result.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    messages = [m for m in doc["messages"] if m["type"] == "message"]
    r = ingest(path, ws_path)
    assert r.readers == {"telegram": 1}
    assert (r.records, r.stored, r.rejected) == (len(messages), len({m["id"] for m in messages}), 0)
    assert any(f"{len(doc['messages']) - len(messages)} service messages" in n for n in r.notes)
    got = {p["post_id"]: p for p in rows(ws_path, "SELECT * FROM posts")}
    for m in messages[::37]:
        p = got[f"telegram:{doc['id']}/{m['id']}"]
        assert p["text"] == "".join(e["text"] for e in m["text_entities"])
        assert p["created_at"] == utc(int(m["date_unixtime"]))
        assert p["account_id"] == f"telegram:{m['from_id']}"
        assert (p["platform"], p["venue"]) == ("telegram", doc["name"])
        assert p["hashtags"] == [e["text"].lstrip("#").lower() for e in m["text_entities"] if e["type"] == "hashtag"]
        assert p["urls"] == [e.get("href", e["text"]) for e in m["text_entities"] if e["type"] in ("link", "text_link")]
    replies = [m for m in messages if "reply_to_message_id" in m]
    assert sum(p["kind"] == "reply" for p in got.values()) == len(replies)
    m = replies[0]
    assert got[f"telegram:{doc['id']}/{m['id']}"]["reply_to_id"] == f"telegram:{doc['id']}/{m['reply_to_message_id']}"


@pytest.mark.real_data
def test_telethon_dumps(shared: Path, ws_path: Path) -> None:
    folder = shared / P / "telegram_telethon"
    msgs = [json.loads(line) for f in sorted(folder.iterdir()) for line in f.open(encoding="utf-8") if line.strip()]
    posts = [m for m in msgs if m["_"] == "Message"]
    ids = {(m["peer_id"]["channel_id"], m["id"]) for m in posts}
    r = ingest(folder, ws_path)
    assert r.readers == {"telethon": 2}
    assert (r.records, r.stored, r.rejected, r.duplicate) == (len(posts), len(ids), 0, len(posts) - len(ids))
    got = {p["post_id"]: p for p in rows(ws_path, "SELECT * FROM posts")}
    for m in posts:
        p = got[f"telegram:{m['peer_id']['channel_id']}/{m['id']}"]
        who = m["from_id"]["user_id"] if m["from_id"] else None
        assert p["account_id"] == (f"telegram:user{who}" if who else f"telegram:channel{m['peer_id']['channel_id']}")
        assert p["created_at"] == datetime.fromisoformat(m["date"])
        assert p["text"] == (m["message"] or "")
        if m["reply_to"]:
            assert p["reply_to_id"] == f"telegram:{m['peer_id']['channel_id']}/{m['reply_to']['reply_to_msg_id']}"


@pytest.mark.real_data
def test_tgdataset(shared: Path, ws_path: Path) -> None:
    path = shared / P / "telegram_tgdataset" / "tgdataset_preview.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    n = sum(len(c["text_messages"]) for c in doc.values())
    forwarded = sum(m["is_forwarded"] for c in doc.values() for m in c["text_messages"].values())
    r = ingest(path, ws_path)
    assert r.readers == {"tgdataset": 1}
    assert (r.records, r.stored, r.rejected) == (n, n, 0)
    [c] = rows(
        ws_path, "SELECT count(*) FILTER (WHERE kind = 'repost') AS reposts, count(DISTINCT venue) AS v FROM posts"
    )
    assert c == {"reposts": forwarded, "v": len(doc)}
    cid, ch = next(iter(doc.items()))
    mid, m = next(iter(ch["text_messages"].items()))
    [p] = rows(ws_path, f"SELECT * FROM posts WHERE post_id = 'telegram:{cid}/{mid}'")
    assert (p["text"], p["created_at"], p["account_id"]) == (m["message"], utc(m["date"]), f"telegram:channel{cid}")


@pytest.mark.real_data
def test_reddit_pushshift(shared: Path, ws_path: Path) -> None:
    folder = shared / P / "reddit_pushshift"
    comments = [json.loads(line) for line in (folder / "RC_2006-01.ndjson").open(encoding="utf-8")]
    with zstandard.ZstdDecompressor().stream_reader(
        open(folder / "RS_2019-10_AskWomen_first2000.ndjson.zst", "rb")
    ) as fh:
        subs = [json.loads(line) for line in fh.read().decode("utf-8").splitlines() if line.strip()]
    r = ingest(folder, ws_path)
    assert r.readers == {"reddit": 2}
    assert (r.records, r.stored, r.rejected) == (len(comments) + len(subs), len(comments) + len(subs), 0)
    gone = [x for x in comments + subs if x["author"] in ("[deleted]", "[removed]")]
    [c] = rows(
        ws_path,
        "SELECT count(DISTINCT account_id) FILTER (WHERE handle IN ('[deleted]', '[removed]')) AS gone, "
        "count(*) FILTER (WHERE kind = 'reply') AS replies, count(DISTINCT venue) AS venues FROM posts",
    )
    assert c == {
        "gone": len(gone),  # one account per deleted author's post, never one shared account
        "replies": len(comments),
        "venues": len({x["subreddit"] for x in comments + subs}),
    }
    got = {p["post_id"]: p for p in rows(ws_path, "SELECT * FROM posts")}
    x = comments[5]
    p = got[f"reddit:t1_{x['id']}"]
    assert (p["reply_to_id"], p["text"], p["created_at"]) == (
        f"reddit:{x['parent_id']}",
        x["body"],
        utc(x["created_utc"]),
    )
    linked = next(x for x in comments if "http://" in x["body"])
    assert any(u.startswith("http://") and u in linked["body"] for u in got[f"reddit:t1_{linked['id']}"]["urls"])
    selfpost = next(s for s in subs if s["is_self"] and s["selftext"] == "[removed]")
    assert got[f"reddit:t3_{selfpost['id']}"]["text"] == selfpost["title"]


@pytest.mark.real_data
def test_mastodon_context(shared: Path, ws_path: Path) -> None:
    path = shared / P / "mastodon" / "context_112877048885433037.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    statuses = doc["ancestors"] + doc["descendants"]
    r = ingest(path, ws_path)
    assert r.readers == {"mastodon": 1}
    assert (r.records, r.stored, r.rejected) == (len(statuses), len(statuses), 0)
    got = {p["post_id"]: p for p in rows(ws_path, "SELECT * FROM posts")}
    for s in statuses:
        p = got[f"mastodon:{s['id']}"]
        assert "<p>" not in p["text"] and "</a>" not in p["text"] and "&amp;" not in p["text"]
        assert p["hashtags"] == [t["name"].lower() for t in s["tags"]]
        assert p["reply_to_id"] == (f"mastodon:{s['in_reply_to_id']}" if s["in_reply_to_id"] else None)
        acct = s["account"]["acct"]
        host = s["account"]["url"].split("/")[2]
        assert p["account_id"] == "mastodon:" + (acct if "@" in acct else f"{acct}@{host}").lower()
        assert p["venue"] == s["account"]["url"].split("/")[2]
    first = got[f"mastodon:{statuses[0]['id']}"]
    assert first["text"].startswith("#Republican VP nom Sen #JDVance has a history")
    assert first["urls"] == [
        "https://www.cnn.com/2024/07/30/politics/kfile-jd-vance-history-disparaging-people-without-kids/index.html"
    ]


@pytest.mark.real_data
def test_bluesky_jetstream(shared: Path, ws_path: Path) -> None:
    path = shared / P / "bluesky_jetstream" / "jetstream_v1_capture_2026-07-04.jsonl"
    events = [json.loads(line) for line in path.open(encoding="utf-8")]
    kinds = ("app.bsky.feed.post", "app.bsky.feed.repost")
    posts = [
        e for e in events
        if e["kind"] == "commit" and e["commit"]["operation"] == "create" and e["commit"]["collection"] in kinds
    ]  # fmt: skip
    r = ingest(path, ws_path)
    assert r.readers == {"bluesky": 1}
    assert (r.records, r.stored, r.rejected) == (len(posts), len(posts), 0)
    assert any(
        f"{sum(e['commit'].get('collection') == 'app.bsky.feed.like' for e in events if 'commit' in e)} create app.bsky.feed.like"
        in n
        for n in r.notes
    )
    got = {p["post_id"]: p for p in rows(ws_path, "SELECT * FROM posts")}
    for e in posts:
        c = e["commit"]
        p = got[f"at://{e['did']}/{c['collection']}/{c['rkey']}"]
        assert p["account_id"] == f"bluesky:{e['did']}"
        if c["collection"] == "app.bsky.feed.repost":
            assert (p["kind"], p["repost_of_id"]) == ("repost", c["record"]["subject"]["uri"])
        elif "reply" in c["record"]:
            assert (p["kind"], p["reply_to_id"]) == ("reply", c["record"]["reply"]["parent"]["uri"])
        if c["collection"] == "app.bsky.feed.post":
            assert p["text"] == c["record"]["text"]
            links = [f["uri"] for fc in c["record"].get("facets", []) for f in fc["features"] if "uri" in f]
            assert set(links) <= set(p["urls"])


@pytest.mark.real_data
def test_all_platform_samples_in_one_folder(shared: Path, ws_path: Path) -> None:
    r = ingest(shared / P, ws_path)  # the README is skipped, every sample found by its content
    assert set(r.readers) == {"telegram", "telethon", "tgdataset", "reddit", "mastodon", "bluesky"}
    info = ts.info(ws_path)
    assert {p["platform"] for p in info["platforms"]} == {"telegram", "reddit", "mastodon", "bluesky"}
    assert sum(p["posts"] for p in info["platforms"]) == info["posts"] == r.stored
