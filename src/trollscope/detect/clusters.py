"""From significant edges to clusters a reader can check: Leiden, cluster p-values, evidence, scores.

The significant edges of every layer are merged into one weighted graph: an edge's weight is its
layer weight times its surprise, min(−log10 p, 50), summed over layers, so a pair tied in three
layers weighs more than a pair tied in one and a pair far beyond chance more than one just past the
threshold. Leiden (RB configuration partition, i.e. modularity at resolution 1, fixed seed) splits
the graph into clusters; clusters smaller than ``min_size`` are dropped.

A cluster's p-value combines its internal edges' p-values (a group-confirmed edge: the smaller of
its own and its group's) with Simes' method: it tests "none of
these ties is more than chance" and is valid when the edges' tests are independent or positively
dependent (edges sharing an account are positively dependent). Its density is the share of member
pairs tied by a significant edge; its score is the mean of its members' coordination scores.
"""

from __future__ import annotations

import igraph as ig
import leidenalg
import numpy as np

SURPRISE_CAP = 50.0


def combined_weights(
    a: np.ndarray, b: np.ndarray, layer: np.ndarray, p: np.ndarray, weights: dict[str, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One weighted edge per account pair from significant layer edges."""
    lw = np.array([weights.get(str(x), 1.0) for x in layer], dtype=float)
    w = lw * np.minimum(-np.log10(np.maximum(p, 1e-300)), SURPRISE_CAP)
    key = a.astype(np.int64) * (int(max(a.max(initial=0), b.max(initial=0))) + 1) + b
    uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
    return a[first], b[first], np.bincount(inv, weights=w, minlength=len(uniq))


def leiden_clusters(
    a: np.ndarray,
    b: np.ndarray,
    w: np.ndarray,
    *,
    seed: int = 42,
    resolution: float = 1.0,
    min_size: int = 3,
    iterations: int = -1,
    fast: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """``(accounts, cluster)``: every account in the graph and its cluster number (1 = largest; 0 = dropped).

    ``iterations``: Leiden passes (−1: until no pass improves the partition). ``fast``: igraph's own
    Leiden (modularity, the same objective at resolution 1) instead of leidenalg's — tens of times
    faster on graphs of 10⁵ edges; used where the partition is only a candidate (groups.py)."""
    nodes, idx = np.unique(np.concatenate([a, b]), return_inverse=True)
    if len(nodes) == 0:
        return nodes, np.zeros(0, dtype=np.int64)
    ea, eb = idx[: len(a)], idx[len(a) :]
    g = ig.Graph(n=len(nodes))
    g.add_edges(np.column_stack([ea, eb]))  # from the array: half the time of a list of pairs
    if fast:
        import random

        ig.set_random_number_generator(random.Random(seed))
        try:
            member = np.asarray(g.community_leiden(objective_function="modularity", weights=w.tolist(),
                                                   resolution=resolution, n_iterations=iterations).membership)  # fmt: skip
        finally:
            ig.set_random_number_generator(random)
        return nodes, _numbered(nodes, member, min_size)
    part = leidenalg.find_partition(
        g,
        leidenalg.RBConfigurationVertexPartition,
        weights=w.tolist(),
        seed=seed,
        resolution_parameter=resolution,
        n_iterations=iterations,
    )
    return nodes, _numbered(nodes, np.asarray(part.membership), min_size)


def _numbered(nodes: np.ndarray, member: np.ndarray, min_size: int) -> np.ndarray:
    """Cluster numbers by size (1 = largest; 0 = smaller than ``min_size``), ties by smallest account."""
    sizes = np.bincount(member)
    # Number clusters by size (largest first), ties by their smallest account, for stable ids.
    smallest = np.full(len(sizes), np.iinfo(np.int64).max)
    np.minimum.at(smallest, member, nodes)
    order = np.lexsort((smallest, -sizes))
    kept = order[sizes[order] >= min_size]
    number = np.zeros(len(sizes), dtype=np.int64)
    number[kept] = np.arange(1, len(kept) + 1)
    return number[member]


def cluster_sql(max_evidence: int) -> dict[str, str]:
    """SQL for the cluster tables over ``_sig`` (significant edges), ``_member`` (aid, cluster), ``_scores``, ``_acc``.

    ``_sig`` has layer, a, b, count, p_value, group_p, first_at, last_at, evidence. Orders inside lists are
    made by sorting structs whose first field is the key, the portable way (no ordered aggregates).
    """
    return {
        "internal": """CREATE OR REPLACE TEMP TABLE _internal AS
            SELECT s.*, ma.cluster FROM _sig s JOIN _member ma ON ma.aid = s.a JOIN _member mb ON mb.aid = s.b
            WHERE ma.cluster = mb.cluster AND ma.cluster > 0""",
        "clusters": """
            WITH m AS (
                -- rounded: a parallel sum's order changes its last bit, and a run must repeat exactly
                SELECT mm.cluster, count(*) AS size, round(avg(sc.score), 12) AS score,
                       list_transform(list_sort(list(struct_pack(k := -sc.score, h := c.handle))), lambda e: e.h)
                           AS handles
                FROM _member mm JOIN _acc c ON c.aid = mm.aid JOIN _scores sc ON sc.aid = mm.aid
                WHERE mm.cluster > 0 GROUP BY mm.cluster
            ),
            l AS (SELECT cluster, map_from_entries(list_sort(list(struct_pack(k := layer, v := n)))) AS layers
                  FROM (SELECT cluster, layer, count(*) AS n FROM _internal GROUP BY cluster, layer) GROUP BY cluster),
            simes AS (SELECT cluster, least(1.0, min(n * p_value / rk)) AS p_value FROM (
                SELECT cluster, p_value, count(*) OVER (PARTITION BY cluster) AS n,
                       row_number() OVER (PARTITION BY cluster ORDER BY p_value, a, b, layer) AS rk
                FROM (SELECT cluster, a, b, layer, least(p_value, coalesce(group_p, 1.0)) AS p_value FROM _internal))
                GROUP BY cluster),
            t AS (SELECT cluster, min(first_at) AS first_at, max(last_at) AS last_at FROM _internal GROUP BY cluster),
            tied AS (SELECT cluster, count(*) AS tied FROM (SELECT DISTINCT cluster, a, b FROM _internal) GROUP BY cluster)
            SELECT m.cluster AS cluster_id, m.size, m.score, tied.tied / (m.size * (m.size - 1) / 2.0) AS density,
                   simes.p_value, l.layers, t.first_at, t.last_at, m.handles
            FROM m JOIN l ON l.cluster = m.cluster JOIN simes ON simes.cluster = m.cluster
            JOIN t ON t.cluster = m.cluster JOIN tied ON tied.cluster = m.cluster
            ORDER BY cluster_id""",
        "members": """
            SELECT m.cluster AS cluster_id, c.account_id, c.handle, sc.score, coalesce(t.ties, 0) AS ties
            FROM _member m JOIN _acc c ON c.aid = m.aid JOIN _scores sc ON sc.aid = m.aid
            LEFT JOIN (SELECT aid, count(*) AS ties FROM (SELECT a AS aid FROM _internal UNION ALL
                       SELECT b AS aid FROM _internal) GROUP BY aid) t ON t.aid = m.aid
            WHERE m.cluster > 0 ORDER BY cluster_id, sc.score DESC, c.handle""",
        # Evidence: two post pairs of each internal edge, the most significant edges first, then
        # the second pairs, up to max_evidence per cluster.
        "evidence": f"""CREATE OR REPLACE TEMP TABLE _ev AS
            SELECT * FROM (
                SELECT cluster, layer, a, b, p_value, e.pa, e.pb, e.ta, e.tb, e.item,
                       row_number() OVER (PARTITION BY cluster ORDER BY ev_rank, p_value, a, b, layer) AS rk
                FROM (
                    SELECT *, row_number() OVER (PARTITION BY cluster, layer, a, b ORDER BY e.ta, e.tb, e.item, e.pa, e.pb) AS ev_rank
                    FROM (SELECT cluster, layer, a, b, p_value, unnest(evidence) AS e FROM _internal)
                ) WHERE ev_rank <= 2
            ) WHERE rk <= {int(max_evidence)}""",
    }
