"""Labels, training sets and honest evaluation: account, time and source splits with bootstrap CIs.

Each split keeps every account on one side. ``time`` also keeps the periods apart (train on one
half of the accounts before the cut-off, test on the other half after it); ``source`` tests on an
organic data set the model never saw. Beside the model, a *data-set identity baseline* (gradient
boosting on post count, raw text length and share of reposts) shows how far trivial traces of
how a collection was made would get: the model is only worth its margin over that.
"""

from __future__ import annotations

import time
import warnings
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from .features import BASELINE, MAX_POSTS, SPLITS, account_features
from .model import ClassifyError, TrollClassifier, check_labels

LABELS = {"operation": 1, "organic": 0}
ENGLISH_CATEGORIES = ("RightTroll", "LeftTroll", "NewsFeed", "HashtagGamer", "Fearmonger", "Commercial")
IDENTITY_MARGIN = 0.05  # model ROC-AUC must beat the baseline's by this much, or evaluate warns
# Which data set a post came from: the folder of its file; archives split over many folders (the
# IRA export's A/, B/, …) count as one set named by their format.
SOURCE_SQL = (
    "CASE WHEN source_format IN ('ira', 'ioarchive') THEN source_format "
    "ELSE regexp_extract(source_file, '([^/\\\\]+)[/\\\\][^/\\\\]+$', 1) END"
)


# -- labels --------------------------------------------------------------------------------------
def read_labels(path: str | Path) -> pa.Table:
    """A labels CSV: a column ``account_id``, ``handle`` or ``account`` and a column ``label``
    holding ``operation`` or ``organic``."""
    p = Path(path)
    if not p.is_file():
        raise ClassifyError(f"no labels file at {p}")
    con = duckdb.connect()
    try:
        t = con.sql(
            f"SELECT * FROM read_csv('{str(p).replace(chr(39), chr(39) * 2)}', all_varchar = true, header = true)"
        )
        t = t.to_arrow_table()
    except duckdb.Error as e:
        raise ClassifyError(f"{p}: cannot read as CSV ({str(e).splitlines()[0]})") from None
    return read_labels_table(t, str(p))


def read_labels_table(t: pa.Table, name: str = "labels") -> pa.Table:
    """Validate a labels table (as in a labels CSV) into (key, y)."""
    p = name
    cols = {c.lower(): c for c in t.column_names}
    key = next((cols[c] for c in ("account_id", "handle", "account") if c in cols), None)
    if key is None or "label" not in cols:
        raise ClassifyError(f"{p}: needs a column account_id, handle or account, and a column label")
    keys = t.column(key).to_pylist()
    labels = [(v or "").strip().lower() for v in t.column(cols["label"]).to_pylist()]
    bad = sorted({v for v in labels if v not in LABELS})
    if bad:
        raise ClassifyError(f"{p}: labels must be operation or organic, found {', '.join(map(repr, bad[:5]))}")
    if not keys:
        raise ClassifyError(f"{p} holds no labels")
    return pa.table({"key": keys, "y": [LABELS[v] for v in labels]})


def resolve_labels(con: duckdb.DuckDBPyConnection, labels: pa.Table) -> tuple[pa.Table, int]:
    """Match labels to accounts by id, else by handle (case-insensitive); returns (account_id, y)
    and how many labels name no account. Labels naming none at all, or one class only, fail."""
    con.register("_labels_in", labels)
    t = con.sql(
        """WITH acc AS (SELECT account_id, any_value(lower(handle)) AS h FROM posts GROUP BY 1),
           m AS (SELECT l.key, l.y, coalesce(a1.account_id, a2.account_id) AS account_id
                 FROM _labels_in l LEFT JOIN acc a1 ON a1.account_id = l.key
                 LEFT JOIN acc a2 ON a1.account_id IS NULL AND a2.h = lower(ltrim(l.key, '@')))
           SELECT account_id, max(y) AS y, count(DISTINCT y) AS ny FROM m WHERE account_id IS NOT NULL
           GROUP BY 1 ORDER BY 1"""
    ).to_arrow_table()
    unknown = (
        labels.num_rows
        - con.sql(
            """SELECT count(*) FROM _labels_in l WHERE l.key IN (SELECT account_id FROM posts)
           OR lower(ltrim(l.key, '@')) IN (SELECT lower(handle) FROM posts)"""
        ).fetchall()[0][0]
    )
    con.unregister("_labels_in")
    if t.num_rows == 0:
        raise ClassifyError(f"none of the {labels.num_rows} labelled accounts is in the workspace: check ids/handles")
    conflicting = sum(1 for v in t.column("ny").to_pylist() if v > 1)
    if conflicting:
        raise ClassifyError(f"{conflicting} accounts are labelled both operation and organic")
    check_labels(np.asarray(t.column("y").to_numpy()))
    return t.select(["account_id", "y"]), int(unknown)


def workspace_labels(con: duckdb.DuckDBPyConnection, categories: tuple[str, ...] = ENGLISH_CATEGORIES) -> pa.Table:
    """Labels from the workspace itself: IRA accounts of ``categories`` are operation, accounts
    read from any non-IRA source are organic (the shared-data set-up of docs/classify.md)."""
    cats = ", ".join(f"'{c}'" for c in categories)
    return con.sql(
        f"""SELECT account_id, 'operation' AS label FROM accounts WHERE source_format = 'ira'
                AND labels['account_category'] IN ({cats}) GROUP BY 1
            UNION ALL
            SELECT account_id, 'organic' FROM posts WHERE account_id NOT IN
                (SELECT account_id FROM posts WHERE source_format = 'ira') GROUP BY 1
            ORDER BY 2, 1"""
    ).to_arrow_table()


# -- training sets -------------------------------------------------------------------------------
def training_set(
    con: duckdb.DuckDBPyConnection,
    labelled: pa.Table,
    *,
    where: str = "TRUE",
    min_posts: int = 5,
    match_windows: bool = True,
    seed: int = 0,
) -> pa.Table:
    """Features of the labelled accounts with at least ``min_posts`` posts (under ``where``), with
    ``y``, ``source`` and ``category``.

    ``match_windows`` draws each operation account's window length from the organic accounts'
    lengths, so how much of an account a collection kept says nothing about its class.
    """
    con.register("_labelled", labelled)
    counts = con.sql(
        f"""SELECT l.account_id, l.y, count(*) AS n FROM posts p JOIN _labelled l USING (account_id)
            WHERE {where} GROUP BY 1, 2 HAVING count(*) >= {int(min_posts)} ORDER BY 1"""
    ).to_arrow_table()
    n = np.minimum(counts.column("n").to_numpy(), MAX_POSTS)
    y = counts.column("y").to_numpy()
    k = n.copy()
    if match_windows and (y == 0).any():
        rng = np.random.default_rng(seed)
        k[y == 1] = np.minimum(n[y == 1], rng.choice(n[y == 0], size=int((y == 1).sum())))
    con.register("_sizes", pa.table({"account_id": counts.column("account_id"), "k": k}))
    X = account_features(con, where=where, sizes="_sizes", seed=seed)
    meta = con.sql(
        f"""SELECT s.account_id, l.y,
                   (SELECT mode({SOURCE_SQL}) FROM posts p WHERE p.account_id = s.account_id) AS source,
                   (SELECT any_value(labels['account_category']) FROM accounts a WHERE a.account_id = s.account_id)
                       AS category
            FROM _sizes s JOIN _labelled l USING (account_id) ORDER BY s.account_id"""
    ).to_arrow_table()
    con.unregister("_sizes")
    con.unregister("_labelled")
    for c in ("y", "source", "category"):
        X = X.append_column(c, meta.column(c))
    return X


# -- metrics -------------------------------------------------------------------------------------
def precision_at_recall(y: np.ndarray, s: np.ndarray, recall: float = 0.8) -> float:
    p, r, _ = precision_recall_curve(y, s)
    return float(p[r >= recall].max())


def metrics(y: np.ndarray, s: np.ndarray) -> dict[str, float]:
    return {
        "roc_auc": float(roc_auc_score(y, s)),
        "pr_auc": float(average_precision_score(y, s)),
        "precision_at_recall_0.8": precision_at_recall(y, s),
    }


def bootstrap(y: np.ndarray, s: np.ndarray, n: int = 500, seed: int = 0) -> dict[str, dict[str, float]]:
    """Point estimates with 95% percentile intervals from resampling accounts within each class."""
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    draws = []
    for _ in range(n):
        i = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        draws.append(metrics(y[i], s[i]))
    point = metrics(y, s)
    return {
        k: {"value": v, "ci_low": float(np.percentile([d[k] for d in draws], 2.5)),
            "ci_high": float(np.percentile([d[k] for d in draws], 97.5))}
        for k, v in point.items()
    }  # fmt: skip


# -- splits --------------------------------------------------------------------------------------
def _baseline_matrix(X: pa.Table) -> np.ndarray:
    return np.column_stack([np.asarray(X.column(c).to_numpy(zero_copy_only=False), dtype=float) for c in BASELINE])


def _fit_predict(model: TrollClassifier, train: pa.Table, test: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    ytr = train.column("y").to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = model.fit(train, ytr).predict_proba(test)[:, 1]
    base = HistGradientBoostingClassifier(max_iter=200, random_state=0).fit(_baseline_matrix(train), ytr)
    return s, base.predict_proba(_baseline_matrix(test))[:, 1]


def _take(X: pa.Table, idx: np.ndarray) -> pa.Table:
    return X.take(pa.array(idx, pa.int64()))


def evaluate(
    con: duckdb.DuckDBPyConnection,
    labelled: pa.Table,
    split: str = "account",
    *,
    model: TrollClassifier | None = None,
    folds: int = 5,
    cutoff: str = "2016-10-06",
    min_posts: int = 5,
    match_windows: bool = True,
    bootstrap_n: int = 500,
    other_categories: bool = True,
    seed: int = 0,
) -> dict:
    """Out-of-sample scores for every labelled account under ``split``, with metrics, bootstrap
    CIs, the baseline's metrics, recall per category and the worst mistakes."""
    if split not in SPLITS:
        raise ClassifyError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")
    t0 = time.perf_counter()
    model = model or TrollClassifier()
    rng = np.random.default_rng(seed)
    rows: list[pa.Table] = []
    scores, base_scores = [], []
    per_source: dict[str, dict] = {}
    if split == "account":
        X = training_set(con, labelled, min_posts=min_posts, match_windows=match_windows, seed=seed)
        y = X.column("y").to_numpy()
        check_labels(y)
        for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
            s, b = _fit_predict(model, _take(X, tr), _take(X, te))
            rows.append(_take(X, te)), scores.append(s), base_scores.append(b)
    elif split == "time":
        try:
            ts = f"TIMESTAMP '{datetime.fromisoformat(cutoff).isoformat(sep=' ')}'"
        except ValueError:
            raise ClassifyError(f"cutoff {cutoff!r} is not a date such as 2016-10-06") from None
        before = training_set(con, labelled, where=f"created_at < {ts}", min_posts=min_posts,
                              match_windows=match_windows, seed=seed)  # fmt: skip
        after = training_set(con, labelled, where=f"created_at >= {ts}", min_posts=min_posts,
                             match_windows=match_windows, seed=seed)  # fmt: skip
        ids = labelled.column("account_id").to_numpy(zero_copy_only=False)
        half = dict(zip(ids, rng.permutation(len(ids)) % 2, strict=True))
        for h in (0, 1):  # train on one half of the accounts before the cut-off, test the other after it
            tr = np.flatnonzero([half[a] == h for a in before.column("account_id").to_pylist()])
            te = np.flatnonzero([half[a] != h for a in after.column("account_id").to_pylist()])
            train, test = _take(before, tr), _take(after, te)
            check_labels(train.column("y").to_numpy())
            check_labels(test.column("y").to_numpy())
            s, b = _fit_predict(model, train, test)
            rows.append(test), scores.append(s), base_scores.append(b)
    else:
        X = training_set(con, labelled, min_posts=min_posts, match_windows=match_windows, seed=seed)
        y = X.column("y").to_numpy()
        check_labels(y)
        src = np.array(X.column("source").to_pylist(), dtype=object)
        organic_sources = sorted(set(src[y == 0]))
        if len(organic_sources) < 2:
            raise ClassifyError("the source split needs organic accounts from at least two sources")
        pos_fold = np.full(len(y), -1)
        pos_fold[y == 1] = rng.permutation(int((y == 1).sum())) % len(organic_sources)
        for i, held in enumerate(organic_sources):
            tr = np.flatnonzero(((y == 0) & (src != held)) | ((y == 1) & (pos_fold != i)))
            te = np.flatnonzero(((y == 0) & (src == held)) | ((y == 1) & (pos_fold == i)))
            s, b = _fit_predict(model, _take(X, tr), _take(X, te))
            test = _take(X, te)
            yt = test.column("y").to_numpy()
            per_source[held] = {"organic_accounts": int((yt == 0).sum()), "operation_accounts": int((yt == 1).sum()),
                                "model": metrics(yt, s), "baseline": metrics(yt, b)}  # fmt: skip
            rows.append(test), scores.append(s), base_scores.append(b)
    test = pa.concat_tables(rows)
    s, b = np.concatenate(scores), np.concatenate(base_scores)
    y = test.column("y").to_numpy()
    out = {
        "split": split,
        "params": {
            "folds": folds,
            "cutoff": cutoff if split == "time" else None,
            "min_posts": min_posts,
            "match_windows": match_windows,
            "bootstrap": bootstrap_n,
            "seed": seed,
            "model": model.get_params(),
        },
        "accounts": {"operation": int((y == 1).sum()), "organic": int((y == 0).sum())},
        "model": bootstrap(y, s, bootstrap_n, seed),
        "baseline": bootstrap(y, b, bootstrap_n, seed),
        "recall_by_category": _recall_by_category(test, s),
        "mistakes": _mistakes(test, s),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    gap = out["model"]["roc_auc"]["value"] - out["baseline"]["roc_auc"]["value"]
    if gap < IDENTITY_MARGIN:
        out["warning"] = (
            f"the data-set identity baseline is nearly as good as the model (ROC-AUC {gap:+.3f}): "
            "the model may be telling data sets apart, not operations from organic accounts"
        )
    if per_source:
        out["by_source"] = per_source
    if split == "account" and other_categories:
        out["other_categories"] = _other_categories(con, labelled, X, model, min_posts, seed)
    return out


def _other_categories(con, labelled: pa.Table, X: pa.Table, model: TrollClassifier, min_posts: int, seed: int) -> dict:
    """Recall at 0.5 on IRA accounts left out of the labels (e.g. NonEnglish, Unknown), scored by a
    model trained on all labelled accounts: how far the model carries to categories it never saw."""
    con.register("_lab_ids", labelled.select(["account_id"]))
    other = con.sql(
        f"""SELECT account_id, any_value(labels['account_category']) AS category FROM accounts
            WHERE source_format = 'ira' AND account_id NOT IN (SELECT account_id FROM _lab_ids)
            AND account_id IN (SELECT account_id FROM posts GROUP BY 1 HAVING count(*) >= {int(min_posts)})
            GROUP BY 1 ORDER BY 1"""
    ).to_arrow_table()
    con.unregister("_lab_ids")
    if other.num_rows == 0:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, X.column("y").to_numpy())
    con.register("_other_ids", other.select(["account_id"]))
    F = account_features(con, accounts="_other_ids", seed=seed)
    con.unregister("_other_ids")
    s = model.predict_proba(F)[:, 1]
    cat = dict(zip(other.column("account_id").to_pylist(), other.column("category").to_pylist(), strict=True))
    cats = np.array([cat.get(a) or "(none)" for a in F.column("account_id").to_pylist()], dtype=object)
    return {c: {"accounts": int((cats == c).sum()), "recall": float((s[cats == c] >= 0.5).mean())}
            for c in sorted(set(cats))}  # fmt: skip


def _recall_by_category(test: pa.Table, s: np.ndarray, threshold: float = 0.5) -> dict[str, dict]:
    y = test.column("y").to_numpy()
    cats = np.array([c or "(none)" for c in test.column("category").to_pylist()], dtype=object)
    out = {}
    for c in sorted(set(cats[y == 1])):
        m = (y == 1) & (cats == c)
        out[c] = {"accounts": int(m.sum()), "recall": float((s[m] >= threshold).mean())}
    return out


def _mistakes(test: pa.Table, s: np.ndarray, n: int = 5) -> dict[str, list[dict]]:
    y = test.column("y").to_numpy()

    def pick(idx: np.ndarray) -> list[dict]:
        return [
            {"account_id": test.column("account_id")[int(i)].as_py(), "handle": test.column("handle")[int(i)].as_py(),
             "source": test.column("source")[int(i)].as_py(), "category": test.column("category")[int(i)].as_py(),
             "score": round(float(s[i]), 4), "window": int(test.column("window")[int(i)].as_py()),
             "sample": (test.column("text")[int(i)].as_py() or "")[:160]}
            for i in idx
        ]  # fmt: skip

    neg, pos = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    return {
        "false_positives": pick(neg[np.argsort(-s[neg])][:n]),
        "false_negatives": pick(pos[np.argsort(s[pos])][:n]),
    }


def train(
    con: duckdb.DuckDBPyConnection,
    labelled: pa.Table,
    *,
    model: TrollClassifier | None = None,
    min_posts: int = 5,
    match_windows: bool = True,
    seed: int = 0,
) -> tuple[TrollClassifier, dict]:
    """Fit ``model`` on the labelled accounts; returns it and the training summary saved with it."""
    t0 = time.perf_counter()
    X = training_set(con, labelled, min_posts=min_posts, match_windows=match_windows, seed=seed)
    y = X.column("y").to_numpy()
    if len(y) == 0:
        raise ClassifyError(f"no labelled account has {min_posts} or more posts: lower --min-posts")
    check_labels(y)
    model = model or TrollClassifier()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    src = X.column("source").to_pylist()
    summary = {
        "accounts": {"operation": int((y == 1).sum()), "organic": int((y == 0).sum())},
        "sources": {s: src.count(s) for s in sorted(set(src), key=str)},
        "labelled": labelled.num_rows,
        "min_posts": min_posts,
        "match_windows": match_windows,
        "seed": seed,
        "params": model.get_params(),
        "leakage": {n: model.single_feature_auc_[n] for n in model.leakage_},
        "warnings": [str(w.message) for w in caught],
        "seconds": round(time.perf_counter() - t0, 1),
    }
    return model, summary
