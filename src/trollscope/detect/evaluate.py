"""How good was a detection run? Account-level precision and recall against known labels.

Truth is either simulate's ``truth.csv`` (``account_id, handle, campaign, style``; organic rows
have campaign ``organic``), the folder that holds it, or any labels CSV with an account id or a
handle column and a label column. Accounts match the workspace by id first, then by lower-case
handle. Only labelled accounts that have posts in the workspace are scored; the rest are counted.

Besides precision, recall and F1 it reports recall per campaign and per style, the share of
organic accounts flagged and — the figure that tells an operation from a viral crowd — the share
flagged among organic accounts that took part in a viral cascade (reposted a post that at least
``viral_min_accounts`` accounts reposted).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ..engine import connect, sql_str
from ..workspace import Workspace
from .run import DetectError, DetectionResult

ID_COLUMNS = ("account_id", "userid", "user_id", "author_id", "external_author_id", "id")
HANDLE_COLUMNS = ("handle", "user_screen_name", "screen_name", "username", "author", "name")
LABEL_COLUMNS = ("campaign", "label", "class", "category", "account_category", "account_type", "truth")
# Label values that mean "not part of an operation".
ORGANIC = ("organic", "control", "human", "normal", "genuine", "benign", "0", "false", "no", "none", "")


def evaluate(
    workspace: str | Path | Workspace | None,
    truth: str | Path,
    *,
    viral_min_accounts: int = 100,
    result: DetectionResult | None = None,
) -> dict:
    """Scores of a detection run against ``truth`` (see the module docstring).

    The run is the workspace's last one, or ``result`` (e.g. from ``detect(..., write=False)``), so
    layers and parameters can be compared without writing each run.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace, create=False)
    if result is None and not ws.has("account_scores"):
        raise DetectError(f"{ws.path} has no detection results: run `trollscope detect -w {ws.path}` first")
    path = Path(truth)
    if path.is_dir():
        path = path / "truth.csv"
    if not path.exists():
        raise DetectError(f"no truth file at {path}: give simulate's truth.csv, its folder, or a labels CSV")
    con = ws.connect(connect())
    if result is not None:
        con.register("_result_scores", result.accounts)
        con.execute("CREATE OR REPLACE TEMP VIEW account_scores AS SELECT * FROM _result_scores")
    try:
        return _evaluate(con, path, viral_min_accounts)
    finally:
        con.close()


def _evaluate(con: duckdb.DuckDBPyConnection, path: Path, viral_min: int) -> dict:
    con.execute(f"CREATE TEMP TABLE _truth_raw AS SELECT * FROM read_csv({sql_str(str(path))}, all_varchar=true)")
    cols = {c.lower(): c for c in con.sql("SELECT * FROM _truth_raw LIMIT 0").columns}
    id_col = next((cols[c] for c in ID_COLUMNS if c in cols), None)
    handle_col = next((cols[c] for c in HANDLE_COLUMNS if c in cols), None)
    label_col = next((cols[c] for c in LABEL_COLUMNS if c in cols), None)
    style_col = cols.get("style")
    if label_col is None or (id_col is None and handle_col is None):
        raise DetectError(
            f"{path}: cannot tell which column names the account ({', '.join(ID_COLUMNS + HANDLE_COLUMNS)}) "
            f"and which the label ({', '.join(LABEL_COLUMNS)}); its columns are {', '.join(cols.values())}"
        )
    q = lambda c: f'"{c}"' if c else "NULL"  # noqa: E731
    organic = ", ".join(sql_str(v) for v in ORGANIC)
    con.execute(
        f"""CREATE TEMP TABLE _truth AS
        SELECT {q(id_col)} AS t_id, lower({q(handle_col)}) AS t_handle, coalesce({q(label_col)}, '') AS campaign,
               {f"coalesce({q(style_col)}, '')" if style_col else "NULL"} AS style,
               lower(trim(coalesce({q(label_col)}, ''))) NOT IN ({organic}) AS planted
        FROM _truth_raw"""
    )
    # Match by id where the id is in the workspace, else by handle; one truth row per account.
    con.execute(
        """CREATE TEMP TABLE _scored AS
        WITH acc AS (SELECT account_id, lower(handle) AS h, flagged FROM account_scores),
        matched AS (
            SELECT t.*, a.account_id, a.flagged, 0 AS via FROM _truth t JOIN acc a ON a.account_id = t.t_id
            UNION ALL
            SELECT t.*, a.account_id, a.flagged, 1 AS via FROM _truth t JOIN acc a ON a.h = t.t_handle
        )
        SELECT * EXCLUDE (via) FROM matched
        QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY via, t_id, t_handle, campaign) = 1"""
    )
    tp, fp, fn, tn, labelled, truth_rows = con.execute(
        """SELECT count(*) FILTER (WHERE planted AND flagged), count(*) FILTER (WHERE NOT planted AND flagged),
                  count(*) FILTER (WHERE planted AND NOT flagged), count(*) FILTER (WHERE NOT planted AND NOT flagged),
                  count(*), (SELECT count(*) FROM _truth) FROM _scored"""
    ).fetchall()[0]
    unlabelled_flagged = con.execute(
        "SELECT count(*) FROM account_scores WHERE flagged AND account_id NOT IN (SELECT account_id FROM _scored)"
    ).fetchall()[0][0]

    def by(col: str) -> dict:
        rows = con.execute(
            f"""SELECT {col}, count(*), count(*) FILTER (WHERE flagged) FROM _scored
            WHERE planted AND {col} IS NOT NULL GROUP BY 1 ORDER BY 1"""
        ).fetchall()
        return {k: {"accounts": n, "flagged": f, "recall": f / n} for k, n, f in rows}

    viral_total, viral_flagged = con.execute(
        f"""WITH viral AS (SELECT repost_of_id FROM posts WHERE repost_of_id IS NOT NULL GROUP BY 1
                           HAVING count(DISTINCT account_id) >= {int(viral_min)}),
        part AS (SELECT DISTINCT account_id FROM posts SEMI JOIN viral USING (repost_of_id))
        SELECT count(*), count(*) FILTER (WHERE flagged) FROM _scored SEMI JOIN part USING (account_id)
        WHERE NOT planted"""
    ).fetchall()[0]
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else None
    return {
        "truth": str(path),
        "labelled_accounts": labelled,
        "truth_rows_not_in_workspace": truth_rows - labelled,
        "planted": tp + fn,
        "organic": fp + tn,
        "flagged": tp + fp,
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "recall_by_campaign": by("campaign"),
        "recall_by_style": by("style") if con.execute("SELECT count(style) FROM _scored").fetchall()[0][0] else {},
        "organic_flagged_share": fp / (fp + tn) if fp + tn else None,
        "viral_min_accounts": viral_min,
        "organic_viral_participants": viral_total,
        "organic_viral_flagged": viral_flagged,
        "organic_viral_flagged_share": viral_flagged / viral_total if viral_total else None,
        "unlabelled_flagged": unlabelled_flagged,
    }
