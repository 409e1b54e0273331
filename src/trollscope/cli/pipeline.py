"""Commands that run several stages at once: run, report, demo."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import click

from ..pipeline import NothingIngested
from ..pipeline import demo as demo_api
from ..pipeline import run as run_api
from ..workspace import Workspace
from ._common import (
    emit_json,
    engine_options,
    freq_option,
    json_option,
    out_option,
    output_option,
    plural,
    reader_options,
    seed_option,
    workspace_option,
)
from .investigate import events_option, operation_options, terms_option

# detect's options that `run` takes too, by their parameter names: everything but where and how it prints
NOT_TUNING = {
    "workspace",
    "as_json",
    "no_cache",
    "engine_name",
    "spark_master",
    "spark_conf",
}  # run has its own --engine


class _Recorded(click.Command):
    """Keeps the arguments as given (``ctx.meta["argv"]``): the report repeats the command that made it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["argv"] = list(args)
        return super().parse_args(ctx, args)


def detect_tuning_options(f):
    """detect's own tuning options (the same click objects: one definition, one help text, one default)."""
    from . import detect

    scratch = click.Group()
    detect.register(scratch)
    params = [p for p in scratch.commands["detect"].params if p.name not in NOT_TUNING]
    f.__click_params__ = getattr(f, "__click_params__", []) + params[::-1]
    return f


def _stage_printer(quiet: bool):
    """Print one line per finished stage on stderr, so stdout stays for the summary or JSON."""
    t0 = time.perf_counter()

    def step(stage: str, figures: dict) -> None:
        if quiet:
            return
        detail = ""
        if stage == "ingest":
            detail = (
                f"{plural(figures['stored'], 'post')} stored, {figures['rejected']:,} rejected, "
                f"{figures['duplicate']:,} duplicate"
            )
        elif stage == "detect":
            detail = f"{plural(figures['clusters'], 'cluster')}, {plural(figures['flagged'], 'flagged account')}"
        elif stage == "export":
            detail = f"{figures['files']} files"
        elif stage == "cross-platform":
            detail = f"{figures['pairs']:,} account pairs on two platforms, in {figures['groups']:,} groups"
        elif stage == "simulate":
            detail = f"{plural(figures['posts'], 'post')} by {plural(figures['accounts'], 'account')}"
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
    lines = [f"{plural(s['clusters'], 'coordinated cluster')}, {plural(s['flagged'], 'flagged account')}"]
    if s.get("operation_accounts") is not None:
        lines.append(
            f"operation: {plural(s['operation_accounts'], 'account')}"
            + (f"; sustained activity from {str(s['first_sustained'])[:10]}" if s.get("first_sustained") else "")
        )
    bs = s.get("both_sides")
    if bs and bs.get("both_sides") is not None:
        lines.append(
            f"both-sides index {bs['both_sides']:.2f} [95% CI {bs['ci_low']:.2f}, {bs['ci_high']:.2f}] "
            f"over {plural(bs['political_posts'], 'political post')}"
        )
    inb = s.get("inbound")
    if inb:
        lines.append(
            f"amplified by {plural(inb['outside_accounts'], 'outside account')} in {plural(inb['posts'], 'post')}"
        )
    lines += [f"not measured: {n}" for n in d["not_measured"]]
    lines.append(f"report: {d['report']} ({d['report_bytes'] / 1e6:.1f} MB); exports in {Path(d['out']) / 'exports'}")
    lines.append(f"done in {d['seconds']:.0f} s")
    return lines


def register(cli: click.Group) -> None:
    @cli.command(cls=_Recorded)
    @click.argument("inputs", nargs=-1, required=True)
    @out_option("Folder for the workspace, report.html and exports/.")
    @reader_options
    @detect_tuning_options
    @operation_options
    @terms_option("Narratives to follow (as `trollscope narratives --terms`; default: its list).")
    @freq_option("Period of the timeline, lean and narrative counts.")
    @events_option
    @click.option("-q", "--quiet", is_flag=True, help="No progress lines on stderr.")
    @click.option("--serve", "serve_after", is_flag=True, help="Then open the workbench on it (as `trollscope serve`).")
    @click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
                  help="With --serve: the workbench's port on 127.0.0.1 (0 picks a free one).")  # fmt: skip
    @click.option("--open", "open_browser", is_flag=True, help="With --serve: open it in the default browser.")
    @engine_options
    @json_option
    def run(
        inputs,
        out,
        fmt,
        read_options,
        accounts,
        by,
        terms,
        freq,
        events,
        quiet,
        serve_after,
        port,
        open_browser,
        as_json,
        engine,
        **tuning,
    ):
        """Ingest INPUTS, detect coordination, investigate and write a self-contained report.

        OUT gets workspace/, report.html (one file: open it in a browser, or send it) and
        exports/ (coordination.gexf/.graphml for Gephi, detection and investigation tables as
        CSV). The operation is the accounts detection flags unless --accounts says otherwise.
        Detection's options (--layers, --window, --alpha…) and the investigations' (--freq,
        --events) mean what they mean in `detect` and `timeline`. --serve then serves the workbench
        on the new workspace until Ctrl-C.

        Example:

        \b
            trollscope run ../shared/data/ira-by-author -o ira-out \\
                --accounts label:account_category=LeftTroll,RightTroll --by label:account_category
            trollscope run ../shared/data/debates-2016 -o debates-out --window 60s,1h --alpha 0.001 --freq day
        """
        from .detect import detect_overrides

        # the command as typed, for the report's methods (shlex-quoted, so it can be pasted back)
        command = shlex.join(["trollscope", "run", *click.get_current_context().meta["argv"]])
        opts = read_options
        try:
            d = run_api(
                list(inputs),
                out,
                format=fmt,
                options=opts,
                accounts=accounts,
                by=by,
                terms=terms,
                detect_params=detect_overrides(**tuning),
                investigate_params={"freq": freq, "events": None if events == "none" else events},
                step=_stage_printer(quiet or as_json),
                command=command,
                engine=engine,
            )
        except NothingIngested as e:
            raise click.ClickException(str(e)) from None
        if as_json:
            emit_json(d)
        else:
            click.echo("\n".join(_summary_lines(d)))
        if serve_after:
            from .serve import start_workbench

            start_workbench(out / "workspace", "127.0.0.1", port, open_browser, url_to_stderr=as_json)

    @cli.command()
    @workspace_option
    @output_option("The HTML file to write.", required=True)
    @operation_options
    @terms_option("Narratives to follow (default: those of the last run).")
    @json_option
    def report(workspace, output, accounts, by, terms, as_json):
        """Build the HTML report from a workspace (re-running the investigations, which takes seconds).

        Without --accounts/--by/--terms it uses the choices of the `trollscope run` that made the
        workspace, else flagged accounts.

        Example:

        \b
            trollscope report -w ira-out/workspace --output ira-report.html
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
            freq=last.get("freq"),
            events=last.get("events", "builtin"),
        )
        if as_json:
            emit_json(r.as_dict())
            return
        for n in r.notes:
            click.echo(f"not measured: {n}", err=True)
        click.echo(f"report: {r.path} ({r.bytes / 1e6:.1f} MB, {r.seconds:.1f} s)")

    @cli.command()
    @out_option("Folder for the simulated data, the workspace and the report.", default=Path("trollscope-demo"))
    @click.option("--posts", default=100_000, show_default=True, help="Size of the simulated collection.")
    @seed_option("Random seed of the simulation; the same seed gives the same data.")
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
        click.echo(
            f"simulated {plural(d['simulated_posts'], 'post')} by {plural(d['simulated_accounts'], 'account')} "
            f"in {d['data']}"
        )
        click.echo("\n".join(_summary_lines(d)))
        click.echo(f"the planted operations are in {d['truth']}: check the clusters against them with")
        click.echo(f"  trollscope evaluate -w {d['workspace']} --truth {d['truth']}")
        click.echo(f"your report is at {Path(d['report']).resolve()}")
