"""Commands that bring data in and describe it: ingest, info, simulate."""

from __future__ import annotations

from pathlib import Path

import click

from .. import sources
from ..info import info as info_api
from ..ingest import IngestResult
from ..ingest import ingest as ingest_api
from ._common import emit_json, json_option, progress, reader_options, table, workspace_option


def _summary(r: IngestResult) -> str:
    lines = [
        f"{r.files} files, {r.records:,} records: {r.stored:,} stored, {r.rejected:,} rejected, "
        f"{r.duplicate:,} duplicate ({r.seconds:.1f} s) -> {r.workspace}"
    ]
    if r.reject_reasons:
        lines.append("rejected: " + "; ".join(f"{k} ({v:,})" for k, v in r.reject_reasons.items()))
        lines.append(f"see them with: trollscope info -w {r.workspace} (table `rejects`)")
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
    @json_option
    def ingest(inputs, workspace, fmt, read_options, as_json):
        """Read INPUTS (files, directories, globs; gzip/zstd/bz2/xz) into the workspace.

        Every record is stored, rejected (with file, line and reason) or counted as a duplicate;
        re-ingesting the same files stores nothing new. A compressed file cut short (a partial
        download) is read up to the break, which is reported. An interrupted ingest leaves the
        workspace as it was.

        Example:

        \b
            trollscope ingest ../shared/data/ira-by-author -w ira-ws
            trollscope ingest Tweets.csv --map post_id=tweet_id,handle=name,text=text,created_at=tweet_created \\
                --time-format '%d-%m-%Y %H.%M'
        """
        files = sources.resolve(list(inputs))
        total = sum(f.stat().st_size for f in files)
        with progress(total, "ingest") as update:
            result = ingest_api(list(inputs), workspace, format=fmt, options=read_options, progress=update)
        if as_json:
            emit_json(result.as_dict())
        else:
            click.echo(_summary(result))

    @cli.command()
    @workspace_option
    @click.option("--top", default=10, show_default=True, help="How many of the most active accounts to list.")
    @json_option
    def info(workspace, top, as_json):
        """Counts, date range, sources, platforms and venues, labels, top accounts and reject reasons of a workspace.

        Example:

        \b
            trollscope info -w ira-ws --top 5
        """
        d = info_api(workspace, top=top)
        if as_json:
            emit_json(d)
            return
        click.echo(f"workspace {d['workspace']}: {d['posts']:,} posts by {d['accounts']:,} accounts")
        click.echo(f"from {d['first_post']} to {d['last_post']} (UTC)")
        click.echo("kinds: " + ", ".join(f"{k} {v:,}" for k, v in d["kinds"].items()))
        ing = d["ingests"]
        click.echo(
            f"ingests: {ing['runs']} runs, {ing['records']:,} records = {ing['stored']:,} stored + "
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
            click.echo("\nreject reasons:\n" + table(list(d["reject_reasons"].items()), ("reason", "rows")))

    @cli.command()
    @click.option("--posts", default=100_000, show_default=True, help="Number of posts.")
    @click.option("--accounts", type=int, help="Number of accounts (default: about posts/50).")
    @click.option("--seed", default=0, show_default=True, help="Random seed; the same seed gives the same data.")
    @click.option(
        "-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("sim"), show_default=True
    )
    @json_option
    def simulate(posts, accounts, seed, out, as_json):
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
            r = simulate_api(posts=posts, accounts=accounts, seed=seed, out=out, progress=update)
        d = {"out": str(r.out), "files": [str(f) for f in r.files], "posts": r.posts, "accounts": r.accounts,
             "truth": str(r.truth_path)}  # fmt: skip
        if as_json:
            emit_json(d)
        else:
            click.echo(f"{r.posts:,} posts by {r.accounts:,} accounts in {r.out} (truth: {r.truth_path})")
