"""Large candidate groups are cut again, and the parts are tested as candidates too."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import trollscope as ts
from trollscope.detect import detect
from trollscope.detect import groups as gr
from trollscope.detect.run import DetectParams

SPLIT = 12
MIN = DetectParams().group_min_size


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    from trollscope.simulate import simulate

    d = tmp_path_factory.mktemp("split")
    sim = simulate(posts=60_000, seed=4, out=d / "sim")
    ts.ingest([str(f) for f in sim.files], d / "ws")
    return d / "ws"


def test_large_candidates_are_cut_again_and_the_parts_tested(ws, monkeypatch):
    seen: list[list[np.ndarray]] = []
    original = gr.partition

    def spy(*args, **kwargs):
        out = original(*args, **kwargs)
        seen.append(out)
        return out

    monkeypatch.setattr(gr, "partition", spy)
    whole = detect(ws, group_split_above=None, write=False)
    assert all(len(parts) == 1 for parts in seen)
    unsplit = [parts[0] for parts in seen]
    seen.clear()
    cut = detect(ws, group_split_above=SPLIT, write=False)
    assert all(len(parts) == 2 for parts in seen)
    n_sub = 0
    for (group, sub), before in zip(seen, unsplit, strict=True):
        assert np.array_equal(group, before)  # the first partition is the same
        sizes = np.bincount(group[group >= 0])
        assert (sizes > SPLIT).any()  # the data has candidates to cut
        for s in np.unique(sub[sub >= 0]):
            inside = np.flatnonzero(sub == s)
            parent = np.unique(group[inside])
            assert len(parent) == 1 and sizes[parent[0]] > SPLIT  # a part of one large candidate
            assert MIN <= len(inside) < sizes[parent[0]]  # a real part: a candidate's least size, not the whole
        # every account of a part is in a large candidate, and only those are cut
        assert np.all(sizes[group[sub >= 0]] > SPLIT)
        n_sub += len(np.unique(sub[sub >= 0]))
    assert n_sub > 0
    # The parts join the family the groups' multiple-testing correction runs over.
    assert cut.layers["groups"]["candidate_groups"] == whole.layers["groups"]["candidate_groups"] + n_sub


def test_several_splits_keep_the_accounts_confirmed_on_at_least_half():
    # Four splits' significant groups and their confirmed members (one group per split).
    members = {0: [0, 1, 2, 3], 1: [0, 1, 2], 2: [0, 1, 4], 3: [0, 1, 2, 3]}
    p = {0: 1e-9, 1: 1e-6, 2: 1e-5, 3: 1e-7}
    g = {"group": np.arange(4), "split": np.arange(4), "p_value": np.array([p[i] for i in range(4)]),
         "significant": np.ones(4, dtype=bool)}  # fmt: skip
    rows = [(grp, a) for grp, ms in members.items() for a in ms]
    m = {"group": np.array([r[0] for r in rows]), "aid": np.array([r[1] for r in rows]),
         "split": np.array([r[0] for r in rows]), "confirmed": np.ones(len(rows), dtype=bool)}  # fmt: skip
    g2, m2 = gr.vote(g, m, splits=4)
    votes = {a: sum(a in ms for ms in members.values()) for a in range(5)}
    kept = {a for a, v in votes.items() if v >= 2}  # at least half of four
    assert kept == {0, 1, 2, 3}
    confirmed = {(int(grp), int(a)) for grp, a, c in zip(m2["group"], m2["aid"], m2["confirmed"], strict=True) if c}
    # Splits 0 and 3 confirm the same four accounts: listed once, the more significant (split 0).
    assert not g2["significant"][3] and g2["significant"][:3].all()
    expected = {(grp, a) for grp, ms in members.items() if grp != 3 for a in ms if a in kept}
    assert confirmed == expected
    # One split: nothing changes.
    g1, m1 = gr.vote(g, m, splits=1)
    assert g1 is g and m1 is m


def _scale(layer: str, a, b, k, activity, pairs) -> gr.ScaleCounts:
    act = np.asarray(activity, dtype=float)
    return gr.ScaleCounts(
        layer, 60.0, np.asarray(a), np.asarray(b), np.asarray(k), act, gr.rates(act, np.asarray(pairs))
    )


def test_bonferroni_counts_only_the_layer_scales_that_could_reject():
    # Five accounts in one candidate group; half 1 confirms. One stratum; each account 4 actions per half.
    n = 5
    a, b = np.array([0, 0, 1, 2]), np.array([1, 2, 2, 3])
    k = np.array([[0, 0, 0, 0], [3, 2, 2, 1]])
    act = np.full((2, n, 1), 4.0)
    pairs = np.array([[10.0], [12.0]])
    live = _scale("co-post", a, b, k, act, pairs)
    # A layer with no actions at all (no reply ids in the collection) and one where only account 4 acts.
    empty = _scale("co-reply", a[:0], b[:0], np.zeros((2, 0), dtype=np.int64), np.zeros((2, n, 1)), np.zeros((2, 1)))
    lone_act = np.zeros((2, n, 1))
    lone_act[:, 4] = 3.0
    lone = _scale("co-link", a[:0], b[:0], np.zeros((2, 0), dtype=np.int64), lone_act, np.zeros((2, 1)))
    group = np.zeros(n, dtype=np.int64)

    # Independently: m_s = 2 W / (C (C − 1)) on half 1, Λ = m (N² − Σ n²) / 2, K = Σ k, p = P(Poisson(Λ) ≥ K).
    from scipy.stats import poisson

    c = act[1].sum()
    rate = 2 * pairs[1, 0] / (c * (c - 1))
    lam_g = rate * (act[1].sum() ** 2 - (act[1] ** 2).sum()) / 2
    p_g = poisson.sf(k[1].sum() - 1, lam_g)
    alone = gr._confirm([live], group, 1)
    with_dead = gr._confirm([live, empty, lone], group, 1)
    assert np.isclose(alone[0][0], p_g, rtol=1e-6)
    # The dead layer-scales cannot reject: the group's p is not multiplied by them.
    assert np.isclose(with_dead[0][0], p_g, rtol=1e-6)
    # Members: account 0 (K = 5 with the rest) against Λ_a = m n_a (N − n_a).
    lam_0 = rate * 4 * (act[1].sum() - 4)
    p_0 = poisson.sf(5 - 1, lam_0)
    assert np.isclose(with_dead[5][0], p_0, rtol=1e-6)
    # Account 4 acts in co-link alone there (Λ = 0: no one else does): still one test for it.
    assert np.isclose(with_dead[5][4], alone[5][4], rtol=1e-6)
    # A second live layer-scale does count: Bonferroni over two.
    twice = gr._confirm([live, _scale("co-hashtag", a, b, k, act, pairs)], group, 1)
    assert np.isclose(twice[0][0], min(2 * p_g, 1.0), rtol=1e-6)


def _same(x, y) -> None:
    assert x.flagged == y.flagged
    for name in ("edges", "members", "groups"):
        assert getattr(x, name).equals(getattr(y, name)), name


def _worker_replies(monkeypatch) -> list:
    """What each group worker process returned (None: nothing), as detection runs."""
    replies: list = []
    original = gr._Worker.result

    def spy(self, timeout):
        out = original(self, timeout)
        replies.append(out)
        return out

    monkeypatch.setattr(gr._Worker, "result", spy)
    return replies


def test_later_splits_partitioned_in_a_second_process_give_the_same_result(ws, monkeypatch):
    monkeypatch.setattr(gr, "PARALLEL_EDGES", 10**12)  # every partition here
    serial = detect(ws, write=False)
    replies = _worker_replies(monkeypatch)
    monkeypatch.setattr(gr, "PARALLEL_EDGES", 1)  # the later split's in the worker process
    parallel = detect(ws, write=False)
    assert len(replies) == 1 and replies[0] is not None and len(replies[0]) == 2  # the worker made them
    assert serial.groups.num_rows > 0
    _same(parallel, serial)


def test_the_worker_starts_before_split_0s_graphs_are_made(ws, monkeypatch):
    # The later split's graphs first, then the worker, then split 0's: the worker's Leiden runs while
    # this process makes split 0's graphs (each graph is made once).
    events: list = []
    graph, start = gr.discovery_graph, gr._Worker.__init__

    def made(scales, h, *args, **kw):
        events.append(("graph", id(scales), h))
        return graph(scales, h, *args, **kw)

    def started(self, *args, **kw):
        events.append(("worker",))
        start(self, *args, **kw)

    monkeypatch.setattr(gr, "discovery_graph", made)
    monkeypatch.setattr(gr._Worker, "__init__", started)
    monkeypatch.setattr(gr, "PARALLEL_EDGES", 1)
    detect(ws, write=False)
    assert events.count(("worker",)) == 1
    at = events.index(("worker",))
    before, after = events[:at], events[at + 1 :]
    assert [e[2] for e in before] == [0, 1] and [e[2] for e in after] == [0, 1]
    assert len({e[1] for e in before} | {e[1] for e in after}) == 2  # two splits' scales, one each side


def test_the_splits_tested_on_two_threads_give_what_one_thread_gives(ws, monkeypatch):
    monkeypatch.setattr(gr, "PARALLEL_EDGES", 10**12)  # every partition in this process
    threads = []
    original = gr.group_test

    def spy(*args, **kw):
        threads.append(threading.get_ident())
        return original(*args, **kw)

    monkeypatch.setattr(gr, "group_test", spy)
    monkeypatch.setattr(gr, "_cores", lambda: 1)  # one core: the splits tested one after the other, here
    one = detect(ws, write=False)
    assert threads == [threading.get_ident()] * 2
    threads.clear()
    monkeypatch.setattr(gr, "_cores", lambda: 2)
    two = detect(ws, write=False)
    assert len(threads) == 2 and threading.get_ident() not in threads  # on the pool's threads
    assert one.groups.num_rows > 0
    _same(two, one)


def test_a_failing_worker_process_leaves_the_partitions_to_this_one(ws, monkeypatch):
    import sys

    monkeypatch.setattr(gr, "PARALLEL_EDGES", 10**12)
    serial = detect(ws, write=False)
    monkeypatch.setattr(gr, "PARALLEL_EDGES", 1)
    monkeypatch.setattr(sys, "executable", "/bin/false")  # the worker exits at once, having read nothing
    replies = _worker_replies(monkeypatch)
    _same(detect(ws, write=False), serial)
    assert replies == [None]  # the worker was asked, gave nothing, and its partitions were made here
