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
        except BrokenPipeError:  # `trollscope info | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
            sys.exit(141)
        except Exception as e:
            if (ctx.obj and ctx.obj.get("debug")) or os.environ.get("TROLLSCOPE_DEBUG"):
                traceback.print_exc()
            msg = str(e).strip().split("\n")[0] or type(e).__name__
            click.echo(f"Error: {msg}", err=True)
            if not (ctx.obj and ctx.obj.get("debug")):
                click.echo("(run with --debug for details)", err=True)
            sys.exit(1)


# One meaning per flag name across commands (tests/test_cli_consistency.py holds every command to it):
# -o/--out is a folder a command fills, --output one file it writes.
SEED = 42  # detection's own default (Leiden, MinHash), used by every command that draws at random
TOP = 20
BOOTSTRAP = 1000
FREQ = "week"
FREQS = ("day", "week", "month", "quarter")

EXIT_CODES = {
    0: "done (an ingest that rejected some records, or found every record already stored, included)",
    1: "failed: the message on stderr says why and what to try (e.g. an ingest that stored nothing)",
    2: "the command line is wrong: an unknown option, a missing argument, a bad value",
    130: "interrupted (Ctrl-C): the workspace is as it was",
    141: "stdout was closed early (`trollscope info | head`): nothing more is printed, nothing is wrong",
}


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 account``, ``1,272 accounts``."""
    return f"{n:,} {word if n == 1 else words or word + 's'}"


def out_option(help: str, default: Path | None = None) -> Callable:
    """``-o/--out DIR``: the folder a command fills."""
    return click.option(
        "-o",
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        required=default is None,
        default=default,
        show_default=default is not None,
        help=help,
    )


def output_option(help: str, required: bool = False) -> Callable:
    """``--output FILE``: the one file a command writes."""
    return click.option(
        "--output", type=click.Path(dir_okay=False, path_type=Path), required=required, metavar="FILE", help=help
    )


def seed_option(help: str) -> Callable:
    return click.option("--seed", type=int, default=SEED, show_default=True, help=help)


def top_option(help: str) -> Callable:
    return click.option("--top", type=int, default=TOP, show_default=True, help=help)


def bootstrap_option(help: str, name: str = "bootstrap") -> Callable:
    return click.option("--bootstrap", name, type=int, default=BOOTSTRAP, show_default=True, help=help)


def freq_option(help: str = "Period of the counts over time.") -> Callable:
    return click.option("--freq", type=click.Choice(FREQS), default=FREQ, show_default=True, help=help)


def truth_option(help: str, exists: bool = True) -> Callable:
    """``--truth FILE``: known labels to score against or learn from (never joined into the workspace;
    that is ingest's --labels)."""
    return click.option(
        "--truth", required=True, type=click.Path(exists=exists, path_type=Path), metavar="FILE", help=help
    )


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


def _parse_platform(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    import re

    from ..schema import PLATFORM_NAME, PLATFORMS

    if value is None:
        return None
    if not re.match(PLATFORM_NAME, value.strip().lower()):
        raise click.BadParameter(
            f"{value!r} is not a platform name: a lower-case word, e.g. {', '.join(PLATFORMS[1:5])}"
        )
    return value.strip().lower()


def _check_links(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A links file is checked before anything is read: its first mistake is the error, with its line."""
    from ..crossplatform import LinksError, read_links

    if value is not None:
        try:
            read_links(value)
        except LinksError as e:
            raise click.BadParameter(str(e)) from None
    return value


def reader_options(f: Callable) -> Callable:
    """The options of every command that reads sources (ingest, run), handed over as ``fmt`` and
    ``read_options`` (a ``ReadOptions``)."""
    from ..readers import ReadOptions, registry
    from ..schema import PLATFORMS

    @functools.wraps(f)
    def wrapper(*args: Any, mapping, time_format, delimiter, encoding, labels, platform, links, **kwargs: Any) -> Any:
        opts = ReadOptions(
            encoding=encoding, mapping=mapping, time_format=time_format, delimiter=delimiter, labels=labels,
            platform=platform, links=links,
        )  # fmt: skip
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
        click.option(
            "--labels",
            type=click.Path(exists=True, dir_okay=False),
            metavar="FILE",
            help="CSV of account labels to join into the workspace: an account id or handle column, the other "
            "columns labels; with both an id and a handle column it also names the accounts.",
        ),
        click.option(
            "--platform",
            metavar="NAME",
            callback=_parse_platform,
            help="Platform of the posts in files whose format does not say it: generic files (over any platform "
            "column; their accounts get the prefix, e.g. reddit:name) and Meta Content Library files (facebook or "
            f"instagram). Known: {', '.join(PLATFORMS[:-1])}; any lower-case name works.",
        ),
        click.option(
            "--links",
            type=click.Path(exists=True, dir_okay=False),
            metavar="FILE",
            callback=_check_links,
            help="CSV with columns account_id,actor: accounts you know are one actor (an outlet's Telegram channel "
            "and its Twitter account). Stored in the workspace, replacing earlier links; the cross-platform layer "
            "treats them as that actor.",
        ),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def _parse_conf(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    out = []
    for item in value:
        if "=" not in item:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE (e.g. spark.driver.memory=8g)")
        k, v = item.split("=", 1)
        out.append((k.strip(), v.strip()))
    return tuple(out)


def _default_engine() -> str:
    """``$TROLLSCOPE_ENGINE`` or duckdb (one function, so that --engine means one thing in every command)."""
    return os.environ.get("TROLLSCOPE_ENGINE", "duckdb")


def engine_options(f: Callable) -> Callable:
    """``--engine``, ``--spark-master`` and ``--conf``, handed over as ``engine`` (an ``EngineSpec``)."""
    from ..engine import ENGINES, EngineSpec

    @functools.wraps(f)
    def wrapper(*args: Any, engine_name: str, spark_master: str | None, spark_conf: tuple, **kwargs: Any) -> Any:
        if engine_name != "spark" and (spark_master or spark_conf):
            raise click.UsageError("--spark-master and --conf apply to --engine spark only")
        return f(*args, engine=EngineSpec(engine_name, spark_master, spark_conf), **kwargs)

    options = [
        click.option(
            "--engine",
            "engine_name",
            type=click.Choice(ENGINES),
            default=_default_engine,
            show_default="duckdb or $TROLLSCOPE_ENGINE",
            help="Query engine: embedded DuckDB, or Apache Spark for collections beyond one machine "
            "(needs `pip install 'trollscope[spark]'` and Java 17).",
        ),
        click.option(
            "--spark-master",
            metavar="URL",
            help="Spark master URL (default $SPARK_MASTER, else local[*]); ignored inside spark-submit.",
        ),
        click.option(
            "--conf",
            "spark_conf",
            multiple=True,
            callback=_parse_conf,
            metavar="KEY=VALUE",
            help="A Spark setting on top of spark-defaults.conf, e.g. --conf spark.driver.memory=8g (repeatable).",
        ),
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


def cell(v: Any) -> str:
    """One way to print a value: integers with thousands separators (``1,272``), nothing for None."""
    if v is None:
        return ""
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def table(rows: list[tuple], headers: tuple[str, ...]) -> str:
    """A plain aligned text table."""
    cells = [tuple(str(c) for c in headers)] + [tuple(cell(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
