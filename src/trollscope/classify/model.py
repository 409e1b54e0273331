"""The account classifier: a scikit-learn-style estimator over the features of ``features.py``.

``X`` is an Arrow table with one row per account (as ``account_features`` returns), ``y`` 1 for
operation and 0 for organic. Two stages: a logistic regression over TF-IDF of the text (words,
and character n-grams of the text with mentions and numbers masked, so they describe style more
than whom and what an account writes about) gives each account a margin; a second logistic
regression weighs that margin (out-of-fold on the training accounts) with the standard-scaled
behaviour features and returns calibrated probabilities.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.preprocessing import StandardScaler

from .. import __version__
from .features import feature_names

FORMAT = "trollscope-classifier"
CHAR_TEXT = 4000  # characters per account fed to the char n-gram analyser (its cost grows with them)
# What the character n-grams do not see: which accounts are mentioned and which numbers are
# written change with the news, how an account writes does not. Hashtags stay (their casing and
# spelling are style), and the word n-grams still see everything.
STYLE_MASKS = ((r"@\w+", "@"), (r"[0-9]+", "0"))


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
    """Stacked linear model over text n-grams and behaviour features of accounts.

    The text model's margins, computed out of fold (``calibration_cv`` folds), are combined with
    the behaviour features by an unweighted logistic regression, which both calibrates the text
    margin and keeps a few dense features from outweighing thousands of sparse terms (in one
    joint model they did, and they drift with time: the IRA used hashtags half as often after
    autumn 2016). ``features`` fixes the numeric columns; otherwise ``feature_set`` picks them ("default": content
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
        calibration_cv: int = 5,
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

    def _style_texts(self, X: pa.Table) -> list[str]:
        """The start of each account's text with mentions and numbers masked, for the character n-grams."""
        t = pc.utf8_slice_codeunits(pc.fill_null(X.column("text"), ""), 0, CHAR_TEXT)
        for pattern, repl in STYLE_MASKS:
            t = pc.replace_substring_regex(t, pattern, repl)
        return t.to_pylist()

    def _text_matrix(self, X: pa.Table, fit: bool = False) -> sp.csr_matrix:
        docs = self._texts(X)
        parts = [self.word_vec_.fit_transform(docs) if fit else self.word_vec_.transform(docs)]
        if self.char_ngrams:
            style = self._style_texts(X)
            parts.append(self.char_vec_.fit_transform(style) if fit else self.char_vec_.transform(style))
        return sp.hstack(parts, format="csr")

    def _combined(self, X: pa.Table, margin: np.ndarray | None) -> np.ndarray:
        """The second stage's inputs: the text margin (when there is text) and the scaled behaviour features."""
        num = self.scaler_.transform(self._numeric(X)) if self.feature_names_ else np.zeros((X.num_rows, 0))
        return num if margin is None else np.column_stack([margin, num])

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
        if names:
            self.scaler_.fit(self._numeric(X))
        tok = r"(?u)[#@]?\b\w\w+\b"
        self.word_vec_ = TfidfVectorizer(
            lowercase=True, token_pattern=tok, ngram_range=(1, 2), min_df=self.min_df,
            max_features=self.max_terms, sublinear_tf=True, dtype=np.float32,
        )  # fmt: skip
        self.char_vec_ = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), min_df=self.min_df, max_features=self.max_terms,
            sublinear_tf=True, lowercase=False, dtype=np.float32,
        )  # fmt: skip
        margin, n_terms = None, 0
        if self.text:
            M = self._text_matrix(X, fit=True)
            self.text_model_ = LogisticRegression(C=self.C, class_weight="balanced", solver="liblinear", max_iter=1000)
            cv = min(self.calibration_cv, int(np.bincount(y).min()))
            if cv >= 2:  # margins of accounts the text model did not see, as it will see new ones
                folds = StratifiedKFold(cv, shuffle=True, random_state=self.random_state)
                margin = cross_val_predict(self.text_model_, M, y, cv=folds, method="decision_function")
            self.text_model_.fit(M, y)
            n_terms = M.shape[1]
            if cv < 2:  # too few of one class for folds: in-sample margins, overconfident
                margin = self.text_model_.decision_function(M)
        # Unweighted, so its probabilities are calibrated to the training balance.
        self.combiner_ = LogisticRegression(C=1.0, max_iter=1000).fit(self._combined(X, margin), y)
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = len(names) + n_terms
        return self

    def predict_proba(self, X: pa.Table) -> np.ndarray:
        margin = self.text_model_.decision_function(self._text_matrix(X)) if self.text else None
        return self.combiner_.predict_proba(self._combined(X, margin))

    def predict(self, X: pa.Table) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def coefficients(self) -> dict[str, float]:
        """The weight of every input on the log-odds, by name: behaviour features per standard
        deviation, text terms as the text model's weight times the weight of its margin."""
        w = self.combiner_.coef_[0]
        coef = dict(zip(self.feature_names_, w[1:] if self.text else w, strict=True))
        if self.text:
            names = [f"word:{t}" for t in self.word_vec_.get_feature_names_out()]
            if self.char_ngrams:
                names += [f"char:{t!r}" for t in self.char_vec_.get_feature_names_out()]
            coef.update(zip(names, (self.text_model_.coef_[0] * w[0]).tolist(), strict=True))
        return {k: float(v) for k, v in coef.items()}

    def top_terms(self, n: int = 20) -> dict[str, list[tuple[str, float]]]:
        """The inputs pushing hardest towards operation and towards organic."""
        items = sorted(self.coefficients().items(), key=lambda kv: kv[1])
        return {"operation": items[::-1][:n], "organic": items[:n]}


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
        raise ClassifyError(f"no model at {p}: make one with `trollscope classify train --output {p}`")
    try:
        with open(p, "rb") as f:
            payload = pickle.load(f)
    except Exception as e:  # any unpickling failure means "not a model we can read"
        raise ClassifyError(f"{p} is not a trollscope model readable here ({type(e).__name__}: {e})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ClassifyError(f"{p} is not a trollscope classifier file")
    if not hasattr(payload["model"], "combiner_"):  # saved before the two-stage model, same version number
        raise ClassifyError(
            f"{p} was made by an earlier form of the classifier: retrain it with `trollscope classify train`"
        )
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
