"""A Spark session behind the part of DuckDB's connection API that detection and investigation use.

The stages drive a connection: ``execute`` (statements, and queries whose rows they fetch),
``sql(...).to_arrow_table()``, ``register(name, arrow)``, temporary tables and views. On Spark:

- every query goes through :func:`trollscope.engine.to_dialect` (which refuses what Spark would run
  differently) and runs as Spark SQL;
- ``CREATE [OR REPLACE] TEMP TABLE name AS query`` becomes a temporary view over the query's
  result, computed at once and cut from its lineage (``localCheckpoint``), so that a chain of
  tables is computed once and each later query plans over small leaves; ``CREATE TEMP VIEW`` is a
  plain view. Not ``DataFrame.cache``: Spark drops a cached table, and every cached table built on
  it, whenever a view in its lineage is replaced or dropped (``_items`` rebuilt from itself, a
  registered table unregistered), so the cache was lost at each step and a detection's queries
  recomputed the whole chain: 125 shuffles in one query over 20,000 posts (docs/scale.md);
- ``DELETE FROM t WHERE c``, ``UPDATE t SET x = e WHERE c`` and ``ALTER TABLE t DROP COLUMN x``
  become the same table rebuilt by a ``SELECT`` (Spark's temporary views are immutable);
- ``register`` turns an Arrow table into a DataFrame (``createDataFrame``; unsigned integers as
  signed of the same width, bit for bit);
- anything else (``SET``, ``COPY``, ``read_parquet``, macros) raises :class:`NotPortable`. Nothing
  here ever hands a query to DuckDB.

Results come back as Arrow (``toArrow``). What is collected to the driver is bounded by the Spark
setting ``spark.trollscope.maxCollectRows`` (default :data:`DEFAULT_MAX_COLLECT_ROWS`): a result
with more rows raises :class:`CollectLimit` naming it, instead of filling the driver's memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from .engine import EngineSpec, NotPortable, to_dialect
from .spark import register_workspace, session, write_parts

if TYPE_CHECKING:
    from pathlib import Path

    from pyspark.sql import DataFrame, SparkSession

    from .workspace import Transaction, Workspace

MAX_COLLECT_SETTING = "spark.trollscope.maxCollectRows"
DEFAULT_MAX_COLLECT_ROWS = 5_000_000
DESCRIPTION_CHARS = 4000  # of each statement's SQL, as the description of the Spark jobs it starts


class CollectLimit(RuntimeError):
    """A result to be collected to the driver has more rows than ``spark.trollscope.maxCollectRows``."""


def connect_workspace(ws: Workspace, engine: EngineSpec) -> SparkConnection:
    """A :class:`SparkConnection` with the workspace's tables as views (``register_workspace``)."""
    spark = session(engine)
    register_workspace(spark, ws)
    return SparkConnection(spark)


class SparkConnection:
    """DuckDB's connection API, the subset our stages use, over a Spark session."""

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self._tables: dict[str, DataFrame] = {}  # our temporary tables and registered Arrow tables
        self._retired: list[DataFrame] = []  # tables replaced under the same name, freed at close()
        self._result: pa.Table | None = None
        self.statements: list[str] = []  # the Spark SQL run, in order (for tests and --verbose)

    # -- what the stages call -----------------------------------------------------------------
    def execute(self, sql: str, params: list | dict | None = None) -> SparkConnection:
        """Run one statement; a query's rows are then ``fetchall()``'s."""
        tree = _parse(sql)
        self._result = None
        if isinstance(tree, exp.Create):
            self._create(tree, params)
        elif isinstance(tree, exp.Drop):
            for t in tree.args.get("tables") or [tree.this]:
                self._drop(t.name)
        elif isinstance(tree, exp.Delete):
            name = tree.this.name
            where = tree.args.get("where")
            keep = f"WHERE NOT coalesce(({where.this.sql('duckdb')}), false)" if where else "WHERE false"
            self._replace(name, f"SELECT * FROM {name} {keep}", params)
        elif isinstance(tree, exp.Update):
            self._update(tree, params)
        elif isinstance(tree, exp.Alter):
            self._alter(tree)
        elif isinstance(tree, exp.Query):
            self._result = self._collect(self._df(sql, params))
        else:
            raise NotPortable(
                f"{sql.strip()[:80]}: not a statement the Spark engine runs (queries and temp tables only)"
            )
        return self

    def sql(self, sql: str, params: list | dict | None = None) -> SparkRelation:
        """A query, to be collected with ``to_arrow_table()``."""
        tree = _parse(sql)
        if not isinstance(tree, exp.Query):
            raise NotPortable(f"{sql.strip()[:80]}: sql() takes a query")
        return SparkRelation(self, self._df(sql, params))

    def fetchall(self) -> list[tuple]:
        t = self._result if self._result is not None else pa.table({})
        names = t.column_names
        return [tuple(r[n] for n in names) for r in t.to_pylist()]

    def fetchone(self) -> tuple | None:
        rows = self.fetchall()
        return rows[0] if rows else None

    def register(self, name: str, table: pa.Table) -> None:
        """An Arrow table as a temporary view (``con.register``)."""
        table = _signed(table).combine_chunks()
        if table.num_columns and not table.num_rows:  # a column of no chunks: pyspark cannot convert it
            table = pa.table({f.name: pa.array([], f.type) for f in table.schema})
        df = self.spark.createDataFrame(table) if table.num_columns else self.spark.sql("SELECT 1 AS _ WHERE false")
        self._set(name, df)

    def frame(self, name: str, df: DataFrame) -> None:
        """A Spark DataFrame as a temporary table, for the steps written for Spark alone
        (detect/near_dup_spark.py); dropped like the others."""
        self._set(name, df)

    def spark_sql(self, text: str) -> DataFrame:
        """A query already in Spark's dialect (recorded and described like the translated ones)."""
        self.statements.append(text)
        self.spark.sparkContext.setJobDescription(f"trollscope: {' '.join(text.split())[:DESCRIPTION_CHARS]}")
        return self.spark.sql(text)

    def write_parts(self, txn: Transaction, table: str, query: str) -> list[Path]:
        """``Transaction.write_parts`` on Spark: the query's rows written by Spark's tasks as parts of
        ``table``, for the transaction to publish (the workspace cache of normalised texts)."""
        return write_parts(self.spark, self._df(query, None), txn, table)[0]

    def unregister(self, name: str) -> None:
        self._drop(name)

    def has_table(self, name: str) -> bool:
        return self.spark.catalog.tableExists(name)

    def close(self) -> None:
        """Drop our temporary tables and free their checkpoints' blocks (the session is shared: it
        stays up). Without the second step a long session (a notebook, the test suite) keeps every
        run's checkpoints until the JVM's garbage collector and Spark's cleaner get to them, and the
        driver's memory fills first."""
        frames = [*self._tables.values(), *self._retired]
        for name in list(self._tables):
            self._drop(name)
        for df in frames:
            _free_checkpoint(df)
        self._retired.clear()

    # -- the work -----------------------------------------------------------------------------
    def _df(self, sql: str, params: list | dict | None) -> DataFrame:
        text = to_dialect(sql, "spark")
        self.statements.append(text)
        # The jobs this statement starts carry its SQL: Spark's UI and event log show what ran.
        self.spark.sparkContext.setJobDescription(f"trollscope: {' '.join(text.split())[:DESCRIPTION_CHARS]}")
        if not params:
            return self.spark.sql(text)
        return self.spark.sql(text, args=dict(params) if isinstance(params, dict) else list(params))

    def _collect(self, df: DataFrame) -> pa.Table:
        # Not df.limit(limit + 1): Spark then collects partition by partition, in several jobs. The
        # bytes a collect may bring are bounded by Spark itself (spark.driver.maxResultSize).
        limit = int(self.spark.conf.get(MAX_COLLECT_SETTING, str(DEFAULT_MAX_COLLECT_ROWS)))
        t = df.toArrow()
        if t.num_rows > limit:
            raise CollectLimit(
                f"a result to collect to the driver has more than {limit:,} rows: raise the bound with "
                f"--conf {MAX_COLLECT_SETTING}=N (and spark.driver.memory), or narrow the run"
            )
        return t.cast(_duckdb_schema(t.schema))

    def _set(self, name: str, df: DataFrame) -> None:
        df.createOrReplaceTempView(name)
        old = self._tables.get(name)
        if old is not None and old is not df:
            self._retired.append(old)  # its blocks are freed at close(): a lazy view may still read them
        self._tables[name] = df

    def _drop(self, name: str) -> None:
        # A checkpoint's blocks are freed by Spark's cleaner once its DataFrame is unreferenced.
        self._tables.pop(name, None)
        self.spark.catalog.dropTempView(name)

    def _replace(self, name: str, query: str, params: list | None) -> None:
        """``name`` as the query's result, computed now and cut from its lineage: later queries read
        it as a leaf, and replacing or dropping a view it was built from does not touch it."""
        self._set(name, self._df(query, params).localCheckpoint(eager=True))

    def _create(self, tree: exp.Create, params: list | None) -> None:
        kind = (tree.kind or "").upper()
        if kind not in ("TABLE", "VIEW"):
            raise NotPortable(f"CREATE {kind}: the Spark engine makes temp tables and views only")
        name = tree.this.this.name if isinstance(tree.this, exp.Schema) else tree.this.name
        if not tree.args.get("replace") and self.has_table(name):
            raise NotPortable(f"{name} exists already (CREATE without OR REPLACE)")
        query = tree.expression
        if query is None and kind == "TABLE" and isinstance(tree.this, exp.Schema):
            # CREATE TEMP TABLE t (col TYPE, ...): an empty table of that schema.
            cols = ", ".join(f"CAST(NULL AS {c.kind.sql('duckdb')}) AS {c.name}" for c in tree.this.expressions)
            self._set(name, self._df(f"SELECT {cols} WHERE false", None))
            return
        if query is None:
            raise NotPortable(f"CREATE {kind} {name}: the Spark engine makes temp tables and views from a query")
        body = query.sql("duckdb")
        if kind == "VIEW":
            self._set(name, self._df(body, params))
        else:
            self._replace(name, body, params)

    def _update(self, tree: exp.Update, params: list | None) -> None:
        name = tree.this.name
        sets = {e.this.name: e.expression.sql("duckdb") for e in tree.expressions}
        where = tree.args.get("where")
        cond = where.this.sql("duckdb") if where else "true"
        cols = self.spark.table(name).columns
        unknown = set(sets) - set(cols)
        if unknown:
            raise NotPortable(f"UPDATE {name}: no column {', '.join(sorted(unknown))}")
        select = ", ".join(
            f"CASE WHEN coalesce(({cond}), false) THEN {sets[c]} ELSE {c} END AS {c}" if c in sets else c for c in cols
        )
        self._replace(name, f"SELECT {select} FROM {name}", params)

    def _alter(self, tree: exp.Alter) -> None:
        name = tree.this.name
        actions = tree.args.get("actions") or []
        if not actions or not all(isinstance(a, exp.Drop) and (a.kind or "").upper() == "COLUMN" for a in actions):
            raise NotPortable(f"ALTER TABLE {name}: the Spark engine only drops columns")
        gone = {c.name for a in actions for c in (a.args.get("tables") or [a.this])}
        cols = [c for c in self.spark.table(name).columns if c not in gone]
        self._replace(name, f"SELECT {', '.join(cols)} FROM {name}", None)


class SparkRelation:
    """A query's result, as DuckDB's relation hands it over."""

    def __init__(self, con: SparkConnection, df: DataFrame) -> None:
        self._con, self._df = con, df

    @property
    def columns(self) -> list[str]:
        return self._df.columns

    def to_arrow_table(self) -> pa.Table:
        return self._con._collect(self._df)

    arrow = to_arrow_table

    def fetchall(self) -> list[tuple]:
        t = self.to_arrow_table()
        return [tuple(r.values()) for r in t.to_pylist()]

    def to_arrow_reader(self, batch_size: int = 1_000_000) -> pa.RecordBatchReader:
        t = self.to_arrow_table()
        return pa.RecordBatchReader.from_batches(t.schema, t.to_batches(batch_size))


def _free_checkpoint(df: DataFrame) -> None:
    """Unpersist the blocks behind a ``localCheckpoint``ed DataFrame (its plan is one ``LogicalRDD``)."""
    plan = df._jdf.queryExecution().analyzed()
    if plan.getClass().getSimpleName() == "LogicalRDD":
        plan.rdd().unpersist(False)


def _parse(sql: str) -> exp.Expression:
    trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    if len(trees) != 1:
        raise NotPortable(f"{sql.strip()[:80]}: one statement at a time")
    return trees[0]


def _signed(table: pa.Table) -> pa.Table:
    """Unsigned integer columns (nested ones too) as signed integers of the same bits: Spark has no
    unsigned types. Hashes survive the round trip, since the cast back is the same reinterpretation."""

    def fix(t: pa.DataType) -> pa.DataType:
        if pa.types.is_unsigned_integer(t):
            return {8: pa.int8(), 16: pa.int16(), 32: pa.int32(), 64: pa.int64()}[t.bit_width]
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            return pa.list_(fix(t.value_type))
        if pa.types.is_struct(t):
            return pa.struct([pa.field(f.name, fix(f.type)) for f in t])
        return t

    schema = pa.schema([pa.field(f.name, fix(f.type)) for f in table.schema])
    return table if schema.equals(table.schema) else table.cast(schema, safe=False)


def _duckdb_schema(schema: pa.Schema) -> pa.Schema:
    """Spark's Arrow schema as DuckDB writes the same columns: nullable, list items named ``l``,
    times naive UTC, so the tables either engine writes to a workspace have one schema."""

    def fix(t: pa.DataType) -> pa.DataType:
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            return pa.list_(pa.field("l", fix(t.value_type)))
        if pa.types.is_struct(t):
            return pa.struct([pa.field(f.name, fix(f.type)) for f in t])
        if pa.types.is_map(t):
            return pa.map_(fix(t.key_type), fix(t.item_type))
        if pa.types.is_timestamp(t) and t.tz is not None:  # Spark's TIMESTAMP in the UTC session: naive UTC
            return pa.timestamp(t.unit)
        return t

    return pa.schema([pa.field(f.name, fix(f.type)) for f in schema])


def is_spark(con: Any) -> bool:
    """Whether ``con`` is a :class:`SparkConnection` (for the few steps that differ, such as caching)."""
    return isinstance(con, SparkConnection)
