"""One vocabulary of options: every command's --help walked; each option has help text, and a flag
name means one thing (one type, one default) in every command that takes it."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import click
from click.testing import CliRunner

from trollscope.cli import main
from trollscope.cli._common import EXIT_CODES

DOCS = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def _commands() -> dict[str, click.Command]:
    """Every leaf command by its full name ("classify train"), groups walked."""
    ctx = click.Context(main)
    out: dict[str, click.Command] = {}
    for name in main.list_commands(ctx):
        cmd = main.get_command(ctx, name)
        if isinstance(cmd, click.Group):
            out |= {f"{name} {sub}": cmd.get_command(ctx, sub) for sub in cmd.list_commands(ctx)}
        else:
            out[name] = cmd
    return out


def _options(cmd: click.Command) -> list[click.Option]:
    return [p for p in cmd.params if isinstance(p, click.Option)]


def _meaning(p: click.Option) -> tuple:
    """What a flag means, as far as a user can tell: its kind of value and its default. A folder or a
    file is one meaning whatever its default name (`run` needs -o, `demo` has one)."""
    t = p.type
    if isinstance(t, click.Path):
        kind: tuple = ("path", t.file_okay, t.dir_okay)
        default = None
    elif isinstance(t, click.Choice):
        kind, default = ("choice", tuple(t.choices)), p.default
    else:
        kind, default = (t.name,), None if callable(p.default) else p.default
    if type(default).__name__ == "Sentinel":  # click's "not given"
        default = None
    return (*kind, p.multiple, p.is_flag, default)


def test_every_command_help_lists_only_options_with_help_text():
    for name, cmd in _commands().items():
        r = CliRunner().invoke(main, [*name.split(), "--help"])
        assert r.exit_code == 0, name
        for p in _options(cmd):
            assert p.help and p.help.strip(), f"`trollscope {name}`: {'/'.join(p.opts)} has no help text"
            assert p.opts[-1] in r.output, f"`trollscope {name} --help` does not show {p.opts[-1]}"


def test_a_flag_name_has_one_meaning_in_every_command():
    meanings: dict[str, dict[tuple, list[str]]] = defaultdict(lambda: defaultdict(list))
    for name, cmd in _commands().items():
        for p in _options(cmd):
            for flag in p.opts + p.secondary_opts:
                meanings[flag][_meaning(p)].append(name)
    clashes = {flag: {str(k): v for k, v in m.items()} for flag, m in meanings.items() if len(m) > 1}
    assert not clashes, f"flags used with two meanings: {clashes}"


def test_a_short_flag_stands_for_one_long_flag():
    longs: dict[str, set[str]] = defaultdict(set)
    for cmd in _commands().values():
        for p in _options(cmd):
            for short in (o for o in p.opts if not o.startswith("--")):
                longs[short] |= {o for o in p.opts if o.startswith("--")}
    assert all(len(v) == 1 for v in longs.values()), dict(longs)
    assert longs["-o"] == {"--out"}  # -o is always a folder; one file is --output


def test_same_option_same_default():
    """The defaults the first hour trips on, spelled out: a seed, how many to list, how often to count."""
    defaults: dict[str, set] = defaultdict(set)
    for cmd in _commands().values():
        for p in _options(cmd):
            defaults[p.opts[-1]].add(p.default)
    assert defaults["--seed"] == {42} and defaults["--top"] == {20}
    assert defaults["--freq"] == {"week"} and defaults["--bootstrap"] == {1000}


def test_the_operation_and_ground_truth_have_one_name():
    """--accounts selects accounts wherever a command takes some; --truth is ground truth; --labels
    is only ever labels joined into the workspace."""
    for name, cmd in _commands().items():
        flags = {o for p in _options(cmd) for o in p.opts}
        for p in _options(cmd):
            if "--labels" in p.opts:
                assert "join" in p.help, name
            if "--accounts" in p.opts:
                assert p.type.name == "text", name
        if name in ("evaluate", "classify train", "classify evaluate"):
            assert "--truth" in flags, name
        assert "--to" not in flags, name


def test_docs_list_every_command_shared_option_and_exit_code():
    text = DOCS.read_text()
    for name in _commands():
        assert f"`{name}`" in text, f"docs/cli.md does not list `trollscope {name}`"
    users: dict[str, set[str]] = defaultdict(set)
    for name, cmd in _commands().items():
        for p in _options(cmd):
            users[p.opts[-1]].add(name)
    shared = sorted(f for f, cmds in users.items() if len(cmds) > 1 and f != "--help")
    table = text.split("## Shared options", 1)[1].split("\n## ", 1)[0]
    for flag in shared:
        assert re.search(rf"`[^`]*{re.escape(flag)}\b", table), f"docs/cli.md's shared options miss {flag}"
    codes = text.split("## Exit codes", 1)[1]
    for code in EXIT_CODES:
        assert f"| {code} |" in codes
