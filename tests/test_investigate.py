"""Investigation: choosing the operation, results, and the CLI. Also the builders the other
``test_investigate_*`` files use: small information-operations archives written with Python's
csv module, so every expected value below is counted by hand from the rows written here."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from trollscope.cli import main
from trollscope.ingest import ingest
from trollscope.investigate import SelectionError, amplifiers, narratives, targeting, timeline
from trollscope.investigate.selection import open_operation
from trollscope.workspace import Workspace

COLUMNS = [
    "tweetid",
    "userid",
    "user_screen_name",
    "tweet_time",
    "tweet_text",
    "is_retweet",
    "retweet_userid",
    "retweet_tweetid",
    "in_reply_to_tweetid",
    "in_reply_to_userid",
    "quoted_tweet_tweetid",
    "user_reported_location",
]


def post(i: int, user: str, time: str, text: str, **kw: str) -> dict:
    """One archive row; ``user`` is both the id (``u_<user>``) and the handle."""
    return {
        "tweetid": str(i),
        "userid": f"u_{user}",
        "user_screen_name": user,
        "tweet_time": time,
        "tweet_text": text,
        "is_retweet": "False",
        **kw,
    }


def retweet(i: int, user: str, time: str, of_user: str, of_id: int, text: str = "hello") -> dict:
    return post(
        i,
        user,
        time,
        f"RT @{of_user}: {text}",
        is_retweet="True",
        retweet_userid=f"u_{of_user}",
        retweet_tweetid=str(of_id),
    )


def make_ws(tmp_path: Path, rows: list[dict], name: str = "ws") -> Path:
    """Write ``rows`` as an archive CSV and ingest it; returns the workspace path."""
    src = tmp_path / f"{name}.csv"
    with open(src, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in COLUMNS})
    ws = tmp_path / name
    result = ingest([str(src)], ws)
    assert result.stored == len(rows), result
    return ws


def accounts_file(tmp_path: Path, lines: list[str], name: str = "op.txt") -> Path:
    f = tmp_path / name
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f


@pytest.fixture
def small_ws(tmp_path: Path) -> Path:
    """Four accounts: alice and bob (location 'Left'), carol ('Right'), dave (no label); dave reposts alice."""
    rows = [
        post(1, "alice", "2016-01-04 10:00:00", "first #blacklivesmatter", user_reported_location="Left"),
        post(2, "bob", "2016-01-05 10:00:00", "hello world", user_reported_location="Left"),
        post(3, "carol", "2016-01-06 10:00:00", "#maga all day", user_reported_location="Right"),
        retweet(4, "dave", "2016-01-07 10:00:00", "alice", 1, "first #blacklivesmatter"),
    ]
    return make_ws(tmp_path, rows)


# -- selection -------------------------------------------------------------------------------------


def _op(ws: Path, accounts, by=None):
    _, con, op = open_operation(ws, accounts, by)
    members = dict(con.execute("SELECT account_id, grp FROM op ORDER BY account_id").fetchall())
    con.close()
    return op, members


def test_label_selection_is_case_insensitive_and_takes_several_values(small_ws):
    op, members = _op(small_ws, "label:user_reported_location=left")
    assert members == {"u_alice": "operation", "u_bob": "operation"}
    op, members = _op(small_ws, "label:user_reported_location=Left,RIGHT", by="label:user_reported_location")
    assert members == {"u_alice": "Left", "u_bob": "Left", "u_carol": "Right"}
    assert op.groups == {"Left": 2, "Right": 1}


def test_label_without_value_takes_every_labelled_account(small_ws):
    _, members = _op(small_ws, "label:user_reported_location")
    assert set(members) == {"u_alice", "u_bob", "u_carol"}


def test_all_and_file_selection(small_ws, tmp_path):
    _, members = _op(small_ws, "all")
    assert set(members) == {"u_alice", "u_bob", "u_carol", "u_dave"}
    # handles with or without @, any case; ids; comments and blank lines; an unknown entry is noted
    f = accounts_file(tmp_path, ["# my list", "@Alice", "", "u_carol", "nobody"])
    op, members = _op(small_ws, str(f))
    assert set(members) == {"u_alice", "u_carol"}
    assert any("nobody" in n and "1 of 3" in n for n in op.notes)


def test_csv_file_with_a_group_column(small_ws, tmp_path):
    f = accounts_file(tmp_path, ["handle,side", "alice,L", "carol,R", "dave,R"], "op.csv")
    _, members = _op(small_ws, str(f), by="label:side")
    assert members == {"u_alice": "L", "u_carol": "R", "u_dave": "R"}


def test_groups_fall_back_to_none_for_unlabelled_accounts(small_ws):
    _, members = _op(small_ws, "all", by="label:user_reported_location")
    assert members["u_dave"] == "(none)"


def test_no_choice_without_detection_says_what_to_pass(small_ws):
    with pytest.raises(SelectionError) as e:
        _op(small_ws, None)
    msg = str(e.value)
    assert "--accounts flagged" in msg and "label:user_reported_location=" in msg and "FILE" in msg


def test_flagged_without_detection_says_run_detect(small_ws):
    with pytest.raises(SelectionError, match="run `trollscope detect"):
        _op(small_ws, "flagged")
    with pytest.raises(SelectionError, match="run `trollscope detect"):
        _op(small_ws, "all", by="cluster")


def _write_scores(ws_path: Path, table: pa.Table) -> None:
    ws = Workspace(ws_path)
    with ws.transaction() as txn:
        f = txn.new_file("account_scores")
        pq.write_table(table, f)
        txn.append("account_scores", [f])


def test_flagged_and_cluster_groups_from_detection(small_ws):
    _write_scores(
        small_ws,
        pa.table(
            {"account_id": ["u_alice", "u_bob", "u_carol"], "cluster_id": [1, 1, None], "flagged": [True, True, False]}
        ),
    )
    _, members = _op(small_ws, "flagged", by="cluster")
    assert members == {"u_alice": "1", "u_bob": "1"}
    _, members = _op(small_ws, None)  # flagged is the default once detection has run
    assert set(members) == {"u_alice", "u_bob"}


def test_bad_choices_are_explained(small_ws):
    with pytest.raises(SelectionError, match="labels are: user_reported_location"):
        _op(small_ws, "label:party=D")
    with pytest.raises(SelectionError, match="selects no account"):
        _op(small_ws, "label:user_reported_location=Nowhere")
    with pytest.raises(SelectionError, match="not `flagged`"):
        _op(small_ws, "no-such-file.txt")
    with pytest.raises(SelectionError, match="label:COLUMN"):
        _op(small_ws, "all", by="party")


# -- results and the CLI ------------------------------------------------------------------------------


def test_write_csv_and_parquet_with_sibling_tables(small_ws, tmp_path):
    r = timeline(small_ws, "all", freq="day", events=None)
    written = r.write(tmp_path / "out.csv")
    assert written[0] == tmp_path / "out.csv"
    assert {p.name for p in written} >= {"out.csv", "out.onset.csv", "out.bursts.csv"}
    with open(tmp_path / "out.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sum(int(r["posts"]) for r in rows) == 4
    written = r.write(tmp_path / "t.parquet")
    assert pq.read_table(written[0]).num_rows == r.volume.num_rows
    with pytest.raises(ValueError, match=r"csv or \.parquet"):
        r.write(tmp_path / "t.xlsx")


@pytest.mark.parametrize("command", ["timeline", "targeting", "narratives", "amplifiers"])
def test_cli_json_is_the_api_result(small_ws, command):
    runner = CliRunner()
    r = runner.invoke(main, [command, "-w", str(small_ws), "--accounts", "all", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    api = {"timeline": timeline, "targeting": targeting, "narratives": narratives, "amplifiers": amplifiers}[command]
    expected = api(small_ws, "all")
    assert set(d["frames"]) == set(expected.frames())
    for name, t in expected.frames().items():
        assert len(d["frames"][name]) == t.num_rows, name
    assert d["chart"]["$schema"].startswith("https://vega.github.io/schema/vega-lite")
    assert d["operation"]["accounts"] == 4


@pytest.mark.parametrize("command", ["timeline", "targeting", "narratives", "amplifiers"])
def test_cli_text_output_and_file(small_ws, tmp_path, command):
    out = tmp_path / f"{command}.parquet"
    r = CliRunner().invoke(main, [command, "-w", str(small_ws), "--accounts", "all", "--output", str(out)])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("operation: all — 4 accounts")
    assert out.exists()


def test_cli_explains_a_missing_operation(small_ws):
    r = CliRunner().invoke(main, ["timeline", "-w", str(small_ws)])
    assert r.exit_code == 1
    assert "--accounts flagged" in r.output and "Traceback" not in r.output


def test_cli_help_has_unwrapped_examples():
    for command in ("timeline", "targeting", "narratives", "amplifiers"):
        r = CliRunner().invoke(main, [command, "--help"])
        assert r.exit_code == 0
        assert f"trollscope {command} -w" in r.output


def test_a_group_without_posts_gets_zero_rows_everywhere(small_ws):
    _write_scores(small_ws, pa.table({"account_id": ["u_alice", "u_carol", "ghost"], "cluster_id": [1, 1, 2],
                                      "flagged": [True, True, True]}))  # fmt: skip
    tl = timeline(small_ws, "flagged", "cluster", events=None)
    assert {o["grp"]: o["posts"] for o in tl.onset.to_pylist()} == {"1": 2, "2": 0}
    tg = targeting(small_ws, "flagged", "cluster", sentiment=False)
    groups = {g["grp"]: g for g in tg.groups.to_pylist()}
    assert groups["2"]["posts"] == 0 and groups["2"]["both_sides"] is None
    assert (groups["1"]["left_posts"], groups["1"]["right_posts"]) == (1, 1)  # #blacklivesmatter, #maga
    nr = narratives(small_ws, "flagged", "cluster", terms="blacklivesmatter")
    assert {(g["grp"], g["posts"]) for g in nr.by_group.to_pylist()} == {("1", 1), ("2", 0)}
    am = amplifiers(small_ws, "flagged", "cluster")
    assert [(a["handle"], a["reposts"]) for a in am.inbound.to_pylist()] == [("dave", 1)]
