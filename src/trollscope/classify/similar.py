"""Find more like them: the accounts nearest to a known set in the classifier's feature space.

Accounts are placed in the space of ``features.py`` (scaled behaviour features and TF-IDF over the
words of their window), each block scaled to unit length so neither drowns the other, and ranked
by cosine similarity to the seed set's centroid. Each hit says what it shares with the seeds:
the behaviour features and words that contribute most to its similarity, and the hashtags,
mentions and reposted accounts it has in common with them.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import StandardScaler, normalize

from .features import account_features, feature_names
from .model import ClassifyError


def seed_accounts(con: duckdb.DuckDBPyConnection, to: str) -> list[str]:
    """Account ids named as ``--accounts`` names them elsewhere: ``label:KEY=VALUE[,VALUE…]``
    (accounts whose label KEY is one of the values), ``label:KEY`` (every account with the label KEY;
    when no label is called so, any label equal to it) or a file of ids/handles (one per line, or a
    CSV with a column account_id, handle or account)."""
    if to.startswith("label:"):
        spec = to[len("label:") :]
        if "=" in spec:
            key, value = spec.split("=", 1)
            values = [v.strip() for v in value.split(",") if v.strip()]
            cond, params = "list_contains(?, labels[?])", [values, key.strip()]
        elif con.execute("SELECT count(*) FROM accounts WHERE list_contains(map_keys(labels), ?)", [spec]).fetchone()[
            0
        ]:
            cond, params = "list_contains(map_keys(labels), ?)", [spec]
        else:
            cond, params = "list_contains(map_values(labels), ?)", [spec]
        ids = [
            r[0]
            for r in con.execute(f"SELECT DISTINCT account_id FROM accounts WHERE {cond} ORDER BY 1", params).fetchall()
        ]
        if not ids:
            raise ClassifyError(f"no account has the label {spec!r}: see the labels with `trollscope info`")
    else:
        p = Path(to)
        if not p.is_file():
            raise ClassifyError(f"--accounts {to!r} is neither label:KEY=VALUE nor a file")
        lines = [x.strip() for x in p.read_text().splitlines() if x.strip()]
        header = [c.strip().lower() for c in lines[0].split(",")] if lines else []
        col = next((header.index(c) for c in ("account_id", "handle", "account") if c in header), None)
        keys = [x.split(",")[col].strip() for x in lines[1:]] if col is not None else [x.split(",")[0] for x in lines]
        if not keys:
            raise ClassifyError(f"{p} names no accounts")
        con.register("_seed_keys", pa.table({"key": keys}))
        ids = [r[0] for r in con.sql(
            """SELECT DISTINCT account_id FROM posts WHERE account_id IN (SELECT key FROM _seed_keys)
               OR lower(handle) IN (SELECT lower(ltrim(key, '@')) FROM _seed_keys) ORDER BY 1"""
        ).fetchall()]  # fmt: skip
        con.unregister("_seed_keys")
        if not ids:
            raise ClassifyError(f"none of the {len(keys)} accounts in {p} is in the workspace")
    return ids


def similar(
    con: duckdb.DuckDBPyConnection, seeds: list[str], *, top: int = 20, min_posts: int = 5, explain: int = 3
) -> dict:
    """The ``top`` accounts (not seeds, at least ``min_posts`` posts) nearest to the seeds."""
    X = account_features(con)
    ids = X.column("account_id").to_pylist()
    posts = X.column("posts").to_numpy()
    is_seed = np.isin(np.array(ids, dtype=object), np.array(seeds, dtype=object))
    if not is_seed.any():
        raise ClassifyError("none of the seed accounts has posts in the workspace")
    names = feature_names(X)
    num = np.nan_to_num(np.column_stack([X.column(n).to_numpy(zero_copy_only=False).astype(float) for n in names]))
    z = StandardScaler().fit_transform(num)
    vec = TfidfVectorizer(token_pattern=r"(?u)[#@]?\b\w\w+\b", min_df=2, max_features=50_000, sublinear_tf=True)
    T = vec.fit_transform([t or "" for t in X.column("text").to_pylist()])
    zn, Tn = normalize(z), normalize(T)
    cz, cT = zn[is_seed].mean(axis=0), np.asarray(Tn[is_seed].mean(axis=0)).ravel()
    sim = 0.5 * (zn @ cz) / max(np.linalg.norm(cz), 1e-12) + 0.5 * (Tn @ cT) / max(np.linalg.norm(cT), 1e-12)
    sim[is_seed | (posts < min_posts)] = -np.inf
    order = [i for i in np.argsort(-sim)[:top] if np.isfinite(sim[i])]
    terms = vec.get_feature_names_out()
    shared = _shared_entities(con, seeds, [ids[i] for i in order], explain)
    hits = []
    for i in order:
        contrib_f = zn[i] * cz
        contrib_t = Tn[i].multiply(cT).toarray().ravel()
        hits.append({
            "account_id": ids[i],
            "handle": X.column("handle")[i].as_py(),
            "posts": int(posts[i]),
            "similarity": round(float(sim[i]), 4),
            "shared_features": [names[j] for j in np.argsort(-contrib_f)[:explain] if contrib_f[j] > 0],
            "shared_words": [str(terms[j]) for j in np.argsort(-contrib_t)[:explain] if contrib_t[j] > 0],
            "shared_entities": shared.get(ids[i], []),
        })  # fmt: skip
    return {
        "seeds": int(is_seed.sum()),
        "candidates": int(np.isfinite(sim).sum()),
        "min_posts": min_posts,
        "accounts": hits,
    }


def _shared_entities(con: duckdb.DuckDBPyConnection, seeds: list[str], hits: list[str], n: int) -> dict[str, list[str]]:
    """Per hit, the hashtags (#), mentions (@) and reposted accounts (RT @) it shares with the seeds,
    most used by the seeds first."""
    if not hits:
        return {}
    con.register("_seeds", pa.table({"account_id": seeds}))
    con.register("_hits", pa.table({"account_id": hits}))
    rows = con.sql(
        """WITH e AS (
             SELECT account_id, '#' || unnest(hashtags) AS ent FROM posts
             UNION ALL SELECT account_id, '@' || unnest(mentions) FROM posts
             UNION ALL SELECT account_id, 'RT @' || repost_of_handle FROM posts WHERE repost_of_handle IS NOT NULL
           ), s AS (SELECT ent, count(*) AS uses FROM e SEMI JOIN _seeds USING (account_id) GROUP BY 1),
           h AS (SELECT DISTINCT account_id, ent FROM e SEMI JOIN _hits USING (account_id))
           SELECT h.account_id, h.ent, row_number() OVER (PARTITION BY h.account_id ORDER BY s.uses DESC, h.ent) AS r
           FROM h JOIN s USING (ent) QUALIFY r <= ? ORDER BY 1, 3""",
        params=[n],
    ).fetchall()
    con.unregister("_seeds")
    con.unregister("_hits")
    out: dict[str, list[str]] = {}
    for a, ent, _ in rows:
        out.setdefault(a, []).append(ent)
    return out
