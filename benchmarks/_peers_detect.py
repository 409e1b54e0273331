"""coordinationz's co-retweet indicator, run inside benchmarks/.venv-peers by benchmarks/detect.py.

Usage: python _peers_detect.py RETWEETS.csv OUT.json [--p 0.01] [--min-user-degree 10] [--workers 2]

RETWEETS.csv has columns user_id, linked_tweet (one row per retweet). The pipeline is the one of
coordinationz's own ``pipeline/indicators.py`` with the settings of its ``config_template.toml``:
users with at least 10 distinct retweeted tweets, smoothed-log IDF cosine, 10,000 null-model
realisations, similarities below 0.1 ignored, edges kept at p <= 0.01. OUT.json lists the
accounts on a kept edge.

coordinationz imports spaCy and NLTK's stopwords at import time, for text indicators the
co-retweet layer never calls; offline there is neither a spaCy model nor the NLTK corpus, so
both are stubbed here before the import.
"""

from __future__ import annotations

import argparse
import json
import sys
import types

STOPWORDS = [
    "a",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "but",
    "by",
    "for",
    "if",
    "in",
    "into",
    "is",
    "it",
    "no",
    "not",
    "of",
    "on",
    "or",
    "such",
    "that",
    "the",
    "their",
    "then",
    "there",
    "these",
    "they",
    "this",
    "to",
    "was",
    "will",
    "with",
]


def _offline_stubs() -> None:
    spacy = types.ModuleType("spacy")
    spacy.load = lambda *a, **k: None  # never called by the co-retweet indicator
    spacy.blank = lambda *a, **k: None
    sys.modules.setdefault("spacy", spacy)
    import nltk
    import nltk.corpus

    nltk.data.find = lambda *a, **k: True
    nltk.corpus.stopwords = types.SimpleNamespace(words=lambda lang="english": STOPWORDS)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("retweets")
    ap.add_argument("out")
    ap.add_argument("--p", type=float, default=0.01)
    ap.add_argument("--min-user-degree", type=int, default=10)
    ap.add_argument("--min-similarity", type=float, default=0.1)
    ap.add_argument("--realizations", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    _offline_stubs()
    import coordinationz as cz
    import coordinationz.indicator_utilities as czind
    import numpy as np
    import pandas as pd

    df = pd.read_csv(args.retweets, dtype=str)
    df["tweet_type"] = "retweet"
    df = czind.filterUsersByMinActivities(df, activityType="coretweet", minUserActivities=1)
    edges = czind.obtainBipartiteEdgesRetweets(df)
    edges = czind.filterNodes(edges, minLeftDegree=args.min_user_degree)
    out = cz.nullmodel.bipartiteNullModelSimilarity(
        edges,
        scoreType=["pvalue"],
        realizations=args.realizations,
        idf="smoothlog",
        minSimilarity=args.min_similarity,
        batchSize=100,
        workers=args.workers,
        showProgress=False,
    )
    pairs = np.asarray(out["indexedEdges"]).reshape(-1, 2)
    keep = np.asarray(out["pvalues"]) <= args.p
    labels = np.asarray(out["labels"], dtype=object)
    flagged = sorted(set(labels[pairs[keep].ravel()].tolist()))
    with open(args.out, "w") as f:
        json.dump({"flagged": flagged, "edges": int(keep.sum()), "candidate_edges": len(pairs)}, f)


if __name__ == "__main__":
    main()
