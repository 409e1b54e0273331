"""Synthetic social-media collections that are hard for coordination detectors.

:func:`simulate` writes a collection in the layout of Twitter's information-operations archive
(``tweets-00000.csv.gz`` …), with ``truth.csv`` (which accounts are planted, in which campaign
and style) and ``simulation.json`` (every parameter). Its job is to expose the field's common
mistake of calling viral content coordination: the organic background is full of what a naive
co-action detector flags — hundreds of strangers retweeting the same post within seconds, heavy
users who do so in cascade after cascade, news bots that post the same headline and link on a
clock — while the planted operations are small and pad their coordinated activity with
organic-looking filler.

Proportions (every one is recorded in ``simulation.json``):

* Accounts: about posts/50 (at least 200); 20 topical communities of Zipf-like size, each with
  its own hashtags, vocabulary and link domains; 6 are partisan (3 left-, 3 right-coded, where
  #maga, #imwithher, #blacklivesmatter, #tcot, #p2 … live), and non-political accounts with a
  lean sometimes use their side's tags. Posts per account are 1 + a lognormal(σ=1.4) share.
  Local-time diurnal rhythm (US time zones mostly), 2016-01-01 to 2016-12-31 UTC.
* Posts: ~20 % are reactions in viral cascades, ~1.5 % come from news bots, ~6 % from planted
  accounts (with the outside posts they amplify); the organic rest is 46 % originals, 32 %
  retweets, 14 % replies, 8 % quotes (so ~40 % of all posts are retweets, as on Twitter in 2016).
* Cascades: an original by a popular account (chosen by followers) and 100+ reactions (median
  ~220, lognormal; 93 % retweets, 4 % replies, 3 % quotes) with exponential delays of 1.5–6
  minutes scale plus a 12 % tail of hours. Reactors favour the original's community and heavy
  users, so the same organic accounts co-retweet many viral posts within seconds of each other.
* News bots: 3–16 organic accounts posting headlines with links on a fixed interval; bots come
  in syndication groups whose followers copy or retweet the lead's headline after a fixed lag.
* Planted operations: ~3 % of accounts in campaigns of 10–40 accounts, at least one per style
  (so collections under ~1,700 accounts carry a higher share). A planted account writes about
  1.8× the organic mean, like an organic heavy user; about half of it is coordinated and the rest
  is filler drawn like organic posts. Coordinated actions fall within the campaign's active
  months; they and the filler follow the operators' office hours (UTC+3), except persona slots.
  Styles: ``repost_ring`` (members retweet the same ~50–100 posts seconds apart), ``copypaste``
  (a template text with swapped/replaced words, an added emoji or hashtag, within minutes),
  ``hashtag_push`` (bursts of posts carrying the campaign's hashtag set), ``link_push`` (the same
  new URL shared within minutes), ``persona`` (fixed daily posting slots, each account posting
  both left- and right-coded themes; weak coordination: retweeting each other and the same
  outside posts within ~10 minutes), ``rotating`` (each action a different pair of members posting
  the same new text seconds apart, every pair once: no pair ever repeats, the group co-acts on
  hundreds of items — what pairwise repetition floors miss).

Everything is drawn from numpy generators seeded by ``seed`` (and the chunk number), so the same
arguments give the same bytes. Each output file is one time slice of the year, generated and
written on its own, so memory stays bounded by the file size.
"""

from __future__ import annotations

import json
import zlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .engine import connect

__all__ = ["COLUMNS", "STYLES", "SimulationResult", "simulate"]

COLUMNS = (
    "tweetid", "userid", "user_display_name", "user_screen_name", "user_reported_location",
    "user_profile_description", "follower_count", "following_count", "account_creation_date",
    "account_language", "tweet_language", "tweet_text", "tweet_time", "tweet_client_name",
    "in_reply_to_userid", "in_reply_to_tweetid", "quoted_tweet_tweetid", "is_retweet",
    "retweet_userid", "retweet_tweetid", "latitude", "longitude", "quote_count", "reply_count",
    "like_count", "retweet_count", "hashtags", "urls", "user_mentions",
)  # fmt: skip
STYLES = ("repost_ring", "copypaste", "hashtag_push", "link_push", "persona", "rotating")

START = 1451606400  # 2016-01-01T00:00:00Z
END = 1483228800  # 2017-01-01T00:00:00Z
DAY = 86400
SPAN = END - START
ROWS_PER_FILE = 1_000_000
GZIP_LEVEL = 1
WRITERS = 2

POSTS_PER_ACCOUNT = 50
CASCADE_SHARE = 0.20
NEWSBOT_SHARE = 0.015
PLANTED_SHARE = 0.03
CAMPAIGN_SIZE = (10, 40)
PLANTED_VOLUME = 1.8  # planted account's posts, as a multiple of the organic mean
ORGANIC_KINDS = (0.46, 0.32, 0.14, 0.08)  # original, retweet, reply, quote
CASCADE_MIN = 100

ORIGINAL, RETWEET, REPLY, QUOTE = 0, 1, 2, 3
ORGANIC, NEWSBOT, PLANTED = 0, 1, 2
NO_LEAN, LEFT, RIGHT = 0, 1, 2
_TWITTER_EPOCH_MS = 1288834974657


def _w(text: str, sep: str | None = None) -> list[str]:
    return list(dict.fromkeys(text.split(sep)))


# --- vocabulary -------------------------------------------------------------------------------

GENERAL = _w(
    "the a to and of in is it you that for on my this with be have just so are not but at me we "
    "all your can like was they get what good out now if do about one up new people know time day "
    "today more love see will how great why when think really no would make want need still going "
    "back go right best from who got much even here ever via said first life never thing amazing "
    "happy every always week night year world watch real better work home way let look find feel "
    "tell little big could last oh lol yes okay wow omg thanks please check follow share read story "
    "video photo news morning tonight tomorrow weekend friends family school city state country "
    "money help free hard long true sure fun crazy funny sad angry proud game hope old fast next "
    "full open live black white red blue green start stop keep wait call ask talk try win lose pay "
    "play move hear show believe seriously literally actually finally again everyone nobody maybe "
    "someone"
)
LEFT_WORDS = _w(
    "equality justice healthcare climate immigrants refugees racism diversity women choice unions "
    "wage progressive voters reform inequality planet"
)
RIGHT_WORDS = _w(
    "border wall crooked benghazi emails patriots liberals obamacare veterans taxes freedom illegal "
    "media rigged establishment christians"
)
EMOJI = _w("😂 ❤️ 🔥 👍 🙏 😍 😡 💯 🇺🇸 👏 😢 🤔 🙄 💪 😎 🎉 👀 ✊")

# name, lean, hashtags (display case), topic words, link domains
COMMUNITIES = [
    ("maga", RIGHT, "MAGA Trump2016 TrumpTrain MakeAmericaGreatAgain AmericaFirst DrainTheSwamp "
     "CrookedHillary", "trump rally wall winning deplorables hillary crooked emails jobs america",
     "breitbart.com foxnews.com dailycaller.com infowars.com"),
    ("conservative", RIGHT, "tcot PJNET ccot WakeUpAmerica TeaParty NeverHillary",
     "constitution liberty taxes obamacare freedom government conservative faith values benghazi",
     "nationalreview.com theblaze.com townhall.com washingtontimes.com"),
    ("guns", RIGHT, "2A NRA SecondAmendment GunRights MolonLabe",
     "guns rifle carry ammo hunting permit rights range pistol concealed",
     "nraila.org bearingarms.com"),
    ("progressive", LEFT, "FeelTheBern BernieSanders p2 UniteBlue NotMeUs PoliticalRevolution",
     "bernie healthcare wallstreet students debt climate revolution corporate billionaires medicare",
     "commondreams.org thinkprogress.org motherjones.com salon.com"),
    ("democrats", LEFT, "ImWithHer Hillary2016 StrongerTogether NeverTrump LoveTrumpsHate DemsInPhilly",
     "hillary clinton kaine democrats vote women equality immigrants together obama",
     "huffingtonpost.com nytimes.com washingtonpost.com msnbc.com"),
    ("blm", LEFT, "BlackLivesMatter BLM StayWoke SayHerName PoliceBrutality BlackTwitter",
     "police justice protest racism community brutality killed shooting march woke",
     "theroot.com colorlines.com blavity.com"),
    ("politics", NO_LEAN, "politics Vote2016 Polls Congress SCOTUS",
     "senate congress poll campaign primary delegates votes voters convention candidate",
     "politico.com thehill.com cnn.com reuters.com"),
    ("nfl", NO_LEAN, "NFL FantasyFootball Patriots Cowboys Packers",
     "touchdown quarterback season coach defense draft playoffs sunday team fans",
     "espn.com nfl.com bleacherreport.com"),
    ("nba", NO_LEAN, "NBA NBAFinals Warriors Cavs DubNation",
     "dunk lebron curry finals court points rebounds playoffs buzzer mvp",
     "nba.com espn.com sbnation.com"),
    ("soccer", NO_LEAN, "EPL Euro2016 LFC MUFC USMNT",
     "goal match striker league penalty keeper derby transfer pitch manager",
     "goal.com skysports.com"),
    ("music", NO_LEAN, "NowPlaying NewMusic HipHop Beyonce Drake",
     "album song track concert tour lyrics beat playlist mixtape vocals",
     "pitchfork.com billboard.com soundcloud.com youtube.com"),
    ("kpop", NO_LEAN, "KPOP BTS EXO TWICE GOT7",
     "comeback fandom idol vlive mv stan bias concert dance chart",
     "soompi.com allkpop.com youtube.com"),
    ("tech", NO_LEAN, "tech iPhone7 Android AI startup",
     "app code developer software launch data cloud update device battery",
     "techcrunch.com theverge.com wired.com github.com"),
    ("gaming", NO_LEAN, "gaming PS4 XboxOne Overwatch Twitch",
     "stream level console gamer boss multiplayer patch ranked controller loot",
     "ign.com kotaku.com twitch.tv"),
    ("screen", NO_LEAN, "GameOfThrones StrangerThings TheWalkingDead Netflix Marvel",
     "episode finale movie trailer actor scene series binge spoilers cinema",
     "imdb.com variety.com netflix.com"),
    ("food", NO_LEAN, "foodie recipe vegan brunch foodporn",
     "dinner cooking pizza tacos coffee kitchen delicious bakery chicken dessert",
     "allrecipes.com foodnetwork.com instagram.com"),
    ("fitness", NO_LEAN, "fitness gym running yoga fitfam",
     "workout miles gains protein cardio training squat marathon healthy sweat",
     "runnersworld.com menshealth.com instagram.com"),
    ("faith", NO_LEAN, "faith jesus blessed prayer church",
     "god lord grace bless heaven worship bible amen pray sunday",
     "biblegateway.com crosswalk.com"),
    ("finance", NO_LEAN, "stocks investing bitcoin markets finance",
     "market dow earnings fed rates portfolio shares investors trading oil",
     "bloomberg.com cnbc.com wsj.com marketwatch.com"),
    ("travel", NO_LEAN, "travel photography nature sunset wanderlust",
     "beach trip flight mountains view hotel adventure road island lake",
     "instagram.com tripadvisor.com flickr.com"),
]  # fmt: skip
N_COMM = len(COMMUNITIES)
COMM_LEAN = np.array([c[1] for c in COMMUNITIES], dtype=np.int8)

# Hashtags every community uses; the dated ones trend only in their window (day of year, 0-based).
EVERGREEN_TAGS = _w("tbt love news breaking happy MondayMotivation FridayFeeling weekend TGIF photooftheday")
DATED_TAGS = [
    ("HappyNewYear", 0, 3), ("SuperBowl50", 31, 40), ("ValentinesDay", 41, 46), ("Grammys", 44, 47),
    ("Oscars", 53, 60), ("MarchMadness", 74, 96), ("Brexit", 166, 192), ("PokemonGO", 187, 258),
    ("Olympics", 206, 238), ("Rio2016", 213, 238), ("Election2016", 244, 315), ("DebateNight", 269, 294),
    ("HurricaneMatthew", 277, 286), ("WorldSeries", 298, 308), ("Halloween", 298, 306),
    ("ElectionNight", 312, 315), ("Thanksgiving", 325, 332), ("Christmas", 344, 361),
]  # fmt: skip

FIRST = _w(
    "James John Robert Michael William David Richard Joseph Thomas Charles Chris Daniel Matt Anthony "
    "Mark Steven Paul Andrew Josh Kevin Brian George Ryan Jason Justin Brandon Tyler Kyle Eric Jacob "
    "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Nancy Lisa Betty Ashley "
    "Emily Amanda Melissa Stephanie Rebecca Laura Megan Hannah Rachel Nicole Kayla Jenna Tiffany "
    "Brittany Crystal Jasmine Maria Carlos Jose Luis Sofia Aaliyah Darnell Tyrone Keisha Imani "
    "Deshawn Priya Raj Wei Mei Olivia Emma Ava Mia Noah Liam Ethan Logan"
)
LAST = _w(
    "Smith Johnson Williams Brown Jones Miller Davis Garcia Rodriguez Wilson Martinez Anderson Taylor "
    "Thomas Hernandez Moore Martin Jackson Thompson White Lopez Lee Gonzalez Harris Clark Lewis "
    "Robinson Walker Perez Hall Young Allen Sanchez Wright King Scott Green Baker Adams Nelson Hill "
    "Ramirez Campbell Mitchell Roberts Carter Phillips Evans Turner Torres Parker Collins Edwards "
    "Stewart Flores Morris Nguyen Murphy Rivera Cook Rogers Morgan Peterson Cooper Reed Bailey Bell "
    "Gomez Kelly Howard Ward Cox Diaz Richardson Wood Watson Brooks Bennett Gray James Reyes Cruz "
    "Hughes Price Myers Long Foster Sanders Ross Morales Powell Sullivan Russell Ortiz Jenkins Perry "
    "Butler Barnes Fisher Henderson Coleman Simmons Patterson Jordan Reynolds Hamilton Graham Kim "
    "Wallace Abrams"
)
HANDLE_WORDS = _w(
    "Real True Blue Red Lone Star Patriot Eagle Coffee Girl Guy Mom Dad Texas Jersey Cali Southern "
    "Country Urban Sunny Wild Lucky Happy Little Big Cosmic Pixel Ninja Tiger Wolf Bear Rose Lady "
    "King Queen Boss Gamer Viking Nerd Rebel Liberty Freedom Peace Soul Music Daily Dream"
)
LOCATIONS = _w(
    "New York, NY|Los Angeles, CA|Chicago, IL|Houston, TX|Phoenix, AZ|Philadelphia, PA|San Antonio, TX|"
    "San Diego, CA|Dallas, TX|Austin, TX|Jacksonville, FL|Columbus, OH|Charlotte, NC|Indianapolis, IN|"
    "Seattle, WA|Denver, CO|Boston, MA|Nashville, TN|Detroit, MI|Portland, OR|Las Vegas, NV|Atlanta, GA|"
    "Miami, FL|Minneapolis, MN|New Orleans, LA|Cleveland, OH|St. Louis, MO|Pittsburgh, PA|Baltimore, MD|"
    "Kansas City, MO|Texas, USA|Florida, USA|California, USA|Ohio, USA|USA|United States|NYC|"
    "Brooklyn, NY|London, England|Toronto, Ontario|Earth|the South|Midwest",
    "|",
)
BIO_NEUTRAL = _w(
    "Coffee lover|Dog mom|Cat person|Husband and father|Wife and mom|Views are my own|Sports fan|Teacher|"
    "Nurse|Gamer|Music is life|Living my best life|Foodie|Runner|Student|Photographer|Engineer|"
    "Small business owner|Traveler|Dreamer|Bookworm|Netflix addict|Work hard play hard|Army veteran|"
    "Just here for the memes|Writer|Designer|Entrepreneur|Be kind|Grateful",
    "|",
)
BIO_LEFT = _w(
    "Progressive|Feminist|#BlackLivesMatter|#FeelTheBern|Democrat|She/her|Love is love|Science is real|"
    "#ImWithHer|Union member|Proud liberal|Equality for all",
    "|",
)
BIO_RIGHT = _w(
    "Proud American|Christian|Conservative|#MAGA|2A supporter|Pro-life|Deplorable|God, family, country|"
    "#Trump2016|Veteran|Constitutionalist|America First",
    "|",
)
HEADLINE = (
    _w("Police|City council|Governor|State officials|Senate|School board|Fire crews|Storm|Stocks|"
       "Researchers|Mayor|Residents|Health officials|Lawmakers|Judge|Officials|Voters|Study", "|"),
    _w("approve|warn of|investigate|report|announce|reject|delay|unveil|face|respond to|debate|"
       "confirm|expect|plan|criticize", "|"),
    _w("new budget|road closures|tax plan|shooting|record heat|health alert|flood damage|hiring freeze|"
       "voting rules|power outages|school funding|housing plan|water crisis|layoffs|crime spike|"
       "bridge repairs|trade deal|drug bust|wildfire|traffic deaths", "|"),
    _w("in Chicago|near downtown|after vote|on Monday|this week|amid protests|in Texas|across the state|"
       "ahead of election|in Florida|overnight|in California|at city hall|in Ohio|for 2017", "|"),
)  # fmt: skip
NEWS_CITIES = _w("Chicago Houston Phoenix Dallas Denver Boston Seattle Atlanta Miami Detroit Portland Austin")
NEWS_WORDS = _w("Daily News|Herald|Headlines|Gazette|Tribune|Newswire|Courier|Dispatch", "|")
FAKE_SITE = (
    _w("truth patriot liberty freedom real eagle red blue people progress justice nation"),
    _w("news daily report wire post times today insider alert feed"),
    _w(".com .net .org .info .us"),
)
TAG_GAME = (
    _w("Hillary Obama Trump Liberals Media America Police Democrats Conservatives Millennials Cops Congress"),
    _w("Lies ShouldResign IsOver Wins Fails Matters Scandal Exposed Betrayed MustGo Cheated Rigged"),
    _w("Reasons Things Ways Why When If"),
)
CLIENTS = _w(
    "Twitter for iPhone|Twitter for Android|Twitter Web Client|TweetDeck|Twitter for iPad|Hootsuite|"
    "dlvr.it|IFTTT|twitterfeed|Buffer",
    "|",
)
CLIENT_P = {
    ORGANIC: [0.42, 0.30, 0.17, 0.03, 0.05, 0.03, 0, 0, 0, 0],
    PLANTED: [0.10, 0.10, 0.55, 0.25, 0, 0, 0, 0, 0, 0],
    NEWSBOT: [0, 0, 0, 0, 0, 0.2, 0.3, 0.2, 0.15, 0.15],
}
# Posting intensity by local hour: people (night trough, evening peak) and an office (9-18).
CURVES = np.array(
    [
        [1.6, 1.0, 0.6, 0.4, 0.3, 0.4, 0.8, 1.6, 2.4, 2.8, 3.0, 3.2,
         3.4, 3.3, 3.2, 3.2, 3.3, 3.5, 3.8, 4.2, 4.4, 4.2, 3.6, 2.6],
        [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.6, 2.0, 3.5, 3.8, 3.8,
         3.0, 3.6, 3.8, 3.8, 3.5, 3.0, 1.5, 0.6, 0.3, 0.2, 0.1, 0.1],
    ]
)  # fmt: skip
CURVES = CURVES / CURVES.max(axis=1, keepdims=True)
PEOPLE, OFFICE = 0, 1
UTC_OFFSETS = (np.array([-5, -6, -7, -8, 0, 1]) * 3600, [0.42, 0.25, 0.08, 0.15, 0.06, 0.04])
OPERATOR_OFFSET = 3 * 3600  # Moscow time


def _vocab() -> tuple[list[str], np.ndarray, np.ndarray, list[int]]:
    """All body tokens, and per topic (communities, then left, right) a padded matrix of token ids."""
    tokens = list(GENERAL)
    topics: list[list[int]] = []
    for _, _, _, words, _ in COMMUNITIES:
        topics.append(list(range(len(tokens), len(tokens) + len(words.split()))))
        tokens += words.split()
    for lean, extra in ((LEFT, LEFT_WORDS), (RIGHT, RIGHT_WORDS)):
        ids = [i for c, comm in zip(topics[:N_COMM], COMMUNITIES, strict=True) if comm[1] == lean for i in c]
        topics.append(ids + list(range(len(tokens), len(tokens) + len(extra))))
        tokens += extra
    emoji = list(range(len(tokens), len(tokens) + len(EMOJI)))
    tokens += EMOJI
    mat, _ = _padded(topics)
    return tokens, mat, (mat >= 0).sum(axis=1), emoji


def _padded(rows: list[list[int]], weights: list[list[float]] | None = None) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(r) for r in rows)
    mat = np.full((len(rows), width), -1, dtype=np.int64)
    w = np.zeros((len(rows), width))
    for i, r in enumerate(rows):
        mat[i, : len(r)] = r
        w[i, : len(r)] = weights[i] if weights else 1.0
    return mat, w


TOKENS, TOPIC_MAT, TOPIC_LEN, EMOJI_IDS = _vocab()
_TOKENS = pa.array(TOKENS, type=pa.string())
TOPIC_LEFT, TOPIC_RIGHT = N_COMM, N_COMM + 1
_GENERAL_CUM = np.cumsum(1.0 / (np.arange(len(GENERAL)) + 3.0))


# --- small vectorised helpers -----------------------------------------------------------------


def _offsets(lengths: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)


def _lists(mat: np.ndarray) -> pa.ListArray:
    """A padded (rows, k) matrix with -1 for 'none' as an Arrow list of int32 per row."""
    mat = mat[:, None] if mat.ndim == 1 else mat
    keep = mat >= 0
    return pa.ListArray.from_arrays(pa.array(_offsets(keep.sum(axis=1))), pa.array(mat[keep], type=pa.int32()))


def _empty_lists(n: int) -> pa.ListArray:
    return pa.ListArray.from_arrays(pa.array(np.zeros(n + 1, np.int32)), pa.array([], type=pa.int32()))


def _join_tokens(tokens: np.ndarray, lengths: np.ndarray, vocab: pa.Array, sep: str = " ") -> pa.Array:
    words = vocab.take(pa.array(tokens, type=pa.int64()))
    return pc.binary_join(pa.ListArray.from_arrays(pa.array(_offsets(lengths)), words), sep)


def _cat(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _join_present(parts: list[pa.Array], sep: str) -> pa.Array:
    """Join with ``sep``, leaving out nulls (pyarrow's own null_handling='skip' drops all-null rows)."""
    padded = [pc.if_else(pc.is_null(p), "", _cat(sep, p)) for p in parts]
    return pc.utf8_slice_codeunits(_cat(*padded), len(sep))


def _nullify_empty(a: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(a, ""), pa.scalar(None, pa.string()), a)


def _strings(values: list[str]) -> pa.Array:
    return pa.array(values, type=pa.string())


def _pick(rng: np.random.Generator, values: pa.Array, n: int) -> pa.Array:
    return values.take(pa.array(rng.integers(0, len(values), n)))


def _weighted(rng: np.random.Generator, cum: np.ndarray, n: int) -> np.ndarray:
    return np.minimum(np.searchsorted(cum, rng.random(n) * cum[-1], side="right"), len(cum) - 1)


def _masked(values: np.ndarray, present: np.ndarray) -> pa.Array:
    return pa.array(values, mask=~present, type=pa.int64())


@dataclass
class _Grouped:
    """Weighted sampling of items, preferring those in a given group (community)."""

    items: np.ndarray
    cum: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def build(cls, items: np.ndarray, groups: np.ndarray, weights: np.ndarray, n_groups: int) -> _Grouped:
        order = np.lexsort((items, groups))
        cum = np.cumsum(weights[order])
        bounds = np.searchsorted(groups[order], np.arange(n_groups + 1))
        cum0 = np.concatenate([[0.0], cum])
        return cls(items[order], cum, cum0[bounds[:-1]], cum0[bounds[1:]])

    def sample(self, rng: np.random.Generator, group: np.ndarray, p_in_group: float) -> np.ndarray:
        lo, hi = self.lo[group], self.hi[group]
        anywhere = (rng.random(len(group)) >= p_in_group) | (hi <= lo)
        lo = np.where(anywhere, 0.0, lo)
        hi = np.where(anywhere, self.cum[-1], hi)
        u = lo + rng.random(len(group)) * (hi - lo)
        return self.items[np.minimum(np.searchsorted(self.cum, u, side="right"), len(self.cum) - 1)]


def _pick_distinct(
    rng: np.random.Generator, pools: np.ndarray, weights: np.ndarray, pool: np.ndarray, k: np.ndarray
) -> np.ndarray:
    """Up to k distinct ids per row from that row's pool, weighted (exponential race); -1 pads."""
    kmax = int(k.max()) if len(k) else 0
    if kmax == 0:
        return np.full((len(pool), 0), -1, dtype=np.int64)
    cand = pools[pool]
    keys = rng.exponential(size=cand.shape) / np.where(cand >= 0, weights[pool], 1.0)
    keys[cand < 0] = np.inf
    picked = np.take_along_axis(cand, np.argsort(keys, axis=1)[:, :kmax], axis=1)
    picked[np.arange(kmax)[None, :] >= k[:, None]] = -1
    return picked


def _diurnal_times(rng: np.random.Generator, w0: int, w1: int, offset: np.ndarray, curve: np.ndarray) -> np.ndarray:
    """Times in [w0, w1) following a local-hour rhythm, by rejection (a loop over rounds, not rows)."""
    t = np.empty(len(offset), dtype=np.int64)
    todo = np.arange(len(offset))
    while todo.size:
        cand = w0 + (rng.random(todo.size) * (w1 - w0)).astype(np.int64)
        hour = ((cand + offset[todo]) // 3600) % 24
        ok = rng.random(todo.size) < CURVES[curve[todo], hour]
        t[todo[ok]] = cand[ok]
        todo = todo[~ok]
    return t


def _snowflake(t: np.ndarray, serial: np.ndarray) -> np.ndarray:
    """Twitter-style ids, time-ordered; unique for distinct serials below 4e9 (the serial fills the
    low 22 bits and, above those, the milliseconds)."""
    ms = t * 1000 + (serial >> 22) % 1000
    return ((ms - _TWITTER_EPOCH_MS) << 22) | (serial & 0x3FFFFF)


# --- the world: accounts, campaigns, news bots ------------------------------------------------


@dataclass
class _Campaign:
    name: str
    style: str
    members: np.ndarray
    side: int  # LEFT, RIGHT, or NO_LEAN for both
    start: int
    end: int
    part: float  # chance a member joins an action
    scale: float  # seconds: spread of members' timing in one action
    lag: float  # seconds: delay of the first reaction
    actions: np.ndarray  # action times
    filler: np.ndarray  # expected filler posts per member over the year
    tags: list[int] = field(default_factory=list)
    domain: str = ""
    hubs: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    slots: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int64))  # minute of day
    run_start: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # day index
    run_days: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    mix: np.ndarray = field(default_factory=lambda: np.zeros(0))  # persona: share of left-coded posts
    pool: int = -1  # row of the world's tag pools holding the campaign's own hashtags
    pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))  # rotating: the pair of each action

    def summary(self, tag_names: list[str]) -> dict:
        return {
            "campaign": self.name,
            "style": self.style,
            "accounts": len(self.members),
            "side": {LEFT: "left", RIGHT: "right", NO_LEAN: "both"}[self.side],
            "start": _iso(self.start),
            "end": _iso(self.end),
            "actions": len(self.actions),
            "hashtags": [tag_names[t] for t in self.tags],
            "participation": round(self.part, 3),
            "spread_seconds": round(self.scale, 1),
            "domain": self.domain or None,
        }


@dataclass
class _World:
    seed: int
    posts: int
    files: int
    n: int  # accounts
    role: np.ndarray
    campaign: np.ndarray
    community: np.ndarray
    lean: np.ndarray
    activity: np.ndarray
    followers: np.ndarray
    following: np.ndarray
    userid: np.ndarray
    offset: np.ndarray
    curve: np.ndarray
    client: np.ndarray
    first_chunk: np.ndarray
    handle: pa.Array
    name: pa.Array
    location: pa.Array
    description: pa.Array
    created_day: np.ndarray  # days since 1970-01-01
    tag_names: list[str]
    tag_hash: pa.Array  # "#Display" per tag id
    tag_lower: pa.Array
    tag_pools: np.ndarray
    tag_weights: np.ndarray
    day_tags: np.ndarray
    day_offsets: np.ndarray
    campaigns: list[_Campaign]
    bots: np.ndarray
    bot_domain: pa.Array
    bot_interval: np.ndarray
    bot_phase: np.ndarray
    bot_lead: np.ndarray  # index into bots of the lead, -1 for leads
    bot_lag: np.ndarray
    bot_copies: np.ndarray  # followers: True copies the headline, False retweets it
    authors_cum: np.ndarray = field(init=False)
    organic: np.ndarray = field(init=False)
    reactors: _Grouped = field(init=False)
    popular: dict[int, np.ndarray] = field(init=False)
    popular_cum: dict[int, np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        self.organic = np.flatnonzero(self.role == ORGANIC)
        self.authors_cum = np.cumsum(self.activity[self.organic])
        self.reactors = _Grouped.build(
            self.organic, self.community[self.organic], self.activity[self.organic] ** 0.7, N_COMM
        )
        self.popular, self.popular_cum = {}, {}
        for lean in (NO_LEAN, LEFT, RIGHT):
            who = self.organic if lean == NO_LEAN else self.organic[self.lean[self.organic] == lean]
            who = who if len(who) else self.organic
            self.popular[lean] = who
            self.popular_cum[lean] = np.cumsum(self.followers[who].astype(float))

    @property
    def at_handle(self) -> pa.Array:
        return _cat("@", self.handle)

    @property
    def userid_str(self) -> pa.Array:
        return pc.cast(pa.array(self.userid), pa.string())

    def popular_accounts(self, rng: np.random.Generator, lean: np.ndarray | int, n: int) -> np.ndarray:
        lean = np.broadcast_to(np.asarray(lean), (n,))
        out = np.empty(n, dtype=np.int64)
        for side in (NO_LEAN, LEFT, RIGHT):
            rows = np.flatnonzero(lean == side)
            out[rows] = self.popular[side][_weighted(rng, self.popular_cum[side], len(rows))]
        return out


def _iso(t: int) -> str:
    return str(np.datetime64(int(t), "s")) + "Z"


def _names(rng: np.random.Generator, n: int) -> tuple[pa.Array, pa.Array]:
    """Screen names (≤ 15 characters) and display names in the shapes people choose."""
    first, last = _pick(rng, _strings(FIRST), n), _pick(rng, _strings(LAST), n)
    w1, w2 = _pick(rng, _strings(HANDLE_WORDS), n), _pick(rng, _strings(HANDLE_WORDS), n)
    digits = pc.cast(pa.array(rng.integers(1, 9999, n)), pa.string())
    two = pc.cast(pa.array(rng.integers(10, 100, n)), pa.string())
    shape = pa.array(rng.choice(5, n, p=[0.25, 0.2, 0.2, 0.15, 0.2]).astype(np.int8))
    handle = pc.choose(
        shape,
        _cat(first, last),
        _cat(pc.utf8_lower(first), "_", pc.utf8_lower(last)),
        _cat(first, last, two),
        _cat(w1, "_", w2),
        _cat(pc.utf8_lower(first), digits),
    )
    name = pc.choose(shape, *([_cat(first, " ", last)] * 3), _cat(w1, " ", w2), _cat(first, " ", last))
    return pc.utf8_slice_codeunits(handle, 0, 15), name


def _unique_handles(rng: np.random.Generator, handle: pa.Array) -> pa.Array:
    """Screen names are unique regardless of case: suffix digits to later duplicates until they are."""
    while True:
        codes = pc.dictionary_encode(pc.utf8_lower(handle)).indices.to_numpy()
        dup = np.ones(len(codes), dtype=bool)
        dup[np.unique(codes, return_index=True)[1]] = False
        if not dup.any():
            return handle
        suffix = pc.cast(pa.array(rng.integers(100, 10000, len(codes))), pa.string())
        handle = pc.if_else(pa.array(dup), _cat(pc.utf8_slice_codeunits(handle, 0, 11), suffix), handle)


def _bios(rng: np.random.Generator, lean: np.ndarray) -> pa.Array:
    n = len(lean)
    parts = []
    for i in range(3):
        neutral = _pick(rng, _strings(BIO_NEUTRAL), n)
        left, right = _pick(rng, _strings(BIO_LEFT), n), _pick(rng, _strings(BIO_RIGHT), n)
        sided = pc.choose(pa.array(lean), neutral, left, right)
        frag = pc.if_else(pa.array(rng.random(n) < 0.6), sided, neutral)
        parts.append(pc.if_else(pa.array(rng.random(n) < (0.9, 0.6, 0.3)[i]), frag, pa.scalar(None, pa.string())))
    bio = _nullify_empty(_join_present(parts, " | "))
    return pc.if_else(pa.array(rng.random(n) < 0.2), pa.scalar(None, pa.string()), bio)


def _userids(rng: np.random.Generator, created: np.ndarray) -> np.ndarray:
    """Sequential ids before November 2013, snowflakes after, as Twitter assigned them."""
    cutoff = 1383264000
    ids = np.empty(len(created), dtype=np.int64)
    old = np.flatnonzero(created < cutoff)
    order = old[np.argsort(created[old], kind="stable")]
    frac = (created[order] - 1167609600) / (cutoff - 1167609600)
    ids[order] = (5_000_000 + frac * 2_100_000_000).astype(np.int64) + np.arange(len(order))
    new = np.flatnonzero(created >= cutoff)
    ids[new] = _snowflake(created[new], new.astype(np.int64))
    return ids


def _build_world(posts: int, n: int, seed: int, files: int) -> _World:
    rng = np.random.default_rng([seed, 0])
    mean_posts = posts / n
    role = np.zeros(n, dtype=np.int8)
    campaign = np.full(n, -1, dtype=np.int32)
    community = rng.choice(N_COMM, n, p=_zipf(N_COMM, 0.8, rng)).astype(np.int64)
    lean = COMM_LEAN[community].copy()
    drift = rng.random(n)
    lean[(lean == NO_LEAN) & (drift < 0.2)] = LEFT
    lean[(lean == NO_LEAN) & (drift > 0.8)] = RIGHT
    activity = rng.lognormal(0.0, 1.4, n)
    followers = rng.lognormal(5.3, 1.6, n) * activity**0.4
    followers[rng.random(n) < 0.005] *= rng.uniform(20, 500)
    following = rng.lognormal(5.7, 1.0, n)
    offset = rng.choice(UTC_OFFSETS[0], n, p=UTC_OFFSETS[1])
    curve = np.full(n, PEOPLE, dtype=np.int64)
    years = rng.choice(np.arange(2007, 2016), n, p=_normed([1, 4, 8, 9, 9, 8, 7, 7, 6]))
    new_year = (years - 1970).astype("datetime64[Y]").astype("datetime64[s]").astype(np.int64)
    created = new_year + rng.integers(0, 365 * DAY, n)
    handle, name = _names(rng, n)
    location = pc.if_else(
        pa.array(rng.random(n) < 0.35), pa.scalar(None, pa.string()), _pick(rng, _strings(LOCATIONS), n)
    )

    tags = [t for c in COMMUNITIES for t in c[2].split()] + EVERGREEN_TAGS + [d[0] for d in DATED_TAGS]
    seen = {t.lower() for t in tags}
    assert len(seen) == len(tags), "static hashtags must be distinct"
    pools: list[list[int]] = []
    pool_w: list[list[float]] = []
    at = 0
    for c in COMMUNITIES:
        k = len(c[2].split())
        pools.append(list(range(at, at + k)))
        pool_w.append(list(1.0 / np.arange(1, k + 1) ** 0.7))
        at += k
    for side in (LEFT, RIGHT):
        ids = [i for p, c in zip(pools[:N_COMM], COMMUNITIES, strict=True) if c[1] == side for i in p]
        pools.append(ids)
        pool_w.append([1.0] * len(ids))
    evergreen = np.arange(at, at + len(EVERGREEN_TAGS))
    day_lists = [list(evergreen) * 2 for _ in range(366)]  # evergreen tags dominate every day
    for j, (_, d0, d1) in enumerate(DATED_TAGS):
        for d in range(d0, d1):
            day_lists[d] += [at + len(EVERGREEN_TAGS) + j] * 6

    # News bots: organic accounts on a clock, in syndication groups (first of a group is the lead).
    n_bots = int(np.clip(n // 1500, 3, 16))
    bots = rng.choice(n, n_bots, replace=False)
    role[bots] = NEWSBOT
    masthead = rng.choice(len(NEWS_CITIES) * len(NEWS_WORDS), n_bots, replace=False)
    city = _strings(NEWS_CITIES).take(pa.array(masthead // len(NEWS_WORDS)))
    paper = _strings(NEWS_WORDS).take(pa.array(masthead % len(NEWS_WORDS)))
    squashed = _cat(city, pc.replace_substring(paper, " ", ""))
    handle = _scatter(handle, bots, pc.utf8_slice_codeunits(squashed, 0, 15))
    name = _scatter(name, bots, _cat(city, " ", paper))
    location = _scatter(location, bots, _cat(city, ", USA"))
    bot_bio = _cat("Latest headlines from ", city, ". Automated feed.")
    bot_domain = _cat(pc.utf8_lower(squashed), ".com")
    desks = [i for i, c in enumerate(COMMUNITIES) if c[0] in ("politics", "nfl", "finance", "tech")]
    community[bots] = rng.choice(desks, n_bots)
    followers[bots] = rng.lognormal(9.5, 1.0, n_bots)
    group = np.sort(rng.integers(0, max(1, n_bots // 3), n_bots))
    lead_of_group = np.searchsorted(group, group)
    bot_lead = np.where(lead_of_group == np.arange(n_bots), -1, lead_of_group)
    bot_lag = rng.integers(45, 240, n_bots)
    bot_copies = rng.random(n_bots) < 0.6
    own_posts = NEWSBOT_SHARE * posts / (n_bots + 0.7 * (bot_lead >= 0).sum())
    bot_interval = np.maximum(300, (SPAN / np.maximum(own_posts, 1) * rng.uniform(0.6, 1.4, n_bots)) // 60 * 60)
    bot_phase = START + rng.integers(0, 3600, n_bots)

    # Planted campaigns.
    free = np.setdiff1d(np.arange(n), bots)
    sizes: list[int] = []
    lo, hi = CAMPAIGN_SIZE
    hi = int(np.clip(PLANTED_SHARE * n / 3, lo, hi))  # small collections: small campaigns
    while sum(sizes) < PLANTED_SHARE * n or len(sizes) < len(STYLES):
        sizes.append(round(np.exp(rng.uniform(np.log(lo), np.log(hi)))))
    if sum(sizes) > len(free) // 2:
        raise ValueError(f"{n} accounts are too few to hide {len(sizes)} campaigns; use at least 200")
    styles = list(rng.permutation(STYLES)) + list(
        rng.choice(STYLES, len(sizes) - len(STYLES), p=[0.15, 0.15, 0.15, 0.15, 0.25, 0.15])
    )
    members_all = rng.choice(free, sum(sizes), replace=False)
    campaigns: list[_Campaign] = []
    tag_names = list(tags)
    cuts = np.cumsum([0, *sizes])
    for i, (size, style) in enumerate(zip(sizes, styles, strict=True)):
        members = np.sort(members_all[cuts[i] : cuts[i + 1]])
        side = NO_LEAN if style == "persona" else int(rng.choice([LEFT, RIGHT]))
        role[members] = PLANTED
        campaign[members] = i
        partisan = np.flatnonzero(COMM_LEAN)
        community[members] = rng.choice(partisan[COMM_LEAN[partisan] == side] if side else partisan, size)
        lean[members] = side if side else COMM_LEAN[community[members]]
        followers[members] = rng.lognormal(6.5, 1.2, size)
        activity[members] = 0.0
        curve[members] = OFFICE
        offset[members] = OPERATOR_OFFSET
        if style == "persona":  # aged accounts, bought or grown over years
            created[members] = 1370044800 + rng.integers(0, 730 * DAY, size)
        else:  # registered in one batch
            created[members] = 1388534400 + rng.integers(0, 700 * DAY) + rng.integers(0, 20 * DAY, size)
        start = START + int(rng.uniform(0, 0.6) * SPAN)
        end = min(END, start + int(rng.uniform(0.25, 0.6) * SPAN))
        volume = mean_posts * rng.lognormal(np.log(PLANTED_VOLUME), 0.4, size)
        camp = _Campaign(
            name=f"op{i + 1}",
            style=style,
            members=members,
            side=side,
            start=start,
            end=end,
            part=rng.uniform(0.6, 0.9),
            scale=rng.uniform(2, 8),
            lag=rng.uniform(30, 1200),
            actions=np.zeros(0, np.int64),
            filler=volume * 0.5,
        )
        per_action = camp.part * size
        if style == "repost_ring":
            camp.hubs = rng.choice(members, rng.integers(1, 3), replace=False)
        elif style == "copypaste":
            camp.scale = rng.uniform(40, 150)
        elif style == "hashtag_push":
            camp.scale = rng.uniform(600, 1800)  # burst length
            per_action *= 2  # posts per member per burst
        elif style == "link_push":
            camp.scale = rng.uniform(60, 240)
            camp.domain = _fake_site(rng, {c.domain for c in campaigns})
        elif style == "persona":
            camp.part, camp.scale = rng.uniform(0.3, 0.5), 180.0
            per_action = camp.part * size * 5  # co-retweets are a tenth of a persona's posts
            k = rng.integers(2, 6, size)
            slots = rng.integers(12 * 60, 28 * 60, (size, 5)) % (24 * 60)
            camp.slots = np.where(np.arange(5)[None, :] < k[:, None], slots, -1)
            span_days = (end - start) // DAY
            camp.run_days = np.clip(np.round(0.5 * volume / (k * 0.6)), 5, span_days).astype(np.int64)
            camp.run_start = (start - START) // DAY + (rng.random(size) * (span_days - camp.run_days + 1)).astype(
                np.int64
            )
            camp.mix = rng.uniform(0.2, 0.8, size)
            camp.filler = volume * 0.2
        n_actions = max(8, round(0.5 * volume.sum() / per_action))
        if style == "rotating":  # every pair of members once, in random order, seconds apart
            a, b = np.triu_indices(size, 1)
            camp.pairs = members[np.column_stack([a, b])[rng.permutation(len(a))]]
            n_actions, camp.scale = len(a), rng.uniform(5, 30)
        camp.actions = np.sort(
            _diurnal_times(rng, start, end, np.full(n_actions, OPERATOR_OFFSET), np.full(n_actions, OFFICE))
        )
        if style != "persona":
            camp.tags = _campaign_tags(rng, tag_names, 2 if style == "hashtag_push" else int(rng.integers(1, 3)))
        if style == "hashtag_push":  # the pushed set: own tags plus a trending partisan one
            camp.tags += list(rng.choice(pools[N_COMM + (side - 1)], 1))
        campaigns.append(camp)

    for camp in campaigns:
        own = [t for t in camp.tags if t >= len(tags)]
        camp.pool = len(pools)
        pools.append(own)  # the campaign's own tags
        pool_w.append([1.0] * len(pools[-1]))
    tag_pools, tag_weights = _padded(pools, pool_w)
    day_tags = np.array([t for d in day_lists for t in d], dtype=np.int64)
    day_offsets = np.concatenate([[0], np.cumsum([len(d) for d in day_lists])])

    handle = _unique_handles(rng, handle)
    return _World(
        seed=seed,
        posts=posts,
        files=files,
        n=n,
        role=role,
        campaign=campaign,
        community=community,
        lean=lean,
        activity=activity,
        followers=followers.astype(np.int64),
        following=following.astype(np.int64),
        userid=_userids(rng, created),
        offset=offset,
        curve=curve,
        client=_clients(rng, role),
        first_chunk=rng.integers(0, files, n),
        handle=handle,
        name=name,
        location=location,
        description=_scatter(_bios(rng, lean), bots, bot_bio),
        created_day=(created // DAY).astype(np.int32),
        tag_names=tag_names,
        tag_hash=_cat("#", _strings(tag_names)),
        tag_lower=pc.utf8_lower(_strings(tag_names)),
        tag_pools=tag_pools,
        tag_weights=tag_weights,
        day_tags=day_tags,
        day_offsets=day_offsets,
        campaigns=campaigns,
        bots=bots,
        bot_domain=bot_domain,
        bot_interval=bot_interval.astype(np.int64),
        bot_phase=bot_phase,
        bot_lead=bot_lead,
        bot_lag=bot_lag,
        bot_copies=bot_copies,
    )


def _zipf(k: int, s: float, rng: np.random.Generator) -> np.ndarray:
    return _normed(rng.permutation(1.0 / np.arange(1, k + 1) ** s))


def _normed(w: np.ndarray | list[float]) -> np.ndarray:
    w = np.asarray(w, dtype=float)
    return w / w.sum()


def _scatter(values: pa.Array, rows: np.ndarray, new: pa.Array) -> pa.Array:
    """``values`` with ``values[rows] = new``."""
    src = np.arange(len(values))
    src[rows] = len(values) + np.arange(len(rows))
    return pa.concat_arrays([values, new.cast(values.type)]).take(pa.array(src))


def _clients(rng: np.random.Generator, role: np.ndarray) -> np.ndarray:
    client = np.empty(len(role), dtype=np.int64)
    for r, p in CLIENT_P.items():
        rows = np.flatnonzero(role == r)
        client[rows] = rng.choice(len(CLIENTS), len(rows), p=p)
    return client


def _campaign_tags(rng: np.random.Generator, names: list[str], k: int) -> list[int]:
    """New hashtags in the shape of IRA hashtag games (#ObamaMustGo, #ReasonsHillaryLies)."""
    taken = {t.lower() for t in names}
    out = []
    while len(out) < k:
        who, what, lead = (str(rng.choice(part)) for part in TAG_GAME)
        tag = (lead if rng.random() < 0.3 else "") + who + what
        if tag.lower() not in taken:
            taken.add(tag.lower())
            names.append(tag)
            out.append(len(names) - 1)
    return out


def _fake_site(rng: np.random.Generator, taken: set[str]) -> str:
    while True:
        site = "".join(str(rng.choice(part)) for part in FAKE_SITE)
        if site not in taken:
            return site


# --- posts ------------------------------------------------------------------------------------


@dataclass
class _Piece:
    """Posts of one source within a chunk; ``target`` indexes rows of the same piece."""

    t: np.ndarray
    author: np.ndarray
    kind: np.ndarray
    target: np.ndarray
    body: pa.Array  # null for retweets: their text is the target's
    tags: pa.Array  # list<int32> of tag ids
    mentions: pa.Array  # list<int32> of account indices
    url: pa.Array

    @classmethod
    def block(
        cls,
        t: np.ndarray,
        author: np.ndarray,
        kind: int,
        target: np.ndarray | None = None,
        body: pa.Array | None = None,
        tags: np.ndarray | None = None,
        mentions: np.ndarray | None = None,
        url: pa.Array | None = None,
    ) -> _Piece:
        n = len(t)
        return cls(
            t=t.astype(np.int64),
            author=author.astype(np.int64),
            kind=np.full(n, kind, dtype=np.int8),
            target=np.full(n, -1, dtype=np.int64) if target is None else target.astype(np.int64),
            body=pa.nulls(n, pa.string()) if body is None else body,
            tags=_empty_lists(n) if tags is None else _lists(tags),
            mentions=_empty_lists(n) if mentions is None else _lists(mentions),
            url=pa.nulls(n, pa.string()) if url is None else url,
        )

    def __len__(self) -> int:
        return len(self.t)


def _concat(pieces: list[_Piece], shift: bool) -> _Piece:
    """Stack pieces; with ``shift`` each piece's targets are moved to its new rows."""
    base = np.cumsum([0] + [len(p) for p in pieces[:-1]])
    return _Piece(
        t=np.concatenate([p.t for p in pieces]),
        author=np.concatenate([p.author for p in pieces]),
        kind=np.concatenate([p.kind for p in pieces]),
        target=np.concatenate(
            [np.where(p.target >= 0, p.target + (b if shift else 0), -1) for p, b in zip(pieces, base, strict=True)]
        ),
        body=pa.concat_arrays([p.body for p in pieces]),
        tags=pa.concat_arrays([p.tags for p in pieces]),
        mentions=pa.concat_arrays([p.mentions for p in pieces]),
        url=pa.concat_arrays([p.url for p in pieces]),
    )


def _tokens(rng: np.random.Generator, topic: np.ndarray, lengths: np.ndarray, share: float) -> np.ndarray:
    """Flat token ids: common words (Zipf) mixed with each row's topic vocabulary."""
    t = np.repeat(topic, lengths)
    general = np.minimum(np.searchsorted(_GENERAL_CUM, rng.random(len(t)) * _GENERAL_CUM[-1]), len(GENERAL) - 1)
    topical = TOPIC_MAT[t, (rng.random(len(t)) * TOPIC_LEN[t]).astype(np.int64)]
    return np.where(rng.random(len(t)) < share, topical, general)


def _body(rng: np.random.Generator, topic: np.ndarray, lo: int, hi: int, share: float, emoji: float = 0.1) -> pa.Array:
    """Word-bag text of lo..hi words on the row's topic, sometimes ending in an emoji."""
    has_emoji = rng.random(len(topic)) < emoji
    lengths = rng.integers(lo, hi + 1, len(topic)) + has_emoji
    tokens = _tokens(rng, topic, lengths, share)
    tokens[(_offsets(lengths)[1:] - 1)[has_emoji]] = rng.choice(EMOJI_IDS, int(has_emoji.sum()))
    return _join_tokens(tokens, lengths, _TOKENS)


_DOMAINS = _strings([d for c in COMMUNITIES for d in c[4].split()])
_DOMAIN_LEN = np.array([len(c[4].split()) for c in COMMUNITIES])
_DOMAIN_OFF = _offsets(_DOMAIN_LEN)[:-1]


def _urls(rng: np.random.Generator, domain: pa.Array, t: np.ndarray) -> pa.Array:
    """Article-shaped links: https://domain/yyyy/mm/dd/some-words-123456."""
    n = len(t)
    lengths = rng.integers(3, 6, n)
    slug = _join_tokens(_tokens(rng, np.zeros(n, np.int64), lengths, 0.0), lengths, _TOKENS, "-")
    date = pc.strftime(pa.array(t.astype("datetime64[s]")), format="%Y/%m/%d")
    number = pc.cast(pa.array(rng.integers(10_000, 1_000_000, n)), pa.string())
    return _cat("https://", domain, "/", date, "/", slug, "-", number)


def _community_urls(rng: np.random.Generator, community: np.ndarray, t: np.ndarray, p: float) -> pa.Array:
    """A link to one of the community's domains on a share p of rows, null elsewhere."""
    rows = np.flatnonzero(rng.random(len(t)) < p)
    c = community[rows]
    domain = _DOMAINS.take(pa.array(_DOMAIN_OFF[c] + (rng.random(len(rows)) * _DOMAIN_LEN[c]).astype(np.int64)))
    return _scatter(pa.nulls(len(t), pa.string()), rows, _urls(rng, domain, t[rows]))


def _day_tags(rng: np.random.Generator, world: _World, t: np.ndarray) -> np.ndarray:
    """A hashtag trending on the post's day (evergreen ones, or a dated event's)."""
    d = np.clip((t - START) // DAY, 0, 365)
    lo, hi = world.day_offsets[d], world.day_offsets[d + 1]
    return world.day_tags[lo + (rng.random(len(t)) * (hi - lo)).astype(np.int64)]


def _organic_tags(
    rng: np.random.Generator, world: _World, authors: np.ndarray, t: np.ndarray, p: tuple[float, ...]
) -> np.ndarray:
    """0–3 hashtags per post: the community's, the day's trend, and (for leaning accounts outside
    the partisan communities) their side's."""
    n = len(authors)
    k = rng.choice(len(p), n, p=p)
    comm, lean = world.community[authors], world.lean[authors]
    has_day = (k >= 1) & (rng.random(n) < 0.35)
    has_side = (lean != NO_LEAN) & (COMM_LEAN[comm] == NO_LEAN) & (k - has_day >= 1) & (rng.random(n) < 0.3)
    own = _pick_distinct(rng, world.tag_pools, world.tag_weights, comm, k - has_day - has_side)
    side = _pick_distinct(rng, world.tag_pools, world.tag_weights, N_COMM + np.maximum(lean, 1) - 1, has_side * 1)
    return np.column_stack([own, np.where(has_day, _day_tags(rng, world, t), -1), side])


def _side_tags(rng: np.random.Generator, world: _World, side: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    k = rng.choice(len(p), len(side), p=p)
    return _pick_distinct(rng, world.tag_pools, world.tag_weights, N_COMM + side - 1, k)


def _side_topic(side: np.ndarray | int, n: int) -> np.ndarray:
    return np.where(np.broadcast_to(side, (n,)) == LEFT, TOPIC_LEFT, TOPIC_RIGHT)


def _in_window(times: np.ndarray, w0: int, w1: int) -> np.ndarray:
    return times[(times >= w0) & (times < w1)]


def _participants(
    rng: np.random.Generator, camp: _Campaign, n_actions: int, exclude: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(action, member account) for the members who join each action."""
    joins = rng.random((n_actions, len(camp.members))) < camp.part
    if exclude is not None:
        joins &= camp.members[None, :] != exclude[:, None]
    action, member = np.nonzero(joins)
    return action, camp.members[member]


def _headlines(rng: np.random.Generator, n: int) -> pa.Array:
    return _cat(*[p for part in HEADLINE for p in (_pick(rng, _strings(part), n), " ")][:-1])


def _newsbot_posts(rng: np.random.Generator, world: _World, w0: int, w1: int) -> _Piece:
    """Headlines on a clock; followers in a syndication group copy or retweet the lead's after a fixed lag."""
    first = -((world.bot_phase - w0) // world.bot_interval)  # ceil division
    count = np.maximum(-((world.bot_phase - w1) // world.bot_interval) - first, 0)
    bot = np.repeat(np.arange(len(world.bots)), count)
    j = first[bot] + np.arange(len(bot)) - np.repeat(_offsets(count)[:-1], count)
    t = world.bot_phase[bot] + j * world.bot_interval[bot] + rng.integers(0, 4, len(bot))
    author = world.bots[bot]
    tags = np.where(rng.random(len(bot)) < 0.4, world.tag_pools[world.community[author], 0], -1)
    tags = np.where(rng.random(len(bot)) < 0.3, world.tag_names.index("breaking"), tags)
    head = _headlines(rng, len(bot))
    url = _urls(rng, world.bot_domain.take(pa.array(bot)), t)
    own = _Piece.block(t, author, ORIGINAL, body=head, tags=tags, url=url)

    follower = np.flatnonzero(world.bot_lead >= 0)
    src = [np.flatnonzero((bot == world.bot_lead[f]) & (rng.random(len(bot)) < 0.7)) for f in follower]
    who = np.repeat(follower, [len(s) for s in src])
    src = np.concatenate([*src, np.zeros(0, np.int64)])
    tc = t[src] + world.bot_lag[who] + rng.integers(0, 3, len(src))
    copy = world.bot_copies[who]
    s = pa.array(src[copy])
    copies = _Piece.block(
        tc[copy], world.bots[who[copy]], ORIGINAL, body=head.take(s), tags=tags[src[copy]], url=url.take(s)
    )
    retweets = _Piece.block(tc[~copy], world.bots[who[~copy]], RETWEET, target=src[~copy])
    return _concat([own, copies, retweets], shift=False)


def _repost_ring(rng: np.random.Generator, world: _World, camp: _Campaign, w0: int, w1: int) -> _Piece | None:
    """Posts by a hub member or an outside star, retweeted by most members within seconds."""
    acts = _in_window(camp.actions, w0, w1)
    if not len(acts):
        return None
    n = len(acts)
    author = np.where(rng.random(n) < 0.5, rng.choice(camp.hubs, n), world.popular_accounts(rng, camp.side, n))
    own = np.where(rng.random(n) < 0.5, rng.choice(camp.tags, n), -1)
    tags = np.column_stack([_side_tags(rng, world, np.full(n, camp.side), (0.2, 0.5, 0.3)), own])
    body = _body(rng, _side_topic(camp.side, n), 8, 18, 0.5)
    posts = _Piece.block(acts, author, ORIGINAL, body=body, tags=tags)
    action, who = _participants(rng, camp, n, exclude=author)
    t = acts[action] + 5 + rng.exponential(camp.lag, n)[action] + rng.exponential(camp.scale, len(action))
    return _concat([posts, _Piece.block(t.astype(np.int64), who, RETWEET, target=action)], shift=False)


def _copypaste(rng: np.random.Generator, world: _World, camp: _Campaign, w0: int, w1: int) -> _Piece | None:
    """A template per action, posted by members within minutes with swapped or replaced words,
    an added emoji or hashtag."""
    acts = _in_window(camp.actions, w0, w1)
    if not len(acts):
        return None
    n, width = len(acts), 18
    lengths = rng.integers(10, width + 1, n)
    topic = _side_topic(camp.side, n)
    template = np.full((n, width + 1), -1, dtype=np.int64)
    template[np.arange(width + 1)[None, :] < lengths[:, None]] = _tokens(rng, topic, lengths, 0.5)
    template_tags = _pick_distinct(
        rng, world.tag_pools, world.tag_weights, np.full(n, camp.pool), rng.integers(1, len(camp.tags) + 1, n)
    )
    action, who = _participants(rng, camp, n)
    r = len(action)
    words, length = template[action], lengths[action]
    rows = np.flatnonzero(rng.random(r) < 0.5)  # swap two neighbouring words
    at = (rng.random(len(rows)) * (length[rows] - 1)).astype(np.int64)
    words[rows, at], words[rows, at + 1] = words[rows, at + 1], words[rows, at].copy()
    rows = np.flatnonzero(rng.random(r) < 0.3)  # replace a word
    words[rows, (rng.random(len(rows)) * length[rows]).astype(np.int64)] = _tokens(
        rng, topic[action[rows]], np.ones(len(rows), np.int64), 1.0
    )
    rows = np.flatnonzero(rng.random(r) < 0.4)  # add an emoji
    words[rows, length[rows]] = rng.choice(EMOJI_IDS, len(rows))
    keep = words >= 0
    body = _join_tokens(words[keep], keep.sum(axis=1), _TOKENS)
    extra = np.where(rng.random(r) < 0.3, _side_tags(rng, world, np.full(r, camp.side), (0.0, 1.0))[:, 0], -1)
    t = acts[action] + rng.exponential(camp.scale, r).astype(np.int64)
    return _Piece.block(t, who, ORIGINAL, body=body, tags=np.column_stack([template_tags[action], extra]))


def _hashtag_push(rng: np.random.Generator, world: _World, camp: _Campaign, w0: int, w1: int) -> _Piece | None:
    """Bursts in which each member posts 1–3 different texts carrying the campaign's hashtag set."""
    acts = _in_window(camp.actions, w0, w1)
    if not len(acts):
        return None
    action, who = _participants(rng, camp, len(acts))
    repeat = rng.integers(1, 4, len(action))
    action, who = np.repeat(action, repeat), np.repeat(who, repeat)
    r = len(action)
    t = acts[action] + (rng.random(r) * camp.scale).astype(np.int64)
    tagset = np.array(camp.tags)[np.argsort(rng.random((r, len(camp.tags))), axis=1)]
    mention = np.where(rng.random(r) < 0.2, world.popular_accounts(rng, camp.side, r), -1)
    body = _body(rng, _side_topic(camp.side, r), 4, 12, 0.5, emoji=0.2)
    return _Piece.block(t, who, ORIGINAL, body=body, tags=tagset, mentions=mention)


def _link_push(rng: np.random.Generator, world: _World, camp: _Campaign, w0: int, w1: int) -> _Piece | None:
    """A new article on the campaign's site, shared by members within minutes."""
    acts = _in_window(camp.actions, w0, w1)
    if not len(acts):
        return None
    n = len(acts)
    urls = _urls(rng, _strings([camp.domain] * n), acts)
    headline = _body(rng, _side_topic(camp.side, n), 6, 12, 0.6, emoji=0.0)
    action, who = _participants(rng, camp, n)
    r = len(action)
    a = pa.array(action)
    comment = _body(rng, _side_topic(camp.side, r), 3, 10, 0.4, emoji=0.2)
    body = pc.if_else(pa.array(rng.random(r) < 0.5), headline.take(a), comment)
    tags = np.where(rng.random(r) < 0.3, rng.choice(camp.tags, r), -1)
    t = acts[action] + 10 + rng.exponential(camp.scale, r).astype(np.int64)
    return _Piece.block(t, who, ORIGINAL, body=body, tags=tags, url=urls.take(a))


def _persona(rng: np.random.Generator, world: _World, camp: _Campaign, w0: int, w1: int) -> _Piece | None:
    """Fixed daily slots, left- and right-coded themes from every account, retweets of each other
    and of the same outside posts within ~10 minutes."""
    m, width = camp.slots.shape
    days = np.arange((w0 - START) // DAY, (w1 - 1 - START) // DAY + 1)
    day = days[None, :, None]
    on = (
        (camp.slots[:, None, :] >= 0)
        & (day >= camp.run_start[:, None, None])
        & (day < (camp.run_start + camp.run_days)[:, None, None])
        & (rng.random((m, len(days), width)) < 0.6)
    )
    mi, di, si = np.nonzero(on)
    t = START + days[di] * DAY + camp.slots[mi, si] * 60 + rng.integers(-120, 121, len(mi))
    inside = (t >= w0) & (t < w1)
    mi, t = mi[inside], t[inside]
    n = len(t)
    side = np.where(rng.random(n) < camp.mix[mi], LEFT, RIGHT)
    themed = _Piece.block(
        t,
        camp.members[mi],
        ORIGINAL,
        body=_body(rng, _side_topic(side, n), 8, 18, 0.55, 0.15),
        tags=_side_tags(rng, world, side, (0.3, 0.5, 0.2)),
    )
    first = np.flatnonzero(rng.random(n) < 0.3)
    second = first[rng.random(len(first)) < 0.5]
    step = rng.integers(1, m, len(first))
    steps = np.concatenate([step, step[np.searchsorted(first, second)] % (m - 1) + 1])  # two distinct others
    src = np.concatenate([first, second])
    tr = t[src] + 20 + rng.exponential(240, len(src)).astype(np.int64)
    each_other = _Piece.block(tr, camp.members[(mi[src] + steps) % m], RETWEET, target=src)

    acts = _in_window(camp.actions, w0, w1)
    k = len(acts)
    side = rng.choice([LEFT, RIGHT], k)
    outside = _Piece.block(
        acts,
        world.popular_accounts(rng, side, k),
        ORIGINAL,
        body=_body(rng, _side_topic(side, k), 8, 18, 0.5),
        tags=_side_tags(rng, world, side, (0.3, 0.4, 0.3)),
    )
    action, who = _participants(rng, camp, k)
    ta = acts[action] + 30 + rng.exponential(camp.scale, len(action)).astype(np.int64)
    same_posts = _Piece.block(ta, who, RETWEET, target=n + action)
    return _concat([themed, outside, each_other, same_posts], shift=False)


def _rotating(rng: np.random.Generator, world: _World, camp: _Campaign, w0: int, w1: int) -> _Piece | None:
    """Each action a different pair of members posting the same new text seconds apart: every pair
    co-acts once, so no pair repeats, but the group co-acts on hundreds of items."""
    inside = (camp.actions >= w0) & (camp.actions < w1)
    acts = camp.actions[inside]
    if not len(acts):
        return None
    n = len(acts)
    pair = camp.pairs[np.flatnonzero(inside)]
    body = _body(rng, _side_topic(camp.side, n), 10, 18, 0.5)
    tags = np.where(rng.random(n) < 0.5, rng.choice(camp.tags, n), -1)
    t = np.concatenate([acts, acts + 1 + rng.exponential(camp.scale, n).astype(np.int64)])
    who = np.concatenate([pair[:, 0], pair[:, 1]])
    idx = pa.array(np.concatenate([np.arange(n), np.arange(n)]))
    return _Piece.block(t, who, ORIGINAL, body=body.take(idx), tags=np.concatenate([tags, tags]))


STYLE_POSTS = {
    "repost_ring": _repost_ring,
    "copypaste": _copypaste,
    "hashtag_push": _hashtag_push,
    "link_push": _link_push,
    "persona": _persona,
    "rotating": _rotating,
}


def _cascades(rng: np.random.Generator, world: _World, w0: int, w1: int, budget: int) -> _Piece | None:
    """Viral originals by popular accounts, each retweeted by 100+ organic accounts within minutes."""
    pool = len(world.organic)
    lo = min(CASCADE_MIN + 20, int(0.6 * pool))
    hi = max(lo, pool // 2)
    sizes = np.clip(np.round(rng.lognormal(np.log(220), 0.6, budget // lo + 1)), lo, hi).astype(np.int64)
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), budget, side="right")]
    n = len(sizes)
    if not n:
        return None
    author = world.popular_accounts(rng, NO_LEAN, n)
    t0 = _diurnal_times(rng, w0, w1, world.offset[author], world.curve[author])
    comm = world.community[author]
    originals = _Piece.block(
        t0,
        author,
        ORIGINAL,
        body=_body(rng, comm, 8, 18, 0.4, 0.2),
        tags=_organic_tags(rng, world, author, t0, (0.3, 0.4, 0.2, 0.1)),
        url=_community_urls(rng, comm, t0, 0.25),
    )

    # Draw reactors with replacement, then keep each cascade's first `size` distinct accounts.
    cid = np.repeat(np.arange(n), (sizes * 1.3).astype(np.int64) + 5)
    who = world.reactors.sample(rng, comm[cid], 0.5)
    keep = np.zeros(len(cid), dtype=bool)
    keep[np.unique(cid * world.n + who, return_index=True)[1]] = True
    idx = np.flatnonzero(keep & (who != author[cid]))
    c = cid[idx]
    idx = idx[np.arange(len(idx)) - np.searchsorted(c, c) < sizes[c]]
    c, who = cid[idx], who[idx]
    tau = rng.uniform(90, 360, n)
    fast = rng.random(len(c)) < 0.88
    delay = np.where(fast, rng.exponential(tau[c]), rng.lognormal(np.log(3600), 1.0, len(c)))
    t = t0[c] + 1 + delay.astype(np.int64)
    kind = rng.choice([RETWEET, REPLY, QUOTE], len(c), p=[0.93, 0.04, 0.03])
    blocks = [originals]
    for k in (RETWEET, REPLY, QUOTE):
        rows = np.flatnonzero(kind == k)
        body = None if k == RETWEET else _body(rng, comm[c[rows]], 2, 10, 0.3, 0.3)
        blocks.append(_Piece.block(t[rows], who[rows], k, target=c[rows], body=body))
    return _concat(blocks, shift=False)


def _organic_posts(rng: np.random.Generator, world: _World, authors: np.ndarray, w0: int, w1: int) -> _Piece:
    """Everyday posting: originals on a diurnal rhythm; retweets, replies and quotes of originals
    from the same community mostly, weighted by the author's reach, minutes to days later."""
    authors = rng.permutation(authors)
    counts = rng.multinomial(len(authors), ORGANIC_KINDS)
    counts[0] = max(counts[0], 1)
    orig, rt, rp, qt = np.split(authors, np.cumsum(counts)[:3])
    t = _diurnal_times(rng, w0, w1, world.offset[orig], world.curve[orig])
    comm = world.community[orig]
    mention = np.where(rng.random(len(orig)) < 0.08, world.popular_accounts(rng, NO_LEAN, len(orig)), -1)
    originals = _Piece.block(
        t,
        orig,
        ORIGINAL,
        body=_body(rng, comm, 5, 16, 0.3),
        tags=_organic_tags(rng, world, orig, t, (0.55, 0.27, 0.12, 0.06)),
        mentions=np.where(mention == orig, -1, mention),
        url=_community_urls(rng, comm, t, 0.15),
    )
    targets = _Grouped.build(np.arange(len(orig)), comm, world.followers[orig] ** 0.6 + 1.0, N_COMM)
    blocks = [originals]
    for k, who in ((RETWEET, rt), (REPLY, rp), (QUOTE, qt)):
        target = targets.sample(rng, world.community[who], 0.7)
        delay = np.minimum(rng.lognormal(np.log(1800), 1.3, len(who)), 3 * DAY).astype(np.int64) + 5
        body = tags = None
        if k != RETWEET:
            tr = t[target] + delay
            body = _body(rng, world.community[who], 3, 12, 0.3)
            tags = _organic_tags(rng, world, who, tr, (0.8, 0.15, 0.05))
        blocks.append(_Piece.block(t[target] + delay, who, k, target=target, body=body, tags=tags))
    return _concat(blocks, shift=False)


def _chunk(world: _World, k: int, w0: int, w1: int, size: int) -> tuple[_Piece, dict[str, int]]:
    """All posts of one output file: one slice of the year, generated on its own."""
    rng = np.random.default_rng([world.seed, 1, k])
    bots = _newsbot_posts(rng, world, w0, w1)
    planted = [p for c in world.campaigns if (p := STYLE_POSTS[c.style](rng, world, c, w0, w1)) is not None]
    filler = np.concatenate([np.repeat(c.members, rng.poisson(c.filler * (w1 - w0) / SPAN)) for c in world.campaigns])
    everyone = np.flatnonzero((world.first_chunk == k) & (world.role != NEWSBOT))  # each account posts once
    room = size - len(bots) - sum(len(p) for p in planted) - len(everyone)
    if room < 0:
        raise ValueError(
            f"{size} posts per file cannot hold this file's news bots, campaigns and accounts; "
            "use more posts, fewer accounts or fewer files"
        )
    filler = rng.permutation(filler)[:room]
    room -= len(filler)
    cascades = _cascades(rng, world, w0, w1, min(int(CASCADE_SHARE * size), room // 2))
    room -= len(cascades) if cascades else 0
    rest = world.organic[_weighted(rng, world.authors_cum, room)]
    organic = _organic_posts(rng, world, np.concatenate([everyone, filler, rest]), w0, w1)
    pieces = [bots, *planted, *([cascades] if cascades else []), organic]
    counts = {
        "newsbot": len(bots),
        "campaign": sum(len(p) for p in planted),
        "cascade": len(cascades) if cascades else 0,
        "organic": len(organic) - len(filler),
        "filler": len(filler),
    }
    return _concat(pieces, shift=True), counts


def _table(world: _World, piece: _Piece, serial: int, rng: np.random.Generator) -> pa.Table:
    """The piece in time order with ids, counts and the parts of each text; ``_ARCHIVE_SQL`` (run by
    the writer, in parallel) assembles them into the archive's columns."""
    order = np.argsort(piece.t, kind="stable")
    n = len(order)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    t, author, kind = piece.t[order], piece.author[order], piece.kind[order]
    has_target = piece.target[order] >= 0
    target = np.where(has_target, rank[np.maximum(piece.target[order], 0)], 0)
    is_rt, is_reply, is_quote = kind == RETWEET, kind == REPLY, kind == QUOTE
    # A retweet's text is rebuilt from its original's parts, which is exact because every retweet
    # in the simulation retweets an original (no reply prefix or quote link to carry over).
    assert (kind[target[is_rt]] == ORIGINAL).all()
    to_author = author[target]
    tweetid = _snowflake(t, serial + np.arange(n, dtype=np.int64))

    content = pa.array(order[np.where(is_rt, target, np.arange(n))])  # a retweet carries its original's
    tags, mentions = piece.tags.take(content), piece.mentions.take(content)
    tag_ids, tag_off = pc.list_flatten(tags), pa.array(_offsets(pc.list_value_length(tags).to_numpy()))
    men_ids, men_off = (
        pc.list_flatten(mentions),
        pa.array(_offsets(pc.list_value_length(mentions).to_numpy())),
    )

    def joined(values: pa.Array, offsets: pa.Array, sep: str) -> pa.Array:
        return pc.binary_join(pa.ListArray.from_arrays(offsets, values), sep)

    def per_row(indices: np.ndarray, values: pa.Array, present: np.ndarray | None = None) -> pa.Array:
        mask = None if present is None else ~present
        return pa.DictionaryArray.from_arrays(pa.array(indices, mask=mask, type=pa.int32()), values)

    followers = world.followers[author]
    original = ~is_rt

    def counted(mask: np.ndarray, rate: float) -> np.ndarray:
        inside = np.bincount(target[mask], minlength=n)
        return np.where(original, inside + rng.poisson(followers * rate), 0)

    retweets = counted(is_rt, 5e-4)
    other_client = rng.choice(len(CLIENTS), n, p=CLIENT_P[ORGANIC])
    client = np.where((rng.random(n) < 0.85) | (world.role[author] == NEWSBOT), world.client[author], other_client)
    return pa.table(
        {
            "tweetid": tweetid,
            "userid": world.userid[author],
            "user_display_name": per_row(author, world.name),
            "user_screen_name": per_row(author, world.handle),
            "user_reported_location": per_row(author, world.location),
            "user_profile_description": per_row(author, world.description),
            "follower_count": followers,
            "following_count": world.following[author],
            "account_creation_date": pa.array(world.created_day[author], type=pa.date32()),
            "tweet_language": per_row(rng.random(n) < 0.02, _strings(["en", "und"])),
            "kind": kind,
            "body": piece.body.take(content),
            "mention_text": joined(world.at_handle.take(men_ids), men_off, " "),
            "tag_text": joined(world.tag_hash.take(tag_ids), tag_off, " "),
            "url": piece.url.take(content),
            "to_handle": per_row(to_author, world.handle, has_target),
            "tweet_time": pa.array(t.astype("datetime64[s]")),
            "tweet_client_name": per_row(client, _strings(CLIENTS)),
            "in_reply_to_userid": _masked(world.userid[to_author], is_reply),
            "in_reply_to_tweetid": _masked(tweetid[target], is_reply),
            "quoted_tweet_tweetid": _masked(tweetid[target], is_quote),
            "retweet_userid": _masked(world.userid[to_author], is_rt),
            "retweet_tweetid": _masked(tweetid[target], is_rt),
            "quote_count": counted(is_quote, 1e-4),
            "reply_count": counted(is_reply, 2e-4),
            "like_count": np.where(original, rng.poisson(1.5 * retweets + followers * 2e-3), 0),
            "retweet_count": retweets,
            "hashtags": joined(world.tag_lower.take(tag_ids), tag_off, ", "),
            "mentions": joined(world.userid_str.take(men_ids), men_off, ", "),
        }
    )


# From the parts to the archive's columns. concat_ws leaves out NULLs, so optional parts vanish
# with their separator; a projection keeps the rows in order (preserve_insertion_order).
_ARCHIVE_SQL = f"""
WITH r AS (
    SELECT *,
        CASE WHEN kind = {QUOTE}
            THEN 'https://twitter.com/' || to_handle || '/status/' || quoted_tweet_tweetid END AS quote_url
    FROM rows
)
SELECT tweetid, userid, user_display_name, user_screen_name, user_reported_location,
    user_profile_description, follower_count, following_count, account_creation_date,
    'en' AS account_language, tweet_language,
    CASE WHEN kind = {RETWEET} THEN 'RT @' || to_handle || ': ' ELSE '' END
        || concat_ws(' ', CASE WHEN kind = {REPLY} THEN '@' || to_handle END, body,
                     NULLIF(mention_text, ''), NULLIF(tag_text, ''), url, quote_url) AS tweet_text,
    tweet_time, tweet_client_name, in_reply_to_userid, in_reply_to_tweetid, quoted_tweet_tweetid,
    CASE WHEN kind = {RETWEET} THEN 'True' ELSE 'False' END AS is_retweet,
    retweet_userid, retweet_tweetid, NULL AS latitude, NULL AS longitude,
    quote_count, reply_count, like_count, retweet_count,
    '[' || hashtags || ']' AS hashtags,
    '[' || concat_ws(', ', url, quote_url) || ']' AS urls,
    '[' || concat_ws(', ', CAST(coalesce(retweet_userid, in_reply_to_userid) AS VARCHAR),
                     NULLIF(mentions, '')) || ']' AS user_mentions
FROM r
"""


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _write_csv(table: pa.Table, path: Path) -> None:
    """CSV with minimal quoting (DuckDB), then gzip with a zero mtime so the bytes are reproducible."""
    plain = path.with_name(f".{path.name.removesuffix('.gz')}.tmp")
    con = connect()
    try:
        con.register("rows", table)
        con.execute(f"COPY ({_ARCHIVE_SQL}) TO {_sql_path(plain)} (FORMAT csv, HEADER, COMPRESSION none)")
    finally:
        con.close()
    squeeze = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    with open(plain, "rb") as src, open(path, "wb") as dst:
        while block := src.read(1 << 24):
            dst.write(squeeze.compress(block))
        dst.write(squeeze.flush())
    plain.unlink()


@dataclass(frozen=True)
class SimulationResult:
    """Where a simulation was written and how big it is."""

    out: Path
    files: list[Path]
    posts: int
    accounts: int
    truth_path: Path


def simulate(
    posts: int = 100_000,
    accounts: int | None = None,
    seed: int = 42,
    out: str | Path = "sim",
    *,
    files: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Write a synthetic collection (archive CSVs, ``truth.csv``, ``simulation.json``) into ``out``.

    The same arguments give the same bytes. ``files`` defaults to one per million posts; each file
    is one slice of 2016. ``progress`` is called with the number of posts in each file once written.
    """
    accounts = max(200, round(posts / POSTS_PER_ACCOUNT)) if accounts is None else accounts
    files = files or -(-posts // ROWS_PER_FILE)
    if accounts < 200:
        raise ValueError(f"accounts must be at least 200 to hide the campaigns (got {accounts})")
    if posts < 10 * accounts:
        raise ValueError(f"posts must be at least 10 per account: {posts} posts for {accounts} accounts")
    if not 1 <= files <= max(1, posts // 5000) or posts // files > 2 * ROWS_PER_FILE:
        raise ValueError(f"files must leave 5,000 to {2 * ROWS_PER_FILE:,} posts per file (got {files})")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    world = _build_world(posts, accounts, seed, files)
    bounds = START + (np.arange(files + 1) * SPAN) // files
    sizes = posts // files + (np.arange(files) < posts % files)

    written: list[Path] = []
    totals: dict[str, int] = {}
    serial = 0
    # Writing (DuckDB's CSV writer, then zlib) costs more than generating, so two files are written
    # while the next is generated; at most three tables are in memory.
    pending: deque[tuple[Future, int]] = deque()
    with ThreadPoolExecutor(max_workers=WRITERS) as writer:
        for k in range(files):
            piece, counts = _chunk(world, k, int(bounds[k]), int(bounds[k + 1]), int(sizes[k]))
            table = _table(world, piece, serial, np.random.default_rng([seed, 2, k]))
            del piece
            serial += table.num_rows
            totals = {key: totals.get(key, 0) + v for key, v in counts.items()}
            if len(pending) == WRITERS:
                _finish(pending.popleft(), progress)
            written.append(out / f"tweets-{k:05d}.csv.gz")
            pending.append((writer.submit(_write_csv, table, written[-1]), table.num_rows))
            del table
        while pending:
            _finish(pending.popleft(), progress)
    for stale in set(out.glob("tweets-*.csv.gz")) - set(written):  # left by an earlier, larger run
        stale.unlink()

    truth_path = out / "truth.csv"
    _write_truth(world, truth_path)
    params = {
        "generator": "trollscope.simulate",
        "posts": serial,
        "accounts": accounts,
        "seed": seed,
        "files": files,
        "start": _iso(START),
        "end": _iso(END),
        "note": "originals fall in [start, end); reactions may follow them by up to a few days",
        "posts_by_source": totals,
        "proportions": {
            "posts_per_account": POSTS_PER_ACCOUNT,
            "cascade_share": CASCADE_SHARE,
            "newsbot_share": NEWSBOT_SHARE,
            "planted_share_of_accounts": PLANTED_SHARE,
            "campaign_size": list(CAMPAIGN_SIZE),
            "planted_volume_vs_mean": PLANTED_VOLUME,
            "organic_kinds": dict(zip(("original", "retweet", "reply", "quote"), ORGANIC_KINDS, strict=True)),
            "cascade_min_reactors": CASCADE_MIN,
        },
        "communities": [c[0] for c in COMMUNITIES],
        "newsbots": [world.handle[int(b)].as_py() for b in world.bots],
        "campaigns": [c.summary(world.tag_names) for c in world.campaigns],
    }
    (out / "simulation.json").write_text(json.dumps(params, indent=2) + "\n")
    return SimulationResult(out=out, files=written, posts=serial, accounts=accounts, truth_path=truth_path)


def _finish(pending: tuple[Future, int], progress: Callable[[int], None] | None) -> None:
    pending[0].result()
    if progress:
        progress(pending[1])


def _write_truth(world: _World, path: Path) -> None:
    """Every account with its campaign (``organic`` for the background) and style."""
    order = pa.array(np.argsort(world.userid))
    campaign = np.array(["organic"] + [c.name for c in world.campaigns])[world.campaign + 1]
    style = np.array(["organic"] + [c.style for c in world.campaigns])[world.campaign + 1]
    style[world.role == NEWSBOT] = "newsbot"
    truth = pa.table(
        {
            "account_id": pc.cast(pa.array(world.userid), pa.string()),
            "handle": world.handle,
            "campaign": pa.array(campaign),
            "style": pa.array(style),
        }
    ).take(order)
    con = connect()
    try:
        con.register("truth", truth)
        con.execute(f"COPY truth TO {_sql_path(path)} (FORMAT csv, HEADER)")
    finally:
        con.close()
