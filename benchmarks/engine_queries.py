"""The queries the engine decision (docs/decisions/0001-query-engine.md) was measured on.

Plain DuckDB-dialect SQL, no imports beyond the standard library, so the project's environment,
the Ibis venv and the Spark venv can all load this file. ``tests/test_engine.py`` loads it too, so
the queries the decision cites are the ones the tests keep transpiling.
"""

from __future__ import annotations

WINDOW_SECONDS = 60


def co_repost_sql(window: int = WINDOW_SECONDS, posts: str = "posts") -> str:
    """Account pairs that reposted the same item within ``window`` seconds of each other.

    Written the way detection will: events are bucketed by ``floor(epoch / window)`` and joined on
    (item, bucket) against the same and the two adjacent buckets, so the bucket is part of the
    equi-join key (a hot item does not become one quadratic partition on Spark), then the exact
    ``|dt| <= window`` filter runs on the few candidates left. ``a < b`` counts each pair once.
    The shifted bucket is a column of a subquery on purpose: written as ``b.bucket = a.bucket +
    o.d`` in the join, DuckDB 2.0 joins on the item alone first and is 6x slower.
    """
    return f"""
    WITH e AS (
        SELECT account_id, repost_of_id, created_at,
               CAST(floor(epoch(created_at) / {window}) AS BIGINT) AS bucket
        FROM {posts}
        WHERE kind = 'repost' AND repost_of_id IS NOT NULL
    ),
    pairs AS (
        SELECT a.account_id AS account_a, b.account_id AS account_b, a.repost_of_id AS item,
               abs(epoch(b.created_at) - epoch(a.created_at)) AS dt
        FROM (SELECT *, bucket + d AS near FROM e CROSS JOIN (VALUES (-1), (0), (1)) AS o(d)) AS a
        JOIN e AS b ON b.repost_of_id = a.repost_of_id AND b.bucket = a.near
        WHERE a.account_id < b.account_id
    )
    SELECT account_a, account_b, count(*) AS co_reposts, count(DISTINCT item) AS items
    FROM pairs
    WHERE dt <= {window}
    GROUP BY account_a, account_b
    """


def timeline_sql(unit: str = "hour", posts: str = "posts") -> str:
    """Posts and active accounts per time unit and kind: the investigate stage's timeline."""
    return f"""
    SELECT date_trunc('{unit}', created_at) AS period, kind,
           count(*) AS posts, count(DISTINCT account_id) AS accounts
    FROM {posts}
    GROUP BY date_trunc('{unit}', created_at), kind
    """


def finalize_sql(records: str = "SELECT * FROM _records") -> str:
    """Ingest's finalize query as it runs on a batch with every canonical column (needs ``trollscope``).

    Reads the table ``_records`` (and ingest's ``_file_map``). The private signature has changed
    while the foundation settles, so both forms are accepted.
    """
    import inspect

    from trollscope.ingest import _finalize_sql
    from trollscope.schema import POSTS

    available = set(POSTS.names) | {"reject_reason", "raw"}
    if next(iter(inspect.signature(_finalize_sql).parameters)) == "records":
        return _finalize_sql(records, available, "ira", "x")
    return _finalize_sql(available, "ira", "x", 1)  # the foundation's first form, over _records


# One construct each, over the probe table ``p`` (see engine_overhead.py); results are compared
# between DuckDB and the transpiled query on Spark. Keys name the construct.
PROBES: dict[str, str] = {
    "lambda list_transform": "SELECT id, list_transform(xs, lambda x: upper(x)) AS r FROM p",
    "lambda list_filter": "SELECT id, list_filter(xs, lambda x: x <> 'b') AS r FROM p",
    "regexp_extract_all group 0": r"SELECT id, regexp_extract_all(s, 'https?://[^\s]+') AS r FROM p",
    "regexp_extract_all group 1 \\p{L}": r"SELECT id, list_transform(regexp_extract_all(s, '#([\p{L}\p{N}_]+)', 1), lambda t: lower(t)) AS r FROM p",
    "regexp_extract group 1": "SELECT id, regexp_extract(s, '^RT @([A-Za-z0-9_]+):', 1) AS r FROM p",
    "regexp_extract default group": "SELECT id, regexp_extract(s, '@[A-Za-z0-9_]+') AS r FROM p",
    "regexp_replace 'g'": "SELECT id, regexp_replace(s, '[aeiou]', '_', 'g') AS r FROM p",
    "regexp_replace without 'g'": "SELECT id, regexp_replace(s, '[aeiou]', '_') AS r FROM p",
    "regexp \\s and a vertical tab": r"SELECT id, regexp_replace(s || chr(11) || 'end', '\s+', ' ', 'g') AS r FROM p",
    "md5": "SELECT id, md5(s) AS r FROM p",
    "QUALIFY": "SELECT g, id FROM p QUALIFY row_number() OVER (PARTITION BY g ORDER BY id DESC) = 1",
    "SEMI JOIN": "SELECT p.id FROM p SEMI JOIN (SELECT 2 AS id UNION ALL SELECT 3) q ON p.id = q.id",
    "ANTI JOIN": "SELECT p.id FROM p ANTI JOIN (SELECT 2 AS id UNION ALL SELECT 3) q ON p.id = q.id",
    "arg_max": "SELECT g, arg_max(n, ts) AS r FROM p GROUP BY g",
    "arg_max FILTER (WHERE x IS NOT NULL)": "SELECT g, arg_max(n, ts) FILTER (WHERE n IS NOT NULL) AS r FROM p GROUP BY g",
    "arg_max, NULL ordering value": "SELECT g, arg_max(id, n) AS r FROM p GROUP BY g",
    "arg_max OVER (window)": "SELECT id, arg_max(n, ts) OVER (PARTITION BY g) AS r FROM p",
    "any_value": "SELECT g, any_value(n) AS r FROM p WHERE g = 'x' GROUP BY g",
    "epoch() whole seconds": "SELECT id, epoch(ts) AS r FROM p",
    "epoch() sub-second": "SELECT id, epoch(ts + INTERVAL 500 MILLISECOND) AS r FROM p",
    "epoch_ms(timestamp)": "SELECT id, epoch_ms(ts) AS r FROM p",
    "epoch_us(timestamp) // 1000": "SELECT id, epoch_us(ts + INTERVAL 1500 MICROSECOND) // 1000 AS r FROM p",
    "CAST(fraction AS BIGINT)": "SELECT id, CAST(id / 2 AS BIGINT) AS r FROM p",
    "CAST(floor(fraction) AS BIGINT)": "SELECT id, CAST(floor(id / 2) AS BIGINT) AS r FROM p",
    "hash() as a join key": "SELECT count(*) AS r FROM p a JOIN p b ON hash(a.g, a.id % 2) = hash(b.g, b.id % 2)",
    "floor(epoch / w) bucket": "SELECT id, CAST(floor(epoch(ts) / 60) AS BIGINT) AS r FROM p",
    "date_trunc": "SELECT id, date_trunc('hour', ts) AS r FROM p",
    "timestamp::VARCHAR": "SELECT id, ts::VARCHAR AS r FROM p",
    "strftime": "SELECT id, strftime(ts, '%Y-%m-%d %H:%M') AS r FROM p",
    "map_from_entries(struct_pack)": (
        "SELECT g, map_from_entries(list_filter([struct_pack(k := 'n', v := any_value(s)), "
        "struct_pack(k := 'm', v := NULL::VARCHAR)], lambda e: e.v IS NOT NULL AND e.v <> '')) AS r FROM p GROUP BY g"
    ),
    "* EXCLUDE": "SELECT * EXCLUDE (xs, ts, s) FROM p",
    "* REPLACE": "SELECT * REPLACE (upper(g) AS g) FROM p",
    "UNION ALL BY NAME": "SELECT id, g FROM p UNION ALL BY NAME SELECT g, id FROM p",
    "row_number() OVER ()": "SELECT id, row_number() OVER () AS r FROM p",
    "GROUP BY ALL": "SELECT g, count(*) AS r FROM p GROUP BY ALL",
    "count FILTER": "SELECT g, count(*) FILTER (WHERE n > 1) AS r FROM p GROUP BY g",
    "list() aggregate ORDER BY": "SELECT g, list(id ORDER BY id DESC) AS r FROM p GROUP BY g",
    "list_sort(list())": "SELECT g, list_sort(list(id)) AS r FROM p GROUP BY g",
    "string_agg ORDER BY": "SELECT g, string_agg(s, '|' ORDER BY id DESC) AS r FROM p GROUP BY g",
    "quantile_cont": "SELECT g, quantile_cont(id, 0.3) AS r, quantile_cont(id, [0.1, 0.9]) AS q FROM p GROUP BY g",
    "median": "SELECT g, median(id) AS r FROM p GROUP BY g",
    "string_split": "SELECT id, string_split(g || ',z', ',') AS r FROM p",
    "/ and // on integers": "SELECT id, id / 2 AS r, id // 2 AS q FROM p",
    "VALUES offsets join": "SELECT p.id, o.d FROM p CROSS JOIN (VALUES (-1), (0), (1)) AS o(d)",
    "unnest list in FROM": "SELECT p.id, d FROM p, unnest([-1, 0, 1]) AS o(d)",
    "|| and concat_ws with NULL": "SELECT id, s || g AS r, concat_ws('|', g, NULL, s) AS q FROM p",
}
