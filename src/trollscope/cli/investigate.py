"""Commands that investigate an operation: timeline, targeting, narratives, amplifiers."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path

import click
import pyarrow as pa

from ..investigate import amplifiers as amplifiers_api
from ..investigate import narratives as narratives_api
from ..investigate import targeting as targeting_api
from ..investigate import timeline as timeline_api
from ..investigate.narratives import DEFAULT_TERMS
from ..investigate.result import Result
from ._common import (
    bootstrap_option,
    emit_json,
    engine_options,
    freq_option,
    json_option,
    output_option,
    plural,
    progress,
    seed_option,
    table,
    top_option,
    workspace_option,
)


def operation_options(f: Callable) -> Callable:
    """``--accounts`` and ``--by``: which accounts are the operation, and how to split them."""
    f = click.option(
        "--by",
        metavar="label:COLUMN|cluster",
        help="Compare groups: an account label (e.g. label:account_category) or the detected clusters.",
    )(f)
    return click.option(
        "--accounts",
        metavar="SPEC",
        help="The operation: `flagged` (detect's accounts; the default), `all`, `label:COLUMN=VALUE[,VALUE…]` "
        "(e.g. label:account_category=LeftTroll,RightTroll), `label:COLUMN` (every account with that label), "
        "or a FILE of handles or account ids.",
    )(f)


def terms_option(help: str) -> Callable:
    """``--terms``: the narratives to follow; not given, narratives' own list (or, for `report`, the run's)."""
    return click.option("--terms", metavar="TERMS", help=help)


def events_option(f: Callable) -> Callable:
    return click.option(
        "--events",
        default="builtin",
        show_default=True,
        help="Events to overlay: `builtin` (US politics 2015–2017), `none`, or a CSV with date,event[,category,source].",
    )(f)


def output_options(f: Callable) -> Callable:
    f = click.option(
        "--rows",
        default=1000,
        show_default=True,
        help="With --json: at most this many rows per table (--output always writes every row).",
    )(f)
    f = json_option(f)
    return output_option(
        "Write the tables: the main one to FILE (.csv or .parquet), the others beside it as FILE.NAME.EXT."
    )(f)


def _finish(result: Result, output: Path | None, as_json: bool, rows: int, text: Callable[[Result], str]) -> None:
    if output is not None:
        written = result.write(output)
        click.echo("wrote " + ", ".join(str(p) for p in written), err=True)
    if as_json:
        emit_json(result.as_dict(rows=rows))
        return
    op = result.operation
    groups = ", ".join(f"{g} {n:,}" for g, n in op.groups.items())
    click.echo(f"operation: {op.spec} — {plural(op.accounts, 'account')}" + (f" by {op.by}: {groups}" if op.by else ""))
    click.echo(text(result))
    for note in op.notes + result.notes:
        click.echo(f"note: {note}")


def _fmt(v: object, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d") if (v.hour, v.minute) == (0, 0) else v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _ci(row: dict) -> str:
    return f"{_fmt(row['both_sides'])} [{_fmt(row['ci_low'])}, {_fmt(row['ci_high'])}]"


def _by_platform_lines(t: pa.Table | None, columns: dict[str, str]) -> list[str]:
    """An investigation's per-platform table (posts from several platforms; none on one): column -> header."""
    if t is None:
        return []
    rows = [tuple(_ci(r) if c == "both_sides" else _fmt(r[c]) for c in columns) for r in t.to_pylist()]
    return ["", "by platform:", table(rows, tuple(columns.values()))]


def _short(s: str | None, n: int = 60) -> str:
    s = " ".join((s or "").split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _timeline_text(r) -> str:
    p = r.params
    out = [
        "",
        "onset (first post; first run of >= "
        f"{p['sustain_periods']} {p['freq']}s with >= {p['sustain_posts']} posts each):",
    ]
    out.append(
        table(
            [
                (
                    o["grp"],
                    _fmt(o["accounts"]),
                    _fmt(o["posts"]),
                    _fmt(o["first_post"]),
                    o["first_handle"] or "–",
                    _fmt(o["sustained_from"]),
                    _fmt(o["peak_period"]),
                    _fmt(o["peak_posts"]),
                )
                for o in r.onset.to_pylist()
            ],
            ("group", "accounts", "posts", "first post", "by", "sustained from", f"peak {p['freq']}", "posts"),
        )
    )
    bursts = sorted(r.bursts.to_pylist(), key=lambda b: -b["peak_posts"])[:10]
    out += [
        "",
        f"bursts (z >= {p['burst_z']:g} against the previous {p['burst_baseline']} {p['freq']}s; "
        f"{r.bursts.num_rows} in all, largest 10):",
    ]
    out.append(
        table(
            [
                (
                    b["grp"],
                    _fmt(b["start"]),
                    _fmt(b["last_period"]),
                    _fmt(b["posts"]),
                    _fmt(b["peak_posts"]),
                    _fmt(b["max_z"], 1),
                    _short(b["nearest_event"], 50),
                )
                for b in bursts
            ],
            ("group", "from", "to", "posts", "peak", "z", "nearest event"),
        )
    )
    ev = [e for e in r.events.to_pylist() if e["posts_before"] or e["posts_after"]]
    if ev:
        groups = sorted({e["grp"] for e in ev})
        by_event: dict[tuple, dict] = {}
        for e in ev:
            by_event.setdefault((e["date"], e["event"]), {})[e["grp"]] = f"{e['posts_before']:,}→{e['posts_after']:,}"
        out += ["", f"events (posts in the {p['event_window_days']} days before → after):"]
        out.append(
            table(
                [
                    (d.isoformat(), _short(name, 50), *[cells.get(g, "–") for g in groups])
                    for (d, name), cells in by_event.items()
                ],
                ("date", "event", *groups),
            )
        )
    out += _by_platform_lines(
        r.by_platform,
        {"grp": "group", "platform": "platform", "posts": "posts", "accounts": "accounts", "first_post": "first post",
         "last_post": "last post", "active_periods": f"active {p['freq']}s"},
    )  # fmt: skip
    if r.before is not None:
        out += ["", f"before {p['before']}:"]
        out.append(
            table(
                [
                    (
                        b["grp"],
                        f"{b['accounts_before']:,} of {b['accounts']:,}",
                        _fmt(b["posts_before"]),
                        _fmt(b["share_before"], 3),
                        _fmt(b["first_post"]),
                    )
                    for b in r.before.to_pylist()
                ],
                ("group", "accounts active", "posts", "share of its posts", "first post"),
            )
        )
    return "\n".join(out)


SIDES = ("left", "right", "mixed", "too few")  # an account's side (investigate/targeting.py)


def _targeting_text(r) -> str:
    out = ["", "partisan lean (lexicon; lean -1 = all left, +1 = all right; both-sides 0 = one side, 1 = even):"]
    sides: dict[str, dict[str, int]] = {}
    for a in r.accounts.to_pylist():
        sides.setdefault(a["grp"], {}).setdefault(a["side"], 0)
        sides[a["grp"]][a["side"]] += 1
    rows = []
    for g in r.groups.to_pylist():
        s = sides.get(g["grp"], {})
        rows.append(
            (
                g["grp"],
                _fmt(g["accounts"]),
                _fmt(g["political_posts"]),
                _fmt(g["political_share"], 3),
                _fmt(g["left_posts"]),
                _fmt(g["right_posts"]),
                _fmt(g["mixed_posts"]),
                _fmt(g["lean"]),
                _ci(g),
                "/".join(f"{s.get(k, 0):,}" for k in SIDES),
            )
        )
    o = r.summary["operation"]
    rows.append(
        (
            "(whole operation)",
            _fmt(o["accounts"]),
            _fmt(o["political_posts"]),
            _fmt(o["political_share"], 3),
            _fmt(o["left_posts"]),
            _fmt(o["right_posts"]),
            _fmt(o["mixed_posts"]),
            _fmt(o["lean"]),
            _ci(o),
            "/".join(f"{sum(x.get(k, 0) for x in sides.values()):,}" for k in SIDES),
        )
    )
    out.append(
        table(
            rows,
            (
                "group",
                "accounts",
                "political posts",
                "share",
                "left",
                "right",
                "mixed",
                "lean",
                "both-sides [95% CI]",
                "accounts L/R/mixed/too few",
            ),
        )
    )
    out += _by_platform_lines(
        r.by_platform,
        {"platform": "platform", "accounts": "accounts", "political_posts": "political posts", "left_posts": "left",
         "right_posts": "right", "mixed_posts": "mixed", "lean": "lean", "both_sides": "both-sides [95% CI]"},
    )  # fmt: skip
    out.append(
        f"(political posts = left + right + mixed; accounts = left + right + mixed + too few, an account "
        f"with fewer than {r.params['min_political']} political posts being too few to call)"
    )
    if r.candidates.num_rows:
        out += ["", f"candidates (sentiment: {r.params['sentiment_model'] or 'off'}; net = positive − negative share):"]
        out.append(
            table(
                [
                    (
                        c["grp"],
                        c["candidate"],
                        _fmt(c["mentions"]),
                        _fmt(c["share_of_posts"], 3),
                        _fmt(c["accounts"]),
                        _fmt(c["mean_compound"], 3),
                        _fmt(c["net_sentiment"], 3),
                    )
                    for c in r.candidates.to_pylist()
                ],
                ("group", "candidate", "mentions", "share of posts", "accounts", "mean compound", "net"),
            )
        )
    return "\n".join(out)


def _narratives_text(r) -> str:
    out = [""]
    out.append(
        table(
            [
                (
                    t["term"],
                    _fmt(t["op_posts"]),
                    _fmt(t["op_accounts"]),
                    _fmt(t["outside_posts"]),
                    _fmt(t["op_share"], 3),
                    _fmt(t["op_first_use"]),
                    _fmt(t["first_use_anywhere"]),
                )
                for t in r.terms.to_pylist()
            ],
            (
                "narrative",
                "operation posts",
                "accounts",
                "outside posts",
                "operation share",
                "operation first",
                "first anywhere",
            ),
        )
    )
    groups = sorted({g["grp"] for g in r.by_group.to_pylist()})
    if len(groups) > 1:
        cells: dict[str, dict[str, int]] = {}
        for g in r.by_group.to_pylist():
            cells.setdefault(g["term"], {})[g["grp"]] = g["posts"]
        out += ["", "operation posts by group:"]
        out.append(table([(t, *[_fmt(c.get(g, 0)) for g in groups]) for t, c in cells.items()], ("narrative", *groups)))
    out += _by_platform_lines(
        r.by_platform,
        {"term": "narrative", "platform": "platform", "op_posts": "operation posts", "outside_posts": "outside posts",
         "op_first_use": "operation first", "outside_first_use": "outside first"},
    )  # fmt: skip
    out += ["", "verdicts:"] + [f"  {t['term']}: {t['verdict']}" for t in r.terms.to_pylist()]
    return "\n".join(out)


def _amplifiers_text(r, top: int) -> str:
    s = r.summary
    i, o = s["inbound"], s["outbound"]
    share = _fmt(s["internal_share"], 3)
    out = [
        "",
        f"inbound: {plural(i['outside_accounts'], 'outside account')} amplified the operation in "
        f"{plural(i['posts'], 'post')} "
        f"(reposts {i['reposts']:,}, quotes {i['quotes']:,}, replies {i['replies']:,}, mentions {i['mentions']:,})",
        f"outbound: the operation amplified {plural(o['targets'], 'outside account')} in {plural(o['posts'], 'post')} "
        f"(reposts {o['reposts']:,}, quotes {o['quotes']:,}, replies {o['replies']:,}, mentions {o['mentions']:,}); "
        f"{plural(s['internal_posts'], 'amplification')} stayed inside the operation (share {share})",
    ]
    cols = ("reposts", "quotes", "replies", "mentions", "total")
    if r.inbound.num_rows:
        out += ["", f"top {top} outside amplifiers:"]
        out.append(
            table(
                [
                    (
                        a["handle"],
                        *([a["platform"]] if "platform" in a else []),
                        *[_fmt(a[c]) for c in cols],
                        _fmt(a["op_accounts"]),
                        _fmt(a["first_at"]),
                        _fmt(a["last_at"]),
                    )
                    for a in r.inbound.slice(0, top).to_pylist()
                ],
                (
                    "account",
                    *(["platform"] if "platform" in r.inbound.column_names else []),
                    *cols,
                    "op accounts",
                    "first",
                    "last",
                ),
            )
        )
    if r.outbound.num_rows:
        out += ["", f"top {top} outside accounts the operation amplified:"]
        out.append(
            table(
                [
                    (
                        "@" + (a["target_handle"] or a["target"]) if a["target_handle"] else a["target"],
                        *([a["target_platform"] or "–"] if "target_platform" in a else []),
                        *[_fmt(a[c]) for c in cols],
                        _fmt(a["op_accounts"]),
                        ",".join(a["groups"]),
                    )
                    for a in r.outbound.slice(0, top).to_pylist()
                ],
                (
                    "account",
                    *(["platform"] if "target_platform" in r.outbound.column_names else []),
                    *cols,
                    "op accounts",
                    "groups",
                ),
            )
        )
    return "\n".join(out)


def register(cli: click.Group) -> None:
    @cli.command()
    @workspace_option
    @operation_options
    @freq_option()
    @events_option
    @click.option("--before", metavar="DATE", help="Also report each group's activity before DATE (YYYY-MM-DD).")
    @click.option("--sustain-periods", default=3, show_default=True, help="Onset: consecutive periods in a run.")
    @click.option("--sustain-posts", default=10, show_default=True, help="Onset: posts per period to count as active.")
    @click.option("--burst-baseline", default=8, show_default=True, help="Bursts: periods in the rolling baseline.")
    @click.option("--burst-z", default=3.0, show_default=True, help="Bursts: z-score threshold.")
    @click.option("--burst-min-posts", default=10, show_default=True, help="Bursts: minimum posts in a burst period.")
    @click.option("--event-window", default=7, show_default=True, help="Days before and after each event to count.")
    @engine_options
    @output_options
    def timeline(
        workspace,
        accounts,
        by,
        freq,
        events,
        before,
        sustain_periods,
        sustain_posts,
        burst_baseline,
        burst_z,
        burst_min_posts,
        event_window,
        output,
        as_json,
        rows,
        engine,
    ):
        """When the operation began and surged: volume per period, onset, bursts, events.

        Onset is the first post and the first sustained run of activity; bursts are periods far
        above a rolling baseline (z-score); events are overlaid with the posts just before and
        after each. See docs/investigate.md for the definitions.

        Example:

        \b
            trollscope timeline -w ira-ws --accounts label:account_category=LeftTroll,RightTroll \\
                --by label:account_category --freq week --before 2015-06-16
            trollscope timeline -w ws --accounts flagged --by cluster --output timeline.csv
        """
        r = timeline_api(
            workspace,
            accounts,
            by,
            freq=freq,
            events=None if events == "none" else events,
            before=before,
            sustain_periods=sustain_periods,
            sustain_posts=sustain_posts,
            burst_baseline=burst_baseline,
            burst_z=burst_z,
            burst_min_posts=burst_min_posts,
            event_window_days=event_window,
            engine=engine,
        )
        _finish(r, output, as_json, rows, _timeline_text)

    @cli.command()
    @workspace_option
    @operation_options
    @freq_option()
    @click.option(
        "--lexicon",
        type=click.Path(exists=True, dir_okay=False),
        help="Your own partisan lexicon CSV (side,kind,term[,note]) instead of the built-in one.",
    )
    @click.option(
        "--candidates",
        type=click.Path(exists=True, dir_okay=False),
        help="Your own candidates CSV (candidate,pattern[,party]) instead of the built-in one.",
    )
    @click.option("--no-sentiment", is_flag=True, help="Skip VADER sentiment (mentions are still counted).")
    @click.option(
        "--min-political",
        default=5,
        show_default=True,
        help="Political posts an account needs before it is called left, right or mixed.",
    )
    @bootstrap_option("Bootstrap resamples of accounts for the CI.")
    @seed_option("Seed of the bootstrap.")
    @engine_options
    @output_options
    def targeting(
        workspace,
        accounts,
        by,
        freq,
        lexicon,
        candidates,
        no_sentiment,
        min_political,
        bootstrap,
        seed,
        output,
        as_json,
        rows,
        engine,
    ):
        """Which side(s) the operation took: lean, candidates and sentiment, both-sides index.

        Lean comes from a lexicon of left- and right-coded hashtags and phrases (built in,
        editable: see docs/investigate.md); the both-sides index (0 = one side only, 1 = an even
        split) has a bootstrap interval that resamples accounts.

        Example:

        \b
            trollscope targeting -w ira-ws --accounts label:account_category=LeftTroll,RightTroll \\
                --by label:account_category
            trollscope targeting -w ws --accounts flagged --lexicon my_lexicon.csv --output lean.parquet
        """
        with progress(None, "sentiment", unit="texts") as update:
            r = targeting_api(
                workspace,
                accounts,
                by,
                freq=freq,
                lexicon=lexicon,
                candidates=candidates,
                sentiment=not no_sentiment,
                min_political=min_political,
                bootstrap=bootstrap,
                seed=seed,
                progress=update,
                engine=engine,
            )
        _finish(r, output, as_json, rows, _targeting_text)

    @cli.command()
    @workspace_option
    @operation_options
    @terms_option(
        "Comma-separated narratives; `a|b` = several spellings, `x*` = prefix, `name=a|b` names one "
        f"[default: {DEFAULT_TERMS}]."
    )
    @freq_option()
    @click.option("--lags", default=2, show_default=True, help="Periods of lag in the uptake test.")
    @click.option("--examples", default=3, show_default=True, help="Earliest posts to keep per narrative and side.")
    @engine_options
    @output_options
    def narratives(workspace, accounts, by, terms, freq, lags, examples, output, as_json, rows, engine):
        """Did the operation start narratives or stoke them: volume, first use, share, uptake.

        Terms match hashtags and text, case- and #-insensitively. Uptake is a lagged
        association (does outside volume rise after the operation's?), not proof of cause; with
        no posts outside the operation it says what cannot be measured.

        Example:

        \b
            trollscope narratives -w ira-ws --accounts label:account_category=LeftTroll,RightTroll \\
                --by label:account_category --terms 'fracking,antifa,jadehelm=jadehelm*|jade helm*,pizzagate'
            trollscope narratives -w ws --accounts flagged --terms 'blm=blacklivesmatter|black lives matter' --output n.csv
        """
        r = narratives_api(
            workspace,
            accounts,
            by,
            terms=terms or DEFAULT_TERMS,
            freq=freq,
            lags=lags,
            examples=examples,
            engine=engine,
        )
        _finish(r, output, as_json, rows, _narratives_text)

    @cli.command()
    @workspace_option
    @operation_options
    @top_option("Accounts to list (and per group, in the tables).")
    @click.option("--examples", default=3, show_default=True, help="Example posts to keep per account.")
    @engine_options
    @output_options
    def amplifiers(workspace, accounts, by, top, examples, output, as_json, rows, engine):
        """Who amplified the operation, and whom it amplified: reposts, quotes, replies, mentions.

        Inbound: outside accounts that amplified operation accounts, with counts by kind, first
        and last time and the posts. Outbound: outside accounts the operation amplified most.

        Example:

        \b
            trollscope amplifiers -w ira-ws --accounts label:account_category=RightTroll --top 10
            trollscope amplifiers -w ws --accounts handles.txt --output amplifiers.csv
        """
        r = amplifiers_api(workspace, accounts, by, top=top, examples=examples, engine=engine)
        _finish(r, output, as_json, rows, lambda res: _amplifiers_text(res, top))
