"""Ingest: any supported source into the workspace's canonical tables, losing no row.

Every record read ends in exactly one place: ``posts`` (stored), ``rejects`` (with file, line, raw
text and reason) or the duplicate count, so ``records = stored + rejected + duplicate`` for every
run. Files are read in bounded batches; a run commits atomically (see workspace.py).
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from . import engine, sources
from .engine import EngineSpec, engine_spec, sql_list, sql_str
from .readers import ReaderError, ReadOptions, detect_format, registry
from .readers._scan import release
from .schema import (
    ACCOUNTS,
    INGEST_LOG,
    PLATFORM_NAME,
    PLATFORMS,
    POSTS,
    RAW_LIMIT,
    REJECTS,
    select_canonical,
    sql_type,
)
from .workspace import PARTS_COMPRESSION, Transaction, Workspace

BATCH_BYTES = 48 * 1024 * 1024  # on-disk bytes per batch: bounds memory, keeps DuckDB's scan parallel
BATCH_FILES = 2000

# Entities from text, for sources that carry no structured ones (RE2 syntax).
HASHTAG_RE = r"#([\p{L}\p{N}_]+)"
MENTION_RE = r"(?:^|[^\p{L}\p{N}_@])@([A-Za-z0-9_]{1,15})"
URL_RE = r"https?://[^\s\"<>…]+"
# A retweet's prefix as people typed it before the button, or as old clients did: `RT @handle:`, or
# the original in quotes, `“@handle: text”`, after nothing but emoji or punctuation (the manual
# retweets of airline-2015: a viral brand tweet pasted by strangers, which co-post would otherwise
# count as one text written by many). Group 0 is the whole prefix; the handle is its last word.
REPOST_PREFIX_RE = r"^(?:RT @[A-Za-z0-9_]{1,50}:|[^\p{L}\p{N}@]*[\"“]@[A-Za-z0-9_]{1,50}:)"


@dataclass
class IngestResult:
    """What one ingest run did. ``records == stored + rejected + duplicate``."""

    ingest_id: str
    workspace: str
    files: int
    records: int
    stored: int
    rejected: int
    duplicate: int
    seconds: float
    readers: dict[str, int] = field(default_factory=dict)  # reader -> files read with it
    reject_reasons: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    first_rejects: list[dict] = field(default_factory=list)  # see reject_runs
    failure: str | None = None  # why nothing was stored, when nothing was (and nothing was a duplicate)
    labelled: int = 0  # accounts a --labels file labelled

    def as_dict(self) -> dict:
        return asdict(self)

    def why_nothing_stored(self) -> str | None:
        """The reason an ingest stored nothing, with what to try; None when it stored something or
        every record was already in the workspace (a re-ingest is not a failure)."""
        if self.stored or self.duplicate or (self.labelled and not self.records):  # a labels file alone
            return None
        if self.records:
            kinds = "; ".join(f"{k} ({v:,})" for k, v in self.reject_reasons.items())
            what = f"all {self.records:,} records were rejected: {kinds}"
        else:
            what = f"none of the {self.files:,} files holds posts trollscope reads"
        hints = [n for n in self.notes if re.search(r"--[a-z]", n)] or self.notes
        return f"nothing stored: {what}" + (f". {hints[0]}" if hints else "")


def ingest(
    inputs: list[str] | str,
    workspace: str | Path | Workspace | None = None,
    *,
    format: str | None = None,
    options: ReadOptions | None = None,
    progress: Callable[[int], None] | None = None,
    batch_bytes: int = BATCH_BYTES,
    engine: str | EngineSpec | None = None,
) -> IngestResult:
    """Read ``inputs`` (files, directories, globs) into ``workspace``.

    ``format`` forces a reader (see ``readers.registry()``); otherwise each file's format is
    detected from its content. ``progress`` is called with the bytes of each file as it is done.
    ``options.links`` (a links file, see ``crossplatform.read_links``) is checked first and stored
    once the posts are, as the workspace's ``account_links``.
    ``engine``: ``"duckdb"`` (default, in this process) or ``"spark"`` / an :class:`EngineSpec`:
    the batches of files are read by Spark tasks and deduplication, accounts and counts run in
    Spark SQL (see ingest_spark.py); the workspace is the same either way.
    """
    t0 = time.perf_counter()
    spec = engine_spec(engine)
    opts = options or ReadOptions()
    try:
        sources.normal_encoding(opts.encoding)
    except sources.InputError as e:
        raise ReaderError(str(e)) from None
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    if isinstance(inputs, str):
        inputs = [inputs]
    inside = ws.path.resolve()
    files = [f for f in sources.resolve(list(inputs)) if inside not in f.parents]  # never read our own store
    if opts.labels:  # read as labels, not as posts
        files = [f for f in files if f != Path(opts.labels).resolve()]
    readers = registry()
    if format is not None and format not in readers:
        raise ReaderError(f"unknown format {format!r}: choose one of {', '.join(readers)}")
    if opts.platform is not None and not re.match(PLATFORM_NAME, opts.platform):
        raise ReaderError(
            f"--platform {opts.platform!r} is not a platform name: a lower-case word such as {', '.join(PLATFORMS[:-1])}"
        )
    links = None
    if opts.links:  # checked before any reading: a mistake in it is one error naming its line
        from .crossplatform import LinksError, read_links

        try:
            links = read_links(opts.links)
        except LinksError as e:
            raise ReaderError(f"--links {e}") from None
    params = {"format": format, **asdict(opts)}
    started = datetime.now(UTC).replace(tzinfo=None)
    spark = None
    if spec.is_spark:  # before the transaction: a missing Java fails fast, the workspace untouched
        from .spark import session

        spark = session(spec)
        params["engine"] = f"spark {spark.sparkContext.master}"  # which engine ran, in the ingest log
    with ws.transaction() as txn:
        run = _Run(ws, txn, opts, progress)
        if opts.labels:
            run.load_label_handles(opts.labels)
        groups: dict[tuple[str, str], list[Path]] = {}
        # One after another: a head inflates a few KB, and a thread pool's hand-offs cost more than
        # that over thousands of small files.
        heads = [_head_or_error(f, opts.encoding) for f in files]
        for f, got in zip(files, heads, strict=True):
            if isinstance(got, sources.InputError):  # e.g. looks compressed but the stream is broken
                run.reject_file(f, None, f"{got}; check the file (a partial download?)", None, whole=False)
                run.tick(f)
                continue
            h, run.encodings[f] = got
            if not h.strip():
                run.notes.append(f"{f}: empty file, nothing to read")
                run.tick(f)
                continue
            companion = next(
                (n for n, m in readers.items() if getattr(m, "companion", None) and m.companion(h, f)), None
            )
            if companion == "generic" and (opts.mapping or format):  # the user says to read it as posts
                companion = None
            if companion and format in (None, companion):
                hint = getattr(readers[companion], "COMPANION_HINT", "")
                run.notes.append(
                    f"{f}: accompanies {companion} data and holds no posts; not read as posts"
                    + (f" ({hint})" if hint else "")
                )
                run.tick(f)
                continue
            name = format or detect_format(h, f)
            if name is None and (media := sources.media_kind(f)):
                run.media.setdefault(f.parent, []).append(media)
                run.tick(f)
                continue
            if name is None and sources.looks_html(h):
                run.reject_file(
                    f,
                    None,
                    "an HTML page, not data (a saved error or login page?): fetch it again",
                    h[:RAW_LIMIT],
                    whole=False,
                )
                run.tick(f)
                continue
            if name is None:
                run.reject_file(
                    f,
                    None,
                    f"unknown format: not one trollscope reads by itself; name it with --format "
                    f"({', '.join(readers)}) and, for generic files, --map",
                    h[:RAW_LIMIT],
                )
                run.tick(f)
                continue
            layout = getattr(readers[name], "layout", lambda _h: "")(h)
            groups.setdefault((name, layout), []).append(f)
        group_opts: dict[str, ReadOptions] = {}
        for (name, _), group in groups.items():
            run.readers[name] = run.readers.get(name, 0) + len(group)
            group_opts[name] = _platform_options(readers[name], opts, len(group), run.notes)
        if spark is not None:
            from .ingest_spark import ingest_on_spark

            result = ingest_on_spark(
                spark, run, groups, started=started, inputs=list(inputs), params=params, t0=t0, options=group_opts
            )
        else:
            for (name, _), group in groups.items():
                run.opts = group_opts[name]
                for batch in _batches(group, batch_bytes):
                    run.read_batch(readers[name], batch)
            run.opts = opts
            result = run.finish(ingest_id=txn.run_id, started=started, inputs=list(inputs), params=params, t0=t0)
    if links is not None:
        from .crossplatform import store_links

        result.notes += store_links(ws, links)
    return result


def _platform_options(reader, opts: ReadOptions, files: int, notes: list[str]) -> ReadOptions:
    """``--platform`` is for files whose format does not say the platform (generic; a Meta Content
    Library file, facebook or instagram); the others keep their own, with a note."""
    p = opts.platform
    if p is None or not hasattr(reader, "PLATFORM") or p in getattr(reader, "PLATFORMS", ()):
        return opts
    takes = getattr(reader, "PLATFORMS", ())
    notes.append(
        f"--platform {p} not applied to {files:,} {reader.NAME} file{'s' if files > 1 else ''}: "
        + (f"that format holds {' or '.join(takes)} posts" if takes else "that format says its platform")
    )
    return replace(opts, platform=None)


@dataclass
class BatchRead:
    """One batch of files read: its posts as Parquet parts staged for the run (repeats inside the batch
    dropped), its rejects and the accounts its reader describes as Arrow, and the records read
    (``posts + rejects + repeats``)."""

    parts: list[str]
    posts: int
    rejects: pa.Table
    accounts: pa.Table
    records: int
    notes: list[str]


def read_files(
    reader: str,
    files: list[str],
    options: ReadOptions,
    ingest_id: str,
    staging: str | Path,
    encodings: dict[str, str] | None = None,
    threads: int | None = None,
    label_handles: pa.Table | None = None,
) -> BatchRead:
    """Read one batch of files of one format with the same code as an in-process ingest: the unit a
    distributed engine runs once per task (ingest_spark.py).

    The posts are written as Parquet parts into ``staging``, the run's staging folder (``posts/``
    in it, named as an in-process run names them), ready to be committed as they are. ``encodings``
    maps a file to the encoding its head showed (a BOM's); the others are read in
    ``options.encoding``. ``label_handles``: the driver's handles from a ``--labels`` file
    (``_Run.load_label_handles``). Decompressed or transcoded copies go to a local temporary folder.
    """
    with tempfile.TemporaryDirectory(prefix="trollscope-read-") as scratch:
        txn = Transaction(None, ingest_id, Path(staging))  # type: ignore[arg-type]  # stages files, never commits
        run = _Run(None, txn, options, None, con=engine.connect(threads=threads), scratch=Path(scratch))
        try:
            run.encodings = {Path(f): e for f, e in (encodings or {}).items()}
            if label_handles is not None:
                run.use_label_handles(label_handles)
            run.read_batch(registry()[reader], [Path(f) for f in files])
            posts = sum(pq.ParquetFile(f).metadata.num_rows for f in run.stage_files)
            rejects = run.con.sql("SELECT * FROM _rejects_run").to_arrow_table().cast(REJECTS)
            accounts = run.con.sql("SELECT * FROM _accounts_run").to_arrow_table().cast(ACCOUNTS)
            return BatchRead(run.stage_files, posts, rejects, accounts, run.records, list(dict.fromkeys(run.notes)))
        finally:
            run.con.close()


FIRST_REJECTS = 5  # reject runs an ingest reports
# "too few fields: 5 where …" -> "too few fields" ('g': the same on Spark, whose replace is global)
REASON_KIND = "regexp_replace(reason, ':.*', '', 'g')"
REJECT_RUN_KEYS = ("file", "first_line", "last_line", "records", "reason", "raw")


def reject_runs_sql(table: str = "rejects", limit: int | None = None) -> str:
    """The query of :func:`reject_runs`, portable to Spark (``engine.to_dialect``)."""
    return f"""WITH k AS (SELECT *, {REASON_KIND} AS _k FROM {table}),
        r AS (SELECT *, source_line - row_number() OVER (PARTITION BY source_file, _k ORDER BY source_line) AS _g FROM k)
        SELECT source_file, min(source_line) AS first_line, max(source_line) AS last_line, count(*) AS records,
               arg_min(reason, source_line) AS reason, arg_min(raw, source_line) AS raw
        FROM r GROUP BY source_file, _k, _g, CASE WHEN source_line IS NULL THEN byte_offset END
        ORDER BY source_file, min(source_line) NULLS FIRST, 5 {f"LIMIT {int(limit)}" if limit else ""}"""


def reject_runs(con: duckdb.DuckDBPyConnection, table: str = "rejects", limit: int | None = None) -> list[dict]:
    """Rejects as runs of consecutive records of one file with one kind of reason (a file rejected
    whole is one run; ``bad date: …`` is one kind whatever the date): ``file, first_line,
    last_line, records, reason, raw`` (the first record's reason and text), in file and line order."""
    rows = con.execute(reject_runs_sql(table, limit)).fetchall()
    return [dict(zip(REJECT_RUN_KEYS, r, strict=True)) for r in rows]


def _head(f: Path, opts: ReadOptions) -> str | None:
    """The start of a file rejected whole, for its reject's raw text."""
    h = _head_or_error(f, opts.encoding)
    return None if isinstance(h, sources.InputError) else h[0][:RAW_LIMIT]


def _head_or_error(f: Path, encoding: str) -> tuple[str, str] | sources.InputError:
    try:
        return sources.head_and_encoding(f, encoding)
    except sources.InputError as e:
        return e


def _batches(files: list[Path], limit: int) -> list[list[Path]]:
    out: list[list[Path]] = [[]]
    size = 0
    for f in files:
        s = f.stat().st_size
        if out[-1] and (size + s > limit or len(out[-1]) >= BATCH_FILES):
            out.append([])
            size = 0
        out[-1].append(f)
        size += s
    return [b for b in out if b]


class _Run:
    """State of one ingest run: staged posts, rejects and accounts, and the counts."""

    def __init__(
        self, ws: Workspace | None, txn: Transaction, opts: ReadOptions, progress, con=None, scratch: Path | None = None
    ) -> None:
        self.ws, self.txn, self.opts, self.progress = ws, txn, opts, progress
        self.con = con or ws.connect()
        self.scratch = scratch or txn.staging / "plain"  # decompressed and transcoded copies
        self.stage_files: list[str] = []
        self.notes: list[str] = []
        self.readers: dict[str, int] = {}
        self.encodings: dict[Path, str] = {}  # each file's: its BOM's, else the declared one
        self.media: dict[Path, list[str]] = {}  # folder -> media files in it (an export's photos/), not read
        self.records = 0
        self.nfiles = 0
        self.unmask = False  # the batch is read from a copy with bare CRs masked (sources.mask_bare_cr)
        self.label_handles = False  # _label_handles names accounts (see load_label_handles)
        self.posts_added: list[str] = []
        self.labelled = 0  # accounts the --labels file labels
        self.lenient_reads = 0
        cols = ", ".join(f"{f.name} {sql_type(f.type)}" for f in REJECTS)
        self.con.execute(f"CREATE TEMP TABLE _rejects_run ({cols})")
        cols = ", ".join(f"{f.name} {sql_type(f.type)}" for f in ACCOUNTS)
        self.con.execute(f"CREATE TEMP TABLE _accounts_run ({cols})")

    def tick(self, f: Path) -> None:
        self.nfiles += 1
        if self.progress:
            self.progress(f.stat().st_size)

    def reject_file(self, f: Path, fmt: str | None, reason: str, raw: str | None, whole: bool = True) -> None:
        """Reject every record of ``f`` for one reason, each numbered as posts are: its lines, less the
        header of a delimited file its reader could not map (``whole=False``: the file cannot even be
        opened, and counts as one record)."""
        head = raw or ""
        numbered = whole and "\x00" not in head[:4096]  # a binary file has no lines to count
        n = 1
        if numbered:
            # a reader's file has a header unless it is JSON; a file no reader knows is all lines
            header = fmt is not None and not head.lstrip("\ufeff").lstrip().startswith(("{", "["))
            n = max(1, sources.count_lines(f) - header)
        self.records += n
        self.con.execute(
            "INSERT INTO _rejects_run SELECT $1, $2, CASE WHEN $7 THEN i END, NULL, $3, CASE WHEN i = 1 THEN $4 END, "
            "$5 FROM range(1, $6 + 1) t(i)",
            [fmt, str(f), reason, raw, self.txn.run_id, n, numbered],
        )
        self.notes.append(f"{f}: {reason}" + (f" ({n:,} records)" if n > 1 else ""))

    def read_batch(self, reader, batch: list[Path], scan: dict[str, str] | None = None) -> None:
        """Read ``batch`` with ``reader``; ``scan`` maps ready-made copies to the files they stand for."""
        scratch = self.scratch
        declared = sources.normal_encoding(self.opts.encoding)
        encodings = {f: self.encodings.get(f, declared) for f in batch}
        # The scans read UTF-8 and Latin-1 themselves; a batch with anything else (a UTF-16 file from
        # Excel, a declared cp1252) is read from UTF-8 copies.
        native = scan is not None or (
            declared in sources.NATIVE_ENCODINGS and all(e in ("utf-8", declared) for e in encodings.values())
        )
        try:
            prepared = scan or {
                str(sources.prepare(f, scratch, None if native or encodings[f] == "utf-8" else encodings[f])): str(f)
                for f in batch
            }
        except sources.InputError as e:
            if len(batch) > 1:
                for f in batch:
                    self.read_batch(reader, [f])
                return
            if self.salvage(reader, batch[0]):
                return
            self.reject_file(batch[0], reader.NAME, str(e), None, whole=False)
            self.tick(batch[0])
            return
        self.con.execute(  # one statement: executemany costs ~80 ms per thousand files
            "CREATE OR REPLACE TEMP TABLE _file_map AS "
            "SELECT unnest($1::VARCHAR[]) AS scan, unnest($2::VARCHAR[]) AS original",
            [list(prepared), list(prepared.values())],
        )
        try:
            out = reader.read(self.con, list(prepared), self.opts if native else replace(self.opts, encoding="utf-8"))
            available = set(self.con.sql(out.records).columns)
            renamed = any(scan != original for scan, original in prepared.items())
            final = _finalize_sql(
                out.records,
                available,
                reader.NAME,
                self.txn.run_id,
                file_map=renamed,
                unmask=self.unmask,
                label_handles=self.label_handles,
                platform=getattr(reader, "PLATFORM", "unknown"),
            )
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE _final AS {final}")
            release(self.con)
            if out.errors:  # filled by the scan just run
                self._renumber(out.errors)
        except duckdb.InterruptException:  # Ctrl-C inside a query: DuckDB raises it as one of its errors
            raise KeyboardInterrupt from None
        except (duckdb.Error, ReaderError, UnicodeError, OSError) as e:
            if len(batch) > 1:  # isolate the file that fails; the others still ingest
                for f in batch:
                    self.read_batch(reader, [f])
                return
            if scan is None and self.salvage(reader, batch[0]):
                return
            msg = str(e).strip().split("\n")[0]
            if self.opts.strict and isinstance(e, duckdb.InvalidInputException) and not self.unmask:
                # A bare CR inside an unquoted field ends the record for both parsers: read a copy with
                # the CRs masked, so the records stay whole and their text keeps the CR.
                source = Path(next(iter(scan))) if scan else batch[0]
                masked = sources.mask_bare_cr(source, scratch, self.opts.encoding)
                if masked is not None:
                    self.unmask, lenient = True, self.lenient_reads
                    try:
                        self.read_batch(reader, batch, scan={str(masked[0]): str(batch[0])})
                    finally:
                        self.unmask = False
                    if self.lenient_reads == lenient:  # else the copy failed too, and the file was read leniently
                        self.notes.append(
                            f"{batch[0]}: {masked[1]:,} bare carriage returns inside records kept as part of their text"
                        )
                    return
            if self.opts.strict and isinstance(e, duckdb.InvalidInputException):  # e.g. a quote left open
                self.notes.append(
                    f"{batch[0]}: the strict CSV parser cannot split the file into records (a stray quote or "
                    "line end?); read it leniently, rejecting only the records that do not fit"
                )
                self.lenient_reads += 1
                self.opts = replace(self.opts, strict=False)
                try:
                    self.read_batch(reader, batch)
                finally:
                    self.opts = replace(self.opts, strict=True)
                return
            msg = msg.removeprefix(f"{batch[0]}: ").removeprefix(f"{next(iter(prepared))}: ")
            self.reject_file(
                batch[0],
                reader.NAME,
                f"the {reader.NAME} reader cannot read the file: {msg}",
                _head(batch[0], self.opts),
            )
            self.tick(batch[0])
            return
        self.con.execute("CREATE OR REPLACE TEMP VIEW _records AS SELECT * FROM _final")
        cols = ", ".join(f.name for f in POSTS)
        # Repeats inside the batch are dropped here (first occurrence kept), so that the staged part can
        # usually become the posts part as it is. Repeats are rare: candidates by a 64-bit hash of the id
        # (cheap to group), then the exact ids among them; the records to drop form a small table.
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE _drop AS "
            "WITH c AS (SELECT hash(post_id) AS h FROM _final WHERE reject_reason IS NULL GROUP BY 1 HAVING count(*) > 1) "
            "SELECT DISTINCT post_id, source_file, source_line FROM _final "
            "WHERE reject_reason IS NULL AND hash(post_id) IN (SELECT h FROM c) "
            "QUALIFY (source_file, source_line) <> min((source_file, source_line)) OVER (PARTITION BY post_id)"
        )
        drop = self.con.execute("SELECT count(*) FROM _drop").fetchone()[0]
        # A record's file and line may hold several posts (a twarc page): match on the id as well.
        anti = (
            "ANTI JOIN _drop d ON d.post_id = f.post_id AND d.source_file = f.source_file "
            "AND d.source_line = f.source_line "
            if drop
            else ""
        )
        # Rows need no order in the staged parts: each carries its file and line.
        query = f"SELECT {cols} FROM _final f {anti}WHERE reject_reason IS NULL"
        self.stage_files += [str(f) for f in self.txn.write_parts(self.con, "posts", query)]
        n = self.con.execute("SELECT count(*) FROM _final").fetchone()[0]
        self.records += n
        self.con.execute(
            f"INSERT INTO _rejects_run SELECT {sql_str(reader.NAME)}, source_file, source_line, NULL, reject_reason, "
            f"left(coalesce(raw, text), {RAW_LIMIT}), {sql_str(self.txn.run_id)} FROM _final WHERE reject_reason IS NOT NULL"
        )
        if out.errors:
            n_err = self.con.execute(
                f"INSERT INTO _rejects_run SELECT {sql_str(reader.NAME)}, source_file, source_line, byte_offset, "
                f"reason, raw, {sql_str(self.txn.run_id)} FROM _errors"
            ).fetchone()[0]
            self.records += n_err
        if out.accounts:
            acc_cols = set(self.con.sql(out.accounts).columns)
            acc = select_canonical(ACCOUNTS, acc_cols - {"source_format", "ingest_id"}, f"({out.accounts})")
            self.con.execute(
                f"INSERT INTO _accounts_run SELECT * REPLACE ({sql_str(reader.NAME)} AS source_format, "
                f"{sql_str(self.txn.run_id)} AS ingest_id) FROM ({acc})"
            )
        notes = out.notes
        for scan_path, original in prepared.items():  # name the user's files, not staging copies
            if scan_path != original:
                notes = [n.replace(scan_path, original) for n in notes]
        self.notes += notes
        for f in batch:
            self.tick(f)

    def _renumber(self, errors: str) -> None:
        """Give the batch's records their record numbers in their files despite the records DuckDB's
        scan rejected: the scan numbers the rows it returns, so each rejected record before a row
        shifts the row's number down by one.

        With the rejected record numbers e_1 < e_2 < … of a file, e_i - i rows come before the i-th
        rejected record, so the row at position p is record p + #{i : e_i - i < p}.
        """
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE _errors AS SELECT coalesce(m.original, e.source_file) AS source_file, "
            f"e.source_line, e.byte_offset, e.reason, {_unmasked('e.raw') if self.unmask else 'e.raw'} AS raw "
            f"FROM ({errors}) e "
            "LEFT JOIN _file_map m ON m.scan = e.source_file"
        )
        if not self.con.execute("SELECT count(*) FROM _errors").fetchone()[0]:
            return
        self.con.execute(
            """CREATE OR REPLACE TEMP TABLE _final AS
            WITH k AS (
                SELECT source_file, source_line - row_number() OVER (PARTITION BY source_file ORDER BY source_line) AS k
                FROM (SELECT DISTINCT source_file, source_line FROM _errors)
            ),
            shift AS (
                SELECT p.source_file, p.source_line, count(*) AS n
                FROM (SELECT DISTINCT source_file, source_line FROM _final) p
                JOIN k ON k.source_file = p.source_file AND k.k < p.source_line
                GROUP BY ALL
            )
            SELECT f.* REPLACE (f.source_line + coalesce(s.n, 0) AS source_line)
            FROM _final f LEFT JOIN shift s USING (source_file, source_line)"""
        )

    def salvage(self, reader, f: Path) -> bool:
        """A compressed file that breaks off partway (a partial download): read the records before the
        break and count the broken-off rest as one rejected record. False when the stream is whole."""
        s = sources.salvage(f, self.scratch)
        if s is None:
            return False
        self.read_batch(reader, [f], scan={str(s.path): str(f)})
        last = self.con.execute(
            "SELECT max(n) FROM (SELECT max(source_line) AS n FROM _final WHERE source_file = $1 "
            "UNION ALL SELECT max(source_line) FROM _rejects_run WHERE source_file = $1)",
            [str(f)],
        ).fetchone()[0]
        what = (
            "the rest of the file is lost (a partial download?"
            if s.cut_short  # a checksum fails only at the end of a member: the damage may lie before it
            else "but records near the damage may be garbled and the rest is lost ("
        )
        reason = (
            f"broken compressed stream: {s.reason} after {s.offset:,} bytes; the records before the break "
            f"were read, {what} fetch the file again)"
        )
        self.records += 1
        self.con.execute(
            "INSERT INTO _rejects_run VALUES (?, ?, ?, ?, ?, ?, ?)",
            [reader.NAME, str(f), (last or 0) + 1, s.offset - len(s.tail), reason,
             s.tail[:RAW_LIMIT].decode(self.opts.encoding, errors="replace"), self.txn.run_id],
        )  # fmt: skip
        self.notes.append(f"{f}: {reason}")
        return True

    def _label_columns(self, path: str) -> tuple[str, list[str], str | None, str | None]:
        """A labels CSV's scan, columns, account id column and handle column."""
        scan = f"read_csv({sql_str(path)}, all_varchar=true, header=true)"
        cols = self.con.sql(f"SELECT * FROM {scan}").columns
        lower = {c.lower(): c for c in cols}
        id_col = next((lower[c] for c in ("account_id", "userid", "user_id", "author_id", "id") if c in lower), None)
        handle_col = next(
            (lower[c] for c in ("handle", "screen_name", "username", "user_screen_name", "author") if c in lower), None
        )
        if id_col is None and handle_col is None:
            raise ReaderError(
                f"{path}: no account column among {', '.join(cols)}; name one account_id, userid or handle"
            )
        return scan, cols, id_col, handle_col

    def load_label_handles(self, path: str) -> None:
        """A labels file with both an id and a handle column says what each id is called: posts whose
        source names the account only by id (congress-2015-2018's numeric ``user``) get the handle."""
        scan, _, id_col, handle_col = self._label_columns(path)
        query = "SELECT NULL::VARCHAR AS account_id, NULL::VARCHAR AS handle WHERE false"
        if id_col and handle_col:
            query = (
                f"SELECT {_ident(id_col)} AS account_id, any_value(ltrim(trim({_ident(handle_col)}), '@')) AS handle "
                f"FROM {scan} WHERE coalesce(trim({_ident(handle_col)}), '') <> '' GROUP BY 1"
            )
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE _label_handles AS {query}")
        self.label_handles = bool(self.con.execute("SELECT count(*) FROM _label_handles").fetchall()[0][0])

    def use_label_handles(self, handles: pa.Table) -> None:
        """The driver's ``_label_handles`` (``load_label_handles``) in a task that reads a batch on a
        distributed engine: the labels file is read once, on the driver."""
        self.con.register("_label_handles_in", handles)
        self.con.execute("CREATE OR REPLACE TEMP TABLE _label_handles AS SELECT * FROM _label_handles_in")
        self.con.unregister("_label_handles_in")
        self.label_handles = handles.num_rows > 0

    def load_label_rows(self, path: str) -> LabelRows:
        """A labels CSV as the table ``_label_rows`` (``key``, ``labels``): ``key`` the account id, or the
        handle lower-cased without its ``@`` when the file has no id column; ``labels`` a map of the
        other columns' non-empty values. Small (one row per labelled account): read here, on DuckDB,
        whatever the engine that joins it."""
        scan, cols, id_col, handle_col = self._label_columns(path)
        labels = [c for c in cols if c not in (id_col, handle_col)]
        entries = ", ".join(f"struct_pack(k := {sql_str(c)}, v := {_ident(c)})" for c in labels)
        key = _ident(id_col) if id_col else f"lower(ltrim({_ident(handle_col)}, '@'))"
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _label_rows AS
            SELECT {key} AS key, map_from_entries(list_filter([{entries}], lambda e: coalesce(e.v, '') <> '')) AS labels
            FROM {scan}"""
        )
        total = self.con.execute("SELECT count(*) FROM _label_rows").fetchall()[0][0]  # all fetched: sql() may follow
        return LabelRows(path, labels, total, by_id=id_col is not None, handle_col=handle_col)

    def label_note(self, rows: LabelRows, matched: int) -> str:
        return (
            f"{rows.path}: labels {', '.join(rows.labels)} joined to {matched:,} accounts; "
            f"{rows.total - matched:,} of its {rows.total:,} rows name no account in the workspace"
            + (f"; handles taken from its column {rows.handle_col!r}" if self.label_handles and rows.by_id else "")
        )

    def read_labels(self, path: str) -> None:
        """Join a CSV of account labels (``--labels``): one account column, every other column a label;
        a handle column beside an id column names the accounts (see ``load_label_handles``)."""
        rows = self.load_label_rows(path)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE _labels AS {label_matches_sql(rows.by_id)}")
        matched = self.con.execute(
            "INSERT INTO _accounts_run (account_id, handle, labels, source_format, ingest_id) "
            + label_accounts_sql(self.txn.run_id)
        ).fetchone()[0]
        self.labelled = matched
        self.notes.append(self.label_note(rows, matched))
        if self.label_handles:
            self._name_stored_posts()

    def _name_stored_posts(self) -> None:
        """Posts already in the workspace that carry only their account id as handle get the labels
        file's handle (this run's posts got it as they were read)."""
        n = self.con.execute(UNNAMED_POSTS_SQL).fetchone()[0]
        if not n:
            return
        target = self.txn.new_file("posts")
        self.con.execute(f"COPY ({named_posts_sql()}) TO {sql_str(str(target))} (FORMAT parquet, {PARTS_COMPRESSION})")
        self.txn.replace("posts", [target, *map(Path, self.posts_added)])
        self.notes.append(renamed_note(n))

    def finish(self, *, ingest_id: str, started: datetime, inputs: list[str], params: dict, t0: float) -> IngestResult:
        con, txn = self.con, self.txn
        stored = 0
        cols = ", ".join(f"s.{f.name}" for f in POSTS)
        if self.stage_files:
            staged = f"read_parquet({sql_list(self.stage_files)})"
            # Distinct 64-bit hashes as many as rows means distinct ids; a collision only sends the run
            # down the exact path below.
            rows, distinct = con.execute(f"SELECT count(*), count(DISTINCT hash(post_id)) FROM {staged}").fetchone()
            known = con.execute(
                f"SELECT count(*) FROM {staged} s SEMI JOIN posts p ON p.post_id = s.post_id"
            ).fetchone()[0]
            if rows == distinct and known == 0:  # the usual case: the staged parts are the new posts as they are
                stored = rows
                txn.append("posts", [Path(f) for f in self.stage_files])
                self.posts_added = list(self.stage_files)
            else:  # keep the first occurrence of each post id, unless the workspace already has it
                target = txn.new_file("posts")
                stored = con.execute(
                    f"""COPY (
                        SELECT {cols} FROM {staged} s
                        SEMI JOIN (SELECT post_id, min((source_file, source_line)) AS first FROM {staged} GROUP BY post_id) f
                          ON s.post_id = f.post_id AND (s.source_file, s.source_line) = f.first
                        ANTI JOIN posts p ON p.post_id = s.post_id
                    ) TO {sql_str(str(target))} (FORMAT parquet, {PARTS_COMPRESSION})"""
                ).fetchone()[0]
                if stored:
                    txn.append("posts", [target])
                    self.posts_added = [str(target)]
            con.execute(
                "INSERT INTO _accounts_run (account_id, handle, source_format, ingest_id) "
                + _posting_accounts_sql(staged, ingest_id)
            )
        if self.opts.labels:
            self.read_labels(self.opts.labels)
        rejected = con.execute("SELECT count(*) FROM _rejects_run").fetchone()[0]
        first_rejects = reject_runs(con, "_rejects_run", limit=FIRST_REJECTS)
        reasons = dict(con.execute(_reason_counts_sql("_rejects_run")).fetchall())
        known = con.execute(f"DELETE FROM _rejects_run r WHERE {_KNOWN_REJECT}").fetchone()[0]
        if rejected > known:
            target = txn.new_file("rejects")
            con.execute(f"COPY _rejects_run TO {sql_str(str(target))} (FORMAT parquet, COMPRESSION zstd)")
            txn.append("rejects", [target])
        if con.execute("SELECT count(*) FROM _accounts_run").fetchone()[0]:
            target = txn.new_file("accounts")
            con.execute(f"COPY ({_merge_accounts_sql()}) TO {sql_str(str(target))} (FORMAT parquet, COMPRESSION zstd)")
            txn.replace("accounts", [target])
        con.close()
        return self.conclude(
            ingest_id=ingest_id, started=started, inputs=inputs, params=params, t0=t0, stored=stored,
            rejected=rejected, known_rejects=known, reasons=reasons, first_rejects=first_rejects,
        )  # fmt: skip

    def conclude(
        self, *, ingest_id: str, started: datetime, inputs: list[str], params: dict, t0: float, stored: int,
        rejected: int, known_rejects: int, reasons: dict[str, int], first_rejects: list[dict],
    ) -> IngestResult:  # fmt: skip
        """The run's result from its counts, and its row of the ingest log (engine-neutral: Arrow)."""
        for folder, kinds in self.media.items():
            what = ", ".join(f"{n} {k}" for k, n in sorted(Counter(kinds).items(), key=lambda kn: -kn[1]))
            self.notes.append(f"{folder}: {len(kinds):,} media files ({what}), not posts: not read")
        if known_rejects:
            # A record rejected by an earlier ingest (the same file read again) is counted in this run
            # but not recorded twice.
            self.notes.append(f"{known_rejects:,} of the rejected records were already recorded by an earlier ingest")
        duplicate = self.records - stored - rejected
        seconds = time.perf_counter() - t0
        result = IngestResult(
            ingest_id=ingest_id, workspace=str(self.ws.path), files=self.nfiles, records=self.records,
            stored=stored, rejected=rejected, duplicate=duplicate, seconds=round(seconds, 3),
            readers=self.readers, reject_reasons=reasons, notes=list(dict.fromkeys(self.notes)),
            first_rejects=first_rejects, labelled=self.labelled,
        )  # fmt: skip
        result.failure = result.why_nothing_stored()
        log = self.txn.new_file("ingest_log")
        row = [ingest_id, started, seconds, [str(i) for i in inputs], sorted(self.readers), json.dumps(params),
               self.nfiles, self.records, stored, rejected, duplicate, result.notes[:1000]]  # fmt: skip
        pq.write_table(pa.Table.from_pylist([dict(zip(INGEST_LOG.names, row, strict=True))], INGEST_LOG), log)
        self.txn.append("ingest_log", [log])
        return result


# A rejected record an earlier ingest recorded already (the same file read again).
_KNOWN_REJECT = (
    "EXISTS (SELECT 1 FROM rejects o WHERE o.source_file = r.source_file "
    "AND o.source_line IS NOT DISTINCT FROM r.source_line AND o.reason = r.reason)"
)


@dataclass
class LabelRows:
    """A ``--labels`` file read into ``_label_rows`` (``_Run.load_label_rows``)."""

    path: str
    labels: list[str]  # its label columns
    total: int  # its rows
    by_id: bool  # keyed by account id (else by handle)
    handle_col: str | None


def label_matches_sql(by_id: bool, rows: str = "_label_rows", run: str = "_accounts_run") -> str:
    """The labels' accounts: each row of ``rows`` with every account (of the workspace or this run)
    its key names, by id or by case-insensitive handle. Portable to Spark (``engine.to_dialect``)."""
    known = f"SELECT account_id, handle FROM accounts UNION ALL SELECT account_id, handle FROM {run}"
    key = "account_id" if by_id else "lower(handle)"
    return (
        f"SELECT k.account_id, l.labels FROM {rows} l "
        f"JOIN (SELECT DISTINCT account_id, {key} AS key FROM ({known}) a) k ON k.key = l.key"
    )


def label_accounts_sql(ingest_id: str) -> str:
    """The matched labels (``_labels``) as account rows, named by ``_label_handles``; portable."""
    return (
        f"SELECT l.account_id, h.handle, l.labels, 'labels' AS source_format, {sql_str(ingest_id)} AS ingest_id "
        "FROM _labels l LEFT JOIN _label_handles h ON h.account_id = l.account_id"
    )


# Stored posts that carry only their account id as handle, and a handle for it in the labels file.
_UNNAMED = "p.handle = p.account_id AND h.handle IS NOT NULL"
UNNAMED_POSTS_SQL = (
    f"SELECT count(*) AS n FROM posts p JOIN _label_handles h ON h.account_id = p.account_id WHERE {_UNNAMED}"
)


def named_posts_sql() -> str:
    """The stored posts with those handles put in; portable."""
    cols = ", ".join(
        f"CASE WHEN {_UNNAMED} THEN h.handle ELSE p.handle END AS handle" if f.name == "handle" else f"p.{f.name}"
        for f in POSTS
    )
    return f"SELECT {cols} FROM posts p LEFT JOIN _label_handles h ON h.account_id = p.account_id"


def renamed_note(n: int) -> str:
    return f"{n:,} stored posts renamed from account id to handle"


def _reason_counts_sql(table: str) -> str:
    return f"SELECT {REASON_KIND} AS r, count(*) AS n FROM {table} GROUP BY r ORDER BY 2 DESC, 1"


def _posting_accounts_sql(staged: str, ingest_id: str) -> str:
    """Every account that posts gets a row, even when its source says nothing else about it."""
    return f"""SELECT account_id, arg_max(handle, created_at) AS handle, any_value(source_format) AS source_format,
        {sql_str(ingest_id)} AS ingest_id FROM {staged} GROUP BY account_id"""


def _finalize_sql(
    records: str,
    available: set[str],
    fmt: str,
    ingest_id: str,
    file_map: bool = False,
    unmask: bool = False,
    label_handles: bool = False,
    platform: str = "unknown",
) -> str:
    """Canonical posts from a reader's records: derive what the source left out, one place for all.

    Reader columns beyond the canonical ones are kept (accounts SQL may use them). ``file_map``: some
    files were scanned from decompressed staging copies; name the user's files instead. ``unmask``:
    they were scanned from copies with bare CRs masked; put the CRs back. ``label_handles``: a
    ``--labels`` file names accounts the source gives only by id (table ``_label_handles``). ``platform``:
    the reader's platform, for records that do not name their own.
    """
    canonical = {f.name for f in POSTS}
    keep = [f"{c} AS {c}" if c in available else f"NULL::VARCHAR AS {c}" for c in ("reject_reason", "raw")]
    keep += sorted(available - canonical - {"reject_reason", "raw"})
    base = select_canonical(POSTS, available - {"source_format", "ingest_id"}, f"({records}) _src", extra=keep)
    # The reposted original, where the source gives no id: the first 100 characters of its text without
    # the repost prefix (`RT @handle: `, or `“@handle: `: REPOST_PREFIX_RE), lower-cased. Copies of one retweet share them (a truncated copy is cut
    # near 140 characters, links sit at the end); IRA retweets mostly carry the original's bare text.
    body = "CASE WHEN _rt IS NULL THEN text ELSE substr(text, length(_rt_prefix) + 1) END"
    # = lower(left(trim(body), 100)): trim scans the whole text for trailing space separators; when
    # the text does not end in one (the end-anchored test is cheap) ltrim gives the same first 100.
    norm = rf"lower(left(CASE WHEN regexp_matches({body}, '\p{{Zs}}$') THEN trim({body}) ELSE ltrim({body}) END, 100))"
    return f"""
    WITH r AS ({base}),
    d AS (
        SELECT r.* REPLACE (
                {_unmasked("r.text") if unmask else "r.text"} AS text, {_unmasked("r.raw") if unmask else "r.raw"} AS raw,
                coalesce(r.account_id, lower(r.handle)) AS account_id,
                coalesce(r.handle, {"lh.handle, " if label_handles else ""}r.account_id) AS handle,
                {"coalesce(m.original, r.source_file)" if file_map else "r.source_file"} AS source_file),
            regexp_extract(r.text, '{REPOST_PREFIX_RE}', 0) AS _rt_prefix
        FROM r {"LEFT JOIN _file_map m ON m.scan = r.source_file" if file_map else ""}
        {"LEFT JOIN _label_handles lh ON lh.account_id = r.account_id" if label_handles else ""}
    ),
    e AS (SELECT *, CASE WHEN _rt_prefix <> '' THEN regexp_extract(_rt_prefix, '@([A-Za-z0-9_]+):$', 1) END AS _rt FROM d),
    k AS (
        SELECT * REPLACE (
            coalesce(lower(repost_of_handle), lower(_rt)) AS repost_of_handle,
            coalesce(repost_of_id, CASE WHEN _rt IS NOT NULL OR kind = 'repost' THEN 'rt:' || md5({norm}) END)
                AS repost_of_id,
            lower(quote_of_handle) AS quote_of_handle,
            lower(reply_to_handle) AS reply_to_handle)
        FROM e
    )
    SELECT * EXCLUDE (_rt, _rt_prefix) REPLACE (
        -- No id in the source: the record's content is its identity, so the same record read again (or
        -- repeated verbatim in an export) counts as a duplicate.
        coalesce(post_id, 's:' || md5(concat_ws('|', account_id, created_at::VARCHAR, text))) AS post_id,
        coalesce(kind, CASE WHEN repost_of_id IS NOT NULL THEN 'repost'
                            WHEN quote_of_id IS NOT NULL OR quote_of_handle IS NOT NULL THEN 'quote'
                            WHEN reply_to_id IS NOT NULL OR reply_to_handle IS NOT NULL
                                 OR reply_to_account_id IS NOT NULL THEN 'reply'
                            ELSE 'original' END) AS kind,
        -- `contains` first: most posts have no tag, mention or link, and a substring test is far cheaper
        -- than the regular expression.
        coalesce(urls, CASE WHEN contains(text, 'http') THEN regexp_extract_all(text, '{URL_RE}') ELSE [] END) AS urls,
        coalesce(hashtags, CASE WHEN contains(text, '#')
            THEN list_transform(regexp_extract_all(text, '{HASHTAG_RE}', 1), lambda t: lower(t)) ELSE [] END) AS hashtags,
        coalesce(mentions, CASE WHEN contains(text, '@')
            THEN list_transform(regexp_extract_all(text, '{MENTION_RE}', 1), lambda t: lower(t)) ELSE [] END) AS mentions,
        coalesce(lower(platform), {sql_str(platform)}) AS platform,
        {sql_str(fmt)} AS source_format,
        {sql_str(ingest_id)} AS ingest_id,
        coalesce(reject_reason, CASE WHEN created_at IS NULL THEN 'missing or bad date'
                                     WHEN account_id IS NULL THEN 'no account id or handle' END) AS reject_reason
    )
    FROM k
    """


def _unmasked(col: str) -> str:
    return f"replace({col}, {sql_str(sources.CR_MASK)}, chr(13))"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _merge_accounts_sql(run: str = "_accounts_run") -> str:
    """Existing accounts merged with this run's: per column the newest non-empty value wins, and labels
    merge key by key (a labels file adds party to the IRA's account_category rather than replacing it).
    Within the run, a ``--labels`` file's rows rank above what the source describes, and those above
    the bare posting accounts: an order, not a tie, so both engines pick the same value.
    Portable to Spark (``engine.to_dialect``)."""
    cols = []
    for f in ACCOUNTS:
        if f.name in ("account_id", "labels"):
            continue
        if f.name == "ingest_id":
            cols.append("arg_min(ingest_id, _o) AS ingest_id")
        else:
            cols.append(f"arg_max({f.name}, _o) FILTER (WHERE {f.name} IS NOT NULL) AS {f.name}")
    names = ", ".join(f.name for f in ACCOUNTS)
    return f"""
        WITH a AS (
            SELECT {names}, 0 AS _o FROM accounts
            UNION ALL
            SELECT {names}, CASE WHEN source_format = 'labels' THEN 3
                                 WHEN name IS NULL AND followers IS NULL AND labels IS NULL THEN 1 ELSE 2 END AS _o
            FROM {run}
        ),
        e AS (SELECT account_id, _o, unnest(map_entries(labels)) AS e FROM a WHERE cardinality(labels) > 0),
        l AS (
            SELECT account_id, map_from_entries(list_sort(list(struct_pack(k := key, v := value)))) AS labels
            FROM (SELECT account_id, e.key AS key, arg_max(e.value, _o) AS value FROM e GROUP BY account_id, e.key) x
            GROUP BY account_id
        )
        SELECT a.account_id, {", ".join(cols)}, any_value(l.labels) AS labels
        FROM a LEFT JOIN l ON l.account_id = a.account_id GROUP BY a.account_id
    """
