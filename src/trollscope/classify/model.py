"""The account classifier: a scikit-learn-style estimator over the features of ``features.py``.

``X`` is an Arrow table with one row per account (as ``account_features`` returns), ``y`` 1 for
operation and 0 for organic. Text goes through TF-IDF over words and character n-grams, the
behaviour features through a standard scaler; one logistic regression weighs both, and
``CalibratedClassifierCV`` turns its margins into calibrated probabilities.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from .. import __version__
from .features import feature_names

FORMAT = "trollscope-classifier"
CHAR_TEXT = 4000  # characters per account fed to the char n-gram analyser (its cost grows with them)


class ClassifyError(ValueError):
    """Labels or inputs the classifier cannot work with; the message says what to do."""


class LeakageWarning(UserWarning):
    """A feature separates the classes almost alone: it may encode which data set an account is from."""


class VersionWarning(UserWarning):
    """A saved model was made by another version of trollscope or scikit-learn."""


def check_labels(y: np.ndarray) -> None:
    if len(y) == 0:
        raise ClassifyError("no labelled accounts: the labels name no account in the workspace")
    if len(np.unique(y)) < 2:
        only = "operation" if y[0] == 1 else "organic"
        raise ClassifyError(f"all {len(y)} labelled accounts are {only}: training needs both operation and organic")


def single_feature_auc(X: pa.Table, y: np.ndarray, names: list[str]) -> dict[str, float]:
    """ROC-AUC of each feature used alone (folded so 0.5 is useless and 1.0 separates perfectly)."""
    out = {}
    for n in names:
        v = np.nan_to_num(np.asarray(X.column(n).to_numpy(zero_copy_only=False), dtype=float))
        a = roc_auc_score(y, v) if np.ptp(v) > 0 else 0.5
        out[n] = float(max(a, 1 - a))
    return out


class TrollClassifier(ClassifierMixin, BaseEstimator):
    """Calibrated linear model over text n-grams and behaviour features of accounts.

    ``features`` fixes the numeric columns; otherwise ``feature_set`` picks them ("default": content
    and style, "all": also rhythm and repost/reply/quote shares), plus the coordination score when
    detect has run. ``leak_threshold``: a feature whose AUC alone reaches
    it is reported in ``leakage_`` and warned about (``on_leak='warn'``), dropped (``'drop'``) or
    refused (``'error'``).
    """

    def __init__(
        self,
        C: float = 4.0,
        text: bool = True,
        char_ngrams: bool = True,
        max_terms: int = 60_000,
        min_df: int = 3,
        calibration_cv: int = 3,
        features: list[str] | None = None,
        feature_set: str = "default",
        leak_threshold: float = 0.99,
        on_leak: str = "warn",
        random_state: int = 0,
    ) -> None:
        self.C = C
        self.text = text
        self.char_ngrams = char_ngrams
        self.max_terms = max_terms
        self.min_df = min_df
        self.calibration_cv = calibration_cv
        self.features = features
        self.feature_set = feature_set
        self.leak_threshold = leak_threshold
        self.on_leak = on_leak
        self.random_state = random_state

    # -- design matrix ----------------------------------------------------------------------
    def _numeric(self, X: pa.Table) -> np.ndarray:
        cols = []
        for n in self.feature_names_:
            if n in X.column_names:
                cols.append(np.asarray(X.column(n).to_numpy(zero_copy_only=False), dtype=float))
            else:  # e.g. no coordination score in the scored workspace: neutral value
                cols.append(np.full(X.num_rows, self.scaler_.mean_[self.feature_names_.index(n)]))
        return np.nan_to_num(np.column_stack(cols)) if cols else np.zeros((X.num_rows, 0))

    def _texts(self, X: pa.Table) -> list[str]:
        return [t or "" for t in X.column("text").to_pylist()]

    def _matrix(self, X: pa.Table, fit: bool = False) -> sp.csr_matrix:
        num = self._numeric(X)
        parts = []
        if num.shape[1]:
            parts.append(sp.csr_matrix(self.scaler_.fit_transform(num) if fit else self.scaler_.transform(num)))
        if self.text:
            docs = self._texts(X)
            parts.append(self.word_vec_.fit_transform(docs) if fit else self.word_vec_.transform(docs))
            if self.char_ngrams:
                short = [d[:CHAR_TEXT] for d in docs]
                parts.append(self.char_vec_.fit_transform(short) if fit else self.char_vec_.transform(short))
        return sp.hstack(parts, format="csr")

    # -- estimator API ----------------------------------------------------------------------
    def fit(self, X: pa.Table, y: Any) -> TrollClassifier:
        y = np.asarray(y, dtype=int)
        check_labels(y)
        if self.on_leak not in ("warn", "drop", "error"):
            raise ClassifyError(f"on_leak must be warn, drop or error, not {self.on_leak!r}")
        names = list(self.features) if self.features is not None else feature_names(X, self.feature_set)
        aucs = single_feature_auc(X, y, names)
        self.single_feature_auc_ = aucs
        self.leakage_ = sorted((n for n, a in aucs.items() if a >= self.leak_threshold), key=lambda n: -aucs[n])
        if self.leakage_:
            msg = "; ".join(f"{n} alone separates the classes with ROC-AUC {aucs[n]:.3f}" for n in self.leakage_)
            if self.on_leak == "error":
                raise ClassifyError(f"possible data-set leakage: {msg} (drop the feature or check the sources)")
            if self.on_leak == "warn":
                warnings.warn(f"possible data-set leakage: {msg}", LeakageWarning, stacklevel=2)
            else:
                names = [n for n in names if n not in self.leakage_]
        self.feature_names_ = names
        self.scaler_ = StandardScaler()
        tok = r"(?u)[#@]?\b\w\w+\b"
        self.word_vec_ = TfidfVectorizer(
            lowercase=True, token_pattern=tok, ngram_range=(1, 2), min_df=self.min_df,
            max_features=self.max_terms, sublinear_tf=True, dtype=np.float32,
        )  # fmt: skip
        self.char_vec_ = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), min_df=self.min_df, max_features=self.max_terms,
            sublinear_tf=True, dtype=np.float32,
        )  # fmt: skip
        M = self._matrix(X, fit=True)
        base = LogisticRegression(C=self.C, class_weight="balanced", solver="liblinear", max_iter=1000)
        cv = min(self.calibration_cv, int(np.bincount(y).min()))
        if cv >= 2:
            self.calibrated_ = CalibratedClassifierCV(base, cv=cv, method="sigmoid").fit(M, y)
        else:  # too few of one class to calibrate by cross-validation
            self.calibrated_ = _prefit(base, M, y)
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = M.shape[1]
        return self

    def predict_proba(self, X: pa.Table) -> np.ndarray:
        return self.calibrated_.predict_proba(self._matrix(X))

    def predict(self, X: pa.Table) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def coefficients(self) -> dict[str, float]:
        """The linear weight of every input (mean over the calibration folds), by name."""
        models = [c.estimator for c in getattr(self.calibrated_, "calibrated_classifiers_", [])]
        coef = np.mean([getattr(m, "estimator", m).coef_[0] for m in models], axis=0)
        names = list(self.feature_names_)
        if self.text:
            names += [f"word:{t}" for t in self.word_vec_.get_feature_names_out()]
            if self.char_ngrams:
                names += [f"char:{t!r}" for t in self.char_vec_.get_feature_names_out()]
        return dict(zip(names, coef.tolist(), strict=True))

    def top_terms(self, n: int = 20) -> dict[str, list[tuple[str, float]]]:
        """The inputs pushing hardest towards operation and towards organic."""
        items = sorted(self.coefficients().items(), key=lambda kv: kv[1])
        return {"operation": items[::-1][:n], "organic": items[:n]}


def _prefit(base: LogisticRegression, M: sp.csr_matrix, y: np.ndarray) -> CalibratedClassifierCV:
    from sklearn.frozen import FrozenEstimator

    return CalibratedClassifierCV(FrozenEstimator(base.fit(M, y)), method="sigmoid").fit(M, y)


# -- saving --------------------------------------------------------------------------------------
def versions() -> dict[str, str]:
    return {"trollscope": __version__, "scikit-learn": sklearn.__version__, "numpy": np.__version__}


def save(model: TrollClassifier, path: str | Path, training: dict) -> None:
    """Write the model with its feature list, training summary and library versions."""
    payload = {
        "format": FORMAT,
        "versions": versions(),
        "features": model.feature_names_,
        "training": training,
        "model": model,
    }
    with open(path, "wb") as f:
        pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)


def load(path: str | Path) -> dict:
    """Read a saved model; warn (naming both versions) when it was made by other library versions."""
    p = Path(path)
    if not p.is_file():
        raise ClassifyError(f"no model at {p}: make one with `trollscope classify train -o {p}`")
    try:
        with open(p, "rb") as f:
            payload = pickle.load(f)
    except Exception as e:  # any unpickling failure means "not a model we can read"
        raise ClassifyError(f"{p} is not a trollscope model readable here ({type(e).__name__}: {e})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ClassifyError(f"{p} is not a trollscope classifier file")
    now = versions()
    for lib in ("trollscope", "scikit-learn"):
        then = payload["versions"].get(lib)
        if then != now[lib]:
            warnings.warn(
                f"{p} was saved with {lib} {then}, this is {lib} {now[lib]}: scores may differ; retrain to be sure",
                VersionWarning,
                stacklevel=2,
            )
    return payload


def score_accounts(con: Any, model: TrollClassifier) -> pa.Table:
    """Calibrated operation probability of every account in the workspace, highest first."""
    from .features import account_features

    X = account_features(con)
    s = model.predict_proba(X)[:, 1] if X.num_rows else np.zeros(0)
    t = pa.table({"account_id": X.column("account_id"), "handle": X.column("handle"),
                  "posts": X.column("posts"), "score": pa.array(s, pa.float64())})  # fmt: skip
    return t.take(pa.array(np.argsort(-s, kind="stable"), pa.int64()))
