"""Ingest on Spark (``--engine spark``) against the in-process DuckDB ingest: the same posts, rejects
and accounts from the same input, workspaces either engine reads, and no silent fallback."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import sample_rows, write_ioarchive

from trollscope.cli import main as cli
from trollscope.engine import EngineSpec
from trollscope.ingest import ingest
from trollscope.readers import ReadOptions
from trollscope.schema import TABLES
from trollscope.simulate import simulate
from trollscope.workspace import Workspace

LOCAL2 = EngineSpec("spark", "local[2]")


def digest(ws: Path, table: str) -> tuple[int, str]:
    """Rows and an order-independent hash over every column but the run's id, computed by DuckDB."""
    cols = [f.name for f in TABLES[table] if f.name != "ingest_id"]
    row = "struct_pack(" + ", ".join(f"{c} := {c}" for c in cols) + ")"
    con = Workspace(ws, create=False).connect()
    try:
        return con.execute(
            f"SELECT count(*), md5(coalesce(string_agg(h, '' ORDER BY h), '')) "
            f"FROM (SELECT md5(to_json({row})::VARCHAR) AS h FROM {table})"
        ).fetchone()
    finally:
        con.close()


def rows(ws: Path, query: str) -> list[tuple]:
    con = Workspace(ws, create=False).connect()
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def same_workspaces(a: Path, b: Path) -> None:
    for table in ("posts", "rejects", "accounts"):
        assert digest(a, table) == digest(b, table), table


def spark_events(folder: Path) -> list[dict]:
    """The events of Spark's event log (rolling, zstd-compressed files by default in Spark 4)."""
    import zstandard

    out = []
    for f in sorted(folder.rglob("events_*")):
        data = f.read_bytes()
        if f.suffix == ".zstd":
            data = zstandard.ZstdDecompressor().stream_reader(data).read()  # a log being written has no frame size
        out += [json.loads(line) for line in data.decode("utf-8", "replace").splitlines() if line.startswith("{")]
    return out


def counts(r) -> tuple:
    return (r.files, r.records, r.stored, r.rejected, r.duplicate, r.reject_reasons)


@pytest.fixture(scope="module")
def sim(tmp_path_factory) -> Path:
    """10,000 simulated posts in two files, and a copy of one file: every post of it read twice."""
    out = tmp_path_factory.mktemp("sim")
    simulate(posts=10_000, seed=5, out=out, files=2)
    shutil.copy(out / "tweets-00001.csv.gz", out / "tweets-copy.csv.gz")
    return out


def bad_lines(folder: Path) -> list[Path]:
    """Rows a reader rejects (bad date, no account, too few fields, an unclosed quote), a file no reader
    knows, and an HTML page."""
    rows_ = sample_rows(30)
    rows_[3]["tweet_time"] = "not a date"
    rows_[6]["userid"] = rows_[6]["user_screen_name"] = ""
    f = write_ioarchive(folder / "bad.csv", rows_)
    lines = f.read_text().splitlines()
    lines.insert(10, "999,1,x,2016-01-01 00:00,too,few")
    lines.append('1234,5,y,2016-01-01 00:00,"unclosed quote,False,,,,,,[],[],1,en')
    f.write_text("\n".join(lines) + "\n")
    unknown = folder / "notes.txt"
    unknown.write_text("just\nsome\nlines\n")
    html = folder / "page.csv"
    html.write_text("<!DOCTYPE html><html><body>Rate limit exceeded</body></html>\n")
    return [f, unknown, html]


@pytest.mark.spark
def test_simulated_set_same_posts_rejects_and_accounts(spark, sim, tmp_path):
    d = ingest(str(sim), tmp_path / "duck")
    s = ingest(str(sim), tmp_path / "spark", engine=LOCAL2)
    assert counts(s) == counts(d)
    # independently: the simulation wrote 10,000 posts; the copy's 5,000 are duplicates of tweets-00001
    assert (s.stored, s.duplicate, s.rejected) == (10_000, 5000, 0)
    first = rows(tmp_path / "spark", "SELECT count(*) FROM posts WHERE source_file LIKE '%tweets-copy%'")
    assert first == [(0,)]  # the first occurrence (by file, then line) is the one kept: tweets-00001 < tweets-copy
    same_workspaces(tmp_path / "duck", tmp_path / "spark")
    assert (
        digest(tmp_path / "spark", "accounts")[0]
        == rows(tmp_path / "duck", "SELECT count(DISTINCT account_id) FROM posts")[0][0]
    )


@pytest.mark.spark
def test_bad_lines_give_the_same_rejects(spark, tmp_path):
    files = [str(f) for f in bad_lines(tmp_path / "in")]
    d = ingest(files, tmp_path / "duck")
    s = ingest(files, tmp_path / "spark", engine=LOCAL2)
    assert counts(s) == counts(d) and s.first_rejects == d.first_rejects
    assert s.records == s.stored + s.rejected + s.duplicate
    same_workspaces(tmp_path / "duck", tmp_path / "spark")
    got = rows(tmp_path / "spark", "SELECT source_file, source_line, reason FROM rejects ORDER BY 1, 2")
    by_file = {Path(f).name: [(line, reason) for g, line, reason in got if g == f] for f, _, _ in got}
    assert [line for line, _ in by_file["notes.txt"]] == [1, 2, 3]  # a file no reader knows: every line
    assert len(by_file["page.csv"]) == 1 and "HTML" in by_file["page.csv"][0][1]
    reasons = " ".join(r for _, r in by_file["bad.csv"])
    for what in ("bad date", "too few fields", "unclosed quote"):
        assert what in reasons


@pytest.mark.spark
@pytest.mark.real_data
def test_ira_sample_same_on_both_engines(spark, shared, tmp_path):
    files = sorted((shared / "ira-by-author" / "A").glob("*.csv.gz"))[:24]
    d = ingest([str(f) for f in files], tmp_path / "duck")
    s = ingest([str(f) for f in files], tmp_path / "spark", engine=LOCAL2)
    assert counts(s) == counts(d) and s.stored > 1000
    same_workspaces(tmp_path / "duck", tmp_path / "spark")
    labelled = rows(tmp_path / "spark", "SELECT count(*) FROM accounts WHERE labels['account_category'] IS NOT NULL")
    assert labelled[0][0] > 0  # the IRA's labels came through Spark's map columns


@pytest.mark.spark
def test_a_spark_workspace_is_read_by_duckdb_and_appended_to(spark, sim, tmp_path):
    """Spark appends to a DuckDB-made workspace, DuckDB appends to a Spark-made one; both end equal to a
    DuckDB-only run, and DuckDB's info and detection read what Spark wrote."""
    from trollscope.detect.run import detect
    from trollscope.info import info

    bad = [str(f) for f in bad_lines(tmp_path / "in")]
    first, second = [str(sim / "tweets-00000.csv.gz"), *bad], [str(sim), *bad]
    ingest(first, tmp_path / "duck")
    d = ingest(second, tmp_path / "duck")
    ingest(first, tmp_path / "mixed")
    m = ingest(second, tmp_path / "mixed", engine=LOCAL2)
    assert counts(m) == counts(d)
    assert m.stored == 5000 and any("already recorded by an earlier ingest" in n for n in m.notes)
    same_workspaces(tmp_path / "duck", tmp_path / "mixed")
    ingest(first, tmp_path / "sparkfirst", engine=LOCAL2)
    ingest(second, tmp_path / "sparkfirst")
    same_workspaces(tmp_path / "duck", tmp_path / "sparkfirst")
    i = info(tmp_path / "sparkfirst")
    assert i["posts"] == 10_000 + 30 - 2 and i["ingests"]["runs"] == 2  # bad.csv: 30 rows, 2 of them rejected
    on_spark_made, on_duck_made = detect(tmp_path / "sparkfirst", write=False), detect(tmp_path / "duck", write=False)
    assert on_spark_made.flagged == on_duck_made.flagged
    assert on_spark_made.edges.num_rows == on_duck_made.edges.num_rows


@pytest.mark.spark
def test_the_cli_runs_on_spark_and_never_falls_back(spark, sim, tmp_path, monkeypatch):
    """With --engine spark the in-process reading and finishing must not run, and Spark's status tracker
    and its event log show the run's jobs and SQL."""
    from trollscope.ingest import _Run

    def refuse(*a, **k):
        raise AssertionError("the in-process DuckDB ingest ran under --engine spark")

    monkeypatch.setattr(_Run, "read_batch", refuse)
    monkeypatch.setattr(_Run, "finish", refuse)
    ws = tmp_path / "ws"
    res = CliRunner().invoke(
        cli, ["ingest", str(sim), "-w", str(ws), "--engine", "spark", "--spark-master", "local[2]", "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["stored"], out["duplicate"]) == (10_000, 5000)
    (params,) = rows(ws, "SELECT params FROM ingest_log")[0]
    assert json.loads(params)["engine"] == "spark local[2]"  # the ingest log says which engine ran
    group = f"trollscope-ingest-{out['ingest_id']}"
    jobs = spark.sparkContext.statusTracker().getJobIdsForGroup(group)
    assert len(jobs) >= 4
    events = spark_events(Path(spark.trollscope_event_log))
    ours = [
        e for e in events
        if e.get("Event", "").endswith("SQLExecutionStart") and out["ingest_id"] in json.dumps(e)
    ]  # fmt: skip
    plans = " ".join(e.get("physicalPlanDescription", "") for e in ours)
    assert len(ours) >= 4
    assert "MapInArrow" in plans  # the files were read by Python tasks
    assert "Window" in plans and "hashpartitioning(post_id" in plans  # the first occurrence of each id, in Spark SQL


def test_no_pyspark_is_one_line_naming_the_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    f = write_ioarchive(tmp_path / "a.csv", sample_rows(5))
    res = CliRunner().invoke(cli, ["ingest", str(f), "-w", str(tmp_path / "ws"), "--engine", "spark"])
    assert res.exit_code == 1
    assert res.output.strip().splitlines() == [
        "Error: --engine spark needs PySpark: pip install 'trollscope[spark]' (and Java 17)"
    ]


def test_no_java_is_one_line_naming_the_install(tmp_path, monkeypatch):
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    from trollscope import spark as sp

    monkeypatch.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))
    monkeypatch.setattr(sp.shutil, "which", lambda _name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    f = write_ioarchive(tmp_path / "a.csv", sample_rows(5))
    res = CliRunner().invoke(cli, ["ingest", str(f), "-w", str(tmp_path / "ws"), "--engine", "spark"])
    assert res.exit_code == 1
    (line,) = res.output.strip().splitlines()
    assert "openjdk-17-jre-headless" in line and "Traceback" not in res.output
    assert not (tmp_path / "ws" / "tables").exists()  # nothing written


def test_a_file_uri_names_a_local_workspace_and_object_stores_are_refused(tmp_path):
    f = write_ioarchive(tmp_path / "a.csv", sample_rows(5))
    r = ingest(str(f), (tmp_path / "ws").as_uri())
    assert r.stored == 5 and Workspace(tmp_path / "ws", create=False).files("posts")
    res = CliRunner().invoke(cli, ["ingest", str(f), "-w", "s3a://bucket/ws", "--engine", "spark"])
    assert res.exit_code == 1 and "s3a:// is not supported yet" in res.output
    assert len(res.output.strip().splitlines()) == 2  # the message, and where --debug shows more


def test_a_failed_task_is_reported_by_its_python_error():
    from trollscope.ingest_spark import _python_error

    report = (
        "An exception was thrown from the Python worker. Please see the stack trace below.\n"
        "Traceback (most recent call last):\n"
        '  File "/x/ingest.py", line 244, in write_parts\n'
        "_duckdb.IOException: IO Error: No space left on device\n"
        "\tat org.apache.spark.api.python.BasePythonRunner.handlePythonException(PythonRunner.scala:1)\n"
    )
    assert _python_error(RuntimeError(report)) == "_duckdb.IOException: IO Error: No space left on device"
    assert _python_error(RuntimeError("Job aborted.\nmore")) == "Job aborted."


@pytest.mark.spark
def test_platform_option_reaches_the_spark_tasks(spark, tmp_path):
    """`--platform` is a per-format option the driver decides; Spark's tasks read with it too."""
    path = tmp_path / "forum.csv"
    path.write_text(
        "post_id,handle,created_at,text\n1,Ann,2024-01-01T00:00:00Z,first\n2,bob,2024-01-01T00:05:00Z,next\n"
    )
    opts = ReadOptions(platform="vk")
    d = ingest(str(path), tmp_path / "duck", options=opts)
    s = ingest(str(path), tmp_path / "spark", options=opts, engine=LOCAL2)
    assert counts(s) == counts(d)
    same_workspaces(tmp_path / "duck", tmp_path / "spark")
    assert rows(tmp_path / "spark", "SELECT post_id, account_id, platform FROM posts ORDER BY 1") == [
        ("vk:1", "vk:ann", "vk"), ("vk:2", "vk:bob", "vk"),
    ]  # fmt: skip


@pytest.mark.spark
def test_typed_retweets_are_reposts_on_spark_too(spark, tmp_path):
    """The repost prefix (`RT @x:`, or `“@x:` after emoji) is a regular expression Spark runs in Java:
    the same kinds, originals and handles as DuckDB's, letters beyond ASCII included."""
    import csv

    texts = ["RT @alice: hello there", "😐 “@JetBlue: Our fleet's on fleek.”", '"@bob: a quoted one"',
             "İ “@bob: a letter first", "… “@Ünï: not a handle”", "¡“@bob: after punctuation", "plain text"]  # fmt: skip
    path = tmp_path / "typed.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["post_id", "handle", "created_at", "text"])
        w.writerows([str(i), "dan", f"2016-05-28T10:{i:02d}:00Z", t] for i, t in enumerate(texts))
    ingest(str(path), tmp_path / "duck")
    ingest(str(path), tmp_path / "spark", engine=LOCAL2)
    same_workspaces(tmp_path / "duck", tmp_path / "spark")
    got = rows(tmp_path / "spark", "SELECT post_id, kind, repost_of_handle FROM posts ORDER BY post_id::INT")
    assert [k for _, k, _ in got] == ["repost", "repost", "repost", "original", "original", "repost", "original"]
    assert [h for _, k, h in got if k == "repost"] == ["alice", "jetblue", "bob", "bob"]


def by_id_posts(path: Path, records: list[tuple[str, str, str]]) -> Path:
    """Pipe-delimited posts laid out as congress-2015-2018's: accounts named only by a numeric id."""
    body = "id|user|created_at|text|lang\n" + "".join(f"{i}|{u}|{t}|{x}|en\n" for i, u, x, t in [
        (i, u, x, f"Fri Apr 29 15:{m:02d}:48 +0000 2016") for m, (i, u, x) in enumerate(records)
    ])  # fmt: skip
    path.write_text(body)
    return path


def label_notes(r) -> list[str]:
    return [n for n in r.notes if "joined to" in n or "renamed from" in n]


@pytest.mark.spark
def test_labels_name_accounts_and_stored_posts_as_in_process(spark, tmp_path, monkeypatch):
    """A labels file with ids and handles, given on the second ingest: its labels join the accounts of
    the workspace and of the run, the run's posts (read in Spark tasks) and the stored ones get its
    handles, all in Spark SQL; the workspaces equal the in-process ones."""
    from trollscope.ingest import _Run

    first = by_id_posts(tmp_path / "one.psv", [("1", "101", "a"), ("2", "202", "b"), ("3", "303", "c")])
    second = by_id_posts(tmp_path / "two.psv", [("4", "101", "d"), ("5", "404", "e")])
    labels = tmp_path / "accounts.csv"
    labels.write_text("user_id,handle,party\n101,RepA,D\n202,@SenB,R\n999,Nobody,X\n")
    opts = ReadOptions(labels=str(labels))
    ingest(str(first), tmp_path / "duck")
    d = ingest([str(first), str(second)], tmp_path / "duck", options=opts)

    def refuse(*a, **k):
        raise AssertionError("the in-process labels join ran under --engine spark")

    for name in ("finish", "read_labels", "_name_stored_posts"):
        monkeypatch.setattr(_Run, name, refuse)
    ingest(str(first), tmp_path / "spark", engine=LOCAL2)
    s = ingest([str(first), str(second)], tmp_path / "spark", options=opts, engine=LOCAL2)
    assert counts(s) == counts(d) and (s.stored, s.duplicate) == (2, 3)
    assert (
        label_notes(s)
        == label_notes(d)
        == [
            f"{labels}: labels party joined to 2 accounts; 1 of its 3 rows name no account in the workspace; "
            "handles taken from its column 'handle'",
            "2 stored posts renamed from account id to handle",  # posts 1 and 2; 3 (an id the file has not) kept
        ]
    )
    same_workspaces(tmp_path / "duck", tmp_path / "spark")
    assert rows(tmp_path / "spark", "SELECT post_id, handle FROM posts ORDER BY 1") == [
        ("1", "RepA"), ("2", "SenB"), ("3", "303"), ("4", "RepA"), ("5", "404"),
    ]  # fmt: skip
    assert rows(tmp_path / "spark", "SELECT account_id, handle, labels FROM accounts ORDER BY 1") == [
        ("101", "RepA", {"party": "D"}), ("202", "SenB", {"party": "R"}), ("303", "303", None), ("404", "404", None),
    ]  # fmt: skip


@pytest.mark.spark
def test_labels_by_handle_merge_key_by_key_and_a_labels_file_alone(spark, tmp_path):
    """Labels by id with the posts, then labels by handle with no posts (the labels file as the only
    input): merged key by key into the accounts, as in-process; a labels file alone is not a failure."""
    f = write_ioarchive(tmp_path / "a.csv", sample_rows(8))
    (tmp_path / "by_id.csv").write_text("userid,party\n10,D\n11,R\n999,X\n")
    by_handle = tmp_path / "by_handle.csv"
    by_handle.write_text("handle,group\n@USER0,alpha\nuser2,beta\nnobody,gamma\n")
    results = {}
    for name, engine in (("duck", None), ("spark", LOCAL2)):
        ingest(str(f), tmp_path / name, options=ReadOptions(labels=str(tmp_path / "by_id.csv")), engine=engine)
        results[name] = ingest(
            str(by_handle), tmp_path / name, options=ReadOptions(labels=str(by_handle)), engine=engine
        )
    d, s = results["duck"], results["spark"]
    assert counts(s) == counts(d) == (0, 0, 0, 0, 0, {})
    assert s.failure is None and d.failure is None and s.labelled == d.labelled == 2
    assert (
        label_notes(s)
        == label_notes(d)
        == [f"{by_handle}: labels group joined to 2 accounts; 1 of its 3 rows name no account in the workspace"]
    )
    same_workspaces(tmp_path / "duck", tmp_path / "spark")
    got = dict(rows(tmp_path / "spark", "SELECT handle, labels FROM accounts"))
    assert got["user0"] == {"group": "alpha", "party": "D"} and got["user1"] == {"party": "R"}
    assert got["user2"] == {"group": "beta"} and got["user3"] is None


@pytest.mark.spark
def test_a_bad_labels_file_is_the_same_error_and_writes_nothing(spark, tmp_path):
    f = write_ioarchive(tmp_path / "a.csv", sample_rows(5))
    (tmp_path / "no_account.csv").write_text("colour,size\nred,1\n")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 4)
    for bad, what in (("no_account.csv", "no account column among colour, size"), ("binary.csv", "sniffing")):
        errors = []
        for name, engine in (("duck", None), ("spark", LOCAL2)):
            with pytest.raises(Exception, match=what) as e:
                ingest(str(f), tmp_path / name, options=ReadOptions(labels=str(tmp_path / bad)), engine=engine)
            errors.append((type(e.value), str(e.value)))
            assert not Workspace(tmp_path / name).tables()  # nothing written
        assert errors[0] == errors[1]
        assert str(tmp_path / bad) in errors[1][1]


@pytest.mark.spark
@pytest.mark.real_data
def test_congress_with_its_labels_file_same_on_both_engines(spark, shared, tmp_path):
    """congress-2015-2018 names its accounts by numeric id only; its accounts.csv gives the handles."""
    d = shared / "congress-2015-2018"
    opts = ReadOptions(labels=str(d / "accounts.csv"))
    duck = ingest(str(d), tmp_path / "duck", options=opts)
    s = ingest(str(d), tmp_path / "spark", options=opts, engine=LOCAL2)
    assert counts(s) == counts(duck) and s.stored == 150_457 and label_notes(s) == label_notes(duck)
    same_workspaces(tmp_path / "duck", tmp_path / "spark")
    handles = dict(line.split(",")[:2] for line in (d / "accounts.csv").read_text().splitlines()[1:])
    got = dict(rows(tmp_path / "spark", "SELECT account_id, any_value(handle) FROM posts GROUP BY 1"))
    assert got == {k: v for k, v in handles.items() if k in got} and len(got) == 245
