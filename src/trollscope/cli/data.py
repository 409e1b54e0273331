"""Commands that bring data in and describe it: ingest, info, simulate."""

from __future__ import annotations

from pathlib import Path

import click

from .. import sources
from ..info import info as info_api
from ..ingest import IngestResult
from ..ingest import ingest as ingest_api
from ..spark import SparkUnavailable
from ._common import (
    emit_json,
    engine_options,
    json_option,
    out_option,
    output_option,
    plural,
    progress,
    reader_options,
    seed_option,
    table,
    top_option,
    workspace_option,
)


def _where(file: str, first: int | None, last: int | None) -> str:
    """``file:12`` or ``file:1-245``, the file relative to here when it is below."""
    if Path(file).is_relative_to(Path.cwd()):
        file = str(Path(file).relative_to(Path.cwd()))
    if first is None:
        return file
    return f"{file}:{first}" if first == last else f"{file}:{first}-{last}"


def _raw(raw: str | None, n: int = 70) -> str:
    text = " ".join((raw or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def reject_lines(runs: list[dict]) -> list[str]:
    """Each run of rejected records as ``file:line: reason`` and the start of its raw text."""
    out = []
    for x in runs:
        count = f" ({plural(x['records'], 'record')})" if x["records"] > 1 else ""
        out.append(f"  {_where(x['file'], x['first_line'], x['last_line'])}{count}: {x['reason']}")
        if x["raw"]:
            out.append(f"      {_raw(x['raw'])}")
    return out


def _summary(r: IngestResult) -> str:
    lines = [
        f"{plural(r.files, 'file')}, {plural(r.records, 'record')}: {r.stored:,} stored, {r.rejected:,} rejected, "
        f"{r.duplicate:,} duplicate ({r.seconds:.1f} s) -> {r.workspace}"
    ]
    if r.reject_reasons:
        lines.append("rejected: " + "; ".join(f"{k} ({v:,})" for k, v in r.reject_reasons.items()))
        lines.append("first rejects:")
        lines += reject_lines(r.first_rejects)
        lines.append(f"all of them: trollscope info -w {r.workspace} --rejects [--output rejects.csv]")
    shown = r.notes[:10]
    lines += [f"note: {n}" for n in shown]
    if len(r.notes) > len(shown):
        lines.append(f"note: … and {len(r.notes) - len(shown)} more (in the ingest log)")
    return "\n".join(lines)


def register(cli: click.Group) -> None:
    @cli.command()
    @click.argument("inputs", nargs=-1, required=True)
    @workspace_option
    @reader_options
    @engine_options
    @json_option
    def ingest(inputs, workspace, fmt, read_options, engine, as_json):
        """Read INPUTS (files, directories, globs; gzip/zstd/bz2/xz) into the workspace.

        Every record is stored, rejected (with file, line and reason) or counted as a duplicate;
        re-ingesting the same files stores nothing new. A compressed file cut short (a partial
        download) is read up to the break, which is reported. An interrupted ingest leaves the
        workspace as it was. With --engine spark the files are read by Spark tasks and deduplicated
        in Spark SQL; the workspace is the same (docs/scale.md).

        Example:

        \b
            trollscope ingest ../shared/data/ira-by-author -w ira-ws
            trollscope ingest ../shared/data/ira-by-author -w ira-ws --engine spark --spark-master 'local[2]'
            trollscope ingest Tweets.csv --map post_id=tweet_id,handle=name,text=text,created_at=tweet_created \\
                --time-format '%d-%m-%Y %H.%M'
        """
        files = sources.resolve(list(inputs))
        total = sum(f.stat().st_size for f in files)
        with progress(total, "ingest") as update:
            try:
                result = ingest_api(
                    list(inputs), workspace, format=fmt, options=read_options, progress=update, engine=engine
                )
            except SparkUnavailable as e:
                raise click.ClickException(str(e)) from None
        if as_json:
            emit_json(result.as_dict())
        else:
            click.echo(_summary(result))
        if result.failure:  # exit 1: a script sees that nothing came in, and why
            raise click.ClickException(result.failure)

    @cli.command()
    @workspace_option
    @top_option("How many of the most active accounts to list.")
    @click.option("--rejects", "list_rejects", is_flag=True,
                  help="List every rejected record (file:line, reason, the start of its text) instead.")  # fmt: skip
    @output_option("With --rejects: also write every rejected record to FILE (.csv or .parquet).")
    @json_option
    def info(workspace, top, list_rejects, output, as_json):
        """Counts, date range, sources, platforms and venues, labels, top accounts and reject reasons of a workspace.

        Example:

        \b
            trollscope info -w ira-ws --top 5
            trollscope info -w ira-ws --rejects --output rejects.csv
        """
        if output is not None and not list_rejects:
            raise click.UsageError("--output writes the rejects: give --rejects with it")
        if list_rejects:
            from ..info import rejects as rejects_api

            r = rejects_api(workspace, output=output)
            if as_json:
                emit_json(r)
                return
            click.echo(f"{plural(r['rejected'], 'rejected record')} in {r['workspace']}")
            click.echo("\n".join(reject_lines(r["runs"])))
            if output is not None:
                click.echo(f"wrote {output}", err=True)
            return
        d = info_api(workspace, top=top)
        if as_json:
            emit_json(d)
            return
        click.echo(f"workspace {d['workspace']}: {plural(d['posts'], 'post')} by {plural(d['accounts'], 'account')}")
        if d["posts"]:
            click.echo(f"from {d['first_post']} to {d['last_post']} (UTC)")
        click.echo("kinds: " + ", ".join(f"{k} {v:,}" for k, v in d["kinds"].items()))
        ing = d["ingests"]
        click.echo(
            f"ingests: {plural(ing['runs'], 'run')}, {plural(ing['records'], 'record')} = {ing['stored']:,} stored + "
            f"{ing['rejected']:,} rejected + {ing['duplicate']:,} duplicate"
        )
        click.echo("\nsources:\n" + table([tuple(s.values()) for s in d["sources"]], ("format", "files", "posts")))
        if len(d["platforms"]) > 1 or d["venues"]:
            click.echo(
                "\nplatforms:\n"
                + table([tuple(x.values()) for x in d["platforms"]], ("platform", "venues", "accounts", "posts"))
            )
        if d["venues"]:
            click.echo(
                "\ntop venues:\n"
                + table([tuple(x.values()) for x in d["venues"]], ("platform", "venue", "accounts", "posts"))
            )
        if d["labels"]:
            click.echo("\nlabels:\n" + table([tuple(x.values()) for x in d["labels"]], ("label", "value", "accounts")))
        click.echo(
            "\ntop accounts:\n" + table([tuple(x.values()) for x in d["top_accounts"]], ("handle", "id", "posts"))
        )
        if d["reject_reasons"]:
            click.echo("\nreject reasons:\n" + table(list(d["reject_reasons"].items()), ("reason", "records")))
            click.echo(f"(each of them: trollscope info -w {d['workspace']} --rejects)")

    @cli.command()
    @click.option("--posts", default=100_000, show_default=True, help="Number of posts.")
    @click.option("--account-count", "accounts", type=int, help="Number of accounts (default: about posts/50).")
    @click.option(
        "--files",
        type=int,
        help="Number of archive files (default: one per million posts); more files, more parallel reading.",
    )
    @seed_option("Random seed; the same seed gives the same data.")
    @out_option("Folder for the archive CSV files, truth.csv and simulation.json.", default=Path("sim"))
    @json_option
    def simulate(posts, accounts, files, seed, out, as_json):
        """Write a synthetic collection with planted operations, and its truth.csv.

        The organic background has heavy-tailed activity, topical communities, viral cascades and
        news bots; planted operations are repost rings, copy-paste text, hashtag pushes, link
        pushing and slow both-sides personas. Output is in the information-operations archive CSV
        layout, so `trollscope ingest OUT` reads it.

        Example:

        \b
            trollscope simulate --posts 1000000 --seed 7 -o sim1m
        """
        from ..simulate import simulate as simulate_api

        with progress(posts, "simulate", unit="posts") as update:
            try:
                r = simulate_api(posts=posts, accounts=accounts, seed=seed, out=out, files=files, progress=update)
            except ValueError as e:  # e.g. --files leaving too few posts per file
                raise click.BadParameter(str(e)) from None
        d = {"out": str(r.out), "files": [str(f) for f in r.files], "posts": r.posts, "accounts": r.accounts,
             "truth": str(r.truth_path)}  # fmt: skip
        if as_json:
            emit_json(d)
        else:
            click.echo(
                f"{plural(r.posts, 'post')} by {plural(r.accounts, 'account')} in {r.out} (truth: {r.truth_path})"
            )
