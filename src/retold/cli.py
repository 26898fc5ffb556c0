"""The ``retold`` command. Each verb parses options and calls the API function of the same name."""

from __future__ import annotations

import functools
import os
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from retold import api
from retold._version import __version__
from retold.dedup import registry
from retold.errors import BadOption, RetoldError
from retold.options import Option
from retold.result import ScanResult

INTERNAL_ERROR = (
    "internal error: {exc}. Nothing was lost: outputs are only replaced when complete. "
    "Set RETOLD_DEBUG=1 for the traceback and report it."
)


def click_option(opt: Option) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The click option for ``opt``: its flag, type, default and help follow from the option."""
    help_text = opt.help
    if opt.name in ("levels", "drop"):  # the levels there are, read from the registry
        on = (
            registry.default_levels()
            if opt.name == "levels"
            else registry.default_drop(registry.default_levels())
        )
        help_text += f" Levels: {', '.join(lv.name for lv in registry.levels())} [default: {','.join(on)}]."
    elif opt.shown_default is not None:
        help_text += f" [default: {opt.shown_default}]"
    if opt.kind is bool:
        if opt.negate is not None:
            return click.option(
                opt.negate, opt.name, is_flag=True, flag_value=False, default=True, help=help_text
            )
        flags = [opt.flag, opt.short] if opt.short else [opt.flag]
        return click.option(*flags, opt.name, is_flag=True, help=help_text)
    kind: Any = None
    if opt.choices is not None:
        kind = click.Choice(opt.choices)
    elif opt.kind is int:
        kind = click.IntRange(opt.low, opt.high)  # type: ignore[arg-type]
    elif opt.kind is float:
        kind = click.FloatRange(opt.low, opt.high, min_open=opt.low_open)
    elif opt.existing_path:
        kind = click.Path(exists=True)
    elif opt.multiple:
        kind = click.Path(file_okay=False)
    shown = opt.default is not None and opt.shown_default is None and opt.name not in ("levels", "drop")
    return click.option(
        opt.flag,
        opt.name,
        type=kind,
        default=opt.default,
        multiple=opt.multiple,
        show_default=shown,
        help=help_text,
    )


def verb_options(verb: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Every option of ``verb`` (:func:`retold.api.verb_options`) as click options."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        for opt in reversed(list(api.verb_options(verb).values())):
            fn = click_option(opt)(fn)
        return fn

    return decorate


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Library errors → ``Error: …`` and exit 1; anything unexpected → one line, exit 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BadOption as exc:
            raise click.UsageError(str(exc)) from None
        except RetoldError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt as exc:
            terminated = isinstance(exc, Terminated)
            how = "SIGTERM" if terminated else "SIGINT (Ctrl-C)"
            consumed = getattr(exc, "resume_from", None)
            if consumed is None:
                then = "nothing was checkpointed yet: rerunning the same command starts it again"
            else:
                then = (
                    f"rerun the same command to resume from its last checkpoint ({consumed:,} input "
                    "units read); add --restart to start afresh"
                )
            click.echo(f"Stopped by {how}; this run's outputs were not written; {then}.", err=True)
            sys.exit(143 if terminated else 130)
        except (click.ClickException, click.exceptions.Exit, SystemExit):
            raise
        except OSError as exc:
            raise click.ClickException(f"{exc}; check the paths and free disk space") from None
        except Exception as exc:
            if os.environ.get("RETOLD_DEBUG"):
                traceback.print_exc()
            raise click.ClickException(INTERNAL_ERROR.format(exc=f"{type(exc).__name__}: {exc}")) from None

    return wrapper


def report(result: ScanResult, quiet: bool) -> None:
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if quiet:
        return
    dropped = ", ".join(f"{k} {v:,}" for k, v in result.dropped.items()) or "none"
    click.echo(
        f"{result.documents_in:,} documents in: kept {result.kept:,}, dropped {result.dropped_total:,} "
        f"({dropped}), quarantined {result.quarantined:,}; repaired {result.repaired:,}"
    )
    for level, documents in result.reported.items():
        clusters = result.clusters.get(level, 0)
        click.echo(f"{level}: {clusters:,} clusters, {documents:,} documents; reported, kept")
    click.echo(f"Outputs in {result.out}/ ; summary: {result.summary_path}")
    if result.report_path is not None:
        click.echo(f"Report: {result.report_path}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="retold")
def cli() -> None:
    """retold: repair, deduplicate and audit corpora of generated text.

    \b
    Example:
        retold scan stories.jsonl --out curated/
    """


def out_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help=help_text)


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@out_option("Folder for kept/dropped/quarantine/clusters/summary, report.html and index/.")
@verb_options("scan")
@handle_errors
def scan(inputs: tuple[str, ...], out: str, **options: Any) -> None:
    """Read INPUTS (files, folders, or - for stdin), repair, drop exact and near copies, write --out.

    Near copies are found by MinHash-LSH on word 5-grams and verified on the exact shingle sets
    against the document that is kept (word 5-gram Jaccard >= --near-threshold, default 0.7).

    Inputs may be JSONL, CSV/TSV, Parquet or .txt/.md files (one document each), optionally
    .gz/.zst/.bz2. Every input record ends in exactly one of kept.jsonl, dropped.jsonl (with the
    reason and the id it duplicates) or quarantine.jsonl (with the error and its raw bytes).

    \b
    Example:
        retold scan stories.jsonl.gz more/ --out curated/ --keep longest
        retold scan excerpts.jsonl --out curated/ --near-measure containment --keep longest
    """
    report(api.scan(list(inputs), out, **options), options["quiet"])


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@out_option("Folder for report.html and report.json.")
@verb_options("audit")
@handle_errors
def audit(inputs: tuple[str, ...], out: str, **options: Any) -> None:
    """Audit INPUTS: how diverse they are and what they repeat; writes report.html and report.json.

    The same reading, repair, duplicate levels and report as scan, without curated outputs:
    diversity metrics (compression, distinct-n, self-repetition, Vendi), premise clusters, stock
    phrases and recurring names, duplicate shares and example pairs.

    \b
    Example:
        retold audit stories.jsonl --out audit/ --reference human.jsonl
    """
    result = api.audit(list(inputs), out, **options)
    if not options["quiet"]:
        click.echo(f"{result.documents_in:,} documents audited; report: {Path(out) / 'report.html'}")


@cli.command()
@click.argument("a")
@click.argument("b")
@out_option("Folder for compare.html / compare.json, and each side's report under a/ and b/.")
@verb_options("compare")
@handle_errors
def compare(a: str, b: str, out: str, **options: Any) -> None:
    """Put two corpora side by side: A and B (model A vs model B, or before vs after curation).

    Audits each, then writes compare.html / compare.json: every metric for A and B, the
    per-document figures' separation (ROC-AUC), and the phrases each uses more than the other.

    \b
    Example:
        retold compare model_a.jsonl model_b.jsonl --out compare/
    """
    result = api.compare(a, b, out, **options)
    if not options["quiet"]:
        click.echo(result.table())
        click.echo(f"Report: {Path(out) / 'compare.html'}")


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@out_option("Folder for kept.jsonl (repaired records), quarantine.jsonl and summary.json.")
@verb_options("fix")
@handle_errors
def fix(inputs: tuple[str, ...], out: str, **options: Any) -> None:
    """Repair INPUTS only: mojibake, HTML entities, control characters, line endings, NFC.

    Each record in kept.jsonl lists what was fixed in retold.fixes (e.g. "mojibake:macroman").

    \b
    Example:
        retold fix scraped.jsonl --out fixed/
    """
    report(api.fix(list(inputs), out, **options), options["quiet"])


def _as_scanned(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The scan's option ``name`` for recut: no default (as the scan had it)."""
    import dataclasses

    opt = api.option_table()[name]
    if name == "drop":  # not the levels' default drop: the scan's
        levels = ", ".join(lv.name for lv in registry.levels())
        return click.option(
            "--drop", "drop", default=None, help=f"{opt.help} Levels: {levels} [default: as scanned]."
        )
    return click_option(dataclasses.replace(opt, default=None, shown_default="as scanned"))


@cli.command()
@click.argument("out", type=click.Path(file_okay=False))
@_as_scanned("near_threshold")
@_as_scanned("retold_threshold")
@_as_scanned("drop")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars and no summary lines.")
@handle_errors
def recut(
    out: str, near_threshold: float | None, retold_threshold: float | None, drop: str | None, quiet: bool
) -> None:
    """Decide the finished scan in OUT again at other thresholds or drop levels, without its inputs.

    A --retold-threshold at or above the scanned one is replayed from OUT/pairs.jsonl in seconds
    (below it, run a new scan); a --near-threshold, up or down, sketches the saved texts again
    (and the retold level compares the documents again with its models when the near copies it
    saw change). kept, dropped, clusters, pairs, summary.json and index/ are rewritten in place,
    as a scan at these settings writes them; the report goes (it described the scan's decisions).

    \b
    Example:
        retold recut curated/ --retold-threshold 0.03 --drop exact,near,retold
    """
    report(
        api.recut(
            out, near_threshold=near_threshold, retold_threshold=retold_threshold, drop=drop, quiet=quiet
        ),
        quiet,
    )


@cli.command()
@click.option(
    "--out",
    "-o",
    default="retold-demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the demo corpus, its ground truth and the scan outputs.",
)
@click.option(
    "--stories",
    default=200,
    show_default=True,
    type=click.IntRange(min=1),
    help="Original stories to generate (planted copies come on top).",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Generator seed.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@handle_errors
def demo(out: str, stories: int, seed: int, quiet: bool) -> None:
    """Generate a demo corpus with planted defects, scan it, print precision/recall per kind.

    \b
    Example:
        retold demo --out /tmp/retold-demo --stories 500
    """
    result = api.demo(out, stories=stories, seed=seed, quiet=quiet)
    click.echo(result.table())
    click.echo(f"Report: {result.scan.report_path or result.scan.summary_path}")


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler stopping the job), raised where the run is, as Ctrl-C is: the run
    stops, its workers are ended, and its last checkpoint stays for the rerun."""


def _stop(signum: int, frame: Any) -> None:
    # a second signal stops at once: the defaults are back before the first is acted on
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def main() -> None:
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    cli(prog_name="retold")
