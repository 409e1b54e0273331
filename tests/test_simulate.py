"""The simulator, checked only through the files it writes (never its internals)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import duckdb
import pytest

from trollscope.simulate import COLUMNS, STYLES, simulate

POSTS = 40_000
SEED = 7
HEADER = (
    "tweetid,userid,user_display_name,user_screen_name,user_reported_location,user_profile_description,"
    "follower_count,following_count,account_creation_date,account_language,tweet_language,tweet_text,"
    "tweet_time,tweet_client_name,in_reply_to_userid,in_reply_to_tweetid,quoted_tweet_tweetid,is_retweet,"
    "retweet_userid,retweet_tweetid,latitude,longitude,quote_count,reply_count,like_count,retweet_count,"
    "hashtags,urls,user_mentions"
)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    return simulate(posts=POSTS, seed=SEED, out=tmp_path_factory.mktemp("sim"), files=2)


@pytest.fixture(scope="module")
def db(sim) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE posts AS SELECT * FROM read_csv($files, header = true, all_varchar = true)",
        {"files": [str(f) for f in sim.files]},
    )
    con.execute(
        "CREATE TABLE truth AS SELECT * FROM read_csv($f, header = true, all_varchar = true)",
        {"f": str(sim.truth_path)},
    )
    # Time as a number of seconds, and the parsed list columns, for the checks below.
    con.execute("""
        CREATE TABLE p AS SELECT *, epoch(CAST(tweet_time AS TIMESTAMP)) AS ts,
            list_filter(string_split(trim(hashtags, '[]'), ', '), lambda x: x <> '') AS tag_list,
            list_filter(string_split(trim(urls, '[]'), ', '), lambda x: x <> '') AS url_list,
            list_filter(string_split(trim(user_mentions, '[]'), ', '), lambda x: x <> '') AS mention_list
        FROM posts
    """)
    return con


def one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def test_layout(sim) -> None:
    assert [f.name for f in sim.files] == ["tweets-00000.csv.gz", "tweets-00001.csv.gz"]
    assert sorted(p.name for p in sim.out.iterdir()) == [
        "simulation.json",
        "truth.csv",
        "tweets-00000.csv.gz",
        "tweets-00001.csv.gz",
    ]
    for f in sim.files:
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            assert fh.readline().rstrip("\n") == HEADER
    assert HEADER.split(",") == list(COLUMNS)
    params = json.loads((sim.out / "simulation.json").read_text())
    assert (params["posts"], params["accounts"], params["seed"]) == (POSTS, sim.accounts, SEED)
    assert {c["style"] for c in params["campaigns"]} == set(STYLES)


def test_row_counts(sim, db) -> None:
    assert sim.posts == POSTS
    assert one(db, "SELECT count(*) FROM posts") == POSTS
    assert one(db, "SELECT count(DISTINCT tweetid) FROM posts") == POSTS
    assert sim.accounts == POSTS // 50
    assert one(db, "SELECT count(*) FROM truth") == sim.accounts


def test_values_have_the_archive_shapes(db) -> None:
    assert one(db, "SELECT count(*) FROM posts WHERE NOT regexp_full_match(tweetid, '[0-9]+')") == 0
    assert one(db, "SELECT count(*) FROM posts WHERE NOT regexp_full_match(userid, '[0-9]+')") == 0
    pattern = r"2016-\d\d-\d\d \d\d:\d\d:\d\d|2017-01-0[1-5] \d\d:\d\d:\d\d"
    assert one(db, f"SELECT count(*) FROM posts WHERE NOT regexp_full_match(tweet_time, '{pattern}')") == 0
    assert {r[0] for r in db.execute("SELECT DISTINCT is_retweet FROM posts").fetchall()} == {"True", "False"}
    # Empty optional fields are empty, read back as NULL.
    assert one(db, "SELECT count(*) FROM posts WHERE is_retweet = 'False' AND retweet_tweetid IS NOT NULL") == 0
    assert one(db, "SELECT count(latitude) + count(longitude) FROM posts") == 0
    # Every kind of post is there, in plausible shares.
    shares = dict(
        db.execute(
            """
            SELECT CASE WHEN is_retweet = 'True' THEN 'retweet'
                        WHEN in_reply_to_tweetid IS NOT NULL THEN 'reply'
                        WHEN quoted_tweet_tweetid IS NOT NULL THEN 'quote' ELSE 'original' END,
                   count(*) / $n
            FROM posts GROUP BY 1
        """,
            {"n": POSTS},
        ).fetchall()
    )
    assert 0.35 < shares["retweet"] < 0.55 and shares["reply"] > 0.05 and shares["quote"] > 0.03


def test_same_seed_same_bytes_other_seed_differs(sim, tmp_path: Path) -> None:
    written: list[int] = []
    again = simulate(posts=POSTS, seed=SEED, out=tmp_path / "again", files=2, progress=written.append)
    assert sum(written) == POSTS and len(written) == 2
    for name in ["tweets-00000.csv.gz", "tweets-00001.csv.gz", "truth.csv", "simulation.json"]:
        assert (again.out / name).read_bytes() == (sim.out / name).read_bytes(), name
    other = simulate(posts=POSTS, seed=SEED + 1, out=tmp_path / "other", files=2)
    assert (other.out / "tweets-00000.csv.gz").read_bytes() != (sim.out / "tweets-00000.csv.gz").read_bytes()
    assert other.truth_path.read_bytes() != sim.truth_path.read_bytes()


def test_truth_covers_every_account_and_only_them(db) -> None:
    assert one(db, "SELECT count(*) FROM (SELECT DISTINCT userid FROM posts EXCEPT SELECT account_id FROM truth)") == 0
    assert one(db, "SELECT count(*) FROM (SELECT account_id FROM truth EXCEPT SELECT DISTINCT userid FROM posts)") == 0
    assert one(db, "SELECT count(*) - count(DISTINCT account_id) FROM truth") == 0
    assert one(db, "SELECT count(DISTINCT lower(handle)) FROM truth") == one(db, "SELECT count(*) FROM truth")
    mismatched = "SELECT count(*) FROM posts JOIN truth ON account_id = userid WHERE handle <> user_screen_name"
    assert one(db, mismatched) == 0


def test_every_style_is_planted(db) -> None:
    styles = dict(db.execute("SELECT style, count(*) FROM truth GROUP BY 1").fetchall())
    assert set(styles) == {"organic", "newsbot", *STYLES}
    assert (
        one(
            db,
            "SELECT count(*) FROM truth WHERE campaign = 'organic' AND style NOT IN ('organic', 'newsbot')",
        )
        == 0
    )
    sizes = [
        r[0] for r in db.execute("SELECT count(*) FROM truth WHERE campaign <> 'organic' GROUP BY campaign").fetchall()
    ]
    assert all(10 <= s <= 40 for s in sizes)
    assert sum(sizes) < 0.1 * one(db, "SELECT count(*) FROM truth")


def test_viral_cascades_of_organic_accounts(db) -> None:
    db.execute("""
        CREATE OR REPLACE TEMP TABLE fast_reach AS
        SELECT r.retweet_tweetid AS original, count(DISTINCT r.userid) AS accounts
        FROM p r JOIN p o ON o.tweetid = r.retweet_tweetid JOIN truth ON account_id = r.userid
        WHERE r.is_retweet = 'True' AND style = 'organic' AND r.ts - o.ts <= 30 * 60
        GROUP BY 1
    """)
    assert one(db, "SELECT max(accounts) FROM fast_reach") >= 100
    assert one(db, "SELECT count(*) FROM fast_reach WHERE accounts >= 100") >= 10
    # Heavy users join several cascades: the false positives a naive co-retweet detector makes.
    serial = """
        SELECT count(*) FROM (
            SELECT r.userid FROM p r JOIN fast_reach f ON f.original = r.retweet_tweetid
            WHERE f.accounts >= 100 GROUP BY 1 HAVING count(*) >= 3)
    """
    assert one(db, serial) >= 50


def test_repost_rings_retweet_the_same_posts_within_seconds(db) -> None:
    rings = db.execute("""
        SELECT campaign, count(*) AS posts, median(spread) AS median_spread FROM (
            SELECT campaign, retweet_tweetid, max(ts) - min(ts) AS spread
            FROM p JOIN truth ON account_id = userid
            WHERE style = 'repost_ring' AND is_retweet = 'True'
            GROUP BY ALL HAVING count(DISTINCT userid) >= 3)
        GROUP BY 1
    """).fetchall()
    assert rings
    for campaign, posts, median_spread in rings:
        assert posts >= 10, campaign
        assert median_spread <= 60, campaign


def test_copypaste_members_post_near_copies_within_minutes(db) -> None:
    rows = db.execute("""
        SELECT campaign, ts, tweet_text FROM p JOIN truth ON account_id = userid
        WHERE style = 'copypaste' AND is_retweet = 'False' ORDER BY campaign, ts
    """).fetchall()
    bursts: list[list[set[str]]] = []
    last = None
    for campaign, ts, text in rows:
        if last is None or campaign != last[0] or ts - last[1] > 600:
            bursts.append([])
        bursts[-1].append(set(re.findall(r"\b[a-z]+\b", text)))
        last = (campaign, ts)

    def similar(burst: list[set[str]]) -> bool:
        return all(len(burst[0] & w) / len(burst[0] | w) >= 0.6 for w in burst[1:])

    assert sum(similar(b) for b in bursts if len(b) >= 3) >= 10


def test_retweets_quote_their_original(db) -> None:
    rts = "SELECT count(*) FROM p WHERE is_retweet = 'True'"
    joined = """
        SELECT count(*) FROM p r JOIN p o ON o.tweetid = r.retweet_tweetid
        WHERE r.is_retweet = 'True' AND r.retweet_userid = o.userid
          AND r.tweet_text = 'RT @' || o.user_screen_name || ': ' || o.tweet_text
          AND r.hashtags = o.hashtags AND r.ts >= o.ts
    """
    assert one(db, rts) > POSTS // 3
    assert one(db, joined) == one(db, rts)


def test_replies_and_quotes_point_at_posts_in_the_collection(db) -> None:
    replies = """
        SELECT count(*) FROM p r LEFT JOIN p o ON o.tweetid = r.in_reply_to_tweetid
        WHERE r.in_reply_to_tweetid IS NOT NULL
          AND (o.userid IS DISTINCT FROM r.in_reply_to_userid
               OR NOT starts_with(r.tweet_text, '@' || o.user_screen_name || ' '))
    """
    assert one(db, replies) == 0
    quotes = """
        SELECT count(*) FROM p q LEFT JOIN p o ON o.tweetid = q.quoted_tweet_tweetid
        WHERE q.quoted_tweet_tweetid IS NOT NULL
          AND (o.tweetid IS NULL
               OR NOT contains(q.tweet_text, '/' || o.user_screen_name || '/status/' || o.tweetid))
    """
    assert one(db, quotes) == 0


def test_hashtags_urls_and_mentions_match_the_text(db) -> None:
    tags = """
        SELECT count(*) FROM p
        WHERE list_sort(regexp_extract_all(lower(tweet_text), '#(\\w+)', 1)) <> list_sort(tag_list)
           OR list_bool_or(list_transform(tag_list, lambda t: t <> lower(t)))
    """
    assert one(db, tags) == 0
    assert one(db, "SELECT count(*) FROM p WHERE len(tag_list) > 0") > POSTS // 10
    urls = """
        SELECT count(*) FROM p
        WHERE NOT list_bool_and(list_transform(url_list, lambda u: contains(tweet_text, u)))
    """
    assert one(db, urls) == 0
    mentions = """
        SELECT count(*) FROM (SELECT tweetid, tweet_text, unnest(mention_list) AS mentioned FROM p) m
        LEFT JOIN truth ON account_id = mentioned
        WHERE handle IS NULL OR NOT regexp_matches(tweet_text, '@' || handle || '\\b')
    """
    assert one(db, mentions) == 0


def test_partisan_and_community_hashtags_in_organic_posts(db) -> None:
    used = {
        r[0]
        for r in db.execute("""
            SELECT DISTINCT unnest(tag_list) FROM p JOIN truth ON account_id = userid WHERE style = 'organic'
        """).fetchall()
    }
    assert {"maga", "trump2016", "tcot", "blacklivesmatter", "feelthebern", "imwithher", "p2"} <= used


def test_newsbots_post_on_a_clock(db) -> None:
    gaps = db.execute("""
        SELECT userid, mode(gap), avg((gap = m)::int) FROM (
            SELECT userid, gap, mode(gap) OVER (PARTITION BY userid) AS m FROM (
                SELECT p.userid, round((ts - lag(ts) OVER (PARTITION BY p.userid ORDER BY ts)) / 60) AS gap
                FROM p JOIN truth ON account_id = userid WHERE style = 'newsbot'))
        WHERE gap IS NOT NULL GROUP BY 1
    """).fetchall()
    assert len(gaps) >= 3
    assert any(share > 0.3 for _, _, share in gaps)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"posts": 50_000, "accounts": 100}, "at least 200"),
        ({"posts": 5_000, "accounts": 1_000}, "10 per account"),
        ({"posts": 20_000, "files": 10}, "posts per file"),
    ],
)
def test_refuses_impossible_sizes(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        simulate(out=tmp_path, **kwargs)


def test_the_cli_writes_as_many_files_as_asked_and_refuses_too_many(tmp_path):
    from click.testing import CliRunner

    from trollscope.cli import main

    res = CliRunner().invoke(
        main, ["simulate", "--posts", "10000", "--files", "2", "-o", str(tmp_path / "s"), "--json"]
    )
    assert res.exit_code == 0, res.output
    assert sorted(Path(f).name for f in json.loads(res.stdout)["files"]) == [
        "tweets-00000.csv.gz",
        "tweets-00001.csv.gz",
    ]
    res = CliRunner().invoke(main, ["simulate", "--posts", "10000", "--files", "3", "-o", str(tmp_path / "t")])
    assert res.exit_code == 2 and "5,000" in res.output  # 3,333 posts a file is below the 5,000 a file needs
