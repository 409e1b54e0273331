"""Commands that recognise accounts like known ones: classify train/score/evaluate/labels, similar."""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import click

from ..classify.features import FEATURE_SETS, SPLITS
from ..workspace import Workspace
from ._common import (
    Group,
    bootstrap_option,
    emit_json,
    json_option,
    output_option,
    plural,
    table,
    top_option,
    truth_option,
    workspace_option,
)

_TRUTH_HELP = "CSV of known accounts: account_id (or handle) and label = operation | organic."


class _Later:
    """A module imported on first use: scikit-learn costs ~0.7 s, which every CLI call would pay."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name, __package__), attr)


ev = _Later("..classify.evaluate")
md = _Later("..classify.model")
_similar = _Later("..classify.similar")


def _connect(workspace: Path):
    return Workspace(workspace, create=False).connect()


def _labelled(con, labels: str):
    try:
        t, unknown = ev.resolve_labels(con, ev.read_labels(labels))
    except md.ClassifyError as e:
        raise click.ClickException(str(e)) from None
    return t, unknown


def _fmt_metrics(d: dict) -> list[tuple]:
    return [(k, f"{v['value']:.3f}", f"[{v['ci_low']:.3f}, {v['ci_high']:.3f}]") for k, v in d.items()]


def _feature_set_option(f):
    return click.option(
        "--features", "feature_set", type=click.Choice(FEATURE_SETS), default="default", show_default=True,
        help="default: text, hashtags, mentions, language and style; all: also rhythm and repost/reply/quote "
        "shares (they learn how a data set was collected: see docs/classify.md).",
    )(f)  # fmt: skip


def register(cli: click.Group) -> None:
    @cli.group(cls=Group)
    def classify() -> None:
        """Recognise accounts like known operation accounts, and measure how well that works.

        Example:

        \b
            trollscope classify labels -w ws --output labels.csv
            trollscope classify train -w ws --truth labels.csv --output model.pkl
            trollscope classify score -w other-ws --model model.pkl --json
        """

    @classify.command()
    @workspace_option
    @truth_option(_TRUTH_HELP)
    @output_option("Model file to write.", required=True)
    @click.option("--min-posts", default=5, show_default=True, help="Train only on accounts with this many posts.")
    @click.option("--no-match-windows", is_flag=True,
                  help="Keep every account's full window (default: operation windows as long as organic ones).")  # fmt: skip
    @click.option("--on-leak", type=click.Choice(["warn", "drop", "error"]), default="warn", show_default=True,
                  help="What to do with a feature that alone separates the classes (a data-set giveaway).")  # fmt: skip
    @_feature_set_option
    @json_option
    def train(workspace, truth, output, min_posts, no_match_windows, on_leak, feature_set, as_json):
        """Train the classifier on labelled accounts and save it with its feature list and versions.

        Example:

        \b
            trollscope classify train -w ws --truth labels.csv --output model.pkl
        """
        con = _connect(workspace)
        labelled, unknown = _labelled(con, truth)
        try:
            model, summary = ev.train(con, labelled, model=md.TrollClassifier(on_leak=on_leak, feature_set=feature_set),
                                      min_posts=min_posts, match_windows=not no_match_windows)  # fmt: skip
        except md.ClassifyError as e:
            raise click.ClickException(str(e)) from None
        summary["unknown_labels"] = unknown
        md.save(model, output, summary)
        if as_json:
            emit_json({"model": str(output), **summary})
            return
        a = summary["accounts"]
        click.echo(f"trained on {a['operation']:,} operation and {plural(a['organic'], 'organic account')} "
                   f"({summary['seconds']} s) -> {output}")  # fmt: skip
        if unknown:
            click.echo(f"note: {plural(unknown, 'labelled account')} not in the workspace (skipped)")
        for w in summary["warnings"]:
            click.echo(f"warning: {w}", err=True)

    @classify.command()
    @workspace_option
    @click.option(
        "--model", "model_path", required=True, type=click.Path(dir_okay=False), help="Model from `classify train`."
    )
    @top_option("Accounts to list (text output; --json lists all).")
    @json_option
    def score(workspace, model_path, top, as_json):
        """Score every account of the workspace: calibrated probability of being operation-like.

        A score is a lead for a human to check, never a verdict on a person.

        Example:

        \b
            trollscope classify score -w ws --model model.pkl --top 10
            trollscope classify score -w ws --model model.pkl --json > scores.json
        """
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", md.VersionWarning)
            try:
                payload = md.load(model_path)
            except md.ClassifyError as e:
                raise click.ClickException(str(e)) from None
        for w in caught:
            click.echo(f"warning: {w.message}", err=True)
        t = md.score_accounts(_connect(workspace), payload["model"])
        rows = t.to_pylist()
        if as_json:
            emit_json({"model": str(model_path), "accounts": rows})
            return
        click.echo(f"{plural(len(rows), 'account')} scored")
        click.echo(table([(r["handle"], r["account_id"], r["posts"], f"{r['score']:.3f}") for r in rows[:top]],
                         ("handle", "account_id", "posts", "score")))  # fmt: skip

    @classify.command()
    @workspace_option
    @truth_option(_TRUTH_HELP)
    @click.option("--split", type=click.Choice(SPLITS), default="account", show_default=True,
                  help="account: grouped k-fold; time: train before --cutoff, test after, on other accounts; "
                  "source: test on an organic data set left out of training.")  # fmt: skip
    @click.option("--folds", default=5, show_default=True, help="Folds of the account split.")
    @click.option("--cutoff", default="2016-10-06", show_default=True,
                  help="Date of the time split (UTC); the default falls between the 2016 VP and second debates.")  # fmt: skip
    @click.option("--min-posts", default=5, show_default=True, help="Evaluate accounts with this many posts.")
    @click.option("--no-match-windows", is_flag=True, help="Keep every account's full window.")
    @bootstrap_option("Bootstrap resamples for the CIs.", name="bootstrap_n")
    @_feature_set_option
    @json_option
    def evaluate(
        workspace, truth, split, folds, cutoff, min_posts, no_match_windows, bootstrap_n, feature_set, as_json
    ):
        """Out-of-sample ROC-AUC, PR-AUC and precision at recall 0.8 (95% bootstrap CIs), beside the
        data-set identity baseline, with recall per operation category and the worst mistakes.

        Example:

        \b
            trollscope classify evaluate -w ws --truth labels.csv --split time --cutoff 2016-10-06
        """
        con = _connect(workspace)
        labelled, _ = _labelled(con, truth)
        try:
            r = ev.evaluate(con, labelled, split, model=md.TrollClassifier(feature_set=feature_set), folds=folds, cutoff=cutoff, min_posts=min_posts,
                            match_windows=not no_match_windows, bootstrap_n=bootstrap_n)  # fmt: skip
        except md.ClassifyError as e:
            raise click.ClickException(str(e)) from None
        if as_json:
            emit_json(r)
            return
        a = r["accounts"]
        click.echo(
            f"split {split}: {a['operation']:,} operation, {plural(a['organic'], 'organic account')} ({r['seconds']} s)"
        )
        if "warning" in r:
            click.echo(f"warning: {r['warning']}", err=True)
        click.echo("\nmodel:\n" + table(_fmt_metrics(r["model"]), ("metric", "value", "95% CI")))
        click.echo(
            "\ndata-set identity baseline:\n" + table(_fmt_metrics(r["baseline"]), ("metric", "value", "95% CI"))
        )
        click.echo("\nrecall at score 0.5 by category:\n" + table(
            [(c, v["accounts"], f"{v['recall']:.3f}") for c, v in r["recall_by_category"].items()],
            ("category", "accounts", "recall")))  # fmt: skip
        for kind, rows in r["mistakes"].items():
            click.echo(f"\n{kind.replace('_', ' ')}:\n" + table(
                [(m["handle"], m["source"], m["category"] or "", f"{m['score']:.3f}") for m in rows],
                ("handle", "source", "category", "score")))  # fmt: skip

    @classify.command()
    @workspace_option
    @output_option("CSV to write.", required=True)
    @json_option
    def labels(workspace, output, as_json):
        """Write labels from the workspace: English IRA accounts = operation, non-IRA sources = organic.

        Example:

        \b
            trollscope classify labels -w ws --output labels.csv
        """
        import pyarrow.csv as pacsv

        t = ev.workspace_labels(_connect(workspace))
        if t.num_rows == 0:
            raise click.ClickException("the workspace has no accounts to label")
        pacsv.write_csv(t, output)
        counts = {v: t.column("label").to_pylist().count(v) for v in ("operation", "organic")}
        if as_json:
            emit_json({"labels": str(output), **counts})
        else:
            click.echo(f"{counts['operation']:,} operation, {counts['organic']:,} organic -> {output}")

    @cli.command()
    @workspace_option
    @click.option(
        "--accounts",
        "to",
        required=True,
        metavar="SPEC",
        help="The known accounts: `label:COLUMN=VALUE[,VALUE…]`, `label:COLUMN` (every account with that label), "
        "`label:VALUE` (any label), or a FILE of handles or account ids.",
    )
    @top_option("How many accounts to list.")
    @click.option("--min-posts", default=5, show_default=True, help="Skip accounts with fewer posts.")
    @json_option
    def similar(workspace, to, top, min_posts, as_json):
        """Accounts nearest to a known set in the classifier's feature space, with what they share.

        Example:

        \b
            trollscope similar -w ws --accounts label:account_category=HashtagGamer --top 10
            trollscope similar -w ws --accounts known.txt --json
        """
        con = _connect(workspace)
        try:
            r = _similar.similar(con, _similar.seed_accounts(con, to), top=top, min_posts=min_posts)
        except md.ClassifyError as e:
            raise click.ClickException(str(e)) from None
        if as_json:
            emit_json(r)
            return
        click.echo(f"{plural(r['seeds'], 'seed account')}; nearest of {r['candidates']:,} others:")
        click.echo(table([(h["handle"], h["posts"], f"{h['similarity']:.3f}",
                           ", ".join(h["shared_entities"] + h["shared_words"] + h["shared_features"]))
                          for h in r["accounts"]], ("handle", "posts", "similarity", "shares")))  # fmt: skip
