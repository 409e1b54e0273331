"""Commands that find coordination and check it: detect, export, evaluate."""

from __future__ import annotations

import re
from pathlib import Path

import click

from ..detect import LAYERS, WINDOWED, DetectParams
from ..detect import detect as detect_api
from ..detect.run import MAX_GROUP_SPLITS, scale_label
from ._common import emit_json, engine_options, json_option, plural, table, workspace_option
from ._format import evidence_lines, fmt_p, fmt_span, post_texts

_UNITS = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Seconds in ``60``, ``60s``, ``5m``, ``5min``, ``1.5h``, ``1d``."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(min|[smhd]?)\s*", text.lower())
    if not m or float(m.group(1)) <= 0:
        raise click.BadParameter(f"{text!r} is not a duration such as 60s, 5m or 1h")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_scales(text: str) -> tuple[float, ...]:
    """Seconds of each duration in a comma-separated list (``60s,1h,1d``), ascending."""
    parts = [x for x in text.split(",") if x.strip()]
    if not parts:
        raise click.BadParameter(f"{text!r} names no duration: give one or more such as 60s,1h,1d")
    return tuple(sorted({parse_duration(x) for x in parts}))


def _parse_windows(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[tuple[float, ...] | None, dict]:
    """``--window 60s,1h,1d`` (every windowed layer) and ``--window co-link=1h,1d`` (one layer)."""
    default, per_layer = None, {}
    for item in value:
        if "=" in item:
            layer, durations = (x.strip() for x in item.split("=", 1))
            if layer not in WINDOWED:
                raise click.BadParameter(f"{layer!r} has no window: windowed layers are {', '.join(WINDOWED)}")
            per_layer[layer] = parse_scales(durations)
        else:
            default = parse_scales(item)
    return default, per_layer


def _scales_text(scales: tuple[float, ...]) -> str:
    return ",".join(scale_label(x) for x in scales)


def _parse_layers(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if value.strip() == "all":
        return LAYERS
    chosen = tuple(x.strip() for x in value.split(",") if x.strip())
    unknown = [x for x in chosen if x not in LAYERS]
    if unknown:
        raise click.BadParameter(f"unknown layer {', '.join(unknown)}: choose from {', '.join(LAYERS)} or all")
    return chosen


def _summary(d: dict, texts: dict[str, str] | None = None) -> str:
    lines = []
    layer_rows = [
        (name, f"{f.get('actions', f.get('entries', 0)):,}", f"{f.get('accounts', 0):,}",
         f"{f.get('candidate_edges', 0):,}", f"{f.get('significant_edges', 0):,}", f"{f.get('seconds', 0):.1f}")
        for name, f in d["layers"].items()
    ]  # fmt: skip
    lines.append(table(layer_rows, ("layer", "actions", "accounts", "candidates", "significant", "seconds")))
    clusters = d["clusters"]
    lines.append(
        f"\n{plural(len(clusters), 'cluster')}, {plural(len(d['flagged_accounts']), 'flagged account')} "
        f"(alpha {d['params']['alpha']}, {d['seconds']:.1f} s)"
    )
    if clusters:
        rows = []
        for c in clusters:
            layers = ", ".join(f"{k} {v}" for k, v in sorted(c["layers"].items(), key=lambda kv: -kv[1]))
            shown = ", ".join(c["accounts"][:5]) + (f" +{c['size'] - 5}" if c["size"] > 5 else "")
            rows.append((c["id"], c["size"], fmt_p(c["p_value"]), layers, fmt_span(c["first"], c["last"]), shown))
        lines.append("\n" + table(rows, ("cluster", "size", "p", "ties per layer", "span (UTC)", "accounts")))
        if d.get("groups"):
            g_rows = [
                (g["group_id"], g["cluster_id"] or "", g["size"], f"{g['layer']} @ {scale_label(g['window'])}",
                 f"{g['co_actions']:,} vs {g['expected']:.2g}", fmt_p(g["p_value"]), g["days_active"],
                 ", ".join(g["handles"][:5]) + (f" +{g['size'] - 5}" if g["size"] > 5 else ""))
                for g in d["groups"][:10]
            ]  # fmt: skip
            lines.append(
                f"\n{plural(len(d['groups']), 'group')} (many accounts co-acting across many items; top 10):\n"
                + table(
                    g_rows, ("group", "cluster", "members", "found at", "co-actions vs chance", "p", "days", "accounts")
                )
            )
        first = clusters[0]
        if first["evidence"]:
            lines.append(f"\nevidence for cluster {first['id']} (more with --json):")
            lines += evidence_lines(first["evidence"][:5], texts or {})
    return "\n".join(lines)


def detect_overrides(*, layers, windows, no_groups=False, **values) -> dict:
    """detect's tuning options as ``detect()`` keywords (`run` takes the same options: see cli/pipeline.py)."""
    window, per_layer = windows
    overrides = dict(values, windows=per_layer, groups=not no_groups)
    if layers is not None:
        overrides["layers"] = layers
    if window is not None:
        overrides["window"] = window
    return overrides


def register(cli: click.Group) -> None:
    defaults = DetectParams()

    @cli.command()
    @workspace_option
    @click.option(
        "--layers",
        callback=_parse_layers,
        help=f"Comma-separated layers, or 'all' (the defaults and near-dup) [default: {','.join(defaults.layers)}].",
    )
    @click.option(
        "--window",
        "windows",
        multiple=True,
        callback=_parse_windows,
        help="Time scales: comma-separated durations for every windowed layer (60s,1h,1d), or "
        "LAYER=DURATIONS for one; repeatable. With several, the longest is the reference the shorter "
        "ones are tested against (docs/detection.md) "
        f"[default: {_scales_text(defaults.window)}; near-dup {_scales_text(defaults.scales_for('near-dup'))}].",
    )
    @click.option("--alpha", type=float, default=defaults.alpha, show_default=True,
                  help="False-discovery rate for edges (Benjamini-Hochberg).")  # fmt: skip
    @click.option("--min-count", type=int, default=defaults.min_count, show_default=True,
                  help="Minimum co-actions for an edge (shared features for similarity); 1 lets the null model "
                       "alone set the floor.")  # fmt: skip
    @click.option("--no-groups", is_flag=True,
                  help="Skip the group test (accounts linked by many items, each pair perhaps once).")  # fmt: skip
    @click.option("--group-splits", type=click.IntRange(1, MAX_GROUP_SPLITS), default=defaults.group_splits, show_default=True,
                  help="Run the group test on this many splits of the items and keep the accounts confirmed on at "
                       "least half (each at alpha/2): results that depend less on the draw, at a group test's cost "
                       "per split.")  # fmt: skip
    @click.option("--max-item-accounts", type=int, default=defaults.max_item_accounts, show_default=True,
                  help="Items more accounts acted on are a crowd: never paired, not evidence.")  # fmt: skip
    @click.option("--min-cluster-size", type=int, default=defaults.min_cluster_size, show_default=True,
                  help="Smaller clusters are dropped (their accounts are not flagged).")  # fmt: skip
    @click.option("--seed", type=int, default=defaults.seed, show_default=True, help="Seed for Leiden and MinHash.")
    @click.option("--no-cache", is_flag=True,
                  help="Normalise the post texts afresh and keep no copy (by default the workspace caches them "
                       "for the next run; the cache is rebuilt whenever the posts change).")  # fmt: skip
    @engine_options
    @json_option
    def detect(
        workspace,
        layers,
        windows,
        alpha,
        min_count,
        no_groups,
        group_splits,
        max_item_accounts,
        min_cluster_size,
        seed,
        no_cache,
        as_json,
        engine,
    ):
        """Find accounts that act in concert more than chance explains.

        Builds co-action layers (same repost, text, near-duplicate text, link, hashtag set, reply
        target or mention set within a window, at several time scales; behavioural similarity),
        keeps the pairs that beat each layer's null model at the given false-discovery rate, tests
        groups of accounts linked by many items (each pair perhaps once), clusters them with Leiden
        and writes edges, groups, clusters, cluster_members, account_scores and evidence to the
        workspace. Progress per layer goes to stderr.

        Example:

        \b
            trollscope detect -w ws
            trollscope detect -w ws --layers co-repost,co-post --window 60s --alpha 0.001 --json
            trollscope detect -w ws --window 60s,1h,1d --window co-link=1h,1d
            trollscope detect -w ws --engine spark --spark-master local[2] --layers co-repost,co-post
        """
        overrides = detect_overrides(layers=layers, windows=windows, no_groups=no_groups, alpha=alpha,
                                     min_count=min_count, group_splits=group_splits, max_item_accounts=max_item_accounts,
                                     min_cluster_size=min_cluster_size, seed=seed)  # fmt: skip

        def progress(layer: str, f: dict) -> None:
            click.echo(
                f"{layer}: {plural(f.get('candidate_edges', 0), 'candidate pair')}, {f.get('significant_edges', 0):,} "
                f"significant ({f.get('seconds', 0):.1f} s)",
                err=True,
            )

        result = detect_api(workspace, progress=progress, cache=not no_cache, engine=engine, **overrides)
        d = result.as_dict()
        if as_json:
            emit_json(d)
        else:
            shown = d["clusters"][0]["evidence"][:5] if d["clusters"] else []
            click.echo(
                _summary(d, post_texts(workspace, [str(e[k]) for e in shown for k in ("post_a", "post_b")], engine))
            )

    @cli.command()
    @workspace_option
    @click.option("--graphml", type=click.Path(dir_okay=False, path_type=Path), help="Write GraphML here.")
    @click.option("--gexf", type=click.Path(dir_okay=False, path_type=Path), help="Write GEXF (Gephi) here.")
    @json_option
    def export(workspace, graphml, gexf, as_json):
        """Write the last detection run's coordination graph for Gephi, Cytoscape or networkx.

        Nodes carry handle, cluster, score, flagged and known labels; edges carry the combined
        weight and the co-action count of each layer.

        Example:

        \b
            trollscope export -w ws --gexf coordination.gexf
            trollscope export -w ws --graphml coordination.graphml
        """
        from ..detect.export import write_gexf, write_graphml

        if not graphml and not gexf:
            raise click.UsageError("say where to write: --graphml FILE and/or --gexf FILE")
        out = []
        if graphml:
            out.append(write_graphml(workspace, graphml))
        if gexf:
            out.append(write_gexf(workspace, gexf))
        if as_json:
            emit_json(out)
        else:
            for r in out:
                click.echo(f"{plural(r['nodes'], 'account')}, {plural(r['edges'], 'edge')} -> {r['path']}")

    @cli.command()
    @workspace_option
    @click.option("--truth", required=True, type=click.Path(exists=True, path_type=Path),
                  help="simulate's truth.csv (or its folder), or a labels CSV: account id or handle, label.")  # fmt: skip
    @click.option("--viral-min", type=int, default=100, show_default=True,
                  help="Reposters that make a post a viral cascade.")  # fmt: skip
    @json_option
    def evaluate(workspace, truth, viral_min, as_json):
        """Score the last detection run against known labels: precision, recall, organic false positives.

        Example:

        \b
            trollscope evaluate -w ws --truth sim/truth.csv
            trollscope evaluate -w ws --truth labels.csv --json
        """
        from ..detect.evaluate import evaluate as evaluate_api

        d = evaluate_api(workspace, truth, viral_min_accounts=viral_min)
        if as_json:
            emit_json(d)
            return

        def pct(x: float | None) -> str:
            return "n/a" if x is None else f"{100 * x:.1f}%"

        click.echo(
            f"{plural(d['labelled_accounts'], 'labelled account')} ({d['planted']:,} planted, {d['organic']:,} organic); "
            f"{d['flagged']:,} flagged"
        )
        click.echo(f"precision {pct(d['precision'])}  recall {pct(d['recall'])}  F1 {pct(d['f1'])}")
        click.echo(
            f"organic flagged {pct(d['organic_flagged_share'])}; organic accounts in viral cascades flagged "
            f"{pct(d['organic_viral_flagged_share'])} ({d['organic_viral_flagged']:,} of {d['organic_viral_participants']:,})"
        )
        if d["recall_by_style"]:
            rows = [(k, v["accounts"], v["flagged"], pct(v["recall"])) for k, v in d["recall_by_style"].items()]
            click.echo("\n" + table(rows, ("style", "planted", "flagged", "recall")))
        rows = [(k, v["accounts"], v["flagged"], pct(v["recall"])) for k, v in d["recall_by_campaign"].items()]
        if rows:
            click.echo("\n" + table(rows, ("campaign", "planted", "flagged", "recall")))
        if d["truth_rows_not_in_workspace"]:
            click.echo(
                f"\n{plural(d['truth_rows_not_in_workspace'], 'truth row')} with no posts in the workspace (not scored)"
            )
