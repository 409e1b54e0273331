"""Which accounts are "the operation", and how they are grouped for comparison.

Every investigation command starts here. ``select_operation`` turns the user's choice into three
temp tables on a DuckDB connection, which the measures then join against in SQL:

- ``op``: one row per operation account — ``account_id, handle, grp`` (``grp`` is the comparison
  group, ``'operation'`` when no ``by`` is given);
- ``op_handles``: ``account_id, handle_lc`` — every lower-case handle an operation account is
  known by (its accounts row and every handle it posted under), for matching reposts, quotes,
  replies and mentions that name an account only by handle;
- ``op_posts``: a view of ``posts`` restricted to the operation, with ``grp``.

Choices (``accounts``):

- ``flagged``: the accounts ``trollscope detect`` scored (table ``account_scores``; rows with
  ``flagged = true`` when that column exists, else rows with a cluster, else all rows);
- ``label:COLUMN=VALUE[,VALUE…]``: accounts whose label ``COLUMN`` has one of the values (case
  insensitive); ``label:COLUMN`` alone takes every account that has that label at all;
- ``all``: every account in the workspace (for archives that hold only the operation, such as
  the IRA data);
- a path to a CSV or text file of handles or account ids (``@`` optional). A CSV names its id
  column ``account_id``/``userid``/``user_id`` or its handle column ``handle``/
  ``user_screen_name``/``screen_name``/``author``; other columns can group (``by="label:COLUMN"``).

There is deliberately no silent default beyond ``flagged``: guessing which accounts form an
operation would make every downstream figure arbitrary, so without detection results the error
names what to pass.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from ..engine import EngineSpec, engine_spec, sql_str
from ..workspace import Workspace

ID_COLUMNS = ("account_id", "userid", "user_id", "id")
HANDLE_COLUMNS = ("handle", "user_screen_name", "screen_name", "author", "username")
SINGLE_GROUP = "operation"
NO_GROUP = "(none)"


class SelectionError(ValueError):
    """The operation or its grouping cannot be chosen as asked; the message says what to pass."""


@dataclass
class Operation:
    """The accounts under investigation and how they were chosen (recorded in every result)."""

    spec: str  # what was asked, e.g. "label:account_category=LeftTroll,RightTroll"
    by: str | None
    accounts: int
    groups: dict[str, int]  # group -> accounts
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"accounts_spec": self.spec, "by": self.by, "accounts": self.accounts, "groups": self.groups}


def open_operation(
    workspace: str | Path | Workspace | None,
    accounts: str | Path | None,
    by: str | None,
    engine: str | EngineSpec | None = None,
) -> tuple[Workspace, duckdb.DuckDBPyConnection, Operation]:
    """Open the workspace, connect (DuckDB, or Spark's connection of spark_con.py), and select the
    operation; the caller closes the connection."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace, create=False)
    spec = engine_spec(engine)
    if spec.is_spark:
        from ..spark_con import connect_workspace

        con = connect_workspace(ws, spec)
    else:
        con = ws.connect()
        con.execute("SET enable_progress_bar = false")  # DuckDB's own bar would write to stdout
    try:
        return ws, con, select_operation(con, ws, accounts, by)
    except BaseException:
        con.close()
        raise


def select_operation(
    con: duckdb.DuckDBPyConnection, ws: Workspace, accounts: str | Path | None, by: str | None = None
) -> Operation:
    """Create ``op``, ``op_handles`` and ``op_posts`` on ``con`` (a ``ws.connect()`` connection)."""
    notes: list[str] = []
    spec = str(accounts) if accounts is not None else None
    if spec is None:
        if not ws.has("account_scores"):
            raise SelectionError(_no_default_message(con))
        spec = "flagged"
    file_table: pa.Table | None = None
    if spec == "flagged":
        members = _flagged(con, ws)
    elif spec == "all":
        members = "SELECT account_id FROM accounts UNION SELECT DISTINCT account_id FROM posts"
    elif spec.startswith("label:"):
        members = _label_members(con, spec[len("label:") :])
    elif Path(spec).is_file():
        file_table, members, file_notes = _file_members(con, Path(spec))
        notes += file_notes
    else:
        raise SelectionError(
            f"--accounts {spec!r}: not `flagged`, `all`, `label:COLUMN=VALUE` or an existing file. "
            + _no_default_message(con, short=True)
        )
    grp = _group_expr(con, ws, by, file_table)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE op AS
        WITH m AS (SELECT DISTINCT account_id FROM ({members}) WHERE account_id IS NOT NULL)
        SELECT m.account_id, coalesce(a.handle, ph.handle, m.account_id) AS handle,
               coalesce({grp}, '{NO_GROUP}') AS grp
        FROM m LEFT JOIN accounts a USING (account_id)
        LEFT JOIN (SELECT account_id, arg_max(handle, created_at) AS handle FROM posts
                   WHERE account_id IN (SELECT account_id FROM m) GROUP BY account_id) ph USING (account_id)
        {"LEFT JOIN _op_file f ON f.account_id = m.account_id" if file_table is not None else ""}"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE op_handles AS
        SELECT DISTINCT account_id, lower(handle) AS handle_lc FROM op
        UNION SELECT DISTINCT account_id, lower(handle) FROM posts SEMI JOIN op USING (account_id)"""
    )
    con.execute("CREATE OR REPLACE TEMP VIEW op_posts AS SELECT p.*, op.grp FROM posts p JOIN op USING (account_id)")
    groups = dict(con.execute("SELECT grp, count(*) FROM op GROUP BY grp ORDER BY count(*) DESC, grp").fetchall())
    n = sum(groups.values())
    if n == 0 and spec == "flagged":
        raise SelectionError(
            "detection flagged no account, so there is no operation to investigate: choose one with "
            "--accounts all (every account: for archives of one operation)" + _label_example(con)
            + " or --accounts FILE (handles or ids)"
        )  # fmt: skip
    if n == 0:
        raise SelectionError(
            f"--accounts {spec!r} selects no account in this workspace. " + _no_default_message(con, short=True)
        )
    posting = con.execute("SELECT count(DISTINCT account_id) FROM op_posts").fetchall()[0][0]
    if posting < n:
        notes.append(f"{n - posting:,} of the {n:,} operation accounts have no posts in this workspace")
    return Operation(spec=spec, by=by, accounts=n, groups=groups, notes=notes)


def _flagged(con: duckdb.DuckDBPyConnection, ws: Workspace) -> str:
    if not ws.has("account_scores"):
        raise SelectionError(
            f"--accounts flagged: no detection results in {ws.path}: run `trollscope detect -w {ws.path}` first, "
            "or choose the accounts with --accounts label:COLUMN=VALUE or --accounts FILE"
        )
    cols = set(con.sql("SELECT * FROM account_scores").columns)
    if "flagged" in cols:
        return "SELECT account_id FROM account_scores WHERE flagged"
    cluster = _cluster_column(cols)
    if cluster:
        return f"SELECT account_id FROM account_scores WHERE {cluster} IS NOT NULL"
    return "SELECT account_id FROM account_scores"


def _cluster_column(cols: set[str]) -> str | None:
    return next((c for c in ("cluster", "cluster_id") if c in cols), None)


def _label_members(con: duckdb.DuckDBPyConnection, rest: str) -> str:
    column, _, values = rest.partition("=")
    column = column.strip()
    known = _label_columns(con)
    if column not in known:
        raise SelectionError(
            f"label {column!r} not found; the workspace's account labels are: {', '.join(known) or '(none)'}"
        )
    col = sql_str(column)
    if not values.strip():
        return f"SELECT account_id FROM accounts WHERE labels[{col}] IS NOT NULL AND labels[{col}] <> ''"
    wanted = ", ".join(sql_str(v.strip().lower()) for v in values.split(",") if v.strip())
    return f"SELECT account_id FROM accounts WHERE lower(labels[{col}]) IN ({wanted})"


def _label_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT DISTINCT unnest(map_keys(labels)) AS k FROM accounts WHERE labels IS NOT NULL ORDER BY k"
    ).fetchall()
    return [r[0] for r in rows]


def _file_members(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[pa.Table, str, list[str]]:
    """Read a list of accounts (small, user-written) and resolve each entry to an account id."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        text = fh.read()
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise SelectionError(f"{path}: no accounts listed")
    first = [c.strip().lower() for c in next(csv.reader([lines[0]]))]
    id_col = next((c for c in ID_COLUMNS if c in first), None)
    handle_col = next((c for c in HANDLE_COLUMNS if c in first), None)
    if id_col or handle_col:
        rows = list(csv.DictReader(lines))
        rows = [{k.strip().lower(): (v or "").strip() for k, v in r.items() if k is not None} for r in rows]
        key = [r.get(id_col or "", "") or r.get(handle_col or "", "") for r in rows]
        extra = [c for c in first if c not in (id_col, handle_col)]
    else:  # a plain list, one id or handle a line (first column of a header-less CSV)
        rows = [{} for _ in lines]
        key = [next(csv.reader([ln]))[0].strip() for ln in lines]
        extra = []
    key = [k.lstrip("@") for k in key]
    cols: dict[str, list] = {"entry": key}
    for c in extra:
        cols[c] = [r.get(c) or None for r in rows]
    table = pa.table(cols)
    con.register("_op_file_raw", table)
    # An entry matches an account id exactly, or a handle case-insensitively (ids win).
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _op_file AS
        WITH ids AS (SELECT account_id FROM accounts UNION SELECT DISTINCT account_id FROM posts),
        handles AS (SELECT lower(handle) AS h, account_id FROM accounts WHERE handle IS NOT NULL
                    UNION SELECT DISTINCT lower(handle), account_id FROM posts)
        SELECT f.* EXCLUDE (entry), f.entry, coalesce(i.account_id, h.account_id) AS account_id
        FROM _op_file_raw f LEFT JOIN ids i ON i.account_id = f.entry
        LEFT JOIN handles h ON i.account_id IS NULL AND h.h = lower(f.entry)
        QUALIFY row_number() OVER (PARTITION BY coalesce(i.account_id, h.account_id) ORDER BY f.entry) = 1
             OR coalesce(i.account_id, h.account_id) IS NULL"""
    )
    missing = [r[0] for r in con.execute("SELECT entry FROM _op_file WHERE account_id IS NULL").fetchall()]
    notes = []
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        notes.append(f"{len(missing)} of {len(key)} accounts in {path} are not in this workspace: {shown}")
    return table, "SELECT account_id FROM _op_file", notes


def _group_expr(con: duckdb.DuckDBPyConnection, ws: Workspace, by: str | None, file_table: pa.Table | None) -> str:
    """SQL for an account's group, over ``m`` (members), ``a`` (accounts) and ``f`` (the file)."""
    if by is None:
        return f"'{SINGLE_GROUP}'"
    if by == "cluster":
        if not ws.has("account_scores"):
            raise SelectionError(
                f"--by cluster: no detection results in {ws.path}: run `trollscope detect -w {ws.path}` first"
            )
        cluster = _cluster_column(set(con.sql("SELECT * FROM account_scores").columns))
        if cluster is None:
            raise SelectionError("--by cluster: the account_scores table has no cluster column")
        return f"(SELECT any_value(s.{cluster})::VARCHAR FROM account_scores s WHERE s.account_id = m.account_id)"
    if by.startswith("label:"):
        column = by[len("label:") :].strip()
        if file_table is not None and column.lower() in file_table.column_names:
            return f"f.{_ident(column.lower())}"
        if column not in _label_columns(con):
            raise SelectionError(
                f"--by {by}: no account label {column!r}; labels here: {', '.join(_label_columns(con)) or '(none)'}"
            )
        return f"a.labels[{sql_str(column)}]"
    raise SelectionError(f"--by {by!r}: use label:COLUMN (e.g. label:account_category) or cluster")


def _label_example(con: duckdb.DuckDBPyConnection) -> str:
    """``, --accounts label:COLUMN=VALUE (e.g. …)`` with the workspace's commonest label, if any."""
    labels = _label_columns(con)
    if not labels:
        return ", --accounts label:COLUMN=VALUE"
    col = "account_category" if "account_category" in labels else labels[0]
    value = con.execute(
        f"SELECT labels[{sql_str(col)}] FROM accounts WHERE labels[{sql_str(col)}] IS NOT NULL "
        "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchall()
    return f", --accounts label:{col}={value[0][0] if value else 'VALUE'} (a label)"


def _no_default_message(con: duckdb.DuckDBPyConnection, short: bool = False) -> str:
    labels = _label_columns(con)
    example = ""
    if labels:
        example = ", e.g." + _label_example(con)[1:].removesuffix(" (a label)")
    head = "" if short else "which accounts are the operation? "
    return (
        f"{head}pass --accounts flagged (after `trollscope detect`), --accounts label:COLUMN=VALUE{example}, "
        f"--accounts all (every account: for archives of one operation), or --accounts FILE (handles or ids)"
    )


def _ident(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'
