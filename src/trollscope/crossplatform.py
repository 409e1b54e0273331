"""Cross-platform coordination: the same link or text pushed on two platforms within a window.

An operation that runs Telegram channels and Twitter accounts pushes one link, or one text, on
both within minutes. Within a platform the co-action layers see this; across platforms they see
it only as co-link pairs among many. This layer keeps only the pairs of accounts on *different*
platforms, and the evidence from both sides: for each pair, the shared items with the post, the
account and the time on each platform.

Items are what the co-link and co-post layers compare (``detect.layers.norm_url_sql`` and
``norm_text_sql``): a normalised URL, or a normalised text of at least ``min_text_chars``
characters (reposts and forwards carry the original's text, so a Telegram forward and a retweet
of the same words meet). A text lightly reworded on the other platform (a word changed, a hashtag
or an emoji added, its sentences swapped) is the same item as its original: :func:`near_items`
puts the near-duplicate texts of two platforms in one item (``near_threshold``, word-bigram
Jaccard, near-dup's MinHash/LSH), and the evidence gives each shared text's similarity. Items
pushed by more than ``max_item_accounts`` accounts are the crowd's and make no pair, as in the
co-action layers. A pair needs ``min_items`` distinct shared
items; there is no null model here: the threshold and the window are the whole test, and both are
recorded in the result. Groups are the connected components of the pairs' graph, so a group
spans at least two platforms.

SQL stays in the portable subset (docs/decisions/0001-query-engine.md) but for the near-duplicate
step, whose MinHash runs in numpy as near-dup's does (DuckDB only: on Spark the detection layer
skips it and says so); Python only labels components.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .detect.layers import (
    minhash_signatures,
    norm_text_sql,
    norm_url_sql,
    norm_words_sql,
    one,
    shared_buckets,
    word_hashes_sql,
    words_jaccard_sql,
)
from .schema import ACCOUNT_LINKS, UNKNOWN_PLATFORM
from .workspace import Workspace


@dataclass
class CrossPlatformParams:
    """Every parameter that changes the result."""

    window: float = 600.0  # seconds between the two sides' posts
    min_items: int = 2  # distinct shared items a pair needs
    max_item_accounts: int = 50  # items pushed by more accounts are the crowd's
    min_text_chars: int = 30  # shorter texts ("thanks!") are not evidence
    max_evidence: int = 10  # shared items listed per pair
    near_threshold: float | None = 0.5  # word-bigram Jaccard of near-duplicate texts (None: exact texts only)


@dataclass
class CrossPlatformResult:
    """``pairs``: one row per account pair on two platforms; ``members``: account -> group;
    ``params``: what produced them."""

    pairs: pa.Table
    members: pa.Table  # an actor named in ``links`` is a member under its actor name
    params: dict = field(default_factory=dict)

    @property
    def groups(self) -> int:
        return len(set(self.members.column("group").to_pylist())) if self.members.num_rows else 0


LINKS = "_account_links"  # account_id -> actor, when the user links accounts (see cross_platform)
LINK_COLUMNS = ("account_id", "actor")


class LinksError(ValueError):
    """A links file that cannot be used; the message names the file and the line."""


def read_links(path: str | Path) -> pa.Table:
    """A links file (CSV with a header naming ``account_id`` and ``actor``; other columns, such as a
    note, are ignored) as ``schema.ACCOUNT_LINKS`` rows. Checked line by line, so a mistake is one
    error naming its line: every row names an account and an actor, and an account is one actor.
    Account ids are as the workspace names them (``telegram:channel123``, a bare Twitter id)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        line = path.read_bytes()[: e.start].count(b"\n") + 1
        raise LinksError(f"{path}:{line}: not UTF-8 text: save the links file as UTF-8 CSV") from None
    except OSError as e:
        raise LinksError(f"{path}: {e.strerror}") from None
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        head = next(rows, None)
        if head is None:
            raise LinksError(f"{path}: empty: a links file has a header line account_id,actor and a line per account")
        names = [h.strip().lower() for h in head]
        missing = [c for c in LINK_COLUMNS if c not in names]
        if missing:
            raise LinksError(
                f"{path}:1: the header names no {' and no '.join(map(repr, missing))} column (it has "
                f"{', '.join(map(repr, head))}): a links file has the columns account_id,actor"
            )
        at, to = names.index("account_id"), names.index("actor")
        first: dict[str, tuple[str, int]] = {}
        for row in rows:
            n = rows.line_num
            if not any(c.strip() for c in row):
                continue
            if len(row) != len(head):
                raise LinksError(f"{path}:{n}: {len(row)} fields where the header names {len(head)}")
            account, actor = row[at].strip(), row[to].strip()
            if not account or not actor:
                raise LinksError(f"{path}:{n}: no {'account_id' if not account else 'actor'} on this line")
            if account in first and first[account][0] != actor:
                raise LinksError(
                    f"{path}:{n}: {account} is linked to {actor!r} here and to {first[account][0]!r} on line "
                    f"{first[account][1]}: an account is one actor"
                )
            first.setdefault(account, (actor, n))
    except csv.Error as e:
        raise LinksError(f"{path}:{rows.line_num}: not CSV: {e}") from None
    if not first:
        raise LinksError(f"{path}: no links below the header: a line per account, account_id,actor")
    return pa.table(
        {
            "account_id": list(first),
            "actor": [a for a, _ in first.values()],
            "source_file": [str(path)] * len(first),
            "source_line": [n for _, n in first.values()],
        },
        schema=ACCOUNT_LINKS,
    )


def store_links(ws: Workspace, links: pa.Table) -> list[str]:
    """Make ``links`` (from :func:`read_links`) the workspace's ``account_links``, replacing an earlier
    file's. Returns notes naming linked accounts that have no posts in the workspace: often an id
    written without its platform prefix, or a handle where the id is wanted."""
    with ws.transaction(
        params={"links": {"file": links.column("source_file")[0].as_py(), "accounts": links.num_rows}}
    ) as txn:
        target = txn.new_file("account_links")
        pq.write_table(links, target)
        txn.replace("account_links", [target])
    con = ws.connect()
    try:
        con.register("_links", links)
        absent = con.execute(
            """SELECT l.source_file, l.source_line, l.account_id, any_value(p.account_id) AS by_handle
            FROM _links l LEFT JOIN (SELECT DISTINCT account_id, lower(handle) AS h FROM posts) p
              ON p.h = lower(ltrim(l.account_id, '@'))
            WHERE l.account_id NOT IN (SELECT account_id FROM posts)
            GROUP BY ALL ORDER BY l.source_line"""
        ).fetchall()
    finally:
        con.close()
    if not absent:
        return []
    shown = "; ".join(
        f"line {n} {a!r}" + (f" (the handle of {h}: write its account id)" if h else "") for _, n, a, h in absent[:3]
    )
    more = f" and {len(absent) - 3} more" if len(absent) > 3 else ""
    return [
        f"{absent[0][0]}: {len(absent)} of its {links.num_rows} linked accounts have no posts in the workspace: "
        f"{shown}{more}. Account ids carry their platform (telegram:…, reddit:…; Twitter's are bare): "
        "`trollscope info` lists them"
    ]


NEAR = "_xp_near"  # a normalised text's md5 -> its near-duplicate item across platforms (near_items)
NEAR_POSTS = "_xp_post"  # every post's normalised text's md5 (near_items), so the texts are normalised once


def near_items(
    con: duckdb.DuckDBPyConnection,
    *,
    min_text_chars: int,
    threshold: float,
    shingle: int = 2,
    bands: int = 12,
    rows: int = 3,
    seed: int = 0,
    max_texts: int = 50,
) -> dict:
    """``_xp_near(h, item)``: every normalised text (``h``, its md5) with a near-duplicate on another known
    platform, mapped to ``'near:' || the least md5 of its component``; returns the step's figures.
    Also ``_xp_post(post_id, h)`` for every post with such a text, which :func:`actions_sql` reads
    rather than normalising the texts a second time (the regular expression is the costly part).

    near-dup's MinHash/LSH (detect.layers) over the *distinct* normalised texts of at least
    ``min_text_chars`` characters on known platforms, without a window: an item must not depend on
    the time scale, and the window is applied when actions are paired. Texts sharing a band key are
    candidates, and a candidate is an edge when its word-shingle Jaccard reaches ``threshold`` and
    the two texts are not both on one platform only: such a pair is no evidence across platforms,
    and a platform's own template ("Today in Local news 3: story 4711") would chain its texts into
    one item. The components of these edges that span two known platforms are the items; a text in
    none keeps its exact item, so nothing changes for texts without a near-duplicate across
    platforms. A band key shared by more than ``max_texts`` distinct texts is a template everyone
    fills in: its texts make no candidates and keep their exact items (work stays linear, as in
    near-dup, whose cap this is).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _xp_texts AS
        SELECT post_id, platform, md5(n) AS h, n FROM (SELECT post_id, platform, {norm_text_sql("text")} AS n FROM posts)
        WHERE length(n) >= {int(min_text_chars)}"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _xp_distinct AS
        WITH pf AS (SELECT platform, (row_number() OVER (ORDER BY platform) - 1)::INTEGER AS code
                    FROM (SELECT DISTINCT platform FROM _xp_texts WHERE platform <> '{UNKNOWN_PLATFORM}'))
        SELECT (row_number() OVER (ORDER BY h) - 1)::BIGINT AS tid, h, n, mask FROM (
            SELECT h, any_value(n) AS n, bit_or(1::BIGINT << code) AS mask FROM _xp_texts JOIN pf USING (platform)
            GROUP BY h)"""
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {NEAR_POSTS} AS SELECT post_id, h FROM _xp_texts")
    con.execute("DROP TABLE _xp_texts")
    if hasattr(con, "frame"):  # Spark: the same signatures, computed in Spark tasks (detect/near_dup_spark.py)
        from .detect.near_dup_spark import cross_platform_keys

        n = cross_platform_keys(con, shingle=shingle, bands=bands, rows=rows, seed=seed, max_texts=max_texts)
    else:
        reader = con.sql(
            f"SELECT tid, mask, {word_hashes_sql('n')} AS wh FROM _xp_distinct ORDER BY tid"
        ).to_arrow_reader(1_000_000)
        cols, shingles, keys = minhash_signatures(reader, ("tid", "mask"), int(shingle), bands, rows, seed)
        n = len(cols["tid"])
        shared, crowded = shared_buckets(keys, np.arange(n), n, int(max_texts))
        row, band = shared[~crowded[shared[:, 0]]].T
        con.register("_xp_keys", pa.table({"tid": row, "band": band.astype(np.int16), "key": keys[row, band]}))
        con.register("_xp_sh", pa.table({"tid": cols["tid"], "mask": cols["mask"], "sh": shingles}))
        del keys, shingles
    try:
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _xp_cand AS SELECT DISTINCT x.tid AS tx, y.tid AS ty
            FROM _xp_keys x JOIN _xp_keys y ON x.band = y.band AND x.key = y.key AND x.tid < y.tid"""
        )
        cand = one(con, "SELECT count(*) FROM _xp_cand")
        edges = con.sql(
            f"""WITH j AS (
                SELECT tx, ty, array_length(x.sh) + array_length(y.sh) AS total,
                       array_length(list_intersect(x.sh, y.sh)) AS shared
                FROM _xp_cand c JOIN (SELECT tid, mask, list_distinct(sh) AS sh FROM _xp_sh) x ON x.tid = c.tx
                JOIN (SELECT tid, mask, list_distinct(sh) AS sh FROM _xp_sh) y ON y.tid = c.ty
                WHERE bit_count(x.mask | y.mask) >= 2)
            SELECT tx, ty FROM j WHERE shared >= {float(threshold)} * (total - shared)"""
        ).to_arrow_table()
    finally:
        con.unregister("_xp_keys")
        con.execute("DROP TABLE IF EXISTS _xp_cand")
        con.unregister("_xp_sh")
    # Components over the texts of the similar pairs only (every other text is a component of one):
    # numbered densely here, so what the driver holds grows with the similar pairs, not the texts.
    tx, ty = edges.column("tx").to_numpy(), edges.column("ty").to_numpy()
    nodes, ends = np.unique(np.concatenate([tx, ty]), return_inverse=True)
    m = len(nodes)
    graph = coo_matrix((np.ones(len(tx), np.int8), (ends[: len(tx)], ends[len(tx) :])), shape=(m, m))
    _, comp = connected_components(graph, directed=False)
    size = np.bincount(comp)  # every pair spans two platforms (the WHERE above): so does its component
    con.register("_xp_comp", pa.table({"tid": nodes, "comp": comp}))
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {NEAR} AS SELECT t.h, 'near:' || min(t.h) OVER (PARTITION BY c.comp) AS item
            FROM _xp_comp c JOIN _xp_distinct t USING (tid)"""
        )
    finally:
        con.unregister("_xp_comp")
        con.execute("DROP TABLE _xp_distinct")
    return {
        "texts": n,
        "candidate_pairs": int(cand),
        "similar_pairs": len(tx),
        "near_texts": m,
        "near_items": len(size),
        "largest_near_item": int(size.max()) if m else 0,
    }


def actions_sql(min_text_chars: int, linked: bool = False, near: bool = False) -> str:
    """Every post's items over the ``posts`` view: ``post_id, account_id, platform, created_at, item, via``.
    ``linked``: accounts are replaced by their actor from the table ``_account_links``. ``near``: a
    text with a near-duplicate on another platform has the item ``_xp_near`` gives it (via 'near',
    see :func:`near_items`, whose ``_xp_post`` holds every post's normalised text), every other
    text its own (via 'text')."""
    norm = norm_text_sql("text")
    posts = (
        f"(SELECT p.* REPLACE (coalesce(l.actor, p.account_id) AS account_id) FROM posts p "
        f"LEFT JOIN {LINKS} l ON l.account_id = p.account_id)"
        if linked
        else "posts"
    )
    texts = (
        f"(SELECT post_id, account_id, platform, created_at, md5(n) AS h FROM (SELECT post_id, account_id, platform, "
        f"created_at, {norm} AS n FROM {posts}) WHERE length(n) >= {int(min_text_chars)})"
    )
    text = (
        f"""SELECT p.post_id, p.account_id, p.platform, p.created_at, coalesce(nr.item, 'text:' || t.h) AS item,
               CASE WHEN nr.item IS NULL THEN 'text' ELSE 'near' END AS via
        FROM {posts} p JOIN {NEAR_POSTS} t USING (post_id) LEFT JOIN {NEAR} nr USING (h)"""
        if near
        else f"SELECT post_id, account_id, platform, created_at, 'text:' || h AS item, 'text' AS via FROM {texts} t"
    )
    return f"""
        SELECT post_id, account_id, platform, created_at, {norm_url_sql("u")} AS item, 'link' AS via
        FROM (SELECT post_id, account_id, platform, created_at, unnest(urls) AS u FROM {posts} WHERE array_length(urls) > 0)
        UNION ALL
        {text}
    """


def pairs_sql(p: CrossPlatformParams, linked: bool = False, near: bool = False) -> str:
    """Account pairs on different platforms with their shared items (see the module docstring).
    ``near``: texts are matched by ``_xp_near`` too (:func:`near_items`), and the evidence gives each
    shared text's word-shingle Jaccard (1 for an exact copy, none for a link)."""
    w = int(p.window * 1_000_000)
    words = lambda side: norm_words_sql(f"{side}.text")  # noqa: E731
    return f"""
        WITH a AS (
            SELECT post_id, account_id, platform, created_at, item, via, epoch_us(created_at) AS us
            FROM ({actions_sql(p.min_text_chars, linked, near)}) WHERE item IS NOT NULL AND created_at IS NOT NULL
        ), crowd AS (
            SELECT item FROM a GROUP BY item HAVING count(DISTINCT account_id) > {int(p.max_item_accounts)}
        ), b AS (
            SELECT *, us // {w} AS bucket FROM a WHERE item NOT IN (SELECT item FROM crowd)
        ), hits AS (  -- the platform order makes each cross-platform pair of actions appear once
            SELECT x.account_id AS account_a, x.platform AS platform_a, y.account_id AS account_b,
                   y.platform AS platform_b, x.item, x.via, x.post_id AS post_a, y.post_id AS post_b,
                   x.created_at AS time_a, y.created_at AS time_b
            FROM b x JOIN b y ON x.item = y.item AND y.bucket BETWEEN x.bucket - 1 AND x.bucket + 1
            WHERE x.platform < y.platform AND abs(x.us - y.us) <= {w} AND x.account_id <> y.account_id
        ), per_item AS (  -- one row per pair and item: its earliest coinciding posts
            SELECT account_a, platform_a, account_b, platform_b, item, any_value(via) AS via,
                   arg_min(post_a, least(time_a, time_b)) AS post_a, arg_min(post_b, least(time_a, time_b)) AS post_b,
                   min(time_a) AS time_a, min(time_b) AS time_b, count(*) AS coincidences
            FROM hits GROUP BY ALL
        ), scored AS (  -- the posts' texts are read again only for the few near-duplicate ones
            SELECT i.* EXCLUDE (wa, wb), CASE i.via WHEN 'near' THEN {words_jaccard_sql("wa", "wb", 2)}
                                                     WHEN 'text' THEN 1.0 END AS similarity
            FROM (SELECT i.*, {words("ta")} AS wa, {words("tb")} AS wb FROM per_item i
                  LEFT JOIN posts ta ON i.via = 'near' AND ta.post_id = i.post_a
                  LEFT JOIN posts tb ON i.via = 'near' AND tb.post_id = i.post_b) i
        )
        SELECT account_a, platform_a, account_b, platform_b, count(*) AS items, sum(coincidences) AS coincidences,
               count(*) FILTER (WHERE via = 'link') AS links, count(*) FILTER (WHERE via <> 'link') AS texts,
               count(*) FILTER (WHERE via = 'near') AS near_texts,
               min(least(time_a, time_b)) AS first, max(greatest(time_a, time_b)) AS last,
               list(struct_pack(item := item, via := via, post_a := post_a, time_a := time_a, post_b := post_b,
                                time_b := time_b, similarity := similarity) ORDER BY least(time_a, time_b))[1:{int(p.max_evidence)}] AS evidence
        FROM scored GROUP BY ALL HAVING count(*) >= {int(p.min_items)}
        ORDER BY items DESC, account_a, account_b
    """


def cross_platform(
    workspace: str | Path | Workspace | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    *,
    links: str | Path | None = None,
    **params: float,
) -> CrossPlatformResult:
    """Pairs of accounts on different platforms that pushed the same items within a window, and
    the groups they form. ``params`` are :class:`CrossPlatformParams` fields.

    ``links``: a CSV with columns ``account_id, actor`` naming accounts the user knows to be one
    actor (the same outlet's Telegram channel and Twitter account): they act as that actor, so
    their own cross-posting is not a pair, and the actor pairs with whoever it coordinates with on
    either platform. Without it, the links stored in the workspace (``ingest --links``) are used;
    without either, the same handle on two platforms is two accounts.
    """
    p = CrossPlatformParams(**params)
    own = con is None
    if con is None:
        ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace, create=False)
        con = ws.connect()
    try:
        if links is not None:
            con.register("_links_file", read_links(links))
            source = "_links_file"
        else:
            stored = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'account_links'"
            ).fetchall()[0][0]
            source = "account_links" if stored else None
        linked = 0
        if source:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {LINKS} AS SELECT DISTINCT account_id, actor FROM {source}")
            linked = con.execute(f"SELECT count(*) FROM {LINKS}").fetchall()[0][0]
        near = None
        if p.near_threshold:
            near = near_items(con, min_text_chars=p.min_text_chars, threshold=p.near_threshold,
                              max_texts=p.max_item_accounts)  # fmt: skip
        pairs = con.sql(pairs_sql(p, linked=linked > 0, near=near is not None)).to_arrow_table()
        handles = con.execute(
            "SELECT account_id, any_value(handle) FROM posts WHERE account_id IN "
            "(SELECT unnest($1::VARCHAR[]))  GROUP BY 1",
            [list(set(pairs.column("account_a").to_pylist()) | set(pairs.column("account_b").to_pylist()))],
        ).fetchall()
    finally:
        if own:
            con.close()
    where = str(links) if links else "the workspace's account_links" if linked else None
    return CrossPlatformResult(
        pairs,
        _groups(pairs, dict(handles)),
        asdict(p) | {"links": where, "linked_accounts": linked, "near_texts": near},
    )


def write(result: CrossPlatformResult, folder: str | Path) -> list[Path]:
    """``cross_platform_pairs.csv`` (evidence as JSON) and ``cross_platform_groups.csv`` in ``folder``."""
    folder = Path(folder)
    files = [folder / "cross_platform_pairs.csv", folder / "cross_platform_groups.csv"]
    con = duckdb.connect()
    try:
        con.register("_pairs", result.pairs)
        con.register("_members", result.members)
        con.execute(
            "COPY (SELECT * REPLACE (to_json(evidence)::VARCHAR AS evidence) FROM _pairs) TO $1 (FORMAT csv)",
            [str(files[0])],
        )
        con.execute("COPY _members TO $1 (FORMAT csv)", [str(files[1])])
    finally:
        con.close()
    return files


def _groups(pairs: pa.Table, handles: dict[str, str]) -> pa.Table:
    """Connected components of the pairs' graph, largest first; one row per member."""
    import igraph as ig

    a, b = pairs.column("account_a").to_pylist(), pairs.column("account_b").to_pylist()
    platform = dict(zip(a, pairs.column("platform_a").to_pylist(), strict=True))
    platform |= dict(zip(b, pairs.column("platform_b").to_pylist(), strict=True))
    names = sorted(set(a) | set(b))
    index = {n: i for i, n in enumerate(names)}
    g = ig.Graph(n=len(names), edges=[(index[x], index[y]) for x, y in zip(a, b, strict=True)])
    comps = sorted(g.connected_components(), key=lambda c: (-len(c), min(c)))
    group = np.empty(len(names), dtype=np.int64)
    for k, c in enumerate(comps):
        group[c] = k + 1
    return pa.table({
        "group": pa.array(group),
        "account_id": pa.array(names, pa.string()),
        "handle": pa.array([handles.get(n) for n in names], pa.string()),
        "platform": pa.array([platform[n] for n in names], pa.string()),
        "degree": pa.array(g.degree(), pa.int64()),
    }).sort_by([("group", "ascending"), ("degree", "descending"), ("account_id", "ascending")])  # fmt: skip
