"""The serve command: the investigation workbench in the browser."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import emit_json, json_option, workspace_option


def start_workbench(
    workspace: Path,
    host: str,
    port: int,
    open_browser: bool,
    model: Path | None = None,
    url_to_stderr: bool = False,
    as_json: bool = False,
) -> None:
    """Load the workspace, print the URL, serve until Ctrl-C (shared by `serve` and `run --serve`).

    ``url_to_stderr`` keeps stdout for another command's --json document; ``as_json`` prints the
    URL as one JSON document instead of a line.
    """
    from ..serve import Workbench, serve
    from ..serve.app import is_loopback

    if not is_loopback(host):
        click.echo(
            f"warning: serving on {host}: anyone who can reach this machine on port {port} can read the "
            "workspace (posts, accounts, detection results); there is no login",
            err=True,
        )
    click.echo(f"loading {workspace} ...", err=True)
    wb = Workbench(workspace, model=model)

    def ready(url: str) -> None:
        if as_json:
            emit_json({"url": url, "workspace": str(wb.path), "posts": wb.summary()["posts"], "read_only": True})
        else:
            click.echo(f"trollscope workbench on {url}  (read-only; Ctrl-C stops it)", err=url_to_stderr)

    serve(wb, host=host, port=port, open_browser=open_browser, ready=ready)


def host_option(f):
    f = click.option(
        "--allow-remote",
        is_flag=True,
        help="Allow a --host other than the loopback addresses (the workbench has no login).",
    )(f)
    f = click.option("--open", "open_browser", is_flag=True, help="Open the workbench in the default browser.")(f)
    f = click.option("-p", "--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
                     help="Port (0 picks a free one).")(f)  # fmt: skip
    return click.option(
        "--host",
        default="127.0.0.1",
        show_default=True,
        help="Address to listen on. The default allows connections from this machine only; "
        "any other needs --allow-remote.",
    )(f)


def check_host(host: str, allow_remote: bool) -> None:
    from ..serve.app import is_loopback

    if not is_loopback(host) and not allow_remote:
        raise click.UsageError(
            f"--host {host} would let other machines read the workspace: add --allow-remote if that is what you want"
        )


def register(cli: click.Group) -> None:
    @cli.command()
    @workspace_option
    @host_option
    @click.option("--model", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="A classifier (from `trollscope classify train`) whose scores the account view shows.")  # fmt: skip
    @json_option
    def serve(workspace, host, port, open_browser, allow_remote, model, as_json):
        """Explore a workspace in the browser: clusters, their networks and evidence, accounts, posts.

        A local web server, read-only: the workspace is not changed. The URL holds the view, so
        a link reopens what you were looking at. Every view exports as GEXF or CSV. The JSON API
        behind it is described in docs/serve.md.

        Example:

        \b
            trollscope serve -w ira-out/workspace --open
        """
        check_host(host, allow_remote)
        start_workbench(workspace, host, port, open_browser, model, as_json=as_json)
