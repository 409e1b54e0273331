"""The ``trollscope`` command: a thin shell over the library, one module per stage."""

from __future__ import annotations

import importlib

import click

from .. import __version__
from ._common import Group

# Command -> the module that defines it. A command's module (and the stage it drives) is imported
# only when that command runs, so `trollscope ingest` does not load detection, the classifier...
COMMANDS = {
    "data": ("ingest", "info", "simulate"),
    "pipeline": ("demo", "run", "report"),
    "detect": ("detect", "export", "evaluate"),
    "investigate": ("timeline", "targeting", "narratives", "amplifiers"),
    "classify": ("classify", "similar"),
    "serve": ("serve",),
}


class LazyGroup(Group):
    """The top-level group: loads a command's module the first time the command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({c for names in COMMANDS.values() for c in names} | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            module = next((m for m, names in COMMANDS.items() if cmd_name in names), None)
            if module is not None:
                importlib.import_module(f"{__name__}.{module}").register(self)
        return self.commands.get(cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--debug", is_flag=True, help="Show the full traceback when something fails.")
@click.version_option(__version__, prog_name="trollscope")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Find and examine coordinated influence operations in social-media data.

    ingest -> detect -> investigate -> classify -> report. Start with `trollscope demo`; run the
    whole pipeline on your own files with `trollscope run FILES -o OUT`, or stage by stage
    starting with `trollscope ingest FILES -w WORKSPACE`.

    Exit codes: 0 done, 1 failed (the reason is on stderr; an ingest that stored nothing too),
    2 a wrong command line, 130 interrupted. Shared options and their meanings: docs/cli.md.
    """
    ctx.obj = {"debug": debug}
