"""Is a pair's co-action more than chance? Null models and multiple-testing control.

Windowed layers: a stratified configuration (label-permutation) null. Keep every action where and
when it happened — its item and its time — and deal the actions out to accounts at random, so
each account keeps its number of actions in each item-popularity stratum. Under that shuffle the
expected number of coinciding action pairs between accounts ``a`` and ``b`` is

    λ_ab = Σ_s n_as · n_bs · 2 W_s / (C_s (C_s − 1))

with ``n_as`` the actions of ``a`` in stratum ``s``, ``C_s`` all actions there and ``W_s`` the
unordered pairs of actions in ``s`` on the same item within the window. Per item this is the
familiar (c_i / C)² · r_i (``r_i`` the share of the item's action pairs that fall within the
window), so a viral item that hundreds act on within minutes makes a lot of co-action expected,
and an account that acts on many such items is expected to co-act a lot; stratifying by item
popularity stops people who love viral posts from looking coordinated merely because the few
obscure items everyone else acts on dilute the average. The observed count ``k`` (the smaller of
the two accounts' coinciding actions) is tested against Poisson(λ): p = P(K ≥ k). Counting pairs
in λ but distinct actions in ``k`` makes the test conservative.

The family is every pair of accounts active in the layer (m = N (N − 1) / 2), corrected with
Benjamini–Hochberg at ``alpha`` (times the number of time scales the layer is tested at); only candidate pairs (k ≥ ``min_count``) are ranked, which can only
raise their q-values. An edge is significant when q ≤ alpha and k ≥ ``min_count``.

Similarity layer: a degree-preserving permutation null. The account–feature bipartite graph is
rewired ``permutations`` times by shuffling which feature each (account, feature, count) entry
points at — every account keeps its activity, every feature its popularity — and the cosines
recomputed. For an observed cosine c the expected number of null pairs at least as similar,
V(c), over the number of observed pairs at least as similar, R(c), estimates the false-discovery
rate of the threshold c (the permutation FDR of SAM, Tusher et al. 2001); q is its running
minimum, with one pseudo-count so a handful of permutations never claims q = 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .layers import LayerCounts, cosine_pairs, tfidf

if TYPE_CHECKING:
    import scipy.sparse as sp


def expected_coactions(
    counts: LayerCounts, a: np.ndarray, b: np.ndarray, weight: np.ndarray | None = None
) -> np.ndarray:
    """λ_ab for each pair (``a[i]``, ``b[i]``) under the stratified configuration null (for the
    cross-platform layer, dealt out within each platform: Σ_s n_as n_bs W_s(P, Q) / (C_s(P) C_s(Q))).
    ``weight``: a factor per stratum (the timing test's share of each stratum's pairs)."""
    if counts.pair_rate is not None:  # cross-platform: the null dealt out within each platform
        m = counts.pair_rate[:, counts.platform[a], counts.platform[b]].T
    else:
        c = counts.actions
        with np.errstate(divide="ignore", invalid="ignore"):
            m = np.where(c > 1, 2.0 * counts.pairs / (c * (c - 1.0)), 0.0)
    if weight is not None:
        m = m * weight
    return pair_sums(counts.activity, a, b, m)


def pair_sums(activity: np.ndarray, a: np.ndarray, b: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Σ_s activity[a, s] · activity[b, s] · rate[s] (``rate`` per stratum, or per pair and stratum)
    for each pair: the plain expression's arithmetic in the same order, on one gathered copy
    multiplied in place, a quarter of its time over the millions of pairs of a 10M-post layer."""
    x = np.take(activity, a, axis=0).astype(np.float64, copy=False)  # counts may be int32 (groups.compact)
    x *= np.take(activity, b, axis=0)
    x *= rate
    return x.sum(axis=1)


def poisson_p(k: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """P(K ≥ k) for K ~ Poisson(λ).

    Computed here rather than with scipy.special, whose import (about 0.2 s) would be a noticeable
    share of a small layer's run. Above the mean (λ < k, where significant edges lie) the tail is
    pmf(k) · Σ_n λⁿ / ((k+1)…(k+n)); at or below it, 1 − pmf(k−1) · Σ_n (k−1)…(k−n) / λⁿ. Both
    series have positive terms that shrink geometrically, summed until they no longer change the
    total; log k! comes from a cumulative sum of logs. Agrees with scipy to 1e-8 relative where
    k reaches 10⁵, far closer for the small counts of real edges (tested).
    """
    k = np.asarray(k, dtype=np.int64)
    lam = np.maximum(np.asarray(lam, dtype=float), 1e-300)
    k, lam = np.broadcast_arrays(k, lam)
    out = np.ones(k.shape)
    if k.size == 0 or k.max() <= 0:
        return out
    log_fact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, int(k.max()) + 1)))])
    up = (k > 0) & (lam < k)
    kk, ll = k[up], lam[up]
    out[up] = np.exp(kk * np.log(ll) - ll - log_fact[kk]) * _series(ll, kk.astype(float), rising=True)
    down = (k > 0) & ~up
    kk, ll = k[down] - 1, lam[down]
    lower = np.exp(kk * np.log(ll) - ll - log_fact[kk]) * _series(ll, kk.astype(float), rising=False)
    out[down] = np.clip(1.0 - lower, 0.0, 1.0)
    return out


def _series(lam: np.ndarray, k: np.ndarray, rising: bool) -> np.ndarray:
    """Elementwise Σ_n t_n with t_0 = 1 and t_n = t_{n−1} · λ / (k + n) (``rising``) or
    t_{n−1} · (k − n + 1) / λ (falling, ends at zero), summed until a term no longer counts."""
    total = np.ones(len(lam))
    term = np.ones(len(lam))
    active = np.arange(len(lam))
    n = 1
    while active.size:
        if rising:
            term[active] *= lam[active] / (k[active] + n)
        else:
            term[active] *= np.maximum(k[active] - n + 1, 0.0) / lam[active]
        total[active] += term[active]
        active = active[term[active] > 1e-17 * total[active]]
        n += 1
    return total


def bh(p: np.ndarray, m: float | None = None) -> np.ndarray:
    """Benjamini–Hochberg q-values of ``p`` within a family of ``m`` tests (default: len(p))."""
    p = np.asarray(p, dtype=float)
    n = len(p)
    if n == 0:
        return p
    m = max(float(m or n), n)
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def windowed_significance(
    counts: LayerCounts, alpha: float, min_count: int, scales: int = 1, also=None
) -> dict[str, np.ndarray]:
    """Expected co-actions, p, q and significance for a windowed layer's candidate edges.

    ``scales``: the number of time scales the layer is tested at; the family is every pair of
    active accounts at every scale. ``also(k, expected)``: a second test's p-values (the timing
    test, run.py); an edge's p is the larger of the two (both nulls must be rejected).
    """
    e = counts.edges
    a, b = e.column("a").to_numpy(), e.column("b").to_numpy()
    k = e.column("count").to_numpy()
    lam = expected_coactions(counts, a, b)
    p = poisson_p(k, lam)
    if also is not None:
        p = np.maximum(p, also(k, lam))
    n = int(counts.stats.get("accounts", (counts.activity.sum(axis=1) > 0).sum()))
    family = counts.stats.get("family", n * (n - 1) / 2)  # cross-platform: pairs on two platforms only
    q = bh(p, family * max(int(scales), 1))
    return {"expected": lam, "p_value": p, "q_value": q, "significant": (q <= alpha) & (k >= min_count)}


def configuration_expected_shared(counts: sp.csr_matrix, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Expected number of shared features of rows i and j if features were dealt out at random."""
    b = (counts > 0).astype(np.float64).tocsr()
    deg = np.asarray(b.sum(axis=1)).ravel()
    df = np.asarray(b.sum(axis=0)).ravel()
    d = df.sum()
    if d < 2:
        return np.zeros(len(i))
    return deg[i] * deg[j] * float((df * (df - 1)).sum()) / (d * (d - 1))


def permutation_null(
    counts: sp.csr_matrix, min_cosine: float, permutations: int, seed: int, top_k: int | None = None
) -> list[np.ndarray]:
    """For each rewiring of the account–feature graph, the sorted null cosines ≥ ``min_cosine``."""
    from concurrent.futures import ThreadPoolExecutor

    import scipy.sparse as sp

    coo = counts.tocoo()
    rng = np.random.default_rng(seed)

    def null_cosines(cols: np.ndarray) -> np.ndarray:
        shuffled = sp.csr_matrix((coo.data, (coo.row, cols)), shape=counts.shape)
        return np.sort(cosine_pairs(tfidf(shuffled), min_cosine, top_k)[2])

    # The draws in order on this thread (the same permutations as one by one); the products on two
    # threads, since scipy's sparse products release the GIL; at most a few rewirings in memory.
    futures = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(permutations):
            futures.append(pool.submit(null_cosines, rng.permutation(coo.col)))
            if len(futures) > 2:
                futures[-3].result()
        return [f.result() for f in futures]


def similarity_significance(
    cosine: np.ndarray, shared: np.ndarray, null: list[np.ndarray], n_accounts: int, alpha: float, min_count: int
) -> dict[str, np.ndarray]:
    """Permutation p and FDR q for observed cosines (see the module docstring)."""
    r = max(len(null), 1)
    m = max(n_accounts * (n_accounts - 1) / 2, 1)
    exceed = np.zeros(len(cosine))
    for v in null:
        exceed += len(v) - np.searchsorted(v, cosine - 1e-12, side="left")
    p = (exceed + 1.0) / (r * m + 1.0)
    order = np.argsort(-cosine, kind="stable")
    srt = np.sort(cosine)  # pairs tied on a cosine all count each other as "at least as similar"
    observed_at_least = len(cosine) - np.searchsorted(srt, cosine - 1e-12, side="left")
    fdr = ((exceed + 1.0) / (r + 1.0)) / np.maximum(observed_at_least, 1)
    q = np.empty(len(cosine))
    if len(cosine):
        q_sorted = np.minimum.accumulate(fdr[order][::-1])[::-1]
        q[order] = np.minimum(q_sorted, 1.0)
    return {"p_value": np.minimum(p, 1.0), "q_value": q, "significant": (q <= alpha) & (shared >= min_count)}
