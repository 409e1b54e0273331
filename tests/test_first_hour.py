"""What a new user meets in the first hour: honest exit codes, rejects a person can read, one way
to print numbers, a run that says why it stopped, messages said once."""

from __future__ import annotations

import csv
import itertools
import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import IOARCHIVE_HEADER, sample_rows, write_ioarchive

import trollscope as ts
from trollscope.cli import main
from trollscope.cli._common import cell, plural
from trollscope.cli._format import evidence_lines, fmt_p, fmt_span


def _cli(*args: str):
    return CliRunner().invoke(main, list(args))


def _airline_like(path: Path, n: int = 6) -> Path:
    """A generic CSV whose timestamps no built-in format reads (`24-02-2015 11.35`)."""
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["tweet_id", "name", "text", "tweet_created"])
        for i in range(n):
            w.writerow([str(100 + i), f"user{i % 2}", f"text {i}", f"24-02-2015 11.{i:02d}"])
    return path


# -- exit codes ------------------------------------------------------------------------------------


def test_ingest_that_stores_nothing_exits_1_with_the_reason(tmp_path):
    f = _airline_like(tmp_path / "t.csv")
    r = _cli("ingest", str(f), "-w", str(tmp_path / "ws"))
    assert r.exit_code == 1
    assert "nothing stored: all 6 records were rejected" in r.stderr
    assert "give --time-format '%d-%m-%Y %H.%M'" in r.stderr  # the format that reads them, not a guess to edit
    # given the format, the same file stores every record and exits 0
    r = _cli("ingest", str(f), "-w", str(tmp_path / "ws"), "--time-format", "%d-%m-%Y %H.%M")
    assert r.exit_code == 0, r.output
    assert "6 stored" in r.stdout
    # read again: every record already stored is not a failure
    r = _cli("ingest", str(f), "-w", str(tmp_path / "ws"), "--time-format", "%d-%m-%Y %H.%M")
    assert r.exit_code == 0 and "0 stored" in r.stdout and "6 duplicate" in r.stdout


def test_ingest_of_nothing_recognised_exits_1(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("just some words\nwith no delimiter at all\n")
    r = _cli("ingest", str(f), "-w", str(tmp_path / "ws"), "--json")
    assert r.exit_code == 1
    d = json.loads(r.stdout)  # --json still prints the document, and stdout holds nothing else
    assert d["stored"] == 0 and d["failure"].startswith("nothing stored")


def test_partial_ingest_exits_0_and_says_how_much_was_rejected(tmp_path):
    rows = sample_rows(10)
    rows[3]["tweet_time"] = "not a date"
    f = write_ioarchive(tmp_path / "a.csv", rows)
    r = _cli("ingest", str(f), "-w", str(tmp_path / "ws"))
    assert r.exit_code == 0
    assert "9 stored, 1 rejected" in r.stdout


def test_run_says_why_ingest_stored_nothing(tmp_path):
    f = _airline_like(tmp_path / "t.csv")
    r = _cli("run", str(f), "-o", str(tmp_path / "out"), "-q")
    assert r.exit_code == 1
    assert "nothing stored" in r.stderr and "--time-format" in r.stderr
    assert "no posts" not in r.stderr and "Traceback" not in r.output


# -- rejects a person can read ---------------------------------------------------------------------


def _broken_archive(tmp_path: Path) -> tuple[Path, list[str]]:
    f = write_ioarchive(tmp_path / "a.csv", sample_rows(8))
    lines = f.read_text().splitlines()
    lines.insert(3, "999,1,x,2016-01-01 00:00,too,few")  # record 3: too few fields
    lines.insert(6, "998,1,y,not a date," + ",".join([""] * (len(IOARCHIVE_HEADER) - 4)))  # record 6
    f.write_text("\n".join(lines) + "\n")
    return f, lines


def test_ingest_prints_the_first_rejects_with_file_line_and_text(tmp_path, monkeypatch):
    f, _ = _broken_archive(tmp_path)
    monkeypatch.chdir(tmp_path)
    r = _cli("ingest", str(f), "-w", str(tmp_path / "ws"))
    assert r.exit_code == 0
    out = r.stdout
    assert re.search(r"^  a\.csv:3: too few fields: 6 where the header names 15; a field holds a line break", out, re.M)
    assert "999,1,x,2016-01-01 00:00,too,few" in out
    assert re.search(r"^  a\.csv:6: bad date: not a date", out, re.M)
    assert "MISSING COLUMNS" not in out and "trollscope info" in out and "--rejects" in out


def test_info_rejects_lists_them_all_and_writes_them(tmp_path):
    f, _ = _broken_archive(tmp_path)
    other = tmp_path / "other.txt"
    other.write_text("alpha\nbeta\ngamma\n")  # no reader knows it: rejected whole, 3 records
    ws = tmp_path / "ws"
    r = ts.ingest([str(f), str(other)], ws)
    assert r.rejected == 2 + 3  # a file rejected whole counts its records, not 1
    assert r.records == r.stored + r.rejected + r.duplicate
    out = tmp_path / "rejects.csv"
    res = _cli("info", "-w", str(ws), "--rejects", "--output", str(out))
    assert res.exit_code == 0, res.output
    assert "5 rejected records" in res.stdout
    assert re.search(r"other\.txt:1-3 \(3 records\): unknown format", res.stdout)
    with open(out, newline="") as fh:
        written = list(csv.DictReader(fh))
    assert len(written) == 5
    assert sorted((Path(w["source_file"]).name, int(w["source_line"])) for w in written) == [
        ("a.csv", 3), ("a.csv", 6), ("other.txt", 1), ("other.txt", 2), ("other.txt", 3)
    ]  # fmt: skip
    # read again: the run counts them, the table does not hold them twice
    again = ts.ingest([str(f), str(other)], ws)
    assert again.rejected == 5 and any("already recorded" in n for n in again.notes)
    assert ts.info(ws)["reject_reasons"] == {"too few fields": 1, "bad date": 1, "unknown format": 3}
    assert "--output writes the rejects" in _cli("info", "-w", str(ws), "--output", str(out)).output


# -- printing ----------------------------------------------------------------------------------------


def test_numbers_and_counts_print_one_way():
    assert cell(1272) == "1,272" and cell(None) == "" and cell("x") == "x"
    assert plural(1, "account") == "1 account" and plural(1272, "account") == "1,272 accounts"
    assert fmt_p(0.0) == "< 1e-300" and fmt_p(1e-320) == "< 1e-300" and fmt_p(2.4e-11) == "2.4e-11"
    assert fmt_span(None, None) == "" and "None" not in fmt_span("2016-01-01 10:00:00", None)


def test_evidence_shows_what_the_posts_said_not_their_ids():
    e = {"layer": "co-repost", "handle_a": "a", "handle_b": "b", "post_a": "111", "post_b": "222",
         "time_a": "2016-01-01 10:00:00", "seconds_apart": 29.0, "item": "999"}  # fmt: skip
    lines = "\n".join(evidence_lines([e], {"111": "RT @x: the shared text", "222": "RT @x: the shared text"}))
    assert "@a and @b, 29 s apart" in lines and '"RT @x: the shared text"' in lines
    assert "111" not in lines and "999" not in lines


def test_info_says_1_account_and_no_none_dates(tmp_path):
    write_ioarchive(tmp_path / "a.csv", [sample_rows(1)[0]])
    ts.ingest(str(tmp_path / "a.csv"), tmp_path / "ws")
    out = _cli("info", "-w", str(tmp_path / "ws")).stdout
    assert "1 post by 1 account" in out and "None" not in out


# -- investigations --------------------------------------------------------------------------------


@pytest.fixture
def organic_ws(tmp_path: Path) -> Path:
    """Accounts posting on their own: detection has nothing to flag."""
    rows = []
    for i in range(60):
        rows.append({"tweetid": str(i), "userid": str(i % 6), "user_screen_name": f"person{i % 6}",
                     "tweet_time": f"2016-0{1 + i % 9}-{1 + i % 27:02d} {i % 24:02d}:00",
                     "tweet_text": f"my own thought number {i} #topic{i % 5}", "is_retweet": "False"})  # fmt: skip
    write_ioarchive(tmp_path / "data" / "a.csv", rows)
    return tmp_path / "data"


def test_no_flagged_account_is_said_once_with_what_to_try(organic_ws, tmp_path):
    r = _cli("run", str(organic_ws), "-o", str(tmp_path / "out"), "-q")
    assert r.exit_code == 0, r.output
    assert "0 flagged accounts" in r.stdout
    said = [line for line in r.stdout.splitlines() if "flagged no account" in line]
    assert len(said) == 1 and "timeline, targeting, narratives, amplifiers" in said[0]
    assert "--accounts all" in said[0] and "pass --accounts flagged" not in r.stdout


def test_targeting_table_adds_up(tmp_path):
    rows = []
    texts = ["#maga #tcot build the wall", "#blacklivesmatter #resist", "#maga and #resist", "lunch"]
    for i in range(48):
        user = i % 6
        rows.append({"tweetid": str(i), "userid": str(user), "user_screen_name": f"u{user}",
                     "tweet_time": f"2016-03-{1 + i % 28:02d} 10:00", "is_retweet": "False",
                     "tweet_text": texts[(user + (i % 3 == 0)) % 4] if user < 5 else texts[3]})  # fmt: skip
    write_ioarchive(tmp_path / "a.csv", rows)
    ts.ingest(str(tmp_path / "a.csv"), tmp_path / "ws")
    out = _cli("targeting", "-w", str(tmp_path / "ws"), "--accounts", "all", "--no-sentiment").stdout
    row = next(line for line in out.splitlines() if line.startswith("(whole operation)")).split()
    accounts, political, left, right, mixed = (int(x.replace(",", "")) for x in row[2:4] + row[5:8])
    sides = [int(x) for x in row[-1].split("/")]
    assert accounts == 6 and sum(sides) == accounts
    assert political == left + right + mixed and mixed > 0
    assert "too few" in out


def test_label_column_alone_selects_every_labelled_account(tmp_path):
    rows = sample_rows(12)
    write_ioarchive(tmp_path / "a.csv", rows)
    labels = tmp_path / "labels.csv"
    labels.write_text("userid,team\n10,red\n11,blue\n")
    ts.ingest(str(tmp_path / "a.csv"), tmp_path / "ws", options=ts.ReadOptions(labels=str(labels)))
    r = _cli("timeline", "-w", str(tmp_path / "ws"), "--accounts", "label:team", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["operation"]["accounts"] == 2  # the two labelled accounts of four


def test_run_takes_detection_and_investigation_options(tmp_path):
    from trollscope.simulate import simulate

    simulate(posts=5_000, seed=3, out=tmp_path / "data")
    out = tmp_path / "out"
    r = _cli("run", str(tmp_path / "data"), "-o", str(out), "-q", "--json", "--layers", "co-repost,co-post",
             "--window", "60s", "--alpha", "0.001", "--seed", "7", "--freq", "day", "--events", "none")  # fmt: skip
    assert r.exit_code == 0, r.output
    m = json.loads((out / "workspace" / "workspace.json").read_text())["params"]
    assert m["detect"]["layers"] == ["co-repost", "co-post"] and m["detect"]["alpha"] == 0.001
    assert m["detect"]["window"] == [60] and m["detect"]["seed"] == 7  # scales, as detect records them
    assert m["run"]["freq"] == "day" and m["run"]["events"] is None
    assert "--window 60s" in m["run"]["command"] and "--freq day" in m["run"]["command"]
    with open(out / "exports" / "timeline.csv", newline="") as fh:
        periods = sorted({date.fromisoformat(row["period"][:10]) for row in csv.DictReader(fh)})
    assert min(b - a for a, b in itertools.pairwise(periods)) == timedelta(days=1)  # daily, not weekly


def test_report_escapes_what_the_data_says(tmp_path):
    from trollscope.pipeline import run

    rows = sample_rows(40)
    for x in rows:
        x["user_screen_name"] = "<i>x" + x["user_screen_name"]
        x["tweet_text"] = "<script>alert(1)</script> " + x["tweet_text"] + " #<b>bold</b> fracking"
    write_ioarchive(tmp_path / "data" / "a.csv", rows)
    run([str(tmp_path / "data")], tmp_path / "out", accounts="all", terms="<img src=x onerror=alert(1)>,fracking",
        command="trollscope run '<script>x</script>'")  # fmt: skip
    page = (tmp_path / "out" / "report.html").read_text()
    for raw in ("<script>alert", "<img src=x", "<i>x", "<b>bold", "<script>x"):
        assert raw not in page, raw
    assert "&lt;script&gt;x&lt;/script&gt;" in page  # the command is shown, escaped


def test_report_prints_p_values_below_double_precision_as_a_bound():
    from trollscope.report.build import fmt

    assert fmt(0.0, "p") == "< 1e-300" and fmt(3e-12, "p") == "3e-12" and fmt(0.04, "p") == "0.04"


def test_time_format_guess_reads_every_value():
    import duckdb

    from trollscope.readers.generic import guess_time_format

    con = duckdb.connect()
    assert guess_time_format(["24-02-2015 11.35", "01-03-2015 09.05"], con) == "%d-%m-%Y %H.%M"
    assert guess_time_format(["02/24/2015 11:35:10"], con) == "%m/%d/%Y %H:%M:%S"  # a month-first date
    assert guess_time_format(["2015.02.24"], con) == "%Y.%m.%d"
    assert guess_time_format(["yesterday"], con) is None


def test_closed_stdout_stops_quietly(tmp_path):
    """`trollscope info | head`: no "Error: Broken pipe", exit 141 as docs/cli.md says."""
    import os
    import subprocess
    import sys

    rows = [{"tweetid": str(i), "userid": str(i), "user_screen_name": f"user{i}", "tweet_time": "2016-01-01 10:00",
             "tweet_text": "hello", "is_retweet": "False"} for i in range(5000)]  # fmt: skip
    write_ioarchive(tmp_path / "a.csv", rows)
    ts.ingest(str(tmp_path / "a.csv"), tmp_path / "ws")
    env = {**os.environ, "PYTHONPATH": str(Path(ts.__file__).parents[1])}
    p = subprocess.Popen(
        [sys.executable, "-m", "trollscope", "info", "-w", str(tmp_path / "ws"), "--top", "5000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    assert p.stdout.readline().startswith(b"workspace ")
    p.stdout.close()
    err = p.stderr.read()
    assert p.wait() == 141 and b"Error" not in err
