"""Who amplified the operation, and whom the operation amplified.

An *amplification* is a post by one account that reposts, quotes, replies to or mentions
another. Targets are identified by account id where the source gives one, else by the author of the
referenced post when the workspace holds it, else by handle (lower case) resolved through the
workspace's accounts and posts. A mention
of the account a post already reposts, quotes or replies to is not counted again (``RT @x: …``
names ``x`` in its text), and nobody amplifies themself.

- **inbound**: accounts outside the operation that amplified operation accounts — counts by kind,
  first and last time, and the posts (``inbound_posts``);
- **outbound**: accounts outside the operation that operation accounts amplified most, overall
  and per group (for the IRA data: whom its personas retweeted and mentioned);
- **internal**: amplification within the operation, reported as a share, because an operation
  that mostly boosts itself looks different from one that rides others' posts.

Coverage limits are stated in the notes: a source that strips the reposted author (the IRA
per-author files keep it only for ``RT @handle:`` texts) leaves most reposts without a target.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from ..engine import EngineSpec
from ..workspace import Workspace
from .result import VEGA_LITE, Result, arrow, vl_values, with_platforms
from .selection import open_operation

KINDS = (("repost", "reposts"), ("quote", "quotes"), ("reply", "replies"), ("mention", "mentions"))


@dataclass
class AmplifiersResult(Result):
    inbound: pa.Table | None = None  # per outside account that amplified the operation
    inbound_posts: pa.Table | None = None  # the posts behind ``inbound``
    amplified_members: pa.Table | None = None  # per operation account: how much outsiders amplified it
    outbound: pa.Table | None = None  # per outside account the operation amplified
    outbound_by_group: pa.Table | None = None  # the top ``top`` outside targets of each group


def amplifiers(
    workspace: str | Path | Workspace | None = None,
    accounts: str | Path | None = None,
    by: str | None = None,
    *,
    top: int = 20,
    examples: int = 3,
    engine: str | EngineSpec | None = None,
) -> AmplifiersResult:
    """Inbound and outbound amplification of the operation, with counts by kind and the posts."""
    t0 = time.perf_counter()
    _, con, op = open_operation(workspace, accounts, by, engine)
    try:
        _edges(con)
        counts = ", ".join(f"count(*) FILTER (WHERE kind = '{k}') AS {c}" for k, c in KINDS)
        inbound = arrow(
            con,
            f"""WITH x AS ({_examples_sql("src", "NOT src_in_op AND tgt_in_op", examples)})
            SELECT src AS account_id, min(src_handle) AS handle, {counts}, count(*) AS total,
                   count(DISTINCT tgt_op) AS op_accounts, min(created_at) AS first_at, max(created_at) AS last_at,
                   any_value(x.example_post_ids) AS example_post_ids
            FROM _edges e LEFT JOIN x ON x.key = e.src
            WHERE NOT src_in_op AND tgt_in_op
            GROUP BY src ORDER BY total DESC, account_id""",
        )
        inbound_posts = arrow(
            con,
            """SELECT e.post_id, e.created_at, e.src AS account_id, e.src_handle AS handle, e.kind,
                      e.tgt_op AS target_account_id, e.target_handle, op.grp AS target_grp, p.text
            FROM _edges e JOIN op ON op.account_id = e.tgt_op
            JOIN (SELECT post_id, text FROM posts) p USING (post_id)
            WHERE NOT e.src_in_op AND e.tgt_in_op ORDER BY e.created_at, e.post_id, e.tgt_op""",
        )
        members = arrow(
            con,
            f"""SELECT op.account_id, op.handle, op.grp, {counts}, count(e.post_id) AS total,
                   count(DISTINCT e.src) AS outside_accounts, min(e.created_at) AS first_at, max(e.created_at) AS last_at
            FROM _edges e JOIN op ON op.account_id = e.tgt_op
            WHERE NOT e.src_in_op AND e.tgt_in_op
            GROUP BY ALL ORDER BY total DESC, op.account_id""",
        )
        # Per group and target first; each operation account is in one group, so distinct
        # accounts add up across groups and the overall table is a roll-up of this one.
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _out_g AS
            SELECT op.grp, e.target, min(e.tgt_account) AS target_account_id,
                   min(e.target_handle) AS target_handle, {counts}, count(*) AS total,
                   count(DISTINCT e.src) AS op_accounts, min(e.created_at) AS first_at, max(e.created_at) AS last_at
            FROM _edges e JOIN op ON op.account_id = e.src
            WHERE e.src_in_op AND NOT e.tgt_in_op GROUP BY op.grp, e.target"""
        )
        sums = ", ".join(f"sum({c})::BIGINT AS {c}" for _, c in KINDS)
        outbound = arrow(
            con,
            f"""WITH o AS (
                SELECT target, min(target_account_id) AS target_account_id, min(target_handle) AS target_handle,
                       {sums}, sum(total)::BIGINT AS total, sum(op_accounts)::BIGINT AS op_accounts,
                       list_sort(list(grp)) AS groups, min(first_at) AS first_at, max(last_at) AS last_at
                FROM _out_g GROUP BY target),
            posting AS (SELECT DISTINCT account_id FROM posts)
            SELECT o.*, posting.account_id IS NOT NULL AS target_posts_here
            FROM o LEFT JOIN posting ON posting.account_id = o.target_account_id
            ORDER BY total DESC, target""",
        )
        # example posts for the targets anyone will look at: the top ``top`` overall
        con.register("_top_targets", outbound.slice(0, top).select(["target"]))
        examples_out = arrow(
            con,
            _examples_sql(
                "target", "src_in_op AND NOT tgt_in_op AND target IN (SELECT target FROM _top_targets)", examples
            ),
        )
        outbound = _attach(outbound, examples_out)
        by_group = arrow(
            con,
            f"""SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY grp ORDER BY total DESC, target) AS rank
                               FROM _out_g)
            WHERE rank <= {int(top)} ORDER BY grp, rank""",
        )
        totals = dict(
            con.execute(
                """SELECT CASE WHEN src_in_op AND tgt_in_op THEN 'internal' WHEN src_in_op THEN 'outbound'
                               ELSE 'inbound' END, count(*)
                FROM _edges GROUP BY 1"""
            ).fetchall()
        )
        outside_posters = con.execute(
            "SELECT count(DISTINCT account_id) FROM posts ANTI JOIN op USING (account_id)"
        ).fetchall()[0][0]
        op_reposts, op_reposts_known, op_quotes, op_quotes_known = con.execute(
            """SELECT count(*) FILTER (WHERE kind = 'repost'),
                      count(*) FILTER (WHERE kind = 'repost' AND (repost_of_account_id IS NOT NULL
                                                                  OR repost_of_handle IS NOT NULL)),
                      count(*) FILTER (WHERE kind = 'quote'),
                      count(*) FILTER (WHERE kind = 'quote' AND (quote_of_id IS NOT NULL OR quote_of_account_id
                                                                 IS NOT NULL OR quote_of_handle IS NOT NULL))
            FROM op_posts WHERE kind IN ('repost', 'quote')"""
        ).fetchall()[0]
        inbound, inbound_posts, members, outbound, by_group = with_platforms(
            con, inbound, inbound_posts, members, outbound, by_group
        )
    finally:
        con.close()
    result = AmplifiersResult(
        operation=op,
        params={
            "top": top,
            "examples": examples,
            "kinds": [k for k, _ in KINDS],
            "target_identity": "account id, else lower-case handle resolved through the workspace",
        },
        inbound=inbound,
        inbound_posts=inbound_posts,
        amplified_members=members,
        outbound=outbound,
        outbound_by_group=by_group,
    )
    internal, out_n = totals.get("internal", 0), totals.get("outbound", 0)
    result.summary = {
        "inbound": {
            "outside_accounts": inbound.num_rows,
            "posts": totals.get("inbound", 0),
            **{c: sum(inbound.column(c).to_pylist()) for _, c in KINDS},
        },
        "outbound": {
            "targets": outbound.num_rows,
            "posts": out_n,
            **{c: sum(outbound.column(c).to_pylist()) for _, c in KINDS},
        },
        "internal_posts": internal,
        "internal_share": internal / (internal + out_n) if internal + out_n else None,
        "operation_reposts": op_reposts,
        "operation_reposts_with_known_source": op_reposts_known,
        "operation_quotes": op_quotes,
        "operation_quotes_with_known_source": op_quotes_known,
    }
    if outside_posters == 0:
        result.notes.append(
            "no posts by accounts outside the operation in this workspace: who amplified it cannot be measured "
            "here (ingest the surrounding conversation to measure it); outbound amplification still can"
        )
    elif inbound.num_rows == 0:
        result.notes.append(
            f"none of the {outside_posters:,} outside accounts in this workspace amplified the operation"
        )
    if op_reposts and op_reposts_known < op_reposts / 2:
        result.notes.append(
            f"only {op_reposts_known:,} of the operation's {op_reposts:,} reposts name the reposted account (the "
            "source strips it), so whom it reposted is known for those alone; mentions cover the rest partly"
        )
    if op_quotes and op_quotes_known < op_quotes / 2:
        result.notes.append(
            f"only {op_quotes_known:,} of the operation's {op_quotes:,} quotes name the quoted post or account "
            "(the source keeps only a shortened link to it), so whom it quoted is known for those alone"
        )
    result.chart = _chart(outbound, top)
    result.seconds = time.perf_counter() - t0
    return result


def _examples_sql(key: str, where: str, n: int) -> str:
    """The first ``n`` distinct posts per ``key`` among the edges matching ``where`` (sorted as
    structs: an ordered ``list(... ORDER BY ...)`` has no Spark form)."""
    return f"""SELECT key, list_transform(list_sort(list(struct_pack(t := created_at, p := post_id))), lambda e: e.p)
        AS example_post_ids FROM (
        SELECT *, row_number() OVER (PARTITION BY key ORDER BY created_at, post_id) AS n
        FROM (SELECT DISTINCT {key} AS key, post_id, created_at FROM _edges WHERE {where}))
    WHERE n <= {int(n)} GROUP BY key"""


def _attach(outbound: pa.Table, examples: pa.Table) -> pa.Table:
    """``outbound`` with an ``example_post_ids`` column (empty beyond the top targets)."""
    found = dict(zip(examples.column("key").to_pylist(), examples.column("example_post_ids").to_pylist(), strict=True))
    ids = [found.get(t) for t in outbound.column("target").to_pylist()]
    return outbound.append_column("example_post_ids", pa.array(ids, pa.list_(pa.string())))


def _edges(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table ``_edges``: one row per (post, target, kind) with the operation at one end at least.

    Acts by the operation are taken whole; acts by everyone else only when they name an operation
    account (by id, handle or post id), so the rest of the workspace is filtered, not joined.
    """
    con.execute("CREATE OR REPLACE TEMP TABLE _op_ids AS SELECT account_id FROM op")
    con.execute("CREATE OR REPLACE TEMP TABLE _op_post_ids AS SELECT post_id FROM op_posts")

    def acts(source: str, names_op: bool) -> str:
        rel = []
        for kind, c in (("repost", "repost_of"), ("quote", "quote_of"), ("reply", "reply_to")):
            where = f"{c}_account_id IS NOT NULL OR {c}_handle IS NOT NULL OR {c}_id IS NOT NULL"
            if names_op:
                where = (
                    f"{c}_account_id IN (SELECT account_id FROM _op_ids) "
                    f"OR lower({c}_handle) IN (SELECT handle_lc FROM op_handles) "
                    f"OR {c}_id IN (SELECT post_id FROM _op_post_ids)"
                )
            rel.append(
                f"SELECT post_id, account_id AS src, handle AS src_handle, created_at, '{kind}' AS kind, "
                f"{c}_account_id AS tgt_id, lower({c}_handle) AS tgt_h, {c}_id AS ref_id FROM {source} WHERE {where}"
            )
        mention = (
            f"SELECT * FROM (SELECT post_id, account_id, handle, created_at, 'mention', NULL, unnest(mentions) AS m, "
            f"NULL FROM {source} WHERE array_length(mentions) > 0)"
        )
        if names_op:
            mention += " WHERE m IN (SELECT handle_lc FROM op_handles)"
        return " UNION ALL ".join([*rel, mention])

    others = "(SELECT * FROM posts ANTI JOIN _op_ids USING (account_id))"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _acts AS {acts('op_posts', False)} UNION ALL {acts(others, True)}")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _edges AS
        WITH refs AS (  -- authors of the referenced posts, for sources that give only a post id
            SELECT post_id, account_id FROM posts
            WHERE post_id IN (SELECT ref_id FROM _acts WHERE tgt_id IS NULL AND ref_id IS NOT NULL)
        ), handles AS (  -- the account most often posting under each named handle
            SELECT h, arg_max(account_id, (n, account_id)) AS account_id FROM (
                SELECT lower(handle) AS h, account_id, count(*) AS n FROM posts
                WHERE lower(handle) IN (SELECT tgt_h FROM _acts WHERE tgt_id IS NULL) GROUP BY ALL
                UNION ALL SELECT lower(handle), account_id, 0 FROM accounts WHERE handle IS NOT NULL
            ) GROUP BY h
        ), r AS (
            -- the target's account: given by the source, else the author of the referenced post
            -- if the workspace holds it, else the account known by that handle
            SELECT DISTINCT e.post_id, e.src, e.src_handle, e.created_at, e.kind,
                   coalesce(e.tgt_id, rp.account_id, h.account_id) AS tgt_account, e.tgt_h,
                   coalesce(e.tgt_id, rp.account_id, h.account_id, '@' || e.tgt_h) AS target
            FROM _acts e LEFT JOIN refs rp ON e.tgt_id IS NULL AND rp.post_id = e.ref_id
            LEFT JOIN handles h ON e.tgt_id IS NULL AND h.h = e.tgt_h
            WHERE coalesce(e.tgt_id, rp.account_id, e.tgt_h) IS NOT NULL
        ), x AS (
        SELECT r.* EXCLUDE (tgt_h), coalesce(r.tgt_h, lower(a.handle)) AS target_handle,
               r.src IN (SELECT account_id FROM _op_ids) AS src_in_op,
               coalesce(ot.account_id, oh.account_id) AS tgt_op,
               coalesce(ot.account_id, oh.account_id) IS NOT NULL AS tgt_in_op
        FROM r LEFT JOIN accounts a ON a.account_id = r.tgt_account
        LEFT JOIN _op_ids ot ON ot.account_id = r.tgt_account
        LEFT JOIN (SELECT handle_lc, min(account_id) AS account_id FROM op_handles GROUP BY 1) oh ON oh.handle_lc = r.tgt_h
        )  -- x's aliases are filtered outside it: Spark's WHERE does not see a SELECT's aliases
        SELECT * FROM x WHERE target <> src AND (src_in_op OR tgt_in_op)
        -- a mention of the account the post already reposts, quotes or replies to is the same act
        QUALIFY NOT (kind = 'mention' AND bool_or(kind <> 'mention') OVER (PARTITION BY post_id, target))"""
    )


def _chart(outbound: pa.Table, top: int) -> dict:
    t = outbound.slice(0, top).select(["target", "target_handle", *[c for _, c in KINDS], "total", "op_accounts"])
    rows = vl_values(t)
    for r in rows:
        r["label"] = "@" + r["target_handle"] if r["target_handle"] else r["target"]
    return {
        "$schema": VEGA_LITE,
        "title": f"The {top} outside accounts the operation amplified most",
        "data": {"values": rows},
        "transform": [{"fold": [c for _, c in KINDS], "as": ["kind", "posts"]}],
        "mark": "bar",
        "encoding": {
            "y": {"field": "label", "type": "nominal", "sort": "-x", "title": None},
            "x": {"field": "posts", "type": "quantitative", "stack": True, "title": "posts by the operation"},
            "color": {"field": "kind", "type": "nominal"},
            "tooltip": [{"field": "label"}, {"field": "kind"}, {"field": "posts"}, {"field": "op_accounts"}],
        },
    }
