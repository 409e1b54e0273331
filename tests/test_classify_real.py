"""The classifier on the shared data: English IRA accounts against the organic sets."""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path

import pytest

from trollscope import ReadOptions, Workspace, ingest
from trollscope.classify import evaluate as ev
from trollscope.classify import model as md

SHARED = Path(os.environ.get("TROLLSCOPE_SHARED", Path(__file__).resolve().parents[1].parent / "shared")) / "data"
pytestmark = [pytest.mark.real_data, pytest.mark.slow]


@pytest.fixture(scope="module")
def real_ws(tmp_path_factory):
    data = SHARED
    path = tmp_path_factory.mktemp("classify") / "ws"
    ingest(str(data / "ira-by-author"), path)
    ingest(str(data / "congress-2015-2018/tweets.psv.gz"), path, options=ReadOptions(mapping={"account_id": "user"}))
    ingest(str(data / "political-2016-search/tweets.jsonl.gz"), path)
    ingest(str(data / "debates-2016"), path, options=ReadOptions(labels=str(data / "debates-2016/users.csv.gz")))
    ingest(
        str(data / "airline-2015/Tweets.csv"), path,
        options=ReadOptions(mapping={"handle": "name", "text": "text", "created_at": "tweet_created"},
                            time_format="%d-%m-%Y %H.%M"),
    )  # fmt: skip
    return Workspace(path)


def test_account_split_beats_the_identity_baseline(real_ws):
    con = real_ws.connect()
    labels = ev.workspace_labels(con)
    ops = labels.column("label").to_pylist().count("operation")
    with open(SHARED / "ira-by-author/authors.csv", newline="") as fh:
        english = sum(r["account_category"] in ev.ENGLISH_CATEGORIES for r in csv.DictReader(fh))
    assert english - 12 <= ops <= english  # the README: 12 listed authors have no tweet file
    lab, unknown = ev.resolve_labels(con, ev.read_labels_table(labels))
    assert unknown == 0
    r = ev.evaluate(con, lab, "account", folds=5, bootstrap_n=100, other_categories=False)  # as in docs/classify.md
    m, b = r["model"], r["baseline"]
    assert m["roc_auc"]["value"] >= 0.98
    assert m["precision_at_recall_0.8"]["value"] >= 0.9
    assert b["roc_auc"]["value"] <= m["roc_auc"]["value"] - 0.15


def test_time_split_meets_the_target(real_ws):
    """Train on one half of the accounts before 2016-10-06, test the other half after it (as in
    docs/classify.md): the issue's target is ROC-AUC 0.95, well clear of the identity baseline."""
    con = real_ws.connect()
    lab, _ = ev.resolve_labels(con, ev.read_labels_table(ev.workspace_labels(con)))
    r = ev.evaluate(con, lab, "time", cutoff="2016-10-06", bootstrap_n=100)
    assert r["model"]["roc_auc"]["value"] >= 0.95
    assert r["baseline"]["roc_auc"]["value"] <= r["model"]["roc_auc"]["value"] - 0.15
    assert set(r["recall_by_category"]) >= {"RightTroll", "LeftTroll"}


def test_scoring_is_fast(real_ws, tmp_path):
    con = real_ws.connect()
    lab, _ = ev.resolve_labels(con, ev.read_labels_table(ev.workspace_labels(con)))
    model, _ = ev.train(con, lab)
    n_posts = con.sql("SELECT count(*) FROM posts").fetchall()[0][0]
    t0 = time.perf_counter()
    s = md.score_accounts(con, model)
    seconds = time.perf_counter() - t0
    assert s.num_rows > 20_000
    assert seconds < 60 * n_posts / 1_000_000 * 1.5  # under a minute per million posts, with margin
