"""The ``trollscope`` command: a thin shell over the library, one module per stage."""

from __future__ import annotations

import click

from .. import __version__
from . import classify, data, detect, investigate, pipeline
from ._common import Group


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--debug", is_flag=True, help="Show the full traceback when something fails.")
@click.version_option(__version__, prog_name="trollscope")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Find and examine coordinated influence operations in social-media data.

    ingest -> detect -> investigate -> classify -> report. Start with `trollscope demo`; run the
    whole pipeline on your own files with `trollscope run FILES -o OUT`, or stage by stage
    starting with `trollscope ingest FILES -w WORKSPACE`.
    """
    ctx.obj = {"debug": debug}


data.register(main)
pipeline.register(main)
investigate.register(main)
detect.register(main)
classify.register(main)
