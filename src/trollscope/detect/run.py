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

from ..engine import connect
from ..workspace import Workspace, WorkspaceError
from . import clusters as cl
from . import layers as ly
from . import significance as sg

OUTPUT_TABLES = ("edges", "clusters", "cluster_members", "account_scores", "evidence")
# The workspace's cache of normalised post texts (post_id, norm), shared by co-post and near-dup.
NORM_TEXTS = "norm_texts"
TEXT_LAYERS = ("co-post", "near-dup")

NULL_MODELS = {
    "windowed": "stratified configuration null: actions keep item and time, accounts keep their number of "
    "actions per item-popularity stratum; lambda_ab = sum_s n_as n_bs 2 W_s / (C_s (C_s - 1)); "
    "p = Poisson P(K >= k); Benjamini-Hochberg over all pairs of active accounts",
    "similarity": "degree-preserving rewiring of the account-feature graph; permutation FDR (SAM) on TF-IDF cosine",
}


class DetectError(Exception):
    """Detection cannot run on this input (no posts, unknown layer, bad parameter)."""


@dataclass(frozen=True)
class DetectParams:
    """Every parameter that changes detection's result; recorded in the workspace manifest.

    ``window`` (seconds) applies to every windowed layer unless ``windows`` names the layer.
    """

    layers: tuple[str, ...] = ly.LAYERS
    window: float = 300.0
    windows: dict[str, float] = field(default_factory=dict)
    alpha: float = 0.01
    min_count: int = 3
    max_item_accounts: int = 50
    min_text_chars: int = 20
    min_stratum_share: float = 0.02
    min_stratum_accounts: int = 100
    near_dup_threshold: float = 0.5
    near_dup_shingle: int = 2
    near_dup_bands: int = 12
    near_dup_rows: int = 3
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

    def window_for(self, layer: str) -> float:
        return float(self.windows.get(layer, self.window))

    def check(self) -> None:
        unknown = [x for x in self.layers if x not in ly.LAYERS]
        if unknown:
            raise DetectError(f"unknown layer {', '.join(unknown)}: choose from {', '.join(ly.LAYERS)}")
        if not self.layers:
            raise DetectError(f"no layers chosen: choose from {', '.join(ly.LAYERS)}")
        bad = [k for k in self.windows if k not in ly.WINDOWED]
        if bad:
            raise DetectError(f"{', '.join(bad)} has no window: windowed layers are {', '.join(ly.WINDOWED)}")
        if any(w <= 0 for w in [self.window, *self.windows.values()]):
            raise DetectError("a window must be a positive number of seconds")
        if not 0 < self.alpha < 1:
            raise DetectError(f"alpha must be between 0 and 1, not {self.alpha}")

    def as_dict(self) -> dict:
        d = asdict(self)
        d["layers"] = list(self.layers)
        d["windows"] = {x: self.window_for(x) for x in self.layers if x in ly.WINDOWED}
        d["null_models"] = {x: NULL_MODELS["similarity" if x == "similarity" else "windowed"] for x in self.layers}
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
        return {
            "params": self.params,
            "layers": self.layers,
            "clusters": clusters,
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
    **overrides,
) -> DetectionResult:
    """Find coordinated accounts in ``workspace``; write the result tables unless ``write=False``.

    Parameters come from ``params`` or keyword overrides of :class:`DetectParams` fields, e.g.
    ``detect(ws, layers=("co-repost",), window=30, alpha=0.001)``. ``progress(layer, figures)`` is
    called as each layer finishes. ``cache``: keep the normalised post texts in the workspace
    (table ``norm_texts``, rebuilt whenever the posts change) so that the next run's co-post and
    near-dup skip the normalisation; it is written even with ``write=False``, and skipped without
    complaint when the workspace cannot be written.
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
    """What the cached normalised texts were computed from: the posts files, the SQL, the engine."""
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
               arg_max(handle, created_at) AS handle, count(*) AS posts
        FROM posts WHERE account_id IS NOT NULL GROUP BY account_id"""
    )
    n_accounts = ly.one(con, "SELECT count(*) FROM _acc")
    text_status = None
    layer_edges: list[pa.Table] = []
    layer_scores: list[pa.Table] = []
    figures: dict[str, dict] = {}
    for layer in p.layers:
        t = time.perf_counter()
        if layer in TEXT_LAYERS and texts and text_status is None:
            text_status = texts()
        if layer == "similarity":
            edges, scores, stats = _similarity(con, p, n_accounts)
        else:
            edges, scores, stats = _windowed(con, layer, p, n_accounts)
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
    return _cluster(con, p, edges, scores, figures)


def _windowed(con, layer: str, p: DetectParams, n_accounts: int) -> tuple[pa.Table, pa.Table, dict]:
    common = dict(n_accounts=n_accounts, min_count=p.min_count, max_item_accounts=p.max_item_accounts,
                  min_text_chars=p.min_text_chars)  # fmt: skip
    if layer == "near-dup":
        counts = ly.near_dup_layer(
            con, p.window_for(layer), **common, shingle=p.near_dup_shingle, threshold=p.near_dup_threshold,
            bands=p.near_dup_bands, rows=p.near_dup_rows, seed=p.seed,
        )  # fmt: skip
    else:
        counts = ly.windowed_layer(
            con, layer, p.window_for(layer), **common, min_stratum_share=p.min_stratum_share,
            min_stratum_accounts=p.min_stratum_accounts,
        )  # fmt: skip
    e = counts.edges
    test = sg.windowed_significance(counts, p.alpha, p.min_count)
    a, b = e.column("a").to_numpy(), e.column("b").to_numpy()
    n = counts.activity.sum(axis=1)
    edges = pa.table(
        {
            "layer": pa.array([layer] * e.num_rows, pa.string()),
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
            "evidence": e.column("evidence").cast(_EVIDENCE),
        }
    )
    sig = edges.filter(edges.column("significant")).select(["a", "b"])
    coordinated = ly.coordinated_actions(con, sig)
    ly.drop_scratch(con)
    aid = coordinated.column("aid").to_numpy()
    share = coordinated.column("coordinated").to_numpy() / np.maximum(n[aid], 1)
    scores = pa.table({"aid": pa.array(aid, pa.int32()), "layer": pa.array([layer] * len(aid), pa.string()),
                       "score": pa.array(np.minimum(share, 1.0))})  # fmt: skip
    return edges, scores, counts.stats


def _similarity(con, p: DetectParams, n_accounts: int) -> tuple[pa.Table, pa.Table, dict]:
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
    ca, cb, w = cl.combined_weights(a, b, sig.column("layer").to_numpy(zero_copy_only=False),
                                    sig.column("p_value").to_numpy(), p.layer_weights)  # fmt: skip
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
    needed = {_ITEM_COLUMNS[x][0] for x in p.layers if x in _ITEM_COLUMNS}
    cited_cols = ", ".join(c if c in needed else f"NULL::{t} AS {c}" for c, t in _ITEM_COLUMNS.values())
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _cited_ids AS
        SELECT hash(post_id) AS h, post_id FROM posts WHERE hash(post_id) IN (
            SELECT e.pa FROM (SELECT unnest(evidence) AS e FROM _edges_all)
            UNION SELECT e.pb FROM (SELECT unnest(evidence) AS e FROM _edges_all))"""
    )
    shown = ly.one(con, "SELECT count(*) FROM _ev") > 0
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _cited AS
        SELECT hash(post_id) AS h, post_id, created_at, text, {cited_cols},
               {ly.norm_words_sql("text") if "near-dup" in p.layers else "NULL::VARCHAR[]"} AS words
        FROM posts WHERE {"hash(post_id) IN (SELECT pa FROM _ev UNION SELECT pb FROM _ev)" if shown else "false"}"""
    )
    k = int(p.near_dup_shingle)
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
                                                 lambda u: hash(u) = ev.item)[1]
                 WHEN 'near-dup' THEN 'text similarity ' || CAST(round({ly.words_jaccard_sql("pa.words", "pb.words", k)}, 2) AS VARCHAR)
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
    post, known = cited.column("post_id").combine_chunks(), cited.column("h").combine_chunks()

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
            **{c: edges.column(c) for c in ("count", "items", "n_a", "n_b", "expected", "p_value", "q_value",
                                             "significant", "cosine", "first_at", "last_at")},
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
    missing = [t for t in OUTPUT_TABLES if not ws.has(t)]
    if missing:
        raise DetectError(f"{ws.path} has no detection results: run `trollscope detect -w {ws.path}` first")
    rec = dict(ws.params("detect") or {})
    figures = rec.pop("layer_figures", {})
    seconds = rec.pop("seconds", 0.0)
    t = {name: ws.table(name) for name in OUTPUT_TABLES}
    return DetectionResult(rec, t["edges"], t["clusters"], t["cluster_members"], t["account_scores"],
                           t["evidence"], figures, seconds)  # fmt: skip
