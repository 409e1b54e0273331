"""Commands that run several stages at once: run, report, demo."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from ..pipeline import demo as demo_api
from ..pipeline import run as run_api
from ..pipeline import run_command
from ..workspace import Workspace
from ._common import emit_json, json_option, reader_options, workspace_option
from .investigate import operation_options


def _stage_printer(quiet: bool):
    """Print one line per finished stage on stderr, so stdout stays for the summary or JSON."""
    t0 = time.perf_counter()

    def step(stage: str, figures: dict) -> None:
        if quiet:
            return
        detail = ""
        if stage == "ingest":
            detail = f"{figures['stored']:,} posts stored, {figures['rejected']:,} rejected, {figures['duplicate']:,} duplicate"
        elif stage == "detect":
            detail = f"{figures['clusters']:,} clusters, {figures['flagged']:,} flagged accounts"
        elif stage == "export":
            detail = f"{figures['files']} files"
        elif stage == "cross-platform":
            detail = f"{figures['pairs']:,} account pairs on two platforms, in {figures['groups']:,} groups"
        elif stage == "simulate":
            detail = f"{figures['posts']:,} posts by {figures['accounts']:,} accounts"
        elif figures.get("skipped"):
            detail = "not measured (see the report)"
        elif stage == "report":
            detail = f"{figures['bytes'] / 1e6:.1f} MB"
        else:
            detail = f"{figures['seconds']:.1f} s"
        click.echo(f"[{time.perf_counter() - t0:6.1f} s] {stage:<10} {detail}", err=True)
        sys.stderr.flush()

    return step


def _summary_lines(d: dict) -> list[str]:
    s = d["summary"]
    lines = [f"{s['clusters']:,} coordinated clusters, {s['flagged']:,} flagged accounts"]
    if s.get("operation_accounts") is not None:
        lines.append(
            f"operation: {s['operation_accounts']:,} accounts; sustained activity from {str(s['first_sustained'])[:10]}"
        )
    bs = s.get("both_sides")
    if bs and bs.get("both_sides") is not None:
        lines.append(
            f"both-sides index {bs['both_sides']:.2f} [95% CI {bs['ci_low']:.2f}, {bs['ci_high']:.2f}] "
            f"over {bs['political_posts']:,} political posts"
        )
    inb = s.get("inbound")
    if inb:
        lines.append(f"amplified by {inb['outside_accounts']:,} outside accounts in {inb['posts']:,} posts")
    lines += [f"not measured: {n}" for n in d["not_measured"]]
    lines.append(f"report: {d['report']} ({d['report_bytes'] / 1e6:.1f} MB); exports in {Path(d['out']) / 'exports'}")
    lines.append(f"done in {d['seconds']:.0f} s")
    return lines


def register(cli: click.Group) -> None:
    @cli.command()
    @click.argument("inputs", nargs=-1, required=True)
    @click.option(
        "-o",
        "--out",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder for the workspace, report.html and exports/.",
    )
    @reader_options
    @operation_options
    @click.option("--terms", help="Narratives to follow (as `trollscope narratives --terms`).")
    @click.option("-q", "--quiet", is_flag=True, help="No progress lines on stderr.")
    @json_option
    def run(inputs, out, fmt, read_options, accounts, by, terms, quiet, as_json):
        """Ingest INPUTS, detect coordination, investigate and write a self-contained report.

        OUT gets workspace/, report.html (one file: open it in a browser, or send it) and
        exports/ (coordination.gexf/.graphml for Gephi, detection and investigation tables as
        CSV). The operation is the accounts detection flags unless --accounts says otherwise.

        Example:

        \b
            trollscope run ../shared/data/ira-by-author -o ira-out \\
                --accounts label:account_category=LeftTroll,RightTroll --by label:account_category
        """
        opts = read_options
        command = run_command(
            list(inputs),
            out,
            format=fmt,
            time_format=opts.time_format,
            delimiter=opts.delimiter,
            labels=opts.labels,
            accounts=accounts,
            by=by,
            terms=terms,
        )
        if opts.mapping:
            command += " --map " + ",".join(f"{k}={v}" for k, v in opts.mapping.items())
        d = run_api(
            list(inputs),
            out,
            format=fmt,
            options=opts,
            accounts=accounts,
            by=by,
            terms=terms,
            step=_stage_printer(quiet or as_json),
            command=command,
        )
        if as_json:
            emit_json(d)
        else:
            click.echo("\n".join(_summary_lines(d)))

    @cli.command()
    @workspace_option
    @click.option(
        "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The HTML file to write."
    )
    @operation_options
    @click.option("--terms", help="Narratives to follow (default: those of the last run).")
    @json_option
    def report(workspace, output, accounts, by, terms, as_json):
        """Build the HTML report from a workspace (re-running the investigations, which takes seconds).

        Without --accounts/--by/--terms it uses the choices of the `trollscope run` that made the
        workspace, else flagged accounts.

        Example:

        \b
            trollscope report -w ira-out/workspace -o ira-report.html
        """
        from ..report import build_report

        ws = Workspace(workspace, create=False)
        last = ws.params("run") or {}
        explicit = any(v is not None for v in (accounts, by, terms))
        r = build_report(
            ws,
            output,
            accounts=accounts if explicit else last.get("accounts"),
            by=by if explicit else last.get("by"),
            terms=terms if explicit else last.get("terms"),
            command=None if explicit else last.get("command"),
        )
        if as_json:
            emit_json(r.as_dict())
            return
        for n in r.notes:
            click.echo(f"not measured: {n}", err=True)
        click.echo(f"report: {r.path} ({r.bytes / 1e6:.1f} MB, {r.seconds:.1f} s)")

    @cli.command()
    @click.option(
        "-o",
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("trollscope-demo"),
        show_default=True,
        help="Folder for the simulated data, the workspace and the report.",
    )
    @click.option("--posts", default=100_000, show_default=True, help="Size of the simulated collection.")
    @click.option("--seed", default=0, show_default=True)
    @click.option("-q", "--quiet", is_flag=True, help="No progress lines on stderr.")
    @json_option
    def demo(out, posts, seed, quiet, as_json):
        """Simulate a collection with planted operations and run it end to end into a report.

        Example:

        \b
            trollscope demo
            trollscope demo -o demo --posts 500000
        """
        d = demo_api(out, posts=posts, seed=seed, step=_stage_printer(quiet or as_json))
        if as_json:
            emit_json(d)
            return
        click.echo(f"simulated {d['simulated_posts']:,} posts by {d['simulated_accounts']:,} accounts in {d['data']}")
        click.echo("\n".join(_summary_lines(d)))
        click.echo(f"the planted operations are in {d['truth']}: check the clusters against them with")
        click.echo(f"  trollscope evaluate -w {d['workspace']} --truth {d['truth']}")
        click.echo(f"your report is at {Path(d['report']).resolve()}")
