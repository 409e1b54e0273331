"""The account classifier on synthetic accounts: a planted signal, a leakage trap, artefact
stripping, save/load, label errors, and the commands."""

from __future__ import annotations

import csv
import json
import pickle
import warnings
from datetime import datetime, timedelta
from pathlib import Path

import click
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from trollscope.classify import evaluate as ev
from trollscope.classify import model as md
from trollscope.classify.features import BASELINE, account_features
from trollscope.classify.similar import seed_accounts, similar
from trollscope.cli._common import Group
from trollscope.cli.classify import register
from trollscope.schema import ACCOUNTS, POSTS
from trollscope.workspace import Workspace


def fast_model() -> md.TrollClassifier:
    """The classifier without character n-grams: the same model, quicker on tiny test data."""
    return md.TrollClassifier(char_ngrams=False)


WORDS = [
    "the",
    "a",
    "vote",
    "today",
    "news",
    "people",
    "state",
    "city",
    "game",
    "music",
    "love",
    "work",
    "time",
    "good",
    "new",
    "said",
]


def _post(i: int, account: str, t: datetime, text: str, kind: str = "original", source: str = "set-a/x.csv") -> dict:
    return {
        "post_id": f"{account}-{i}", "account_id": account, "handle": account.upper(), "created_at": t,
        "text": text, "lang": "en", "kind": kind, "urls": [], "hashtags": [], "mentions": [],
        "source_format": "generic", "source_file": f"/data/{source}", "source_line": i, "ingest_id": "test",
    }  # fmt: skip


def build_workspace(path: Path, posts: list[dict], accounts: list[dict] | None = None) -> Workspace:
    """A workspace holding exactly ``posts`` (dicts of POSTS columns; others null)."""
    ws = Workspace(path)
    with ws.transaction() as txn:
        f = txn.new_file("posts")
        pq.write_table(pa.Table.from_pylist(posts, schema=POSTS), f)
        txn.append("posts", [f])
        if accounts:
            g = txn.new_file("accounts")
            pq.write_table(pa.Table.from_pylist(accounts, schema=ACCOUNTS), g)
            txn.append("accounts", [g])
    return ws


def synthetic(
    n_accounts: int = 40, posts_each: int = 30, planted: bool = True, leak: bool = False, seed: int = 1
) -> tuple[list[dict], dict[str, int]]:
    """``n_accounts`` operation (``op*``) and as many organic (``org*``) accounts writing random
    words. With ``planted``, operation accounts use the word "zebrafish" in a third of their posts.
    With ``leak``, every organic account comes from another data set, collected by searching for a
    hashtag that all its posts therefore carry (a collection artefact); operation posts never do."""
    rng = np.random.default_rng(seed)
    posts, labels = [], {}
    t0 = datetime(2016, 3, 1)
    for cls, prefix in ((1, "op"), (0, "org")):
        for a in range(n_accounts):
            acc = f"{prefix}{a}"
            labels[acc] = cls
            t = t0 + timedelta(minutes=int(rng.integers(0, 5000)))
            source = "set-b/y.csv" if (leak and cls == 0) else "set-a/x.csv"
            for i in range(posts_each):
                t += timedelta(minutes=int(rng.integers(1, 600)))
                words = list(rng.choice(WORDS, 8))
                if planted and cls == 1 and rng.random() < 0.33:
                    words[int(rng.integers(0, 8))] = "zebrafish"
                text = " ".join(words)
                if leak and cls == 0:
                    text += " #searchterm"
                posts.append(_post(i, acc, t, text, source=source))
    return posts, labels


def _labels_table(labels: dict[str, int]) -> pa.Table:
    return pa.table({"account_id": list(labels), "y": list(labels.values())})


def write_labels(path: Path, labels: dict[str, int], key: str = "account_id") -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([key, "label"])
        for a, y in labels.items():
            w.writerow([a if key == "account_id" else a.upper(), "operation" if y else "organic"])
    return path


# -- the model finds a planted signal and nothing where there is none ---------------------------------
def test_planted_signal_is_found(tmp_path):
    posts, labels = synthetic(planted=True)
    con = build_workspace(tmp_path / "ws", posts).connect()
    r = ev.evaluate(con, _labels_table(labels), "account", folds=4, bootstrap_n=50, model=fast_model())
    assert r["model"]["roc_auc"]["value"] >= 0.95
    assert r["accounts"] == {"operation": 40, "organic": 40}
    X = ev.training_set(con, _labels_table(labels))
    m = md.TrollClassifier(char_ngrams=False).fit(X, X.column("y").to_numpy())
    top = [name for name, _ in m.top_terms(3)["operation"]]
    assert "word:zebrafish" in top


def test_no_signal_gives_chance(tmp_path):
    posts, labels = synthetic(planted=False)
    con = build_workspace(tmp_path / "ws", posts).connect()
    r = ev.evaluate(con, _labels_table(labels), "account", folds=4, bootstrap_n=50, model=fast_model())
    assert 0.25 <= r["model"]["roc_auc"]["value"] <= 0.75


def test_scores_are_probabilities_in_order(tmp_path):
    posts, labels = synthetic()
    con = build_workspace(tmp_path / "ws", posts).connect()
    X = ev.training_set(con, _labels_table(labels))
    m = md.TrollClassifier(char_ngrams=False).fit(X, X.column("y").to_numpy())
    p = m.predict_proba(X)
    assert p.shape == (80, 2)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    t = md.score_accounts(con, m)
    s = t.column("score").to_numpy()
    assert t.num_rows == 80 and np.all(np.diff(s) <= 0) and s.min() >= 0 and s.max() <= 1


def test_estimator_follows_sklearn_conventions():
    m = md.TrollClassifier(C=2.0, on_leak="drop")
    assert m.get_params()["C"] == 2.0 and m.get_params()["on_leak"] == "drop"
    assert not [k for k in vars(m) if k.endswith("_")]  # no learned state before fit


def test_character_ngrams_see_style_not_names_or_numbers():
    """The character n-grams read each account's text with mentions and numbers masked, case kept;
    the word n-grams still read it as written."""
    X = pa.table({"text": ["RT @Jenn_Abrams: 5,563 coins! #MAGA", None]})
    m = md.TrollClassifier()
    assert m._style_texts(X) == ["RT @: 0,0 coins! #MAGA", ""]
    assert m._texts(X) == ["RT @Jenn_Abrams: 5,563 coins! #MAGA", ""]


def test_probabilities_follow_the_training_balance(tmp_path):
    """The second stage is unweighted, so on its own training accounts the mean probability of
    operation is close to the share of operation accounts (here one in four)."""
    posts, labels = synthetic(n_accounts=40)
    drop = [a for a in labels if a.startswith("op")][: 40 - 13]
    keep = {a: y for a, y in labels.items() if a not in drop}
    con = build_workspace(tmp_path / "ws", [p for p in posts if p["account_id"] in keep]).connect()
    X = ev.training_set(con, _labels_table(keep))
    y = X.column("y").to_numpy()
    p = fast_model().fit(X, y).predict_proba(X)[:, 1]
    assert abs(p.mean() - y.mean()) < 0.05


# -- the leakage trap --------------------------------------------------------------------------------
def test_leakage_trap_is_flagged_refused_or_dropped(tmp_path):
    posts, labels = synthetic(planted=False, leak=True)
    con = build_workspace(tmp_path / "ws", posts).connect()
    X = ev.training_set(con, _labels_table(labels))
    y = X.column("y").to_numpy()
    with pytest.warns(md.LeakageWarning, match="share_hashtag alone separates the classes"):
        m = md.TrollClassifier(char_ngrams=False).fit(X, y)
    assert "share_hashtag" in m.leakage_
    with pytest.raises(md.ClassifyError, match="possible data-set leakage: share_hashtag"):
        md.TrollClassifier(char_ngrams=False, on_leak="error").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dropped = md.TrollClassifier(char_ngrams=False, on_leak="drop").fit(X, y)
    assert "share_hashtag" not in dropped.feature_names_
    # train() records it in the summary saved with the model
    _, summary = ev.train(con, _labels_table(labels), model=md.TrollClassifier(char_ngrams=False))
    assert summary["leakage"]["share_hashtag"] >= 0.99
    assert summary["sources"] == {"set-a": 40, "set-b": 40}
    # evaluate flags it too: a trivial feature (raw text length) does as well as the model
    r = ev.evaluate(con, _labels_table(labels), folds=3, bootstrap_n=20, model=md.TrollClassifier(char_ngrams=False))
    assert r["baseline"]["roc_auc"]["value"] > 0.95
    assert "baseline is nearly as good as the model" in r["warning"]


def test_collection_artefacts_are_stripped(tmp_path):
    """Two accounts posting the same things, one exported like the IRA data (minute timestamps,
    `RT handle:` without @, &amp;) and one like the API (seconds, `RT @handle:`, other short
    links), get the same features and text."""
    t0 = datetime(2016, 5, 1, 12, 0)
    a = [("RT @Bob: hello & welcome https://t.co/abc", "repost", 0), ("#maga is\nhere", "original", 7),
         ("@amy what a day!", "original", 95)]  # fmt: skip
    posts = []
    for i, (text, kind, m) in enumerate(a):
        posts.append(_post(i, "api", t0 + timedelta(minutes=m, seconds=37), text, kind))
        ira_text = (
            text.replace("RT @Bob", "RT Bob")
            .replace("&", "&amp;")
            .replace("https://t.co/abc", "http://bit.ly/Zz")
            .replace("@amy what a day!", "'@amy what a day!'")
            .replace("\n", " ")
        )
        posts.append(_post(i, "ira", t0 + timedelta(days=28, minutes=m), ira_text, kind))
    con = build_workspace(tmp_path / "ws", posts).connect()
    rows = {r["account_id"]: r for r in account_features(con).to_pylist()}
    for k in rows["api"]:
        if k not in ("account_id", "handle", *BASELINE):  # the baseline sees raw artefacts on purpose
            assert rows["api"][k] == pytest.approx(rows["ira"][k]), k
    assert rows["api"]["text"].startswith("hello & welcome")
    assert rows["ira"]["share_reply"] == pytest.approx(1 / 3)


# -- save / load ---------------------------------------------------------------------------------------
def test_save_load_round_trip_and_version_warning(tmp_path):
    posts, labels = synthetic()
    con = build_workspace(tmp_path / "ws", posts).connect()
    m, summary = ev.train(con, _labels_table(labels), model=md.TrollClassifier(char_ngrams=False))
    path = tmp_path / "model.pkl"
    md.save(m, path, summary)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        payload = md.load(path)
    X = account_features(con)
    np.testing.assert_array_equal(payload["model"].predict_proba(X), m.predict_proba(X))
    assert payload["features"] == m.feature_names_
    assert payload["training"]["accounts"] == {"operation": 40, "organic": 40}
    assert set(payload["versions"]) >= {"trollscope", "scikit-learn"}
    # a model from another version says so, naming both
    payload["versions"]["scikit-learn"] = "0.0.1"
    old = tmp_path / "old.pkl"
    old.write_bytes(pickle.dumps(payload))
    import sklearn

    with pytest.warns(md.VersionWarning, match=f"scikit-learn 0.0.1, this is scikit-learn {sklearn.__version__}"):
        md.load(old)
    (tmp_path / "junk.pkl").write_bytes(b"not a model")
    with pytest.raises(md.ClassifyError, match="not a trollscope model"):
        md.load(tmp_path / "junk.pkl")


# -- label errors ------------------------------------------------------------------------------------
def test_label_errors(tmp_path):
    posts, labels = synthetic(n_accounts=5, posts_each=6)
    con = build_workspace(tmp_path / "ws", posts).connect()
    empty = tmp_path / "empty.csv"
    empty.write_text("account_id,label\n")
    with pytest.raises(md.ClassifyError, match="holds no labels"):
        ev.read_labels(empty)
    one = write_labels(tmp_path / "one.csv", {a: y for a, y in labels.items() if y == 1})
    with pytest.raises(md.ClassifyError, match="all 5 labelled accounts are operation"):
        ev.resolve_labels(con, ev.read_labels(one))
    unknown = write_labels(tmp_path / "unknown.csv", {"nobody": 1, "noone": 0})
    with pytest.raises(md.ClassifyError, match="none of the 2 labelled accounts is in the workspace"):
        ev.resolve_labels(con, ev.read_labels(unknown))
    bad = tmp_path / "bad.csv"
    bad.write_text("handle,label\nop1,troll\n")
    with pytest.raises(md.ClassifyError, match="operation or organic, found 'troll'"):
        ev.read_labels(bad)
    # handles match case-insensitively; unknown ones are counted, not fatal
    by_handle = write_labels(tmp_path / "h.csv", {**labels, "ghost": 0}, key="handle")
    t, missing = ev.resolve_labels(con, ev.read_labels(by_handle))
    assert t.num_rows == 10 and missing == 1
    with pytest.raises(md.ClassifyError, match="needs both operation and organic"):
        md.TrollClassifier().fit(pa.table({"text": ["a"]}), [1])


# -- commands ----------------------------------------------------------------------------------------
@pytest.fixture
def cli():
    @click.group(cls=Group)
    def main() -> None:
        pass

    register(main)
    return main


def test_cli_train_score_evaluate_similar(tmp_path, cli):
    posts, labels = synthetic()
    accounts = [{"account_id": a, "handle": a.upper(), "labels": [("kind", "op" if y else "org")],
                 "source_format": "generic", "ingest_id": "t"} for a, y in labels.items()]  # fmt: skip
    build_workspace(tmp_path / "ws", posts, accounts)
    lab = write_labels(tmp_path / "labels.csv", labels)
    run = CliRunner().invoke
    ws, model = str(tmp_path / "ws"), str(tmp_path / "m.pkl")
    r = run(cli, ["classify", "train", "-w", ws, "--truth", str(lab), "--output", model, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["accounts"] == {"operation": 40, "organic": 40}
    r = run(cli, ["classify", "score", "-w", ws, "--model", model, "--json"])
    assert r.exit_code == 0, r.output
    accs = json.loads(r.output)["accounts"]
    assert {a["account_id"] for a in accs} == set(labels)
    assert set(accs[0]) >= {"account_id", "handle", "score"}
    mean_op = np.mean([a["score"] for a in accs if a["account_id"].startswith("op")])
    assert mean_op > np.mean([a["score"] for a in accs if a["account_id"].startswith("org")]) + 0.3
    r = run(cli, ["classify", "evaluate", "-w", ws, "--truth", str(lab), "--folds", "3", "--bootstrap", "20", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["split"] == "account" and {"roc_auc", "pr_auc", "precision_at_recall_0.8"} <= set(d["model"])
    assert "baseline" in d and "false_positives" in d["mistakes"]
    r = run(cli, ["similar", "-w", ws, "--accounts", "label:kind=op", "--top", "5", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["seeds"] == 40 and len(d["accounts"]) == 5
    assert all(h["account_id"].startswith("org") for h in d["accounts"])  # seeds are never returned
    for cmd in (["classify", "train"], ["classify", "score"], ["classify", "evaluate"], ["similar"]):
        h = run(cli, [*cmd, "--help"])
        assert h.exit_code == 0 and "Example:" in h.output


def test_cli_errors_are_one_line(tmp_path, cli):
    posts, labels = synthetic(n_accounts=5, posts_each=6)
    build_workspace(tmp_path / "ws", posts)
    one = write_labels(tmp_path / "one.csv", {a: y for a, y in labels.items() if y == 0})
    empty = tmp_path / "empty.csv"
    empty.write_text("handle,label\n")
    ws = str(tmp_path / "ws")
    for lab, msg in ((one, "all 5 labelled accounts are organic"), (empty, "holds no labels")):
        r = CliRunner().invoke(
            cli, ["classify", "train", "-w", ws, "--truth", str(lab), "--output", str(tmp_path / "m")]
        )
        assert r.exit_code == 1
        assert msg in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(cli, ["classify", "score", "-w", ws, "--model", str(tmp_path / "none.pkl")])
    assert r.exit_code == 1 and "no model at" in r.output
    r = CliRunner().invoke(cli, ["similar", "-w", ws, "--accounts", "label:kind=nothing"])
    assert r.exit_code == 1 and "no account has the label" in r.output


def test_similar_finds_the_planted_group(tmp_path):
    posts, labels = synthetic()
    con = build_workspace(tmp_path / "ws", posts).connect()
    seeds = [a for a in labels if a.startswith("op")][:20]
    r = similar(con, seeds, top=10)
    hits = [h["account_id"] for h in r["accounts"]]
    assert sum(h.startswith("op") for h in hits) >= 8
    assert any("zebrafish" in h["shared_words"] for h in r["accounts"])
    f = tmp_path / "seeds.txt"
    f.write_text("\n".join(s.upper() for s in seeds))  # handles work too
    assert sorted(seed_accounts(con, str(f))) == sorted(seeds)


def test_coordination_score_is_used_when_detect_has_run(tmp_path):
    posts, labels = synthetic(n_accounts=10, posts_each=6)
    ws = build_workspace(tmp_path / "ws", posts)
    assert "coordination_score" not in account_features(ws.connect()).column_names
    scores = {a: (0.9 if a.startswith("op") else 0.1) for a in list(labels)[:15]}  # 5 organic accounts unscored
    with ws.transaction() as txn:
        f = txn.new_file("account_scores")
        pq.write_table(pa.table({"account_id": list(scores), "score": list(scores.values())}), f)
        txn.append("account_scores", [f])
    X = account_features(ws.connect())
    got = dict(zip(X.column("account_id").to_pylist(), X.column("coordination_score").to_pylist(), strict=True))
    assert got == {a: scores.get(a, 0.0) for a in labels}
    with pytest.warns(md.LeakageWarning, match="coordination_score alone separates"):  # it does, here
        m = fast_model().fit(X, [labels[a] for a in X.column("account_id").to_pylist()])
    assert "coordination_score" in m.feature_names_
