"""Detection end to end: layers -> significance -> clusters -> workspace tables.

``detect(workspace)`` reads the workspace's posts, builds every requested layer, keeps the edges
that beat the layer's null model, clusters them and writes ``edges``, ``clusters``,
``cluster_members``, ``account_scores`` and ``evidence`` (each replaced on every run), recording
its parameters under ``params.detect`` in the manifest. ``load(workspace)`` reads them back.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..engine import EngineSpec, connect, engine_spec
from ..schema import UNKNOWN_PLATFORM
from ..workspace import Workspace, WorkspaceError
from . import clusters as cl
from . import groups as gr
from . import layers as ly
from . import significance as sg

OUTPUT_TABLES = ("edges", "clusters", "cluster_members", "account_scores", "evidence", "groups")
# The workspace's cache of normalised post texts (post_id, norm), shared by co-post and near-dup.
NORM_TEXTS = "norm_texts"
TEXT_LAYERS = ("co-post", "near-dup")

NULL_MODELS = {
    "windowed": "stratified configuration null: actions keep item and time, accounts keep their number of "
    "actions per item-popularity stratum; lambda_ab = sum_s n_as n_bs 2 W_s / (C_s (C_s - 1)); "
    "p = Poisson P(K >= k); Benjamini-Hochberg over all pairs of active accounts times the time scales",
    "groups": "items split in two halves by hash; Leiden groups found on one half's surprising pairs are tested on "
    "the other: K = internal co-actions vs Poisson(sum of lambda_ab over member pairs), Bonferroni over layers and "
    "scales, Benjamini-Hochberg over groups; members tested the same way against the rest of their group",
    "similarity": "degree-preserving rewiring of the account-feature graph; permutation FDR (SAM) on TF-IDF cosine",
}


class DetectError(Exception):
    """Detection cannot run on this input (no posts, unknown layer, bad parameter)."""


DAY_MS = 86_400_000
# Each split keeps every layer-scale's activity per half for the group test: about 70 MB a split
# at 1M posts as float64, half that as the int32 it is now (docs/detection.md, "Several splits");
# eight is the most measured.
MAX_GROUP_SPLITS = 8


@dataclass(frozen=True)
class DetectParams:
    """Every parameter that changes detection's result; recorded in the workspace manifest.

    Each is explained, with its reason and the figure behind it, in docs/detection.md.
    ``window``: the time scales (seconds) every windowed layer is counted at — one number or
    several — unless ``windows`` names the layer. In a ``timing_layers`` layer with several
    scales the longest is the reference, counted and not tested; near-dup runs at one scale,
    ``near_dup_window``. ``min_count`` is 1: the null model sets the floor (a single co-action is
    significant when its chance is tiny); near-dup, whose items are posts and whose null has no
    popularity strata, keeps ``near_dup_min_count``. ``pair_timing``: pairs in timing layers
    must also pass the timing test. ``keep_edges``: the least co-action count of an edge that is
    not significant and is still written (1 writes every candidate pair; at 10M posts the single
    chance co-actions are millions of rows). ``groups``: run the group test (groups.py) with
    ``group_screen`` (pair p that links accounts when groups are looked for),
    ``group_min_size`` (confirmed members a group needs), ``group_min_items`` (distinct items
    of its layer in its evidence), ``group_split_above`` (candidates larger than this are also cut
    again, and the parts tested as candidates too; None: not), ``group_splits`` (splits of the items
    the group test is run on; with several, an account is confirmed when it is at α/2 on at least
    half of them), ``pair_min_items`` (a significant pair needs co-actions on this
    many distinct items, or a day or more apart: one item on one day is one event) and ``discover_timing`` (apply the timing test when looking
    for groups, not only when testing them). ``cross_near_threshold``: texts on two platforms whose
    word-shingle Jaccard reaches it are one cross-platform item (near-dup's LSH shape and seed;
    None: exact texts only).
    """

    layers: tuple[str, ...] = ly.DEFAULT_LAYERS
    window: float | tuple[float, ...] = (60.0, 300.0, 3600.0, 86400.0)
    windows: dict[str, float | tuple[float, ...]] = field(default_factory=dict)
    alpha: float = 0.01
    min_count: int = 1
    keep_edges: int = 2
    timing_layers: tuple[str, ...] = ("co-repost", "co-reply", "co-link", "co-mention", "co-hashtag")
    pair_timing: bool = True
    discover_timing: bool = False
    groups: bool = True
    group_screen: float = 0.01
    group_min_size: int = 5
    group_min_items: int = 2
    group_split_above: int | None = 200
    group_splits: int = 2
    pair_min_items: int = 2
    near_dup_window: float = 300.0
    near_dup_min_count: int = 3
    max_item_accounts: int = 50
    min_text_chars: int = 20
    min_stratum_share: float = 0.02
    min_stratum_accounts: int = 100
    near_dup_threshold: float = 0.5
    near_dup_shingle: int = 2
    near_dup_bands: int = 12
    near_dup_rows: int = 3
    cross_near_threshold: float | None = 0.5
    similarity_features: tuple[str, ...] = ("repost", "link")
    similarity_min_features: int = 10
    similarity_min_cosine: float = 0.5
    similarity_top_k: int = 20
    similarity_permutations: int = 20
    layer_weights: dict[str, float] = field(default_factory=dict)
    min_cluster_size: int = 3
    resolution: float = 1.0
    seed: int = 42
    max_evidence: int = 20

    def scales_for(self, layer: str) -> tuple[float, ...]:
        """The windows (seconds, ascending) ``layer`` is counted at."""
        if layer == "near-dup" and layer not in self.windows:
            return (float(self.near_dup_window),)
        w = self.windows.get(layer, self.window)
        scales = tuple(sorted({float(x) for x in (w if isinstance(w, list | tuple) else (w,))}))
        return scales[-1:] if layer == "near-dup" else scales

    def window_for(self, layer: str) -> float:
        """The longest of ``layer``'s windows."""
        return self.scales_for(layer)[-1]

    def check(self) -> None:
        unknown = [x for x in self.layers if x not in ly.LAYERS]
        if unknown:
            raise DetectError(f"unknown layer {', '.join(unknown)}: choose from {', '.join(ly.LAYERS)}")
        if not self.layers:
            raise DetectError(f"no layers chosen: choose from {', '.join(ly.LAYERS)}")
        bad = [k for k in self.windows if k not in ly.WINDOWED]
        if bad:
            raise DetectError(f"{', '.join(bad)} has no window: windowed layers are {', '.join(ly.WINDOWED)}")
        if any(w <= 0 for x in ly.WINDOWED for w in self.scales_for(x)):
            raise DetectError("a window must be a positive number of seconds")
        if self.cross_near_threshold is not None and not 0 < self.cross_near_threshold <= 1:
            raise DetectError(f"cross_near_threshold must be in (0, 1] or None, not {self.cross_near_threshold}")
        if not 1 <= self.group_splits <= MAX_GROUP_SPLITS:
            raise DetectError(f"group_splits must be between 1 and {MAX_GROUP_SPLITS}, not {self.group_splits}")
        if self.min_count < 1:
            raise DetectError(f"min_count must be at least 1, not {self.min_count}")
        if not 0 < self.alpha < 1:
            raise DetectError(f"alpha must be between 0 and 1, not {self.alpha}")

    def as_dict(self) -> dict:
        d = asdict(self)
        d["layers"] = list(self.layers)
        d["timing_layers"] = list(self.timing_layers)
        d["window"] = list(self.window) if isinstance(self.window, list | tuple) else self.window
        d["windows"] = {x: list(self.scales_for(x)) for x in self.layers if x in ly.WINDOWED}
        d["null_models"] = {x: NULL_MODELS["similarity" if x == "similarity" else "windowed"] for x in self.layers}
        if self.groups:
            d["null_models"]["groups"] = NULL_MODELS["groups"]
        return d


@dataclass
class DetectionResult:
    """What a detection run found, as Arrow tables, plus its parameters and per-layer figures."""

    params: dict
    edges: pa.Table
    clusters: pa.Table
    members: pa.Table
    accounts: pa.Table
    evidence: pa.Table
    layers: dict[str, dict] = field(default_factory=dict)
    seconds: float = 0.0
    groups: pa.Table | None = None

    @property
    def flagged(self) -> list[str]:
        """Handles of the flagged accounts, sorted."""
        t = self.accounts.filter(self.accounts.column("flagged"))
        return sorted(h for h in t.column("handle").to_pylist() if h is not None)

    def as_dict(self, evidence_per_cluster: int | None = None) -> dict:
        """The CLI's ``--json`` document."""
        ev: dict[int, list[dict]] = {}
        for r in self.evidence.to_pylist():
            ev.setdefault(r["cluster_id"], []).append(
                {k: v for k, v in r.items() if k not in ("cluster_id", "account_a", "account_b")}
            )
        clusters = []
        for c in self.clusters.to_pylist():
            clusters.append(
                {
                    "id": c["cluster_id"],
                    "size": c["size"],
                    "accounts": c["handles"],
                    "layers": dict(c["layers"]) if c["layers"] is not None else {},
                    "p_value": c["p_value"],
                    "score": c["score"],
                    "density": c["density"],
                    "first": c["first_at"],
                    "last": c["last_at"],
                    "evidence": ev.get(c["cluster_id"], [])[:evidence_per_cluster],
                }
            )
        groups = []
        if self.groups is not None:
            for g in self.groups.to_pylist():
                groups.append({**g, "first_at": g["first_at"], "last_at": g["last_at"]})
        return {
            "params": self.params,
            "layers": self.layers,
            "clusters": clusters,
            "groups": groups,
            "flagged_accounts": self.flagged,
            "seconds": round(self.seconds, 3),
        }


def detect(
    workspace: str | Path | Workspace | None = None,
    *,
    params: DetectParams | None = None,
    progress: Callable[[str, dict], None] | None = None,
    write: bool = True,
    memory_limit: str | None = None,
    cache: bool = True,
    engine: str | EngineSpec | None = None,
    **overrides,
) -> DetectionResult:
    """Find coordinated accounts in ``workspace``; write the result tables unless ``write=False``.

    Parameters come from ``params`` or keyword overrides of :class:`DetectParams` fields, e.g.
    ``detect(ws, layers=("co-repost",), window=30, alpha=0.001)``. ``progress(layer, figures)`` is
    called as each layer finishes. ``cache``: keep the normalised post texts in the workspace
    (table ``norm_texts``, rebuilt whenever the posts change) so that the next run's co-post and
    near-dup skip the normalisation; it is written even with ``write=False``, and skipped without
    complaint when the workspace cannot be written. ``engine``: ``"duckdb"`` (default), ``"spark"``
    or an :class:`~trollscope.engine.EngineSpec` (docs/scale.md). The cache is one for both engines:
    Spark reads a cache DuckDB wrote and writes one (by its tasks) that DuckDB reads, since its
    translated normalisation gives DuckDB's very bytes (tests/test_spark_detect.py).
    """
    t0 = time.perf_counter()
    p = params or DetectParams()
    if overrides:
        if "layers" in overrides and isinstance(overrides["layers"], str):
            overrides["layers"] = tuple(x.strip() for x in overrides["layers"].split(",") if x.strip())
        unknown = set(overrides) - set(DetectParams.__dataclass_fields__)
        if unknown:
            raise TypeError(f"unknown detect parameter(s): {', '.join(sorted(unknown))}")
        p = DetectParams(**{**asdict(p), **overrides})
    p = DetectParams(**{**asdict(p), "layers": tuple(p.layers)})
    p.check()
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace, create=False)
    key = _texts_key(ws)  # before connect: posts added in between make the key stale, never the cache
    spec = engine_spec(engine)
    if spec.is_spark:
        from ..spark_con import connect_workspace

        con = connect_workspace(ws, spec)
    else:
        con = ws.connect(connect(memory_limit))
    try:
        texts = (lambda: _prepare_texts(ws, con, key, cache)) if set(p.layers) & set(TEXT_LAYERS) else None
        result = _run(con, p, progress, texts)
    finally:
        con.close()
    result.seconds = time.perf_counter() - t0
    if write:
        _write(ws, result)
    return result


def _texts_key(ws: Workspace) -> dict:
    """What the cached normalised texts were computed from: the posts files, the SQL, DuckDB's version.
    Not the engine: Spark's translation of the SQL gives the same bytes (tested over texts where a
    naive translation does not: final sigma, dotted capital I, vertical tabs), so a cache either
    engine wrote serves both."""
    sql = ly.norm_text_sql("text")
    return {
        "posts": ws.manifest()["tables"].get("posts", []),
        "normalisation": hashlib.md5(sql.encode()).hexdigest(),
        "duckdb": duckdb.__version__,
    }


def _prepare_texts(ws: Workspace, con: duckdb.DuckDBPyConnection, key: dict, cache: bool) -> str:
    """``_texts`` for the text layers: read from the workspace's cache when it is current, else
    computed (and, with ``cache``, written for the next run). Returns what happened."""
    if not cache:
        ly.own_texts(con)
        return "computed"
    if ws.files(NORM_TEXTS) and ws.params(NORM_TEXTS) == key:
        ly.own_texts(con, cached=True)
        return "read from cache"
    ly.own_texts(con, keep_ids=True)
    try:
        with ws.transaction(params={NORM_TEXTS: key}) as txn:
            txn.replace(NORM_TEXTS, txn.write_parts(con, NORM_TEXTS, "SELECT post_id, norm FROM _texts"))
        status = "computed, cached"
    except (WorkspaceError, OSError, duckdb.IOException):  # another run holds the lock, or read-only
        status = "computed (cache not written)"
    con.execute("ALTER TABLE _texts DROP COLUMN post_id")
    return status


def _run(
    con: duckdb.DuckDBPyConnection, p: DetectParams, progress, texts: Callable[[], str] | None = None
) -> DetectionResult:
    n_posts = ly.one(con, "SELECT count(*) FROM posts")
    if not n_posts:
        raise DetectError("the workspace has no posts: ingest some first (trollscope ingest FILES -w WORKSPACE)")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _acc AS
        SELECT (row_number() OVER (ORDER BY account_id) - 1)::INTEGER AS aid, account_id,
               arg_max(handle, created_at) AS handle, count(*) AS posts, min(platform) AS platform
        FROM posts WHERE account_id IS NOT NULL GROUP BY account_id"""
    )
    n_accounts = ly.one(con, "SELECT count(*) FROM _acc")
    linked = _linked_pairs(con, n_accounts)
    text_status = None
    layer_edges: list[pa.Table] = []
    layer_scores: list[pa.Table] = []
    figures: dict[str, dict] = {}
    group_input: list[list[gr.ScaleCounts]] = [[] for _ in range(p.group_splits)]  # per split of the items
    platforms = ly.one(con, f"SELECT count(DISTINCT platform) FROM _acc WHERE platform <> '{UNKNOWN_PLATFORM}'")
    for layer in p.layers:
        t = time.perf_counter()
        if layer == "cross-platform" and platforms < 2:
            figures[layer] = {"skipped": "the posts are not from two known platforms", "candidate_edges": 0,
                              "significant_edges": 0, "seconds": 0.0}  # fmt: skip
            continue
        if layer in TEXT_LAYERS and texts and text_status is None:
            text_status = texts()
        if layer == "similarity":
            edges, scores, stats = _similarity(con, p, n_accounts, linked)
        else:
            edges, scores, stats, scales = _windowed(con, layer, p, n_accounts, linked)
            # near-dup's "items" are posts, not shared objects: no clean split; cross-platform pairs
            # are a subset of all pairs, which the group test's null does not model (docs).
            if layer not in ("near-dup", "cross-platform"):
                for sp, part in enumerate(scales):
                    group_input[sp] += part
        stats["significant_edges"] = int(pc.sum(edges.column("significant")).as_py() or 0)
        if layer in TEXT_LAYERS and text_status:
            stats["normalised_texts"] = text_status
        stats["seconds"] = round(time.perf_counter() - t, 3)
        figures[layer] = stats
        layer_edges.append(edges)
        layer_scores.append(scores)
        if progress:
            progress(layer, stats)
    edges = pa.concat_tables(layer_edges)
    scores = pa.concat_tables(layer_scores)
    groups = None
    if p.groups and group_input[0]:
        t = time.perf_counter()
        found = gr.split_tests(group_input, n_accounts, alpha=p.alpha, min_size=p.group_min_size, seed=p.seed,
                               screen=p.group_screen, resolution=p.resolution,
                               discover_timing=p.discover_timing, split_above=p.group_split_above)  # fmt: skip
        edges, scores, groups = _apply_groups(edges, scores, found, group_input, p.group_min_items, p.group_min_size)
        figures["groups"] = {
            "candidate_groups": len(found.groups["group"]),
            "significant_groups": int(groups["significant"].sum()),
            "confirmed_members": len(np.unique(groups["members"]["aid"][groups["members"]["confirmed"]])),
            "seconds": round(time.perf_counter() - t, 3),
        }
        if progress:
            progress("groups", figures["groups"])
    else:
        sig = edges.column("significant")
        edges = edges.append_column("test", pc.if_else(sig, pa.scalar("pair"), pa.scalar(None, pa.string())))
        edges = edges.append_column("group_id", pa.nulls(edges.num_rows, pa.int64()))
        edges = edges.append_column("group_p", pa.nulls(edges.num_rows, pa.float64()))
    keep = pc.or_(edges.column("significant"), pc.greater_equal(edges.column("count"), max(p.keep_edges, 1)))
    edges = edges.filter(keep)  # single chance co-actions are counted and tested, not kept
    result = _cluster(con, p, edges, scores, figures)
    result.groups = _groups_out(con, groups, edges, result.members)
    return result


def _apply_groups(
    edges: pa.Table,
    scores: pa.Table,
    found: gr.GroupResult,
    scales: list[list[gr.ScaleCounts]],
    min_items: int,
    min_size: int,
) -> tuple[pa.Table, pa.Table, dict[str, np.ndarray]]:
    """Mark the windowed edges between confirmed members of one significant group as significant.

    An edge keeps its own pair test's p; ``group_id`` and ``group_p`` say which group confirmed it
    (the most significant one when several did). Confirmed members get a ``groups`` score: their
    share of actions, in the half of the items that confirmed them, that co-act with the group.
    """
    g, m = found.groups, found.members
    # Many distinct items: a group whose co-actions all sit on a few items (one share button's text
    # posted by a crowd of strangers) is one event, not a group acting together again and again.
    # Counted in the layer that confirmed the group: one post is an item in every layer it is in;
    # and within the group's own split (groups of other splits do not take its edges).
    gl = np.full(int(g["group"].max(initial=-1)) + 2, "", dtype=object)
    gl[g["group"].astype(np.int64)] = g["layer"]
    layer_of_edge = edges.column("layer").to_numpy(zero_copy_only=False)
    n_items = np.zeros(len(g["group"]), dtype=np.int64)
    for sp in range(len(scales)):
        in_g, in_m = g["split"] == sp, m["split"] == sp
        group_id, _ = _group_edges(edges, {k: v[in_g] for k, v in g.items()}, {k: v[in_m] for k, v in m.items()})
        items = _group_items(edges, np.where(layer_of_edge == gl[group_id], group_id, -1))
        n_items[np.searchsorted(g["group"].astype(np.int64), items[0])] = items[1]
    # And enough members confirmed: the group test is for groups, not a pair test in disguise.
    confirmed = np.bincount(m["group"][m["confirmed"]].astype(np.int64), minlength=len(g["group"]))
    few = g["significant"] & ((n_items < min_items) | (confirmed[g["group"].astype(np.int64)] < min_size))
    g = {**g, "significant": g["significant"] & ~few, "items": n_items}
    m = {**m, "confirmed": m["confirmed"] & ~np.isin(m["group"], g["group"][few])}
    g, m = gr.vote(g, m, len(scales))
    group_id, group_p = _group_edges(edges, g, m)
    hit = group_id >= 0
    was = edges.column("significant").to_numpy(zero_copy_only=False)
    edges = edges.set_column(edges.schema.get_field_index("significant"), "significant", pa.array(was | hit))
    test = np.where(was, "pair", None).astype(object)
    test[hit & ~was] = "group"
    edges = edges.append_column("test", pa.array(test.tolist(), pa.string()))
    edges = edges.append_column("group_id", pa.array(group_id, pa.int64(), mask=~hit))
    edges = edges.append_column("group_p", pa.array(np.where(hit, group_p, 0.0), pa.float64(), mask=~hit))
    conf = m["confirmed"]
    mg, maid = m["group"][conf].astype(np.int64), m["aid"][conf].astype(np.int64)
    if len(maid):
        acts = np.zeros(len(maid))
        direction = g["direction"].astype(np.int64)
        half = 1 - direction[np.searchsorted(g["group"].astype(np.int64), mg)]
        best_scale = m["best"][conf].astype(np.int64)
        split = m["split"][conf].astype(np.int64)
        for sp, part in enumerate(scales):
            for t, sc in enumerate(part):
                sel = (best_scale == t) & (split == sp)
                acts[sel] = sc.activity[half[sel], maid[sel]].sum(axis=1)
        share = m["k"][conf] / np.maximum(acts, 1.0)
        extra = pa.table({"aid": pa.array(maid, pa.int32()), "layer": pa.array(["groups"] * len(maid), pa.string()),
                          "score": pa.array(np.minimum(share, 1.0))})  # fmt: skip
        scores = pa.concat_tables([scores, extra])
    return edges, scores, {**g, "members": m}


def _group_items(edges: pa.Table, group_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group, distinct items) over the evidence of the edges each group confirms."""
    hit = group_id >= 0
    if not hit.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    ev = edges.column("evidence").combine_chunks().filter(pa.array(hit))
    lengths = pc.list_value_length(ev).to_numpy(zero_copy_only=False)
    item = ev.flatten().field("item").to_numpy(zero_copy_only=False).astype(np.uint64)
    grp = np.repeat(group_id[hit], lengths)
    key = np.unique(np.column_stack([grp.astype(np.uint64), item]), axis=0)
    groups, count = np.unique(key[:, 0].astype(np.int64), return_counts=True)
    return groups, count


def _group_edges(edges: pa.Table, g: dict, m: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per windowed edge, the most significant group that confirmed both its accounts (−1: none), and its p."""
    conf = m["confirmed"]
    mg, maid = m["group"][conf].astype(np.int64), m["aid"][conf].astype(np.int64)
    a = edges.column("a").to_numpy().astype(np.int64)
    b = edges.column("b").to_numpy().astype(np.int64)
    group_id = np.full(len(a), -1, dtype=np.int64)
    group_p = np.full(len(a), np.inf)
    windowed = pc.is_valid(edges.column("first_ts")).to_numpy(zero_copy_only=False)
    n = int(max(a.max(initial=0), b.max(initial=0), maid.max(initial=0))) + 1
    gp = np.ones(int(g["group"].max(initial=-1)) + 1)
    gp[g["group"].astype(np.int64)] = g["p_value"]
    # Candidate (edge, group) matches: the groups of a's confirmed memberships, then b checked.
    order = np.argsort(maid, kind="stable")
    sorted_aid, sorted_group = maid[order], mg[order]
    lo, hi = np.searchsorted(sorted_aid, a, "left"), np.searchsorted(sorted_aid, a, "right")
    reps = hi - lo
    edge_ix = np.repeat(np.arange(len(a)), reps)
    offs = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    cand_group = sorted_group[np.repeat(lo, reps) + offs]
    member_key = np.unique(mg * n + maid)
    both = np.isin(cand_group * n + b[edge_ix], member_key) & windowed[edge_ix]
    edge_ix, cand_group = edge_ix[both], cand_group[both]
    if len(edge_ix):
        best = np.lexsort((gp[cand_group], edge_ix))  # per edge, its most significant group first
        first = np.ones(len(best), dtype=bool)
        first[1:] = edge_ix[best][1:] != edge_ix[best][:-1]
        group_id[edge_ix[best][first]] = cand_group[best][first]
        group_p[edge_ix[best][first]] = gp[cand_group[best][first]]
    return group_id, group_p


def _groups_out(con: duckdb.DuckDBPyConnection, groups: dict | None, edges: pa.Table, members: pa.Table) -> pa.Table:
    """The ``groups`` output: one row per significant group, with its test, its members and its days.

    ``days_active`` counts the distinct UTC days with a co-action inside the group (from the
    edges' evidence); ``score`` is the group's surprise, min(−log10 p, 50), times log2(1 + days):
    the same accounts co-acting on many days weigh more than one busy day (docs/detection.md).
    """
    cols = {"group_id": pa.int64(), "cluster_id": pa.int64(), "size": pa.int64(), "candidates": pa.int64(),
            "layer": pa.string(), "window": pa.float64(), "co_actions": pa.int64(), "expected": pa.float64(),
            "items": pa.int64(),
            "p_value": pa.float64(), "q_value": pa.float64(), "days_active": pa.int64(), "score": pa.float64(),
            "first_at": pa.timestamp("us"), "last_at": pa.timestamp("us"), "handles": pa.list_(pa.string()),
            "discovered_on": pa.int64()}  # fmt: skip
    empty = pa.table({k: pa.array([], t) for k, t in cols.items()})
    if not groups or not len(groups["group"]):
        return empty
    m = groups["members"]
    sig = groups["significant"]
    conf = m["confirmed"]
    con.register("_gm", pa.table({"group_id": pa.array(m["group"][conf].astype(np.int64)),
                                  "aid": pa.array(m["aid"][conf].astype(np.int32))}))  # fmt: skip
    con.register("_gt", pa.table({
        "group_id": pa.array(groups["group"][sig].astype(np.int64)),
        "candidates": pa.array(groups["size"][sig].astype(np.int64)),
        "layer": pa.array(groups["layer"][sig].tolist(), pa.string()),
        "window": pa.array(groups["window"][sig].astype(float)),
        "co_actions": pa.array(groups["k"][sig].astype(np.int64)),
        "items": pa.array(groups["items"][sig].astype(np.int64)),
        "expected": pa.array(groups["expected"][sig].astype(float)),
        "p_value": pa.array(groups["p_value"][sig].astype(float)),
        "q_value": pa.array(groups["q_value"][sig].astype(float)),
        "discovered_on": pa.array(groups["direction"][sig].astype(np.int64)),
    }))  # fmt: skip
    ge = edges.filter(pc.is_valid(edges.column("group_id"))).select(["a", "b", "group_id", "evidence"])
    con.register("_ge", ge)
    con.register("_cm", members)
    try:
        out = con.sql(
            """WITH d AS (SELECT group_id, count(DISTINCT e.ta // 86400000) AS days_active,
                                 min(least(e.ta, e.tb)) AS first_ts, max(greatest(e.ta, e.tb)) AS last_ts
                          FROM (SELECT group_id, unnest(evidence) AS e FROM _ge) GROUP BY group_id),
            mem AS (SELECT gm.group_id, count(*) AS size, list_sort(list(c.handle)) AS handles,
                           mode(cm.cluster_id) AS cluster_id
                    FROM _gm gm JOIN _acc c ON c.aid = gm.aid
                    LEFT JOIN _cm cm ON cm.account_id = c.account_id GROUP BY gm.group_id)
            SELECT t.group_id, mem.cluster_id, mem.size, t.candidates, t.layer, t.window, t.co_actions, t.expected, t.items,
                   t.p_value, t.q_value, coalesce(d.days_active, 0) AS days_active,
                   least(-log10(greatest(t.p_value, 1e-300)), 50) * log2(1 + coalesce(d.days_active, 0)) AS score,
                   make_timestamp(d.first_ts * 1000) AS first_at, make_timestamp(d.last_ts * 1000) AS last_at,
                   mem.handles, t.discovered_on
            FROM _gt t JOIN mem USING (group_id) LEFT JOIN d USING (group_id)
            ORDER BY score DESC, group_id"""
        ).to_arrow_table()
    finally:
        for t in ("_gm", "_gt", "_ge", "_cm"):
            con.unregister(t)
    return out.cast(empty.schema)


def _linked_pairs(con, n_accounts: int) -> np.ndarray:
    """Sorted keys ``a * n_accounts + b`` (a < b) of the pairs of accounts the user linked to one actor
    (``ingest --links``, table ``account_links``): one actor's own accounts acting together, such as
    an outlet's channel and its Twitter account posting its own links, are no evidence of
    coordination, so no layer tests them (docs/crossplatform.md, "Linking accounts")."""
    if not (ly.has_table(con, "account_links") and ly.one(con, "SELECT count(*) FROM account_links")):
        return np.zeros(0, dtype=np.int64)
    t = con.sql(
        """SELECT x.aid AS a, y.aid AS b FROM account_links lx JOIN account_links ly ON ly.actor = lx.actor
        JOIN _acc x ON x.account_id = lx.account_id JOIN _acc y ON y.account_id = ly.account_id WHERE x.aid < y.aid"""
    ).to_arrow_table()
    return np.unique(t.column("a").to_numpy().astype(np.int64) * n_accounts + t.column("b").to_numpy())


def _unlinked(a: np.ndarray, b: np.ndarray, linked: np.ndarray, n_accounts: int) -> np.ndarray:
    """Which pairs (a, b) are not two accounts of one linked actor (all of them without links)."""
    if not len(linked):
        return np.ones(len(a), dtype=bool)
    lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    return ~np.isin(lo * n_accounts + hi, linked)


def _windowed(
    con, layer: str, p: DetectParams, n_accounts: int, linked: np.ndarray
) -> tuple[pa.Table, pa.Table, dict, list[list[gr.ScaleCounts]]]:
    """One windowed layer at each of its time scales: one edge per pair (its most significant
    scale, named in ``window``), account scores, figures, and the counts the group test needs
    (per split of the items).

    With several scales the longest is the *reference*: counted, not tested. A pair at a shorter
    window w must beat the configuration null and the timing test against its own co-actions at
    the reference (groups.timing_p); p is the larger of the two. The family for Benjamini–Hochberg
    is every pair of active accounts at every tested scale.
    """
    floor = max(p.min_count, p.near_dup_min_count) if layer == "near-dup" else p.min_count
    common = dict(n_accounts=n_accounts, min_count=floor, max_item_accounts=p.max_item_accounts,
                  min_text_chars=p.min_text_chars)  # fmt: skip
    windows = p.scales_for(layer)
    timed = len(windows) > 1 and layer in p.timing_layers
    tested = windows[:-1] if timed else windows
    near = (
        dict(threshold=p.cross_near_threshold, shingle=p.near_dup_shingle, bands=p.near_dup_bands,
             rows=p.near_dup_rows, seed=p.seed)
        if layer == "cross-platform" and p.cross_near_threshold
        else None
    )  # fmt: skip
    per_scale: list[pa.Table] = []
    score_parts: list[pa.Table] = []
    # Group test counts are per split of the items (several with group_splits), not for near-dup (its
    # items are posts: no clean split) nor cross-platform (a subset of pairs the group null does not model).
    splits = p.group_splits if p.groups and layer not in ("near-dup", "cross-platform") else 1
    scale_counts: list[list[gr.ScaleCounts]] = [[] for _ in range(splits)]
    figures: dict[str, dict] = {}
    ref: list[gr.ScaleCounts] = []
    ref_counts: ly.LayerCounts | None = None
    for window in sorted(windows, reverse=True):  # the reference first
        if layer == "near-dup":
            counts = ly.near_dup_layer(
                con, window, **common, shingle=p.near_dup_shingle, threshold=p.near_dup_threshold,
                bands=p.near_dup_bands, rows=p.near_dup_rows, seed=p.seed,
            )  # fmt: skip
        else:
            counts = ly.windowed_layer(
                con, layer, window, **common, min_stratum_share=p.min_stratum_share,
                min_stratum_accounts=p.min_stratum_accounts, evidence=window in tested, near_text=near,
                timing=timed, splits=splits,
            )  # fmt: skip
        e = counts.edges
        a, b = e.column("a").to_numpy().astype(np.int64), e.column("b").to_numpy().astype(np.int64)
        if len(linked):  # a linked actor's own pairs: neither tested nor in its groups' counts
            keep = _unlinked(a, b, linked, n_accounts)
            e = counts.edges = e.filter(pa.array(keep))
            a, b = a[keep], b[keep]
        halves = counts.activity_half is not None and "k0" in e.column_names
        scs: list[gr.ScaleCounts] = []  # one per split of the items
        if halves:
            for sp in range(splits):
                k0, k1 = ("k0", "k1") if sp == 0 else (f"k0_{sp}", f"k1_{sp}")
                act, w_half = counts.activity_half[sp], counts.pairs_half[sp]
                scs.append(gr.ScaleCounts(layer, float(window), a, b,
                                          np.vstack([e.column(k0).to_numpy(), e.column(k1).to_numpy()]).astype(np.int64),
                                          gr.compact(act), gr.rates(act, w_half)))  # fmt: skip
        label = scale_label(window)
        last = window == windows[0]
        timing_share = None
        if timed and window in tested:
            share_half, timing_share = ly.item_shares(con, ref_counts.activity.shape[1], splits)
            for sp, sc in enumerate(scs):
                sc.share = share_half[sp]
        if window not in tested:  # the reference: kept for the tests at shorter windows
            if timed:
                ly.keep_reference_items(con, splits)
            ly.drop_scratch(con, keep_actions=not last)
            ref, ref_counts = scs, counts
            figures[label] = {**counts.stats, "role": "reference"}
            continue
        timing = None
        if p.pair_timing and ref_counts is not None:
            ref_edges = ref_counts.edges
            k_ref = _lookup(ref_edges.column("a").to_numpy(), ref_edges.column("b").to_numpy(),
                            ref_edges.column("count").to_numpy()[None, :], a, b, n_accounts)[0]  # fmt: skip
            lam_ref = sg.expected_coactions(ref_counts, a, b)
            lam_t = sg.expected_coactions(ref_counts, a, b, weight=timing_share)  # the share within w, per item
            timing = lambda k, lam, kr=k_ref, lr=lam_ref, lt=lam_t: gr.timing_p(k, kr, lt, lr)  # noqa: E731
        test = sg.windowed_significance(counts, p.alpha, floor, len(tested), also=timing)
        if layer != "near-dup" and p.pair_min_items > 1:
            # One item, however often two accounts co-act on it, is one event: two live-tweeters
            # posting the same hashtag set every minute of a debate coincide by rhythm, which a
            # null pooled over the item's stratum does not know (docs/detection.md, "One-item pairs").
            span = e.column("last_ts").to_numpy().astype(np.int64) - e.column("first_ts").to_numpy().astype(np.int64)
            events = (e.column("items").to_numpy() >= p.pair_min_items) | (span >= DAY_MS)
            test["significant"] = test["significant"] & events
        for sp, sc in enumerate(scs):
            if ref:
                sc.ref = ref[sp]
                sc.k_ref = _lookup(ref[sp].a, ref[sp].b, ref[sp].k, a, b, n_accounts)
            if ref or layer not in p.timing_layers:
                # A timing layer's group test needs its reference: at one scale, shared taste alone
                # (a community reposting the same posts) would make its groups (docs/detection.md).
                scale_counts[sp].append(sc)
        n = counts.activity.sum(axis=1)
        per_scale.append(
            pa.table(
                {
                    "layer": pa.array([layer] * e.num_rows, pa.string()),
                    "window": pa.array(np.full(e.num_rows, float(window))),
                    "a": e.column("a"),
                    "b": e.column("b"),
                    "count": e.column("count"),
                    "items": e.column("items"),
                    "n_a": pa.array(n[a].astype(np.int64)),
                    "n_b": pa.array(n[b].astype(np.int64)),
                    "expected": pa.array(test["expected"]),
                    "p_value": pa.array(test["p_value"]),
                    "q_value": pa.array(test["q_value"]),
                    "significant": pa.array(test["significant"]),
                    "cosine": pa.nulls(e.num_rows, pa.float64()),
                    "first_ts": e.column("first_ts"),
                    "last_ts": e.column("last_ts"),
                    "evidence": e.column("evidence").cast(_EVIDENCE, safe=False),  # Spark: signed
                }
            )
        )
        sig = per_scale[-1].filter(per_scale[-1].column("significant")).select(["a", "b"])
        coordinated = ly.coordinated_actions(con, sig)
        ly.drop_scratch(con, keep_actions=not last)
        aid = coordinated.column("aid").to_numpy()
        share = coordinated.column("coordinated").to_numpy() / np.maximum(n[aid], 1)
        score_parts.append(pa.table({"aid": pa.array(aid, pa.int32()), "layer": pa.array([layer] * len(aid), pa.string()),
                                     "score": pa.array(np.minimum(share, 1.0))}))  # fmt: skip
        figures[label] = {**counts.stats, "role": "tested", "significant_edges": int(test["significant"].sum())}
        if timing_share is not None:  # what the timing test took as chance, per popularity stratum of the reference
            figures[label]["timing_share"] = [round(float(x), 6) for x in timing_share]
    edges = pa.concat_tables(per_scale)
    if len(tested) > 1 and edges.num_rows:
        # One row per pair: its most significant scale (ties: the shortest window).
        edges = edges.sort_by([("a", "ascending"), ("b", "ascending"), ("p_value", "ascending"),
                               ("window", "ascending")])  # fmt: skip
        a, b = edges.column("a").to_numpy(), edges.column("b").to_numpy()
        first = np.ones(len(a), dtype=bool)
        first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
        edges = edges.filter(pa.array(first))
    stats = dict(figures[scale_label(tested[-1])])
    stats.pop("role", None)
    stats["windows"] = [float(w) for w in windows]
    if len(windows) > 1:
        stats["scales"] = figures
    return edges, pa.concat_tables(score_parts), stats, scale_counts


def _lookup(
    key_a: np.ndarray, key_b: np.ndarray, values: np.ndarray, a: np.ndarray, b: np.ndarray, n_accounts: int
) -> np.ndarray:
    """``values`` (rows × pairs, pairs sorted by (a, b), as candidate edges come) at the pairs
    (``a``, ``b``); 0 where a pair is absent."""
    key = key_a.astype(np.int64) * n_accounts + key_b
    want = a.astype(np.int64) * n_accounts + b
    out = np.zeros((values.shape[0], len(want)), dtype=np.int64)
    if len(key):
        at = np.minimum(np.searchsorted(key, want), len(key) - 1)
        hit = key[at] == want
        out[:, hit] = values[:, at[hit]]
    return out


def scale_label(seconds: float) -> str:
    """30 -> '30s', 60 -> '1min', 3600 -> '1h', 86400 -> '1d' (the CLI's spelling)."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _similarity(con, p: DetectParams, n_accounts: int, linked: np.ndarray) -> tuple[pa.Table, pa.Table, dict]:
    t0 = time.perf_counter()
    rows, counts = ly.similarity_features(
        con,
        kinds=tuple(p.similarity_features),
        min_features=p.similarity_min_features,
        max_item_accounts=p.max_item_accounts,
    )
    stats = {"accounts": len(rows), "features": int(counts.shape[1]), "entries": int(counts.nnz)}
    if len(rows) < 2:
        i = j = np.array([], dtype=np.int64)
        cos = np.array([])
    else:
        i, j, cos = ly.cosine_pairs(ly.tfidf(counts), p.similarity_min_cosine, p.similarity_top_k)
        keep = _unlinked(rows[i], rows[j], linked, n_accounts)
        i, j, cos = i[keep], j[keep], cos[keep]
    shared = ly.shared_counts(counts, i, j) if len(i) else np.array([])
    null = (
        sg.permutation_null(counts, p.similarity_min_cosine, p.similarity_permutations, p.seed, p.similarity_top_k)
        if len(i)
        else []
    )
    test = sg.similarity_significance(cos, shared, null, len(rows), p.alpha, p.min_count)
    deg = np.asarray((counts > 0).sum(axis=1)).ravel()
    keep = shared >= p.min_count
    i, j, cos, shared = i[keep], j[keep], cos[keep], shared[keep]
    test = {k: v[keep] for k, v in test.items()}
    n = len(i)
    edges = pa.table(
        {
            "layer": pa.array(["similarity"] * n, pa.string()),
            "window": pa.nulls(n, pa.float64()),
            "a": pa.array(rows[i], pa.int32()),
            "b": pa.array(rows[j], pa.int32()),
            "count": pa.array(shared.astype(np.int64)),
            "items": pa.array(shared.astype(np.int64)),
            "n_a": pa.array(deg[i].astype(np.int64)),
            "n_b": pa.array(deg[j].astype(np.int64)),
            "expected": pa.array(sg.configuration_expected_shared(counts, i, j) if n else np.array([])),
            "p_value": pa.array(test["p_value"], pa.float64()),
            "q_value": pa.array(test["q_value"], pa.float64()),
            "significant": pa.array(test["significant"], pa.bool_()),
            "cosine": pa.array(cos, pa.float64()),
            "first_ts": pa.nulls(n, pa.int64()),
            "last_ts": pa.nulls(n, pa.int64()),
            "evidence": pa.array([[]] * n, _EVIDENCE),
        }
    )
    sig = edges.filter(edges.column("significant"))
    both = np.concatenate([sig.column("a").to_numpy(), sig.column("b").to_numpy()])
    cos2 = np.concatenate([sig.column("cosine").to_numpy()] * 2)
    aid, inv = np.unique(both, return_inverse=True)
    best = np.zeros(len(aid))
    np.maximum.at(best, inv, cos2)
    scores = pa.table({"aid": pa.array(aid, pa.int32()), "layer": pa.array(["similarity"] * len(aid), pa.string()),
                       "score": pa.array(best)})  # fmt: skip
    stats.update(
        candidate_edges=n, null_pairs=[len(v) for v in null], seconds_counting=round(time.perf_counter() - t0, 3)
    )
    return edges, scores, stats


_EVIDENCE = pa.list_(
    pa.struct([("pa", pa.uint64()), ("pb", pa.uint64()), ("ta", pa.int64()), ("tb", pa.int64()), ("item", pa.uint64())])
)


# The column of a post that holds a layer's item, for the evidence (name, type).
_ITEM_COLUMNS = {
    "co-repost": ("repost_of_id", "VARCHAR"),
    "co-reply": ("reply_to_id", "VARCHAR"),
    "co-link": ("urls", "VARCHAR[]"),
    "co-hashtag": ("hashtags", "VARCHAR[]"),
    "co-mention": ("mentions", "VARCHAR[]"),
}


def _cluster(con, p: DetectParams, edges: pa.Table, scores: pa.Table, figures: dict) -> DetectionResult:
    sig = edges.filter(edges.column("significant"))
    a, b = sig.column("a").to_numpy(), sig.column("b").to_numpy()
    # A group-confirmed edge weighs by its group's p when that is smaller than its own.
    pv = pc.min_element_wise(sig.column("p_value"), sig.column("group_p")).to_numpy(zero_copy_only=False)
    ca, cb, w = cl.combined_weights(a, b, sig.column("layer").to_numpy(zero_copy_only=False), pv,
                                    p.layer_weights)  # fmt: skip
    nodes, cluster = cl.leiden_clusters(ca, cb, w, seed=p.seed, resolution=p.resolution, min_size=p.min_cluster_size)
    edges = edges.append_column("first_at", _ms_to_timestamp(edges.column("first_ts")))
    edges = edges.append_column("last_at", _ms_to_timestamp(edges.column("last_ts")))
    con.register("_edges_all", edges)
    con.register("_layer_scores", scores)
    con.register("_member_arrow", pa.table({"aid": pa.array(nodes, pa.int32()), "cluster": pa.array(cluster)}))
    con.execute("CREATE OR REPLACE TEMP TABLE _member AS SELECT * FROM _member_arrow")
    con.execute("CREATE OR REPLACE TEMP TABLE _sig AS SELECT * FROM _edges_all WHERE significant")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _scores AS
        SELECT c.aid, coalesce(max(s.score), 0.0) AS score,
               list_sort(list(DISTINCT s.layer) FILTER (WHERE s.layer IS NOT NULL)) AS layers
        FROM _acc c LEFT JOIN _layer_scores s ON s.aid = c.aid GROUP BY c.aid"""
    )
    sql = cl.cluster_sql(p.max_evidence)
    con.execute(sql["internal"])
    clusters = con.sql(sql["clusters"]).to_arrow_table()
    members = con.sql(sql["members"]).to_arrow_table()
    con.execute(sql["evidence"])
    # Ids of every post the edges cite (a narrow scan), then the texts of those the clusters' evidence
    # shows, with only the item columns of the run's layers (list columns are the costly part of it).
    needed = {_ITEM_COLUMNS[x][0] for x in p.layers if x in _ITEM_COLUMNS} | (
        {"urls"} if "cross-platform" in p.layers else set()
    )
    cited_cols = ", ".join(c if c in needed else f"NULL::{t} AS {c}" for c, t in _ITEM_COLUMNS.values())
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _cited_ids AS
        SELECT hash(post_id) AS h, post_id FROM posts WHERE hash(post_id) IN (
            SELECT e.pa FROM (SELECT unnest(evidence) AS e FROM _edges_all)
            UNION SELECT e.pb FROM (SELECT unnest(evidence) AS e FROM _edges_all))"""
    )
    shown = ly.one(con, "SELECT count(*) FROM _ev") > 0
    near_xp = "cross-platform" in p.layers and bool(p.cross_near_threshold)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _cited AS
        SELECT hash(post_id) AS h, post_id, created_at, text, {cited_cols},
               {ly.norm_words_sql("text") if "near-dup" in p.layers or near_xp else "NULL::VARCHAR[]"} AS words
        FROM posts WHERE {"hash(post_id) IN (SELECT pa FROM _ev UNION SELECT pb FROM _ev)" if shown else "false"}"""
    )
    similarity = f"'text similarity ' || CAST(round({ly.words_jaccard_sql('pa.words', 'pb.words', int(p.near_dup_shingle))}, 2) AS VARCHAR)"
    near_dup_item = f"WHEN 'near-dup' THEN {similarity}" if "near-dup" in p.layers else ""
    # A cross-platform text: the words when both sides wrote the same, else how similar they are.
    text_norm = ly.norm_text_sql("pa.text")
    cross_text = (
        f"CASE WHEN {text_norm} = {ly.norm_text_sql('pb.text')} THEN {text_norm} ELSE {similarity} END"
        if near_xp
        else text_norm
    )
    evidence = con.sql(
        f"""SELECT ev.cluster AS cluster_id, ev.layer, ca.account_id AS account_a, ca.handle AS handle_a,
               pa.post_id AS post_a, pa.created_at AS time_a, left(pa.text, 280) AS text_a,
               cb.account_id AS account_b, cb.handle AS handle_b, pb.post_id AS post_b, pb.created_at AS time_b,
               left(pb.text, 280) AS text_b,
               CASE ev.layer
                 WHEN 'co-repost' THEN pa.repost_of_id
                 WHEN 'co-reply' THEN pa.reply_to_id
                 WHEN 'co-post' THEN {ly.norm_text_sql("pa.text")}
                 WHEN 'co-hashtag' THEN '#' || array_to_string(list_sort(list_distinct(pa.hashtags)), ' #')
                 WHEN 'co-mention' THEN '@' || array_to_string(list_sort(list_distinct(pa.mentions)), ' @')
                 WHEN 'co-link' THEN list_filter(list_transform(pa.urls, lambda u: {ly.norm_url_sql("u")}),
                                                 lambda u: {ly.ITEM_KEY_SQL("u")} = ev.item)[1]
                 WHEN 'cross-platform' THEN coalesce(list_filter(list_transform(pa.urls, lambda u: {ly.norm_url_sql("u")}),
                                                          lambda u: {ly.ITEM_KEY_SQL("u")} = ev.item)[1], {cross_text})
                 {near_dup_item}
               END AS item,
               abs(ev.tb - ev.ta) / 1000.0 AS seconds_apart, ev.p_value AS edge_p_value
        FROM _ev ev JOIN _acc ca ON ca.aid = ev.a JOIN _acc cb ON cb.aid = ev.b
        LEFT JOIN _cited pa ON pa.h = ev.pa LEFT JOIN _cited pb ON pb.h = ev.pb
        ORDER BY cluster_id, ev.rk"""
    ).to_arrow_table()
    cited = con.sql("SELECT h, post_id FROM _cited_ids").to_arrow_table()
    accounts = con.sql(
        """SELECT c.account_id, c.handle, c.posts, s.score, nullif(m.cluster, 0) AS cluster_id,
               coalesce(m.cluster, 0) > 0 AS flagged, coalesce(s.layers, []) AS layers,
               coalesce(t.partners, 0) AS partners
        FROM _acc c JOIN _scores s ON s.aid = c.aid LEFT JOIN _member m ON m.aid = c.aid
        LEFT JOIN (SELECT aid, count(DISTINCT other) AS partners FROM (
            SELECT a AS aid, b AS other FROM _sig UNION ALL SELECT b, a FROM _sig) GROUP BY aid) t ON t.aid = c.aid
        ORDER BY s.score DESC, c.account_id"""
    ).to_arrow_table()
    acc = con.sql("SELECT aid, account_id, handle FROM _acc ORDER BY aid").to_arrow_table()
    for t in ("_edges_all", "_layer_scores", "_member_arrow"):
        con.unregister(t)
    return DetectionResult(p.as_dict(), _edges_out(edges, acc, cited), clusters, members, accounts, evidence, figures)


def _ms_to_timestamp(ms: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.cast(pc.cast(ms, pa.int64()).cast(pa.timestamp("ms")), pa.timestamp("us"))


def _edges_out(edges: pa.Table, acc: pa.Table, cited: pa.Table) -> pa.Table:
    """The ``edges`` output: account ids and handles for the dense numbers, post ids for the hashes."""
    a, b = edges.column("a"), edges.column("b")  # dense account numbers = row numbers of acc
    ev = edges.column("evidence").combine_chunks() if edges.num_rows else pa.array([], _EVIDENCE)
    flat = ev.flatten()
    post, known = (
        cited.column("post_id").combine_chunks(),
        cited.column("h").combine_chunks().cast(pa.uint64(), safe=False),
    )

    def post_ids(h: pa.Array) -> pa.Array:
        return post.take(pc.index_in(h, value_set=known))

    pairs = pa.StructArray.from_arrays([post_ids(flat.field("pa")), post_ids(flat.field("pb"))], ["post_a", "post_b"])
    out = pa.table(
        {
            "layer": edges.column("layer"),
            "account_a": acc.column("account_id").take(a),
            "account_b": acc.column("account_id").take(b),
            "handle_a": acc.column("handle").take(a),
            "handle_b": acc.column("handle").take(b),
            **{c: edges.column(c) for c in ("window", "count", "items", "n_a", "n_b", "expected", "p_value",
                                             "q_value", "significant", "test", "group_id", "group_p", "cosine",
                                             "first_at", "last_at")},
            "evidence": pa.ListArray.from_arrays(pc.subtract(ev.offsets, ev.offsets[0]), pairs),
        }
    )  # fmt: skip
    return out.sort_by([("layer", "ascending"), ("p_value", "ascending"), ("account_a", "ascending"),
                        ("account_b", "ascending")])  # fmt: skip


def _write(ws: Workspace, result: DetectionResult) -> None:
    import pyarrow.parquet as pq

    tables = {
        "edges": result.edges,
        "clusters": result.clusters,
        "cluster_members": result.members,
        "account_scores": result.accounts,
        "evidence": result.evidence,
        "groups": result.groups if result.groups is not None else _groups_out(None, None, None, None),
    }
    record = {**result.params, "layer_figures": result.layers, "seconds": round(result.seconds, 3)}
    with ws.transaction(params={"detect": record}) as txn:
        for name, table in tables.items():
            f = txn.new_file(name)
            pq.write_table(table, f, compression="zstd")
            txn.replace(name, [f])


def load(workspace: str | Path | Workspace | None = None) -> DetectionResult:
    """The last detection run's tables and parameters, as written to the workspace."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace, create=False)
    missing = [t for t in OUTPUT_TABLES if not ws.has(t) and t != "groups"]  # no groups: written before 0.2
    if missing:
        raise DetectError(f"{ws.path} has no detection results: run `trollscope detect -w {ws.path}` first")
    rec = dict(ws.params("detect") or {})
    figures = rec.pop("layer_figures", {})
    seconds = rec.pop("seconds", 0.0)
    t = {name: ws.table(name) for name in OUTPUT_TABLES if ws.has(name)}
    return DetectionResult(rec, t["edges"], t["clusters"], t["cluster_members"], t["account_scores"],
                           t["evidence"], figures, seconds, t.get("groups"))  # fmt: skip
