"""What the workbench shows, as plain data: one method per API route.

``Workbench(path)`` copies the columns it shows from the workspace into an in-memory DuckDB
database, then switches off DuckDB's file access (``enable_external_access=false``, locked): from
then on no query can read or write any file, so serving leaves the workspace byte-for-byte as it
was, and a text search scans memory instead of decoding Parquet (IRA: 60 ms against 390 ms).
Tables a detection run did not write (or wrote under another name) are tolerated: the routes that
need them answer with empty lists and a note. Every value from a request reaches SQL as a
parameter; the SQL text is chosen from fixed fragments.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine import connect
from ..workspace import Workspace

POST_COLUMNS = ("post_id", "account_id", "handle", "created_at", "text", "kind", "lang")
# Workspace tables the workbench never reads (caches and per-text figures), and the ones it reads whole.
SKIP_TABLES = {"posts", "norm_texts", "sentiment", "rejects"}
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000
MAX_GRAPH_NODES = 5000
DEFAULT_GRAPH_NODES = 2000
MAX_GRAPH_EDGES = 30_000
TOP_ACCOUNTS = 5
SCALES = ("day", "week", "month")  # timeline buckets


class NotFound(LookupError):
    """The cluster or account asked for is not in the workspace."""


@dataclass(frozen=True)
class PostQuery:
    """The filters of a post search; every field optional."""

    account: str | None = None
    cluster: int | None = None
    q: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    layer: str | None = None
    kind: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class GraphQuery:
    """Which significant edges to draw: one cluster's (or the flagged accounts'), by layer and weight."""

    cluster: int | None = None
    layer: str | None = None
    min_weight: float = 0.0
    max_nodes: int = DEFAULT_GRAPH_NODES
    since: dt.datetime | None = None  # edges active (first to last co-action) at some time in [since, until)
    until: dt.datetime | None = None


def _scale(scale: str) -> str:
    if scale not in SCALES:
        raise ValueError(f"time scale must be one of {', '.join(SCALES)}")
    return scale


def _clean(v: Any) -> Any:
    """JSON-safe values: times as ISO text, NaN and infinities as None, maps as dicts."""
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, decimal.Decimal):
        return _clean(float(v))
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return v.total_seconds()
    return str(v)  # UUIDs, blobs and whatever else a table may hold: shown, never a server error


class Workbench:
    """A read-only, in-memory view of one workspace for the web workbench."""

    def __init__(self, path: str | Path, model: str | Path | None = None, memory_limit: str | None = None) -> None:
        self.workspace = Workspace(path, create=False)
        self.path = self.workspace.path
        self.con = connect(memory_limit=memory_limit)
        self.manifest = self.workspace.manifest()
        self._load(model)
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")
        self.columns = {t: {r[0] for r in self.con.execute(f"DESCRIBE {t}").fetchall()} for t in self._tables()}
        self.layers = self._layers()

    # -- loading ------------------------------------------------------------------------------
    def _load(self, model: str | Path | None) -> None:
        con = self.con
        ws = self.workspace.connect(con)  # views over the Parquet files, dropped below
        tables = set(self.manifest["tables"])
        cols = {r[0] for r in ws.execute("DESCRIBE posts").fetchall()}
        keep = ", ".join(c if c in cols else f"NULL::VARCHAR AS {c}" for c in POST_COLUMNS)
        # ``seq`` numbers the posts oldest first, so one scan both counts a search's matches and picks
        # its page; lower-cased text beside the text makes a case-blind search a substring scan
        con.execute(
            f"CREATE TABLE m_posts AS SELECT {keep}, lower(text) AS text_lower, "
            "row_number() OVER (ORDER BY created_at, post_id) AS seq FROM posts ORDER BY seq"
        )
        con.execute(
            "CREATE TABLE m_account_posts AS SELECT account_id, any_value(handle) AS handle, count(*) AS posts, "
            "min(created_at) AS first_post, max(created_at) AS last_post FROM m_posts GROUP BY 1"
        )
        for t in sorted(tables - SKIP_TABLES):
            con.execute(f'CREATE TABLE "m_{t}" AS SELECT * FROM "{t}"')
        self.rejects = [
            {"reason": r, "count": n}
            for r, n in con.execute("SELECT reason, count(*) FROM rejects GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
        ]
        if model is not None:
            from ..classify.model import load, score_accounts

            payload = load(model)
            con.register("_scores", score_accounts(con, payload["model"]))
            con.execute("CREATE TABLE m_classifier_scores AS SELECT account_id, score FROM _scores")
            con.unregister("_scores")
            self.model = {"path": str(model), "training": _clean(payload.get("training"))}
        else:
            self.model = None
        views = [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()]
        for v in views:
            con.execute(f'DROP VIEW "{v}"')
        for t in [r[0] for r in con.execute("SHOW TABLES").fetchall()]:
            if t.startswith("m_"):
                con.execute(f'ALTER TABLE "{t}" RENAME TO "{t[2:]}"')

    def _tables(self) -> list[str]:
        return [r[0] for r in self.con.execute("SHOW TABLES").fetchall()]

    def has(self, table: str, *columns: str) -> bool:
        return table in self.columns and all(c in self.columns[table] for c in columns)

    def _layers(self) -> list[str]:
        if not self.has("edges", "layer"):
            return []
        return [r[0] for r in self._rows("SELECT DISTINCT layer FROM edges ORDER BY 1", as_dict=False)]

    # -- querying -----------------------------------------------------------------------------
    def _rows(self, sql: str, params: list | None = None, as_dict: bool = True) -> list:
        cur = self.con.cursor()  # one cursor per call: DuckDB connections are not shared across threads
        try:
            res = cur.execute(sql, params or [])
            rows = res.fetchall()
            if not as_dict:
                return rows
            names = [d[0] for d in res.description]
            return [{k: _clean(v) for k, v in zip(names, r, strict=True)} for r in rows]
        finally:
            cur.close()

    def _one(self, sql: str, params: list | None = None) -> Any:
        return self._rows(sql, params, as_dict=False)[0][0]

    def _label_sql(self, alias: str = "a") -> str:
        if not self.has("accounts", "labels"):
            return "NULL"
        return (f"array_to_string(list_sort(list_transform(map_entries({alias}.labels), "
                "lambda e: e.key || '=' || e.value)), '; ')")  # fmt: skip

    def summary(self, scale: str = "week") -> dict:
        """Sources, counts, layers, cluster counts and the weekly timeline of the whole collection."""
        posts = self._rows(
            "SELECT coalesce(sum(posts), 0)::BIGINT AS posts, count(account_id) AS accounts, min(first_post) AS first_post, "
            "max(last_post) AS last_post FROM account_posts"
        )[0]
        kinds = dict(self._rows("SELECT kind, count(*) FROM posts GROUP BY 1 ORDER BY 2 DESC", as_dict=False))
        sources = []
        if self.has("ingest_log", "inputs", "records", "stored"):
            sources = self._rows(
                "SELECT ingest_id, started_at, inputs, readers, files, records, stored, rejected, duplicate "
                "FROM ingest_log ORDER BY started_at"
            )
        layers = []
        if self.has("edges", "layer", "significant"):
            layers = self._rows(
                "SELECT layer, count(*) AS edges, count(*) FILTER (significant) AS significant FROM edges "
                "GROUP BY 1 ORDER BY 3 DESC, 1"
            )
        detection: dict[str, Any] = {"clusters": 0, "flagged": 0}
        if self.has("clusters"):
            detection["clusters"] = self._one("SELECT count(*) FROM clusters")
        if self.has("account_scores", "flagged"):
            detection["flagged"] = self._one("SELECT count(*) FROM account_scores WHERE flagged")
        timeline = self._rows(
            "SELECT date_trunc(?, created_at) AS period, count(*) AS posts FROM posts "
            "WHERE created_at IS NOT NULL GROUP BY 1 ORDER BY 1",
            [_scale(scale)],
        )
        return {
            "workspace": str(self.path),
            **posts,
            "kinds": kinds,
            "sources": sources,
            "rejects": self.rejects,
            "layers": layers,
            "detection": detection,
            "params": _clean(self.manifest.get("params", {}).get("detect")),
            "tables": sorted(self.columns),
            "model": self.model,
            "groups": self._groups(),
            "timeline": timeline,
        }

    def _groups(self) -> list[dict]:
        """Detection's group-level results, if the workspace has a ``groups`` table, whatever its columns.

        Ranked by ``q`` or ``p`` where present; a list column (the members) keeps its first 20 items
        beside its full length as ``<column>_count``.
        """
        if not self.has("groups"):
            return []
        cols = self.columns["groups"]
        order = next((c for c in ("q", "q_value", "p", "p_value") if c in cols), None)
        rows = self._rows(f"SELECT * FROM groups {f'ORDER BY {order} NULLS LAST' if order else ''} LIMIT 500")
        for r in rows:
            for k, v in list(r.items()):
                if isinstance(v, list):
                    r[k + "_count"], r[k] = len(v), v[:20]
        return rows

    def clusters(self, layer: str | None = None, limit: int = 100, offset: int = 0) -> dict:
        """Clusters ranked by evidence (smallest p-value, then largest score), each with its top accounts.

        ``layer`` keeps the clusters tied by at least one significant edge of that layer.
        """
        if not self.has("clusters", "cluster_id"):
            return {"total": 0, "clusters": [], "note": "no detection results: run `trollscope detect` first"}
        order = [c for c in ("p_value", "score") if self.has("clusters", c)]
        order_sql = ", ".join(
            ["p_value ASC NULLS LAST"] * ("p_value" in order) + ["score DESC NULLS LAST"] * ("score" in order)
        )
        where, params = "TRUE", []
        if layer is not None and self.has("clusters", "layers"):
            where, params = "coalesce(c.layers[?], 0) > 0", [layer]
        cols = [
            c
            for c in ("size", "score", "density", "p_value", "layers", "first_at", "last_at")
            if self.has("clusters", c)
        ]
        total = self._one(f"SELECT count(*) FROM clusters c WHERE {where}", params)
        rows = self._rows(
            f"SELECT c.cluster_id, {', '.join('c.' + c for c in cols)} FROM clusters c WHERE {where} "
            f"ORDER BY {order_sql + ', ' if order_sql else ''}c.cluster_id LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        tops = self._top_members([r["cluster_id"] for r in rows])
        for r in rows:
            r["top_accounts"] = tops.get(r["cluster_id"], [])
        return {"total": total, "limit": limit, "offset": offset, "clusters": rows}

    def _top_members(self, ids: list[int]) -> dict[int, list[dict]]:
        if not ids or not self.has("cluster_members", "cluster_id", "account_id"):
            return {}
        rank = "m.score DESC NULLS LAST, " if self.has("cluster_members", "score") else ""
        rank += "m.ties DESC NULLS LAST, " if self.has("cluster_members", "ties") else ""
        rows = self._rows(
            f"""SELECT cluster_id, account_id, handle FROM (
                  SELECT m.cluster_id, m.account_id, coalesce(a.handle, m.account_id) AS handle,
                         row_number() OVER (PARTITION BY m.cluster_id ORDER BY {rank}m.account_id) AS k
                  FROM cluster_members m LEFT JOIN account_posts a USING (account_id)
                  WHERE m.cluster_id IN (SELECT unnest(?::BIGINT[])))
                WHERE k <= ? ORDER BY cluster_id, k""",
            [ids, TOP_ACCOUNTS],
        )
        out: dict[int, list[dict]] = {}
        for r in rows:
            out.setdefault(r.pop("cluster_id"), []).append(r)
        return out

    def cluster(self, cluster_id: int, scale: str = "week") -> dict:
        """One cluster: its row, members (with posts and labels), layer counts and its timeline against the rest."""
        if not self.has("clusters", "cluster_id"):
            raise NotFound(f"cluster {cluster_id}: this workspace has no detection results")
        rows = self._rows("SELECT * FROM clusters WHERE cluster_id = ?", [cluster_id])
        if not rows:
            raise NotFound(f"no cluster {cluster_id}")
        row = rows[0]
        members = []
        if self.has("cluster_members", "cluster_id", "account_id"):
            extra = ", ".join(f"m.{c}" for c in ("score", "ties") if self.has("cluster_members", c))
            members = self._rows(
                f"""SELECT m.account_id, coalesce(p.handle, m.account_id) AS handle{", " + extra if extra else ""},
                           coalesce(p.posts, 0) AS posts, {self._label_sql()} AS label
                    FROM cluster_members m
                    LEFT JOIN account_posts p
                      USING (account_id)
                    LEFT JOIN {"accounts" if self.has("accounts") else "(SELECT NULL::VARCHAR AS account_id)"} a
                      USING (account_id)
                    WHERE m.cluster_id = ? ORDER BY {"m.score DESC NULLS LAST, " if "score" in extra else ""}m.account_id""",
                [cluster_id],
            )
        timeline = self._rows(
            """WITH m AS (SELECT account_id FROM cluster_members WHERE cluster_id = ?)
               SELECT date_trunc(?, created_at) AS period,
                      count(*) FILTER (account_id IN (SELECT account_id FROM m)) AS cluster,
                      count(*) FILTER (account_id NOT IN (SELECT account_id FROM m)) AS rest
               FROM posts WHERE created_at IS NOT NULL GROUP BY 1 ORDER BY 1""",
            [cluster_id, _scale(scale)],
        ) if self.has("cluster_members", "cluster_id") else []  # fmt: skip
        return {"cluster": row, "members": members, "timeline": timeline}

    def resolve_account(self, key: str) -> str | None:
        """An account id from an id or a handle (case-insensitive, '@' optional)."""
        handle = key.removeprefix("@").lower()
        hit = self._rows(
            "SELECT account_id FROM account_posts WHERE account_id = ? OR lower(handle) = ? "
            "ORDER BY account_id = ? DESC, posts DESC, account_id LIMIT 1",
            [key, handle, key],
            as_dict=False,
        )
        if hit:
            return hit[0][0]
        hit = self._rows(  # a handle the account used in some posts only
            "SELECT account_id FROM posts WHERE lower(handle) = ? GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
            [handle],
            as_dict=False,
        )
        if hit:
            return hit[0][0]
        if self.has("accounts", "account_id", "handle"):
            hit = self._rows(
                "SELECT account_id FROM accounts WHERE account_id = ? OR lower(handle) = ? ORDER BY 1 LIMIT 1",
                [key, handle],
                as_dict=False,
            )
            if hit:
                return hit[0][0]
        return None

    def account(self, key: str, scale: str = "week") -> dict:
        """One account: profile and labels, detection score and cluster, partners by layer, activity."""
        account_id = self.resolve_account(key)
        if account_id is None:
            raise NotFound(f"no account {key!r}")
        activity = self._rows(
            "SELECT handle, posts, first_post, last_post FROM account_posts WHERE account_id = ?", [account_id]
        ) or [{"handle": None, "posts": 0, "first_post": None, "last_post": None}]
        out: dict[str, Any] = {"account_id": account_id, **activity[0]}
        out["kinds"] = dict(
            self._rows(
                "SELECT kind, count(*) FROM posts WHERE account_id = ? GROUP BY 1 ORDER BY 2 DESC", [account_id], False
            )
        )
        out["profile"] = None
        if self.has("accounts", "account_id"):
            prof = self._rows("SELECT * FROM accounts WHERE account_id = ? LIMIT 1", [account_id])
            out["profile"] = {k: v for k, v in prof[0].items() if k != "ingest_id"} if prof else None
            if out["profile"] and out["profile"].get("handle") and not out["handle"]:
                out["handle"] = out["profile"]["handle"]
        out["detection"] = None
        if self.has("account_scores", "account_id"):
            det = self._rows("SELECT * EXCLUDE (account_id) FROM account_scores WHERE account_id = ?", [account_id])
            out["detection"] = det[0] if det else None
        out["clusters"] = []
        if self.has("cluster_members", "cluster_id", "account_id"):
            out["clusters"] = [r[0] for r in self._rows(
                "SELECT cluster_id FROM cluster_members WHERE account_id = ? ORDER BY 1", [account_id], False)]  # fmt: skip
        out["classifier"] = None
        if self.has("classifier_scores"):
            s = self._rows("SELECT score FROM classifier_scores WHERE account_id = ?", [account_id], False)
            out["classifier"] = {"score": s[0][0] if s else None, "model": self.model}
        out["partners"] = self._partners(account_id)
        out["timeline"] = self._rows(
            "SELECT date_trunc(?, created_at) AS period, count(*) AS posts FROM posts "
            "WHERE account_id = ? AND created_at IS NOT NULL GROUP BY 1 ORDER BY 1",
            [_scale(scale), account_id],
        )
        return out

    def _partners(self, account_id: str) -> list[dict]:
        """Whom the account co-acts with: one row per partner, its layers and co-action counts."""
        if not self.has("edges", "layer", "account_a", "account_b", "count", "significant"):
            return []
        p = "p_value" if self.has("edges", "p_value") else "NULL::DOUBLE"
        return self._rows(
            f"""WITH e AS (SELECT CASE WHEN account_a = ? THEN account_b ELSE account_a END AS partner,
                                  layer, count, {p} AS p_value
                           FROM edges WHERE significant AND (account_a = ? OR account_b = ?))
                SELECT partner AS account_id, coalesce(h.handle, partner) AS handle,
                       list(layer ORDER BY layer) AS layers, sum(count) AS count, min(p_value) AS p_value
                FROM e LEFT JOIN account_posts h
                  ON h.account_id = e.partner
                GROUP BY 1, 2 ORDER BY count DESC, 1 LIMIT 200""",
            [account_id, account_id, account_id],
        )

    def _post_filter(self, q: PostQuery) -> tuple[str, list]:
        """The WHERE clause of a post search: fixed SQL fragments, each with its value as a parameter.

        A filter on something this workspace lacks (a cluster without detection tables, an unknown
        account) matches no post rather than being dropped.
        """
        account_id = self.resolve_account(q.account) if q.account is not None else None
        filters = [  # (value, SQL with one parameter, tables it needs)
            (q.account and (account_id or ""), "p.account_id = ?", True),
            (q.cluster, "p.account_id IN (SELECT account_id FROM cluster_members WHERE cluster_id = ?)",
             self.has("cluster_members", "cluster_id", "account_id")),
            (q.layer, "p.account_id IN (SELECT account_id FROM account_scores WHERE list_contains(layers, ?))",
             self.has("account_scores", "account_id", "layers")),
            (q.q, "contains(p.text_lower, lower(?))", True),
            (q.since, "p.created_at >= ?", True),
            (q.until, "p.created_at < ?", True),
            (q.kind, "p.kind = ?", True),
        ]  # fmt: skip
        where, params = ["TRUE"], []
        for value, sql, available in filters:
            if value is None or value is False:
                continue
            where.append(sql if available else "FALSE")
            params += [value] if available else []
        if q.account is not None and account_id is None:
            where.append("FALSE")
        return " AND ".join(where), params

    def posts(self, q: PostQuery) -> dict:
        """Posts matching every filter, oldest first, with the total number that match."""
        where, params = self._post_filter(q)
        total, page = self._rows(
            f"SELECT count(*), coalesce(list_slice(list(p.seq ORDER BY p.seq), ?, ?), []) FROM posts p WHERE {where}",
            [q.offset + 1, q.offset + q.limit, *params],
            as_dict=False,
        )[0]
        rows = self._rows(
            f"SELECT {', '.join('p.' + c for c in POST_COLUMNS)} FROM posts p "
            "WHERE p.seq IN (SELECT unnest(?::BIGINT[])) ORDER BY p.seq",
            [page],
        ) if page else []  # fmt: skip
        return {"total": total, "limit": q.limit, "offset": q.offset, "posts": rows}

    def graph(self, q: GraphQuery) -> dict:
        """Nodes and significant edges (one per layer and pair) of a cluster, or of the flagged accounts.

        An edge's ``weight`` is its co-action count (shared items within the window, or shared
        features for ``similarity``); ``min_weight`` drops lighter ones.
        """
        if not self.has("edges", "layer", "account_a", "account_b", "count", "significant"):
            return {
                "nodes": [],
                "edges": [],
                "layers": [],
                "note": "no detection results: run `trollscope detect` first",
            }
        if q.cluster is not None:
            if not self.has("clusters", "cluster_id") or not self._rows(
                "SELECT 1 FROM clusters WHERE cluster_id = ?", [q.cluster], False
            ):
                raise NotFound(f"no cluster {q.cluster}")
            ids_sql, ids_params = "SELECT account_id FROM cluster_members WHERE cluster_id = ?", [q.cluster]
        elif self.has("account_scores", "flagged"):
            ids_sql, ids_params = "SELECT account_id FROM account_scores WHERE flagged", []
        else:
            ids_sql, ids_params = (
                "SELECT account_a FROM edges WHERE significant UNION SELECT account_b FROM edges WHERE significant",
                [],
            )
        score = "s.score" if self.has("account_scores", "score") else "NULL"
        cl = "s.cluster_id" if self.has("account_scores", "cluster_id") else "NULL"
        scores = (
            "account_scores" if self.has("account_scores", "account_id") else "(SELECT NULL::VARCHAR AS account_id)"
        )
        accounts = "accounts" if self.has("accounts", "account_id") else "(SELECT NULL::VARCHAR AS account_id)"
        nodes = self._rows(
            f"""WITH ids AS ({ids_sql})
                SELECT i.account_id AS id, coalesce(h.handle, i.account_id) AS handle, {cl} AS cluster,
                       {score} AS score, coalesce(h.posts, 0) AS posts, {self._label_sql()} AS label
                FROM (SELECT DISTINCT * FROM ids) i(account_id)
                LEFT JOIN account_posts h
                  ON h.account_id = i.account_id
                LEFT JOIN {scores} s ON s.account_id = i.account_id
                LEFT JOIN {accounts} a ON a.account_id = i.account_id
                ORDER BY score DESC NULLS LAST, posts DESC, id LIMIT ?""",
            [*ids_params, q.max_nodes],
        )
        keep = [n["id"] for n in nodes]
        extra = ", ".join(f"{c}" for c in ("p_value", "q_value") if self.has("edges", c))
        n_ev = "len(evidence)" if self.has("edges", "evidence") else "0"
        where, params = "significant AND count >= ?", [q.min_weight]
        if q.layer is not None:
            where += " AND layer = ?"
            params.append(q.layer)
        if q.since is not None and self.has("edges", "last_at"):
            where += " AND last_at >= ?"
            params.append(q.since)
        if q.until is not None and self.has("edges", "first_at"):
            where += " AND first_at < ?"
            params.append(q.until)
        edges = self._rows(
            f"""WITH ids AS (SELECT unnest(?::VARCHAR[]) AS account_id)
                SELECT layer, account_a AS source, account_b AS target, count AS weight,
                       {extra + ", " if extra else ""}{n_ev} AS evidence
                FROM edges WHERE {where}
                  AND account_a IN (SELECT account_id FROM ids) AND account_b IN (SELECT account_id FROM ids)
                ORDER BY count DESC, layer, account_a, account_b LIMIT ?""",
            [keep, *params, MAX_GRAPH_EDGES],
        )
        return {
            "cluster": q.cluster,
            "layer": q.layer,
            "min_weight": q.min_weight,
            "since": _clean(q.since),
            "until": _clean(q.until),
            "nodes": nodes,
            "edges": edges,
            "layers": sorted({e["layer"] for e in edges}),
            "truncated": len(nodes) >= q.max_nodes or len(edges) >= MAX_GRAPH_EDGES,
        }

    def evidence(self, layer: str, a: str, b: str) -> dict:
        """The posts behind one edge: each co-action pair, with both accounts' posts, times and texts."""
        if not self.has("edges", "layer", "account_a", "account_b"):
            raise NotFound("this workspace has no detection results")
        a, b = sorted((a, b))
        edge = self._rows(
            "SELECT * EXCLUDE (evidence) FROM edges WHERE layer = ? AND ((account_a = ? AND account_b = ?) "
            "OR (account_a = ? AND account_b = ?)) LIMIT 1" if self.has("edges", "evidence") else
            "SELECT * FROM edges WHERE layer = ? AND ((account_a = ? AND account_b = ?) "
            "OR (account_a = ? AND account_b = ?)) LIMIT 1",
            [layer, a, b, b, a],
        )  # fmt: skip
        if not edge:
            raise NotFound(f"no {layer} edge between {a!r} and {b!r}")
        pairs: list[dict] = []
        if self.has("edges", "evidence"):
            pairs = self._rows(
                """WITH e AS (SELECT unnest(evidence) AS ev FROM edges WHERE layer = ? AND account_a = ? AND account_b = ?),
                        ids AS (SELECT ev.post_a AS post_a, ev.post_b AS post_b FROM e)
                   SELECT pa.post_id AS post_a, pa.handle AS handle_a, pa.created_at AS time_a, pa.text AS text_a,
                          pb.post_id AS post_b, pb.handle AS handle_b, pb.created_at AS time_b, pb.text AS text_b,
                          abs(epoch(pb.created_at) - epoch(pa.created_at)) AS seconds_apart
                   FROM ids LEFT JOIN posts pa ON pa.post_id = ids.post_a LEFT JOIN posts pb ON pb.post_id = ids.post_b
                   ORDER BY time_a, post_a""",
                [layer, edge[0]["account_a"], edge[0]["account_b"]],
            )
        return {"edge": edge[0], "evidence": pairs}
