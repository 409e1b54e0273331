"""What every command shares: the workspace option, ``--json``, progress bars, clean errors."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ..workspace import DEFAULT_PATH


class Group(click.Group):
    """Turns any error into one line on stderr and a non-zero exit (``--debug`` shows the traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted: the workspace is unchanged", err=True)
            sys.exit(130)
        except Exception as e:
            if (ctx.obj and ctx.obj.get("debug")) or os.environ.get("TROLLSCOPE_DEBUG"):
                traceback.print_exc()
            msg = str(e).strip().split("\n")[0] or type(e).__name__
            click.echo(f"Error: {msg}", err=True)
            if not (ctx.obj and ctx.obj.get("debug")):
                click.echo("(run with --debug for details)", err=True)
            sys.exit(1)


def workspace_option(f: Callable) -> Callable:
    return click.option(
        "-w",
        "--workspace",
        type=click.Path(file_okay=False, path_type=Path),
        default=lambda: os.environ.get("TROLLSCOPE_WORKSPACE", DEFAULT_PATH),
        show_default=f"./{DEFAULT_PATH} or $TROLLSCOPE_WORKSPACE",
        help="Workspace directory (the canonical store).",
    )(f)


def _parse_map(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in value:
        for pair in item.split(","):
            if not pair.strip():
                continue
            if "=" not in pair:
                raise click.BadParameter(f"{pair!r} is not CANONICAL=SOURCE (e.g. text=tweet_text)")
            k, v = pair.split("=", 1)
            mapping[k.strip()] = v.strip()
    return mapping


def reader_options(f: Callable) -> Callable:
    """The options of every command that reads sources (ingest, run), handed over as ``fmt`` and
    ``read_options`` (a ``ReadOptions``)."""
    from ..readers import ReadOptions, registry

    @functools.wraps(f)
    def wrapper(*args: Any, mapping, time_format, delimiter, encoding, labels, **kwargs: Any) -> Any:
        opts = ReadOptions(
            encoding=encoding, mapping=mapping, time_format=time_format, delimiter=delimiter, labels=labels
        )
        return f(*args, read_options=opts, **kwargs)

    options = [
        click.option(
            "-f",
            "--format",
            "fmt",
            type=click.Choice(sorted(registry())),
            help="Reader to use (default: detected per file).",
        ),
        click.option(
            "--map",
            "mapping",
            multiple=True,
            callback=_parse_map,
            help="Column mapping for generic files: CANONICAL=SOURCE[,…], e.g. post_id=tweet_id,text=text.",
        ),
        click.option("--time-format", help="strptime format of the timestamp column, e.g. '%d-%m-%Y %H.%M'."),
        click.option("--delimiter", help="Field delimiter of generic CSV files (default ',')."),
        click.option(
            "--encoding",
            default="utf-8",
            show_default=True,
            help="Text encoding of files without a byte-order mark, e.g. cp1252 (Windows) or latin-1; "
            "UTF-16 and UTF-32 files with one are read in it.",
        ),
        click.option("--labels", type=click.Path(exists=True, dir_okay=False), help="CSV of account labels to join."),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def json_option(f: Callable) -> Callable:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON document on stdout and nothing else there."
    )(f)


def _default(o: Any) -> Any:
    if isinstance(o, dt.datetime | dt.date):
        return o.isoformat()
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    raise TypeError(f"cannot encode {type(o).__name__}")


def emit_json(obj: Any) -> None:
    click.echo(json.dumps(obj, default=_default, indent=2, ensure_ascii=False))


@contextmanager
def progress(total: int | None, desc: str, unit: str = "B") -> Iterator[Callable[[int], None]]:
    """A tqdm bar on stderr, silent when stderr is not a terminal; yields an ``update(n)`` callable."""
    from tqdm import tqdm

    bar = tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=True,
        unit_divisor=1024 if unit == "B" else 1000,
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        leave=False,
    )
    try:
        yield bar.update
    finally:
        bar.close()


def table(rows: list[tuple], headers: tuple[str, ...]) -> str:
    """A plain aligned text table."""
    cells = [tuple(str(c) for c in headers)] + [tuple("" if c is None else str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
