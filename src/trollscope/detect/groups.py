"""Group-level coordination: accounts that co-act across many items, each pair perhaps only once.

A pairwise test needs the same two accounts to co-act again and again. Real operations rotate:
among the IRA's accounts a pair posts the same text within a minute once, but a group of 10–30
accounts does so dozens of times across many items (docs/detection.md, "Groups"). This module
tests groups, with the selection of the group kept apart from its test:

1. **Split.** Every item goes to one of two halves by the parity of its hash (layers.split_sql);
   with several splits (``split_tests``), by one bit of it each.
   Under the null model (actions dealt out to accounts at random within popularity strata, see
   significance.py) co-actions on disjoint sets of items are independent.
2. **Discover** on one half: a graph of the pairs whose co-actions in that half are unlikely
   (p < ``screen``, the pair p below), weighted by surprise, summed over layers and time
   scales; Leiden splits it into candidate groups of at least ``min_size`` accounts. Candidates
   larger than ``split_above`` are cut again, on their own edges, and the parts are candidates too.
3. **Confirm** on the other half, which played no part in choosing the group: the group's
   internal co-actions K = Σ_{a<b in G} k_ab against their expectation
   Λ = Σ_s m_s ((Σ_{a in G} n_as)² − Σ_{a in G} n_as²) / 2 — the sum of λ_ab over every pair of
   members, whether or not it co-acted — tested as Poisson(Λ), per layer and scale, Bonferroni
   over them; Benjamini–Hochberg over all candidate groups of both directions (half 0 → 1 and
   1 → 0).
   **Timing.** People who share a taste (a community following the same accounts) co-act far
   more than the configuration null expects, at every time scale, and a group sums that excess
   over hundreds of pairs. So where a layer has a reference scale R (its longest window), a
   test at window w < R must also pass the timing test: of the group's K_R co-actions within R,
   are more than the share Λ_w / Λ_R within w? (Binomial; the share is the population's, per
   popularity stratum and averaged over items: layers.item_shares.) A community's shared taste
   raises K_R and K_w alike; only acting at the same moment raises K_w beyond its share. A test's p is the larger of the two
   (intersection–union: both nulls must be rejected).
4. **Members.** In a confirmed group each member is tested on the confirmation half the same
   way, against the rest of the group (K_a = Σ_b k_ab, Λ_a = Σ_s m_s n_as (N_Gs − n_as)); members
   that pass (BH over all members of confirmed groups) are flagged, so an account pulled into a
   candidate group by one chance co-action is not.

Everything is arrays over accounts and pairs (numpy); the only loop is over the few layer-scales.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from . import clusters as cl
from .significance import bh, pair_sums, poisson_p

SURPRISE_CAP = 50.0


@dataclass
class ScaleCounts:
    """One layer at one time scale, as the group test needs it.

    ``a, b``: the candidate pairs (dense account numbers); ``k``: (2, pairs) co-actions in each
    half; ``activity``: (2, accounts, strata) actions in each half (int32, see :func:`compact`);
    ``rate``: (2, strata) the null's m_s = 2 W_s / (C_s (C_s − 1)) in each half.
    """

    layer: str
    window: float
    a: np.ndarray
    b: np.ndarray
    k: np.ndarray
    activity: np.ndarray
    rate: np.ndarray
    ref: ScaleCounts | None = None  # the layer's reference scale (its longest window), when it has several
    k_ref: np.ndarray | None = None  # (2, pairs): the same pairs' co-actions at the reference scale
    share: np.ndarray | None = None  # (2, reference strata): the timing test's per-item share; set with ref


@dataclass
class GroupResult:
    """Candidate groups (both directions), their tests, and the members that passed."""

    groups: dict[
        str, np.ndarray
    ]  # group, direction, size, p_value, q_value, significant, best_layer, best_window, k, expected
    members: dict[str, np.ndarray]  # group, aid, k, expected, p_value, q_value, confirmed, best (scale index)


def compact(activity: np.ndarray) -> np.ndarray:
    """Action counts as int32 (exact, and half of float64's memory: at 10M posts the two splits'
    activity of every layer-scale is 1.2 GB as float64); float64 in the rare case they do not fit.
    Every sum over them converts to float64 first, so the arithmetic is float64's either way."""
    return activity.astype(np.int32) if activity.max(initial=0) < 2**31 else activity


def rates(activity: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """m_s = 2 W_s / (C_s (C_s − 1)) for each half (rows) and stratum."""
    c = activity.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c > 1, 2.0 * pairs / (c * (c - 1.0)), 0.0)


def binom_sf(k: np.ndarray, n: np.ndarray, r: np.ndarray) -> np.ndarray:
    """P(X ≥ k) for X ~ Binomial(n, r) (1 where k ≤ 0)."""
    from scipy.special import betainc

    k, n, r = np.broadcast_arrays(np.asarray(k, float), np.asarray(n, float), np.clip(np.asarray(r, float), 0, 1))
    out = np.ones(k.shape)
    pos = (k > 0) & (n >= k)
    out[pos] = betainc(k[pos], n[pos] - k[pos] + 1.0, r[pos])
    return out


def timing_p(k: np.ndarray, k_ref: np.ndarray, lam: np.ndarray, lam_ref: np.ndarray) -> np.ndarray:
    """The timing test: of the ``k_ref`` co-actions at the reference scale, are more than chance
    within the short window? Binomial(max(k_ref, k), λ / λ_ref) (docs/detection.md, "Timing")."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(lam_ref > 0, lam / lam_ref, 1.0)
    return binom_sf(k, np.maximum(k_ref, k), np.minimum(r, 1.0))


def _lam(sc: ScaleCounts, h: int, a: np.ndarray, b: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    rate = sc.rate[h] if weight is None else sc.rate[h] * weight
    return pair_sums(sc.activity[h], a, b, rate)


def _pair_p(sc: ScaleCounts, h: int, timing: bool = True) -> np.ndarray:
    """Pair p on half ``h``: beyond the configuration null and, with a reference scale and
    ``timing``, the timing test."""
    lam = _lam(sc, h, sc.a, sc.b)
    p = poisson_p(sc.k[h], lam)
    if timing and sc.ref is not None and sc.k_ref is not None:
        # within w: the reference's λ with each stratum weighted by its per-item share
        lam_w, lam_ref = _lam(sc.ref, h, sc.a, sc.b, sc.share[h]), _lam(sc.ref, h, sc.a, sc.b)
        p = np.maximum(p, timing_p(sc.k[h], sc.k_ref[h], lam_w, lam_ref))
    return p


def discovery_graph(scales: list[ScaleCounts], h: int, n_accounts: int, *, screen: float,
                    timing: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """The graph candidates are found on, from half ``h``: the pairs whose co-actions there are
    unlikely (pair p < ``screen``), each weighted by its surprise summed over the layer-scales."""
    a_, b_, w_ = [], [], []
    for sc in scales:
        if not len(sc.a):
            continue
        p = _pair_p(sc, h, timing)
        keep = (sc.k[h] > 0) & (p < screen)
        a_.append(sc.a[keep])
        b_.append(sc.b[keep])
        w_.append(np.minimum(-np.log10(np.maximum(p[keep], 1e-300)), SURPRISE_CAP))
    if not a_ or not sum(len(x) for x in a_):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    a, b, w = np.concatenate(a_), np.concatenate(b_), np.concatenate(w_)
    key = a.astype(np.int64) * n_accounts + b
    uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
    return a[first], b[first], np.bincount(inv, weights=w, minlength=len(uniq))


def partition(a: np.ndarray, b: np.ndarray, weight: np.ndarray, n_accounts: int, *, min_size: int, seed: int,
              resolution: float, split_above: int | None = None) -> list[np.ndarray]:  # fmt: skip
    """Partitions of the accounts into candidate groups (−1: none), by Leiden on a discovery graph:
    the partition, and with ``split_above`` a second one, of the candidates larger than that cut
    again by Leiden on their own edges."""
    group = np.full(n_accounts, -1, dtype=np.int64)
    if not len(a):
        return [group]
    # igraph's Leiden, two passes: candidates only need to be good enough to test (the test is on the
    # other half), and at 10M posts the graph has millions of edges.
    nodes, number = cl.leiden_clusters(a, b, weight, seed=seed, resolution=resolution, min_size=min_size,
                                       iterations=2, fast=True)  # fmt: skip
    inside = number > 0
    group[nodes[inside]] = number[inside] - 1
    if split_above is None:
        return [group]
    # The large candidates again, each on its own edges, as further candidates: a campaign inside a
    # candidate of a thousand accounts is diluted there (a member's expectation grows with the group,
    # its co-actions do not). The loop is over the few large candidates.
    sub = np.full(n_accounts, -1, dtype=np.int64)
    sizes = np.bincount(group[group >= 0])
    for g_id in np.flatnonzero(sizes > split_above):
        sel = (group[a] == g_id) & (group[b] == g_id)
        n2, num2 = cl.leiden_clusters(a[sel], b[sel], weight[sel], seed=seed, resolution=resolution,
                                      min_size=min_size, iterations=2, fast=True)  # fmt: skip
        k = num2 > 0
        if not k.any() or (num2.max() == 1 and k.sum() == sizes[g_id]):  # not cut: the candidate itself
            continue
        sub[n2[k]] = num2[k] - 1 + sub.max(initial=-1) + 1
    return [group, sub]


def _confirm(scales: list[ScaleCounts], group: np.ndarray, h: int) -> tuple[np.ndarray, ...]:
    """Per group and per member, the best layer-scale's K, Λ and Bonferroni p on half ``h`` (and its index)."""
    n_groups = int(group.max()) + 1 if len(group) else 0
    members = np.flatnonzero(group >= 0)
    g_of = group[members]
    n_tests = max(len(scales), 1)
    gp = np.ones((n_tests, n_groups))
    gk = np.zeros((n_tests, n_groups))
    glam = np.zeros((n_tests, n_groups))
    mp = np.ones((n_tests, len(members)))
    mk = np.zeros((n_tests, len(members)))
    mlam = np.zeros((n_tests, len(members)))
    pos = np.full(len(group), -1, dtype=np.int64)
    pos[members] = np.arange(len(members))
    from scipy.sparse import csr_matrix

    belongs = csr_matrix((np.ones(len(members)), (g_of, np.arange(len(members)))), shape=(n_groups, len(members)))

    def parts(sc: ScaleCounts) -> tuple[np.ndarray, ...]:
        """At one layer-scale, per group and per member: Λ's terms per stratum before the rate, and K."""
        act = np.take(sc.activity[h], members, axis=0).astype(np.float64, copy=False)  # (members, strata)
        tot = np.asarray(belongs @ act)  # per group and stratum (counts: exact in floating point)
        sq = np.asarray(belongs @ (act * act))
        g_terms = (tot * tot - sq) / 2.0
        m_terms = np.take(tot, g_of, axis=0)  # act · (tot − act), in place on one copy
        m_terms -= act
        m_terms *= act
        g_k, m_k = np.zeros(n_groups), np.zeros(len(members))
        if len(sc.a):
            ga, gb = group[sc.a], group[sc.b]
            inside = (ga >= 0) & (ga == gb) & (sc.k[h] > 0)
            kk = sc.k[h][inside].astype(float)
            g_k = np.bincount(ga[inside], weights=kk, minlength=n_groups)
            m_k = np.bincount(pos[sc.a[inside]], weights=kk, minlength=len(members)) + np.bincount(
                pos[sc.b[inside]], weights=kk, minlength=len(members)
            )
        return g_terms, m_terms, g_k, m_k

    def lams(terms: tuple[np.ndarray, ...], rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Λ of every group and member: its terms times the stratum's rate, summed."""
        return (terms[0] * rate).sum(axis=1), (terms[1] * rate).sum(axis=1)

    # A reference scale serves several shorter ones: its terms, K and Λ are computed once; only the
    # timing test's Λ within w (each stratum's rate times its share) is per scale.
    refs: dict[int, tuple] = {}
    for t, sc in enumerate(scales):
        terms = parts(sc)
        gk[t], mk[t] = terms[2], terms[3]
        glam[t], mlam[t] = lams(terms, sc.rate[h])
        del terms
        gp[t] = poisson_p(gk[t].astype(np.int64), glam[t])
        mp[t] = poisson_p(mk[t].astype(np.int64), mlam[t])
        if sc.ref is not None:
            if id(sc.ref) not in refs:
                r_terms = parts(sc.ref)
                refs[id(sc.ref)] = (r_terms, *lams(r_terms, sc.ref.rate[h]))
            r_terms, rglam, rmlam = refs[id(sc.ref)]
            g_in, m_in = lams(r_terms, sc.ref.rate[h] * sc.share[h])  # within w: Λ_R, each stratum times its share
            gp[t] = np.maximum(gp[t], timing_p(gk[t], r_terms[2], g_in, rglam))
            mp[t] = np.maximum(mp[t], timing_p(mk[t], r_terms[3], m_in, rmlam))
    best_g = gp.argmin(axis=0) if n_groups else np.zeros(0, dtype=np.int64)
    best_m = mp.argmin(axis=0) if len(members) else np.zeros(0, dtype=np.int64)
    cols_g, cols_m = np.arange(n_groups), np.arange(len(members))
    # Bonferroni over the layer-scales that could reject: the null keeps every account's actions
    # per layer, so where a group's (a member's) expectation is 0 its count is 0 too, and p is 1
    # whatever happens (Tarone's reduction; a collection with no reply ids has no co-reply test).
    n_g, n_m = np.maximum((glam > 0).sum(axis=0), 1), np.maximum((mlam > 0).sum(axis=0), 1)
    return (
        np.minimum(gp[best_g, cols_g] * n_g, 1.0), best_g, gk[best_g, cols_g], glam[best_g, cols_g],
        members, np.minimum(mp[best_m, cols_m] * n_m, 1.0), mk[best_m, cols_m], mlam[best_m, cols_m], best_m,
    )  # fmt: skip


def group_test(scales: list[ScaleCounts], n_accounts: int, *, alpha: float, min_size: int = 3, seed: int = 42,
               screen: float = 0.01, resolution: float = 1.0, discover_timing: bool = True,
               split_above: int | None = None, partitions: list[list[np.ndarray]] | None = None) -> GroupResult:  # fmt: skip
    """Discover groups on each half of the items, confirm them and their members on the other
    (``partitions``: the candidates of each half, when already made: see :func:`split_tests`)."""
    scales = [sc for sc in scales if sc.activity is not None]  # the tested scales (references ride along)
    g_cols: dict[str, list] = {k: [] for k in ("group", "direction", "size", "p_value", "best", "k", "expected")}
    m_cols: dict[str, list] = {k: [] for k in ("group", "aid", "p_value", "k", "expected", "best")}
    offset = 0
    for h in (0, 1):
        if partitions is None:
            graph = discovery_graph(scales, h, n_accounts, screen=screen, timing=discover_timing)
            found = partition(*graph, n_accounts, min_size=min_size, seed=seed, resolution=resolution,
                              split_above=split_above)  # fmt: skip
        else:
            found = partitions[h]
        for group in found:
            if group.max(initial=-1) < 0:
                continue
            gp, best, gk, glam, members, mp, mk, mlam, best_m = _confirm(scales, group, 1 - h)
            n_groups = len(gp)
            g_cols["group"].append(np.arange(n_groups) + offset)
            g_cols["direction"].append(np.full(n_groups, h))
            g_cols["size"].append(np.bincount(group[group >= 0], minlength=n_groups))
            g_cols["p_value"].append(gp)
            g_cols["best"].append(best)
            g_cols["k"].append(gk)
            g_cols["expected"].append(glam)
            m_cols["group"].append(group[members] + offset)
            m_cols["aid"].append(members)
            m_cols["p_value"].append(mp)
            m_cols["k"].append(mk)
            m_cols["expected"].append(mlam)
            m_cols["best"].append(best_m)
            offset += n_groups
    g = {k: np.concatenate(v) if v else np.zeros(0) for k, v in g_cols.items()}
    m = {k: np.concatenate(v) if v else np.zeros(0) for k, v in m_cols.items()}
    g["q_value"] = bh(g["p_value"])
    g["significant"] = g["q_value"] <= alpha
    layer_names = np.array([sc.layer for sc in scales] or [""], dtype=object)
    windows = np.array([sc.window for sc in scales] or [0.0])
    best = g.pop("best").astype(np.int64)
    g["layer"], g["window"] = layer_names[best], windows[best]
    in_sig = np.isin(m["group"], g["group"][g["significant"]]) if len(m["group"]) else np.zeros(0, dtype=bool)
    q = np.ones(len(m["aid"]))
    if in_sig.any():
        q[in_sig] = bh(m["p_value"][in_sig])
    m["q_value"] = q
    m["confirmed"] = in_sig & (q <= alpha) & (m["k"] > 0)
    return GroupResult(g, m)


def split_tests(per_split: list[list[ScaleCounts]], n_accounts: int, *, alpha: float, min_size: int = 3,
                seed: int = 42, screen: float = 0.01, resolution: float = 1.0, discover_timing: bool = True,
                split_above: int | None = None) -> GroupResult:  # fmt: skip
    """The group test on each split of the items: one split, :func:`group_test` as it is; several,
    each at α/2, their groups and members side by side (``split`` says whose), for :func:`vote`.

    The candidates of every split are made from the discovery graphs; with several splits and large
    graphs, those of the later splits in a second process (:func:`_partitions`). Each split is tested
    on a thread of its own as soon as its candidates are made."""
    level = alpha if len(per_split) == 1 else alpha / 2
    tested = [[sc for sc in scales if sc.activity is not None] for scales in per_split]

    def graphs(sp: int) -> list[tuple[np.ndarray, ...]]:
        return [discovery_graph(tested[sp], h, n_accounts, screen=screen, timing=discover_timing) for h in (0, 1)]

    found = _partitions(graphs, len(tested), n_accounts, dict(min_size=min_size, seed=seed, resolution=resolution,
                                                              split_above=split_above))  # fmt: skip
    kw = dict(min_size=min_size, seed=seed, screen=screen, resolution=resolution, discover_timing=discover_timing,
              split_above=split_above)  # fmt: skip
    # Each split is tested on a thread of its own as soon as its candidates are made: the tests are
    # numpy work that mostly runs without Python's lock (at 10M posts the two splits' tests take
    # 3.4-3.7 s side by side, 5.7-6.8 s one after the other, with the same results).
    test = lambda sp, parts: group_test(tested[sp], n_accounts, alpha=level, partitions=parts, **kw)  # noqa: E731
    if len(tested) > 1 and _cores() > 1:
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(test, sp, parts) for sp, parts in enumerate(found)]
            results = [f.result() for f in futures]
    else:
        results = [test(sp, parts) for sp, parts in enumerate(found)]
    g_parts, m_parts, offset = [], [], 0
    for sp, r in enumerate(results):
        g, m = dict(r.groups), dict(r.members)
        g["group"] = g["group"].astype(np.int64) + offset
        m["group"] = m["group"].astype(np.int64) + offset
        g["split"] = np.full(len(g["group"]), sp, dtype=np.int64)
        m["split"] = np.full(len(m["aid"]), sp, dtype=np.int64)
        offset = int(g["group"].max(initial=offset - 1)) + 1
        g_parts.append(g)
        m_parts.append(m)
    g = {k: np.concatenate([x[k] for x in g_parts]) for k in g_parts[0]}
    m = {k: np.concatenate([x[k] for x in m_parts]) for k in m_parts[0]}
    return GroupResult(g, m)


# Discovery graphs of the later splits with at least this many edges in all have their Leiden
# partitions made in a second process while this one makes the first split's: Leiden holds
# Python's lock, so threads cannot share it out. At 10M posts the graphs have 1.1M edges each.
PARALLEL_EDGES = 200_000


def _partitions(
    graphs: Callable[[int], list[tuple[np.ndarray, ...]]], splits: int, n_accounts: int, kw: dict
) -> Iterator[list[list[np.ndarray]]]:
    """:func:`partition` of every split's two discovery graphs (``graphs(split)``), split by split,
    the same whichever process made them: the caller tests split 0's candidates while the second
    process still makes the later splits'. The later splits' graphs are made first, so that the
    second process starts while this one makes split 0's graphs.

    The second process is a fresh interpreter (``python -m trollscope.detect._partition_worker``),
    not a fork: a fork would copy DuckDB's and Spark's threads mid-flight, and multiprocessing's
    spawn would import the caller's script again. It gets only the graphs, by pipe. Should it fail
    or stall, its partitions are made here instead."""
    made = {sp: graphs(sp) for sp in range(1, splits)}
    jobs = [(sp, h) for sp in range(1, splits) for h in (0, 1)]
    later = sum(len(made[sp][h][0]) for sp, h in jobs)
    worker = None
    if later >= PARALLEL_EDGES and _cores() > 1:
        worker = _Worker([made[sp][h] for sp, h in jobs], n_accounts, kw)
    remote = set(jobs) if worker is not None and worker.started else set()
    t0 = time.perf_counter()
    here = 0.0  # seconds this process spent on its own partitions: the worker's are as many
    parts: dict | None = None
    for sp in range(splits):
        split = made.pop(sp) if sp else graphs(0)
        if (sp, 0) not in remote:
            t = time.perf_counter()
            yield [partition(*split[h], n_accounts, **kw) for h in (0, 1)]
            here += time.perf_counter() - t
            continue
        if parts is None:
            wait = max(120.0, 4 * here) - (time.perf_counter() - t0)
            parts = dict(zip(jobs, worker.result(timeout=max(wait, 1.0)) or [None] * len(jobs), strict=True))
        # None: the worker failed or stalled, made here instead
        yield [parts[(sp, h)] if parts[(sp, h)] is not None else partition(*split[h], n_accounts, **kw)
               for h in (0, 1)]  # fmt: skip


def _cores() -> int:
    """The cores this process may run on (its affinity: a container or ``taskset`` may allow fewer
    than the machine has)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _Worker:
    """One ``_partition_worker`` process, fed and read by a thread so that this one works meanwhile."""

    def __init__(self, graphs: list, n_accounts: int, kw: dict):
        import pickle
        import subprocess
        import sys
        import threading
        from pathlib import Path

        self.parts: list | None = None
        env = dict(os.environ)
        src = str(Path(__file__).resolve().parents[2])  # the directory trollscope is imported from
        env["PYTHONPATH"] = os.pathsep.join(x for x in (src, env.get("PYTHONPATH")) if x)
        self.started = False
        if not sys.executable:  # an embedded interpreter: no python to start
            return
        try:
            self.proc = subprocess.Popen([sys.executable, "-m", "trollscope.detect._partition_worker"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, env=env)  # fmt: skip
        except (OSError, ValueError):
            return
        self.started = True
        data = pickle.dumps((graphs, n_accounts, kw), protocol=pickle.HIGHEST_PROTOCOL)

        def talk() -> None:
            try:
                self.proc.stdin.write(data)
                self.proc.stdin.close()
                reply = self.proc.stdout.read()
                if self.proc.wait() == 0:
                    self.parts = pickle.loads(reply)
            except (OSError, EOFError, pickle.UnpicklingError):
                self.parts = None

        self.thread = threading.Thread(target=talk, daemon=True)
        self.thread.start()

    def result(self, timeout: float) -> list | None:
        """The partitions, or None when the worker failed or took longer than ``timeout`` seconds."""
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.proc.kill()
            self.thread.join()
            return None
        return self.parts


def vote(g: dict, m: dict, splits: int) -> tuple[dict, dict]:
    """With several splits, a member stays confirmed when it is confirmed on at least half of them
    (each at α/2): the quantile aggregation of Meinshausen, Meier and Bühlmann (2009) at γ = 1/2,
    which keeps one split's error rate while making the result depend less on which items fell in
    which half. A group confirmed on several splits with the same members is then listed once (the
    most significant); a group left with no confirmed member is not significant."""
    if splits == 1:
        return g, m
    conf = m["confirmed"]
    n = int(m["aid"].max(initial=-1)) + 1
    keys = np.unique(np.column_stack([m["split"][conf], m["aid"][conf]]).astype(np.int64), axis=0)
    votes = np.bincount(keys[:, 1], minlength=n) if len(keys) else np.zeros(n, dtype=np.int64)
    m = {**m, "confirmed": conf & (votes[m["aid"].astype(np.int64)] >= (splits + 1) // 2)}
    g = {**g, "significant": g["significant"].copy()}
    seen: set[bytes] = set()
    for i in np.argsort(g["p_value"], kind="stable"):  # over the significant groups: a few hundred at most
        if not g["significant"][i]:
            continue
        mine = m["group"] == g["group"][i]
        key = np.sort(m["aid"][mine & m["confirmed"]]).astype(np.int64).tobytes()
        if not key or key in seen:
            g["significant"][i] = False
            m["confirmed"][mine] = False
        seen.add(key)
    return g, m
