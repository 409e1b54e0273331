"""The twarc reader against real twarc2 output and small files written here.

Expected values are computed from the same files with Python's json module, never copied from
the reader's output.
"""

from __future__ import annotations

import bz2
import gzip
import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from trollscope import sources
from trollscope.cli import main
from trollscope.ingest import IngestResult, ingest
from trollscope.readers import detect_format, twarc
from trollscope.schema import RAW_LIMIT
from trollscope.workspace import Workspace

SAMPLES = "twarc2-samples"
TWEET_FILES = [
    "2sets.jsonl", "brexit.jsonl", "cashtags.jsonl", "cotweet.jsonl", "edited.jsonl", "edited_after.jsonl",
    "edited_before.jsonl", "flat.jsonl", "geo_tweets.jsonl", "kpop.jsonl", "many_urls.jsonl",
    "media_policy_violation_off.jsonl", "media_policy_violation_on.jsonl", "media_tweet.jsonl",
    "mentions_tweet.jsonl", "noflat.jsonl", "quoted_edit.jsonl", "two_tweets.jsonl", "verified_type.jsonl",
    "withheld.jsonl",
]  # fmt: skip
NO_TWEET_FILES = {
    "counts.jsonl": "tweet counts",
    "lists.jsonl": "list objects",
    "users.jsonl": "user objects",
    "tweets_compliance.jsonl": "compliance events",
    "users_compliance.jsonl": "compliance events",
}


# --- independent expectations -------------------------------------------------------------------


def v2_tweets(path: Path) -> list[tuple[dict, dict[str, dict], dict[str, dict]]]:
    """Each tweet of a twarc2 file (pages or flattened) with the users and tweets it can resolve."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            obj = json.loads(line)
            if "data" in obj:
                users = {u["id"]: u for u in obj.get("includes", {}).get("users", [])}
                tweets = {t["id"]: t for t in obj.get("includes", {}).get("tweets", [])}
                out += [(t, users, tweets) for t in obj["data"]]
            else:
                users = {obj["author"]["id"]: obj["author"]}
                tweets = {}
                for r in obj.get("referenced_tweets", []):
                    if "author" in r:
                        users[r["author"]["id"]] = r["author"]
                        tweets[r["id"]] = r
                out.append((obj, users, tweets))
    return out


def ref(t: dict, kind: str) -> str | None:
    return next((r["id"] for r in t.get("referenced_tweets", []) if r["type"] == kind), None)


def rows(ws: Path, sql: str, params: list | None = None) -> list[dict]:
    con = Workspace(ws).connect()
    try:
        cur = con.execute(sql, params or [])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def posts_by_id(ws: Path) -> dict[str, dict]:
    return {p["post_id"]: p for p in rows(ws, "SELECT * FROM posts")}


def without(post: dict, keys: set[str]) -> dict:
    return {k: v for k, v in post.items() if k not in keys}


def balanced(r: IngestResult) -> bool:
    return r.records == r.stored + r.rejected + r.duplicate


# --- real twarc2 files --------------------------------------------------------------------------


@pytest.mark.real_data
@pytest.mark.parametrize("name", TWEET_FILES)
def test_real_file_counts(shared: Path, ws_path: Path, name: str) -> None:
    path = shared / SAMPLES / name
    tweets = v2_tweets(path)
    r = ingest(str(path), ws_path)
    assert r.readers == {"twarc": 1}
    assert (r.records, r.rejected) == (len(tweets), 0)
    assert balanced(r)
    assert r.stored == len({t["id"] for t, _, _ in tweets})
    posts = posts_by_id(ws_path)
    assert set(posts) == {t["id"] for t, _, _ in tweets}
    reposts = {t["id"] for t, _, _ in tweets if ref(t, "retweeted")}
    assert {i for i, p in posts.items() if p["kind"] == "repost"} == reposts
    assert len({p["account_id"] for p in posts.values()}) == len({t["author_id"] for t, _, _ in tweets})
    for t, users, refs in tweets:
        p = posts[t["id"]]
        # An author missing from the page's includes (suspended) keeps ingest's fallback: the id.
        assert p["handle"] == users.get(t["author_id"], {"username": t["author_id"]})["username"]
        assert p["created_at"] == datetime.fromisoformat(t["created_at"]).astimezone(UTC).replace(tzinfo=None)
        assert p["repost_of_id"] == ref(t, "retweeted")
        assert p["quote_of_id"] == ref(t, "quoted")
        assert p["reply_to_id"] == ref(t, "replied_to")
        rt = ref(t, "retweeted")
        if rt in refs:  # the retweeted tweet came with the page: its author is known
            assert p["repost_of_account_id"] == refs[rt]["author_id"]
            author = users.get(refs[rt]["author_id"])
            if author is not None:
                assert p["repost_of_handle"] == author["username"].lower()
        if rt is not None and (rt not in refs or refs[rt]["author_id"] not in users):  # from `RT @handle:`
            assert p["repost_of_handle"] == re.match(r"RT @(\w+):", t["text"]).group(1).lower()
        if "entities" in t:
            e = t["entities"]
            assert p["hashtags"] == [h["tag"].lower() for h in e.get("hashtags", [])]
            assert p["mentions"] == [m["username"].lower() for m in e.get("mentions", [])]
            assert p["urls"] == [u.get("expanded_url") or u["url"] for u in e.get("urls", [])]


@pytest.mark.real_data
def test_real_hashtags_and_handle_of_one_tweet(shared: Path, ws_path: Path) -> None:
    path = shared / SAMPLES / "kpop.jsonl"
    page = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    tweet = next(t for t in page["data"] if len(t.get("entities", {}).get("hashtags", [])) >= 2)
    author = next(u for u in page["includes"]["users"] if u["id"] == tweet["author_id"])
    ingest(str(path), ws_path)
    (p,) = rows(ws_path, "SELECT * FROM posts WHERE post_id = ?", [tweet["id"]])
    assert p["hashtags"] == [h["tag"].lower() for h in tweet["entities"]["hashtags"]]
    assert p["text"] == tweet["text"]
    (a,) = rows(ws_path, "SELECT * FROM accounts WHERE account_id = ?", [tweet["author_id"]])
    assert a["handle"] == author["username"]
    assert a["followers"] == author["public_metrics"]["followers_count"]
    assert a["posts_count"] == author["public_metrics"]["tweet_count"]


@pytest.mark.real_data
def test_real_accounts_cover_included_users(shared: Path, ws_path: Path) -> None:
    path = shared / SAMPLES / "brexit.jsonl"
    page = json.loads(path.read_text(encoding="utf-8"))
    ingest(str(path), ws_path)
    accounts = {a["account_id"]: a for a in rows(ws_path, "SELECT * FROM accounts")}
    users = {u["id"]: u for u in page["includes"]["users"]}
    assert set(users) <= set(accounts)
    for uid, u in users.items():
        assert accounts[uid]["handle"] == u["username"]
        assert accounts[uid]["name"] == u["name"]
        assert (accounts[uid]["labels"] or {}).get("verified") == ("true" if u.get("verified") else None)


@pytest.mark.real_data
@pytest.mark.parametrize("name", sorted(NO_TWEET_FILES))
def test_real_files_without_tweets_get_a_note(shared: Path, ws_path: Path, name: str) -> None:
    path = shared / SAMPLES / name
    r = ingest(str(path), ws_path)
    assert (r.records, r.stored, r.rejected) == (0, 0, 0)
    assert r.readers == {"twarc": 1}
    (note,) = r.notes
    assert name in note and f"holds {NO_TWEET_FILES[name]}, not tweets: nothing to read" in note


@pytest.mark.real_data
def test_real_users_file_fills_accounts(shared: Path, ws_path: Path) -> None:
    path = shared / SAMPLES / "users.jsonl"
    users = {u["id"]: u for u in json.loads(path.read_text(encoding="utf-8"))["data"]}
    r = ingest(str(path), ws_path)
    assert f"{len(json.loads(path.read_text(encoding='utf-8'))['data'])} account profiles" in r.notes[0]
    accounts = {a["account_id"]: a for a in rows(ws_path, "SELECT * FROM accounts")}
    assert set(accounts) == set(users)
    for uid, u in users.items():
        assert accounts[uid]["handle"] == u["username"]
        assert accounts[uid]["following"] == u["public_metrics"]["following_count"]


@pytest.mark.real_data
def test_real_empty_file(shared: Path, ws_path: Path) -> None:
    r = ingest(str(shared / SAMPLES / "empty.json"), ws_path)
    assert (r.records, r.rejected) == (0, 0)
    assert any("empty.json" in n and "empty file" in n for n in r.notes)


@pytest.mark.real_data
def test_real_directory(shared: Path, ws_path: Path) -> None:
    folder = shared / SAMPLES
    tweets = [t for name in TWEET_FILES for t, _, _ in v2_tweets(folder / name)]
    r = ingest(str(folder), ws_path)
    assert (r.records, r.rejected) == (len(tweets), 0)
    assert r.stored == len({t["id"] for t in tweets})
    assert balanced(r)
    assert len([n for n in r.notes if "not tweets" in n]) == len(NO_TWEET_FILES)
    again = ingest(str(folder), ws_path)  # nothing new the second time
    assert (again.stored, again.duplicate) == (0, len(tweets))


@pytest.mark.real_data
def test_real_edits_are_posts_of_their_own(shared: Path, ws_path: Path) -> None:
    folder = shared / SAMPLES
    before = json.loads((folder / "edited_before.jsonl").read_text(encoding="utf-8"))["data"][0]
    after = json.loads((folder / "edited.jsonl").read_text(encoding="utf-8"))["data"][0]
    assert before["edit_history_tweet_ids"] == after["edit_history_tweet_ids"]  # one chain, two versions
    ingest([str(folder / "edited_before.jsonl"), str(folder / "edited.jsonl")], ws_path)
    posts = posts_by_id(ws_path)
    assert set(posts) == {before["id"], after["id"]}
    assert posts[before["id"]]["text"] == before["text"]
    assert posts[after["id"]]["text"] == after["text"]


@pytest.mark.real_data
def test_real_page_cut_off(shared: Path, ws_path: Path, tmp_path: Path) -> None:
    lines = (shared / SAMPLES / "2sets.jsonl").read_text(encoding="utf-8").splitlines()
    second = json.loads(lines[1])["data"]
    path = tmp_path / "cut.jsonl"
    path.write_text(lines[0][: len(lines[0]) // 2] + "\n" + lines[1] + "\n", encoding="utf-8")
    r = ingest(str(path), ws_path)
    assert (r.records, r.rejected, r.stored) == (1 + len(second), 1, len({t["id"] for t in second}))
    (rej,) = rows(ws_path, "SELECT * FROM rejects")
    assert (rej["source_file"], rej["source_line"]) == (str(path), 1)
    assert rej["reason"] == "invalid JSON (cut off?)"
    assert rej["raw"] == lines[0][:RAW_LIMIT]


@pytest.mark.real_data
@pytest.mark.parametrize("compress", ["gz", "bz2"])
def test_real_compressed_copies(shared: Path, tmp_path: Path, compress: str) -> None:
    plain = shared / SAMPLES / "brexit.jsonl"
    opener = gzip.open if compress == "gz" else bz2.open
    packed = tmp_path / f"brexit.jsonl.{compress}"
    with open(plain, "rb") as src, opener(packed, "wb") as dst:
        shutil.copyfileobj(src, dst)
    r_plain = ingest(str(plain), tmp_path / "ws-plain")
    r_packed = ingest(str(packed), tmp_path / "ws-packed")
    assert (r_packed.records, r_packed.stored, r_packed.rejected) == (r_plain.records, r_plain.stored, 0)
    a, b = posts_by_id(tmp_path / "ws-plain"), posts_by_id(tmp_path / "ws-packed")
    assert set(a) == set(b)
    assert {p["source_file"] for p in b.values()} == {str(packed)}
    drop = {"source_file", "ingest_id"}
    assert all(without(a[i], drop) == without(b[i], drop) for i in a)


@pytest.mark.real_data
def test_real_compressed_users_note_names_the_file(shared: Path, ws_path: Path, tmp_path: Path) -> None:
    packed = tmp_path / "users.jsonl.bz2"
    packed.write_bytes(bz2.compress((shared / SAMPLES / "users.jsonl").read_bytes()))
    r = ingest(str(packed), ws_path)
    assert r.records == 0
    assert r.notes[0].startswith("users.jsonl.bz2 holds user objects, not tweets")


@pytest.mark.real_data
def test_real_detection(shared: Path) -> None:
    for name in TWEET_FILES + sorted(NO_TWEET_FILES):
        path = shared / SAMPLES / name
        assert detect_format(sources.head(path), path) == "twarc", name
    # Other JSON lines are not claimed: a collector's own flattened layout is the generic reader's.
    other = shared / "political-2016-search" / "tweets.jsonl.gz"
    assert not twarc.detect(sources.head(other), other)
    ira = next((shared / "ira-by-author").glob("*/*.csv.gz"))
    assert not twarc.detect(sources.head(ira), ira)


@pytest.mark.real_data
def test_cli_ingest_json(shared: Path, ws_path: Path) -> None:
    path = shared / SAMPLES / "noflat.jsonl"
    n = len(v2_tweets(path))
    res = CliRunner().invoke(main, ["ingest", str(path), "--json", "-w", str(ws_path)])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["records"], out["rejected"], out["readers"]) == (n, 0, {"twarc": 1})


# --- files written here ---------------------------------------------------------------------------

USER_A = {"id": "10", "username": "Carol_X", "name": "Carol", "description": "d", "verified": True,
          "created_at": "2015-01-01T00:00:00.000Z", "location": "Oslo",
          "public_metrics": {"followers_count": 5, "following_count": 6, "tweet_count": 7, "listed_count": 0}}  # fmt: skip
USER_B = {"id": "20", "username": "dave", "name": "Dave", "created_at": "2016-02-02T00:00:00.000Z",
          "public_metrics": {"followers_count": 1, "following_count": 2, "tweet_count": 3, "listed_count": 0}}  # fmt: skip
T1 = {"id": "100", "author_id": "10", "created_at": "2021-05-01T12:00:00.000Z", "lang": "en",
      "text": "hello #World https://t.co/a @dave", "edit_history_tweet_ids": ["100"],
      "entities": {"hashtags": [{"start": 6, "end": 12, "tag": "World"}],
                   "urls": [{"start": 13, "end": 27, "url": "https://t.co/a", "expanded_url": "https://example.com/x"}],
                   "mentions": [{"start": 28, "end": 33, "username": "dave", "id": "20"}]}}  # fmt: skip
T2 = {"id": "101", "author_id": "20", "created_at": "2021-05-01T12:05:00.000Z", "lang": "en",
      "text": "RT @Carol_X: hello #World https://t.co/a @dave", "referenced_tweets": [{"type": "retweeted", "id": "100"}],
      "entities": {"mentions": [{"start": 3, "end": 11, "username": "Carol_X", "id": "10"}],
                   "hashtags": [{"start": 19, "end": 25, "tag": "World"}]}}  # fmt: skip
T3 = {"id": "102", "author_id": "20", "created_at": "2021-05-01T13:00:00.000Z", "lang": "en",
      "text": "@Carol_X nice #Tag", "in_reply_to_user_id": "10",
      "referenced_tweets": [{"type": "replied_to", "id": "100"}]}  # no entities: derived from the text  # fmt: skip
T4 = {**T1, "id": "103", "text": "hello #World, edited", "edit_history_tweet_ids": ["100", "103"],
      "created_at": "2021-05-01T12:01:00.000Z", "entities": {"hashtags": [{"start": 6, "end": 12, "tag": "World"}]}}  # fmt: skip
RETRIEVED = {
    "url": "https://api.twitter.com/2/tweets/search/recent?query=x",
    "retrieved_at": "2021-05-02T00:00:00+00:00",
}


def write_lines(path: Path, objs: list) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")
    return path


def page_file(path: Path) -> Path:
    page = {"data": [T1, T2, T3, T4], "includes": {"users": [USER_A, USER_B], "tweets": [T1]},
            "meta": {"result_count": 4}, "__twarc": RETRIEVED}  # fmt: skip
    return write_lines(path, [page])


def flat_file(path: Path) -> Path:
    """What ``twarc2 flatten`` makes of ``page_file``."""
    users = {u["id"]: u for u in (USER_A, USER_B)}
    tweets = {T1["id"]: T1}
    out = []
    for t in (T1, T2, T3, T4):
        f = {**t, "author": users[t["author_id"]], "__twarc": RETRIEVED}
        if "referenced_tweets" in t:
            f["referenced_tweets"] = [
                {**r, **tweets[r["id"]], "author": users[tweets[r["id"]]["author_id"]]} for r in t["referenced_tweets"]
            ]
        if "in_reply_to_user_id" in t:
            f["in_reply_to_user"] = users[t["in_reply_to_user_id"]]
        out.append(f)
    return write_lines(path, out)


def test_page_tweets(ws_path: Path, tmp_path: Path) -> None:
    r = ingest(str(page_file(tmp_path / "page.jsonl")), ws_path)
    assert (r.records, r.stored, r.rejected) == (4, 4, 0)
    p = posts_by_id(ws_path)
    assert p["100"]["handle"] == "Carol_X" and p["100"]["kind"] == "original"
    assert p["100"]["created_at"] == datetime(2021, 5, 1, 12, 0)
    assert (p["100"]["hashtags"], p["100"]["urls"], p["100"]["mentions"]) == (
        ["world"], ["https://example.com/x"], ["dave"])  # fmt: skip
    assert (p["101"]["kind"], p["101"]["repost_of_id"], p["101"]["repost_of_account_id"]) == ("repost", "100", "10")
    assert p["101"]["repost_of_handle"] == "carol_x"
    assert (p["102"]["kind"], p["102"]["reply_to_id"], p["102"]["reply_to_account_id"]) == ("reply", "100", "10")
    assert p["102"]["reply_to_handle"] == "carol_x"
    assert (p["102"]["hashtags"], p["102"]["mentions"]) == (["tag"], ["carol_x"])  # from the text
    assert p["103"]["text"] == T4["text"]  # an edit is a post of its own
    (a,) = rows(ws_path, "SELECT * FROM accounts WHERE account_id = '10'")
    assert (a["handle"], a["followers"], a["following"], a["posts_count"]) == ("Carol_X", 5, 6, 7)
    assert a["created_at"] == datetime(2015, 1, 1)
    assert a["labels"] == {"verified": "true", "location": "Oslo"}


def test_flat_equals_page(tmp_path: Path) -> None:
    ingest(str(page_file(tmp_path / "page.jsonl")), tmp_path / "ws-page")
    r = ingest(str(flat_file(tmp_path / "flat.jsonl")), tmp_path / "ws-flat")
    assert (r.records, r.stored, r.rejected) == (4, 4, 0)
    page, flat = posts_by_id(tmp_path / "ws-page"), posts_by_id(tmp_path / "ws-flat")
    drop = {"source_file", "source_line", "ingest_id"}
    assert set(page) == set(flat)
    for i in page:
        assert without(page[i], drop) == without(flat[i], drop)
    assert [flat[i]["source_line"] for i in ("100", "101", "102", "103")] == [1, 2, 3, 4]
    assert rows(tmp_path / "ws-flat", "SELECT handle, followers FROM accounts WHERE account_id = '20'") == [
        {"handle": "dave", "followers": 1}
    ]


V1_USER = {"id": 6253282, "id_str": "6253282", "name": "Twitter API", "screen_name": "TwitterAPI",
           "location": "San Francisco, CA", "description": "The Real Twitter API.", "verified": True,
           "followers_count": 6133636, "friends_count": 12, "statuses_count": 3656,
           "created_at": "Wed May 23 06:01:13 +0000 2007"}  # fmt: skip
V1_ALICE = {"id": 111, "id_str": "111", "screen_name": "Alice_1", "name": "Alice", "followers_count": 9,
            "friends_count": 8, "statuses_count": 7, "created_at": "Mon Jan 02 03:04:05 +0000 2012"}  # fmt: skip
V1_ORIGINAL = {
    "created_at": "Wed Oct 10 20:19:24 +0000 2018", "id": 1050118621198921728, "id_str": "1050118621198921728",
    "text": "To make room for more expression, we will now count all emojis as equal… https://t.co/MkGjXf9aXm",
    "truncated": True, "user": V1_USER, "lang": "en",
    "entities": {"hashtags": [], "user_mentions": [], "urls": [
        {"url": "https://t.co/MkGjXf9aXm", "expanded_url": "https://twitter.com/i/web/status/1050118621198921728"}]},
    "extended_tweet": {
        "full_text": "To make room for more expression, we will now count all emojis as equal. See the forum post "
                     "https://t.co/Nx1XZmRCXA #Emoji #TwitterText",
        "entities": {"hashtags": [{"text": "Emoji"}, {"text": "TwitterText"}], "user_mentions": [],
                     "urls": [{"url": "https://t.co/Nx1XZmRCXA", "expanded_url": "https://twittercommunity.com/t/114607"}]}},
}  # fmt: skip
V1_RETWEET = {
    "created_at": "Thu Oct 11 08:00:00 +0200 2018", "id": 2, "id_str": "2", "lang": "en",
    "text": "RT @TwitterAPI: To make room for more expression, we will now count all emojis as equal…",
    "user": V1_ALICE, "retweeted_status": V1_ORIGINAL,
    "entities": {"hashtags": [], "user_mentions": [{"screen_name": "TwitterAPI", "id_str": "6253282"}], "urls": []},
}  # fmt: skip
V1_QUOTE = {
    "created_at": "Thu Oct 11 09:00:00 +0000 2018", "id": 3, "id_str": "3", "lang": "en",
    "full_text": "Look at this #NEWS https://t.co/x", "user": {**V1_USER, "id_str": "222", "screen_name": "Bob"},
    "quoted_status_id_str": "1050118621198921728", "quoted_status": V1_ORIGINAL, "is_quote_status": True,
    "entities": {"hashtags": [{"text": "NEWS"}], "user_mentions": [],
                 "urls": [{"url": "https://t.co/x", "expanded_url": "https://example.org/a"}]},
}  # fmt: skip
V1_REPLY = {
    "created_at": "Thu Oct 11 10:00:00 +0000 2018", "id_str": "4", "text": "@Bob agreed", "lang": "en",
    "user": V1_ALICE, "in_reply_to_status_id_str": "3", "in_reply_to_user_id_str": "222",
    "in_reply_to_screen_name": "Bob",
    "entities": {"hashtags": [], "user_mentions": [{"screen_name": "Bob"}], "urls": []},
}  # fmt: skip
V1_TWEETS = [V1_ORIGINAL, V1_RETWEET, V1_QUOTE, V1_REPLY]


def v1_time(s: str) -> datetime:
    return datetime.strptime(s, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC).replace(tzinfo=None)


def test_v1_tweets(ws_path: Path, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "v1.jsonl", V1_TWEETS)
    assert twarc.detect(path.read_text(encoding="utf-8"), path)
    r = ingest(str(path), ws_path)
    assert (r.records, r.stored, r.rejected) == (4, 4, 0)
    p = posts_by_id(ws_path)
    o = p["1050118621198921728"]
    assert (o["account_id"], o["handle"], o["kind"]) == ("6253282", "TwitterAPI", "original")
    assert o["text"] == V1_ORIGINAL["extended_tweet"]["full_text"]
    ext = V1_ORIGINAL["extended_tweet"]["entities"]
    assert o["hashtags"] == [h["text"].lower() for h in ext["hashtags"]]
    assert o["urls"] == [u["expanded_url"] for u in ext["urls"]]
    for t in V1_TWEETS:
        assert p[t["id_str"]]["created_at"] == v1_time(t["created_at"])
    rt = p["2"]
    assert (rt["kind"], rt["repost_of_id"], rt["repost_of_account_id"], rt["repost_of_handle"]) == (
        "repost", "1050118621198921728", "6253282", "twitterapi")  # fmt: skip
    assert rt["mentions"] == ["twitterapi"]
    q = p["3"]
    assert (q["kind"], q["quote_of_id"], q["quote_of_handle"], q["text"]) == (
        "quote", "1050118621198921728", "twitterapi", V1_QUOTE["full_text"])  # fmt: skip
    assert (q["hashtags"], q["urls"]) == (["news"], ["https://example.org/a"])
    rp = p["4"]
    assert (rp["kind"], rp["reply_to_id"], rp["reply_to_account_id"], rp["reply_to_handle"]) == (
        "reply", "3", "222", "bob")  # fmt: skip
    acc = {a["account_id"]: a for a in rows(ws_path, "SELECT * FROM accounts")}
    assert (acc["6253282"]["followers"], acc["6253282"]["following"], acc["6253282"]["posts_count"]) == (
        V1_USER["followers_count"], V1_USER["friends_count"], V1_USER["statuses_count"])  # fmt: skip
    assert acc["6253282"]["created_at"] == v1_time(V1_USER["created_at"])
    assert acc["6253282"]["labels"] == {"verified": "true", "location": "San Francisco, CA"}
    assert acc["111"]["handle"] == "Alice_1"


def test_cut_off_line_is_rejected_the_rest_ingests(ws_path: Path, tmp_path: Path) -> None:
    long = {**V1_QUOTE, "id_str": "5", "full_text": "x" * 2000}
    text = json.dumps(long)
    cut = text[: len(text) // 2]
    path = tmp_path / "cut.jsonl"
    path.write_text(json.dumps(V1_ORIGINAL) + "\n" + cut + "\n" + json.dumps(V1_REPLY) + "\n", encoding="utf-8")
    r = ingest(str(path), ws_path)
    assert (r.records, r.stored, r.rejected) == (3, 2, 1)
    assert set(posts_by_id(ws_path)) == {V1_ORIGINAL["id_str"], V1_REPLY["id_str"]}
    (rej,) = rows(ws_path, "SELECT * FROM rejects")
    assert (rej["source_file"], rej["source_line"], rej["source_format"]) == (str(path), 2, "twarc")
    assert rej["reason"] == "invalid JSON (cut off?)"
    assert rej["raw"] == cut[:RAW_LIMIT]


def test_non_tweet_line_in_a_tweet_file_is_a_reject(ws_path: Path, tmp_path: Path) -> None:
    notice = {"delete": {"status": {"id": 1, "id_str": "1", "user_id": 3, "user_id_str": "3"}}}
    path = write_lines(tmp_path / "stream.jsonl", [notice, V1_ORIGINAL, V1_REPLY])
    assert twarc.detect(path.read_text(encoding="utf-8"), path)  # a stream may open with notices
    r = ingest(str(path), ws_path)
    assert (r.records, r.stored, r.rejected) == (3, 2, 1)
    (rej,) = rows(ws_path, "SELECT * FROM rejects")
    assert (rej["source_line"], rej["reason"]) == (1, "not a tweet: a stream notice")


def test_empty_and_error_pages_hold_no_records(ws_path: Path, tmp_path: Path) -> None:
    error_page = {"errors": [{"title": "Not Found Error", "resource_id": "9"}], "__twarc": RETRIEVED}
    empty_page = {"meta": {"result_count": 0}, "__twarc": RETRIEVED}
    page = {"data": [T1], "includes": {"users": [USER_A]}, "__twarc": RETRIEVED}
    path = write_lines(tmp_path / "pages.jsonl", [error_page, page, empty_page])
    r = ingest(str(path), ws_path)
    assert (r.records, r.stored, r.rejected) == (1, 1, 0)
    assert any("2 response pages held no tweets" in n for n in r.notes)


def test_single_object_response(ws_path: Path, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "one.jsonl", [{"data": T1, "includes": {"users": [USER_A]}}])
    r = ingest(str(path), ws_path)
    assert (r.records, r.stored) == (1, 1)
    assert posts_by_id(ws_path)["100"]["handle"] == "Carol_X"


def test_detect_truncated_page_head(tmp_path: Path) -> None:
    page = {"data": [{**T1, "id": str(1000 + i)} for i in range(400)], "includes": {"users": [USER_A]}}
    line = json.dumps(page)
    assert len(line) > sources.HEAD_BYTES  # the head ends inside the first line
    path = tmp_path / "big.jsonl"
    assert twarc.detect(line[: sources.HEAD_BYTES], path)
    assert not twarc.detect('{"id": 1, "text": "a tweet", "user.screen_name": "x"}\n', path)
    assert not twarc.detect("tweetid,userid,tweet_text\n1,2,hi\n", path)
