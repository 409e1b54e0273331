"""CLI conventions that hold for every command."""

from __future__ import annotations

import gzip
import json

import click
import pytest
from click.testing import CliRunner
from helpers import sample_rows, write_ioarchive

from trollscope.cli import main


def _commands() -> list[str]:
    """Every leaf command, groups walked (e.g. "classify train")."""
    ctx = click.Context(main)
    out = []
    for name in main.list_commands(ctx):
        cmd = main.get_command(ctx, name)
        if isinstance(cmd, click.Group):
            out += [f"{name} {sub}" for sub in cmd.list_commands(ctx)]
        else:
            out.append(name)
    return sorted(out)


def _command(path: str) -> click.Command:
    cmd, ctx = main, click.Context(main)
    for part in path.split():
        cmd = cmd.get_command(ctx, part)
    return cmd


def test_lazy_command_table_names_every_command_once():
    from trollscope import cli

    ctx = click.Context(main)
    listed = main.list_commands(ctx)
    assert all(main.get_command(ctx, n).name == n for n in listed)
    assert sorted(main.commands) == listed  # every module loaded: nothing it defines is missing from the table
    names = [n for group in cli.COMMANDS.values() for n in group]
    assert len(names) == len(set(names))


def test_a_command_loads_only_its_own_stage():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from trollscope.cli import main\n"
        "r = CliRunner().invoke(main, ['ingest', '--help'])\n"
        "assert r.exit_code == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith('trollscope.') and m.count('.') == 1))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "trollscope.detect" not in out and "trollscope.classify" not in out and "trollscope.ingest" in out


@pytest.mark.parametrize("name", _commands())
def test_every_command_has_help_with_an_example(name):
    r = CliRunner().invoke(main, [*name.split(), "--help"])
    assert r.exit_code == 0
    assert "Example" in r.output, f"`trollscope {name} --help` has no example"


@pytest.mark.parametrize("name", _commands())
def test_every_command_takes_json(name):
    params = {p.name for p in _command(name).params}
    assert "as_json" in params, f"{name} has no --json"


def test_ingest_json_is_the_only_stdout(tmp_path):
    f = write_ioarchive(tmp_path / "a.csv", sample_rows(10))
    r = CliRunner().invoke(main, ["ingest", str(f), "-w", str(tmp_path / "ws"), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["records"] == d["stored"] + d["rejected"] + d["duplicate"] == 10
    assert {"files", "seconds"} <= set(d)


def test_ingest_of_a_partial_download_says_so_and_succeeds(tmp_path):
    data = write_ioarchive(tmp_path / "a.csv", sample_rows(2000)).read_bytes()
    packed = gzip.compress(data)
    cut = tmp_path / "partial.csv.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    r = CliRunner().invoke(main, ["ingest", str(cut), "-w", str(tmp_path / "ws")])
    assert r.exit_code == 0, r.output
    assert "broken compressed stream" in r.output and "partial download" in r.output and str(cut) in r.output
    assert "Traceback" not in r.output


def test_info_json_and_text(tmp_path):
    f = write_ioarchive(tmp_path / "a.csv", sample_rows(10))
    ws = str(tmp_path / "ws")
    CliRunner().invoke(main, ["ingest", str(f), "-w", ws])
    d = json.loads(CliRunner().invoke(main, ["info", "-w", ws, "--json"]).stdout)
    assert d["posts"] == 10 and d["accounts"] == 4
    text = CliRunner().invoke(main, ["info", "-w", ws]).output
    assert "10 posts by 4 accounts" in text


def test_workspace_from_environment(tmp_path, monkeypatch):
    f = write_ioarchive(tmp_path / "a.csv", sample_rows(5))
    monkeypatch.setenv("TROLLSCOPE_WORKSPACE", str(tmp_path / "envws"))
    r = CliRunner().invoke(main, ["ingest", str(f)])
    assert r.exit_code == 0
    assert (tmp_path / "envws" / "workspace.json").exists()


def test_errors_are_one_line_without_traceback(tmp_path):
    r = CliRunner().invoke(main, ["info", "-w", str(tmp_path / "missing")])
    assert r.exit_code == 1
    assert "Traceback" not in r.output
    assert "no workspace at" in r.stderr and "trollscope ingest" in r.stderr
    r = CliRunner().invoke(main, ["ingest", str(tmp_path / "nothing*.csv"), "-w", str(tmp_path / "ws")])
    assert r.exit_code == 1 and "nothing*.csv" in r.stderr and "Traceback" not in r.output


def test_debug_shows_the_traceback(tmp_path):
    r = CliRunner().invoke(main, ["--debug", "info", "-w", str(tmp_path / "missing")])
    assert r.exit_code == 1 and "Traceback" in r.stderr


def test_bad_map_option(tmp_path):
    f = write_ioarchive(tmp_path / "a.csv", sample_rows(5))
    r = CliRunner().invoke(main, ["ingest", str(f), "--map", "text"])
    assert r.exit_code == 2 and "CANONICAL=SOURCE" in r.output


def test_reader_options_reach_ingest(tmp_path):
    rows = sample_rows(6)
    rows[1]["tweet_text"] = "café"
    f = write_ioarchive(tmp_path / "a.csv", rows)
    f.write_bytes(f.read_text(encoding="utf-8").encode("latin-1"))
    (tmp_path / "labels.csv").write_text("userid,party\n10,D\n")
    ws = str(tmp_path / "ws")
    args = ["ingest", str(f), "-w", ws, "--encoding", "latin-1", "--labels", str(tmp_path / "labels.csv"), "--json"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert (d["stored"], d["rejected"]) == (6, 0)  # read as latin-1: nothing rejected for encoding
    assert any("joined to 1 accounts" in n for n in d["notes"])
    r = CliRunner().invoke(main, ["ingest", str(f), "-w", ws, "--format", "nope"])
    assert r.exit_code == 2 and "nope" in r.output
