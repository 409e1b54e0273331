"""Commands that run several stages at once: demo."""

from __future__ import annotations

from pathlib import Path

import click

from ..pipeline import demo as demo_api
from ._common import emit_json, json_option, progress


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("trollscope-demo"),
                  show_default=True, help="Folder for the simulated data and the workspace.")  # fmt: skip
    @click.option("--posts", default=200_000, show_default=True, help="Size of the simulated collection.")
    @click.option("--seed", default=0, show_default=True)
    @json_option
    def demo(out, posts, seed, as_json):
        """Simulate a collection with planted operations, ingest it, and summarise it.

        Example:

        \b
            trollscope demo -o demo --posts 100000
        """
        with progress(None, "demo", unit="step") as update:
            d = demo_api(out, posts=posts, seed=seed, step=lambda _name: update(1))
        if as_json:
            emit_json(d)
            return
        ing = d["ingest"]
        click.echo(f"simulated {d['simulated_posts']:,} posts by {d['simulated_accounts']:,} accounts in {d['data']}")
        click.echo(
            f"ingested {ing['records']:,} records: {ing['stored']:,} stored, {ing['rejected']:,} rejected, "
            f"{ing['duplicate']:,} duplicate ({ing['seconds']:.1f} s)"
        )
        click.echo(f"workspace: {d['workspace']}   next: trollscope info -w {d['workspace']}")
