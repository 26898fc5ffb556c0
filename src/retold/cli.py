"""The ``retold`` command. Each verb parses options and calls the API function of the same name."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from retold import __version__, api
from retold.config import (
    DEFAULT_AUDIT_SAMPLE,
    DEFAULT_LEVELS,
    DEFAULT_MAX_DOC_BYTES,
    DEFAULT_NEAR_THRESHOLD,
    DEFAULT_NUM_PERM,
    DEFAULT_RETOLD_CANDIDATE,
    DEFAULT_RETOLD_THRESHOLD,
)
from retold.corpus.sources import FORMATS
from retold.errors import BadOption, RetoldError
from retold.result import ScanResult

INTERNAL_ERROR = (
    "internal error: {exc}. Nothing was lost: outputs are only replaced when complete. "
    "Set RETOLD_DEBUG=1 for the traceback and report it."
)


def input_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every verb that reads a corpus."""
    for option in reversed(
        [
            click.option("--text-field", default="text", show_default=True, help="Field holding the text."),
            click.option(
                "--id-field",
                default=None,
                help="Field holding the document id [default: id when present, else file:line].",
            ),
            click.option(
                "--format",
                "format",
                type=click.Choice(FORMATS),
                default=None,
                help="Input format [default: from the extension; sniffed for stdin].",
            ),
            click.option(
                "--max-doc-bytes",
                type=click.IntRange(min=1),
                default=DEFAULT_MAX_DOC_BYTES,
                show_default=True,
                help="Larger documents are quarantined, not processed.",
            ),
            click.option("--quiet", "-q", is_flag=True, help="No progress bars and no summary lines."),
            click.option(
                "--workers",
                type=click.IntRange(min=1),
                default=None,
                help="Processes for the per-document stages [default: every core for inputs of 16 MiB or more, else 1].",
            ),
            click.option(
                "--engine",
                type=click.Choice(["local", "ray"]),
                default="local",
                show_default=True,
                help="Where the per-document stages run: local processes, or a Ray cluster (see --address).",
            ),
            click.option(
                "--address",
                default=None,
                help="Ray cluster to use with --engine ray (HOST:PORT of the head node, or auto) "
                "[default: RAY_ADDRESS, else a Ray instance started on this machine for the run].",
            ),
            click.option(
                "--restart",
                is_flag=True,
                help="Discard an unfinished run in --out (or redo a finished one) instead of resuming it.",
            ),
        ]
    ):
        fn = option(fn)
    return fn


def detect_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Options of the duplicate levels, shared by scan and audit."""
    for option in reversed(
        [
            click.option(
                "--levels",
                default=",".join(DEFAULT_LEVELS),
                show_default=True,
                help="Duplicate levels to detect (comma-separated): exact, near, retold (needs the embed extra).",
            ),
            click.option(
                "--near-threshold",
                type=click.FloatRange(0.0, 1.0, min_open=True),
                default=DEFAULT_NEAR_THRESHOLD,
                show_default=True,
                help="Similarity at which a document is a near copy of the kept one.",
            ),
            click.option(
                "--near-measure",
                type=click.Choice(["jaccard", "containment"]),
                default="jaccard",
                show_default=True,
                help="jaccard, or containment (share of the copy's shingles in the kept one: catches excerpts; "
                "use with --keep longest).",
            ),
            click.option(
                "--num-perm",
                type=click.IntRange(1, 1024),
                default=DEFAULT_NUM_PERM,
                show_default=True,
                help="MinHash permutations.",
            ),
            click.option(
                "--ngram",
                type=click.IntRange(1, 64),
                default=None,
                help="Shingle length [default: 5 words, or 24 characters with --shingle char].",
            ),
            click.option(
                "--shingle",
                type=click.Choice(["word", "char"]),
                default="word",
                show_default=True,
                help="Shingle unit: word n-grams, or character n-grams (text without spaces).",
            ),
            click.option(
                "--retold-threshold",
                type=click.FloatRange(-1.0, 1.0),
                default=DEFAULT_RETOLD_THRESHOLD,
                show_default=True,
                help="Order gain of the sentence alignment at which a candidate pair is retold.",
            ),
            click.option(
                "--retold-candidate",
                type=click.FloatRange(-1.0, 1.0),
                default=DEFAULT_RETOLD_CANDIDATE,
                show_default=True,
                help="Whole-text cosine (names masked, static model) at which a pair is verified.",
            ),
            click.option(
                "--embedder",
                default=None,
                help="Static (model2vec) model for retold candidates, path or name "
                "[default: distilled from all-MiniLM-L6-v2 on first use, cached].",
            ),
            click.option(
                "--verifier",
                default=None,
                help="sentence-transformers model (path or name) for retold verification [default: all-MiniLM-L6-v2].",
            ),
        ]
    ):
        fn = option(fn)
    return fn


def audit_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Options of the audit (report.html / report.json), shared by scan, audit and compare."""
    for option in reversed(
        [
            click.option(
                "--reference",
                default=None,
                type=click.Path(exists=True),
                help="Human-written corpus that stock phrases are measured against [default: wordfreq].",
            ),
            click.option(
                "--audit-sample",
                type=click.IntRange(min=1),
                default=DEFAULT_AUDIT_SAMPLE,
                show_default=True,
                help="The audit's metrics, premise clusters and phrases use at most this many documents, evenly spread.",
            ),
            click.option(
                "--lang",
                default="auto",
                show_default=True,
                help="Corpus language for wordfreq (en, ru, de, …; auto: guessed from common words).",
            ),
        ]
    ):
        fn = option(fn)
    return fn


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
        except KeyboardInterrupt:
            click.echo("Interrupted; outputs of this run were not written.", err=True)
            sys.exit(130)
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


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for kept/dropped/quarantine/clusters/summary.",
)
@input_options
@click.option(
    "--keep",
    default="first",
    show_default=True,
    help="Which copy stays: first, longest, or a FIELD (highest value wins).",
)
@click.option(
    "--drop",
    default=None,
    help="Detected levels to remove [default: exact,near among --levels]; others are only reported.",
)
@detect_options
@audit_options
@click.option("--no-report", is_flag=True, help="Do not write report.html / report.json.")
@click.option("--no-repair", is_flag=True, help="Skip the repair stage.")
@click.option(
    "--against",
    multiple=True,
    type=click.Path(file_okay=False),
    help="A curated folder from an earlier scan: drop copies of its documents using the index it saved, "
    "without reading its corpus again (repeatable).",
)
@click.option("--no-index", is_flag=True, help="Do not save index/ (what a later --against run needs).")
@handle_errors
def scan(
    inputs: tuple[str, ...],
    out: str,
    text_field: str,
    id_field: str | None,
    format: str | None,
    max_doc_bytes: int,
    quiet: bool,
    workers: int | None,
    engine: str,
    address: str | None,
    restart: bool,
    keep: str,
    levels: str,
    drop: str | None,
    near_threshold: float,
    near_measure: str,
    num_perm: int,
    ngram: int | None,
    shingle: str,
    retold_threshold: float,
    retold_candidate: float,
    embedder: str | None,
    verifier: str | None,
    reference: str | None,
    audit_sample: int,
    lang: str,
    no_report: bool,
    no_repair: bool,
    against: tuple[str, ...],
    no_index: bool,
) -> None:
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
    result = api.scan(
        list(inputs),
        out,
        text_field=text_field,
        id_field=id_field,
        format=format,
        keep=keep,
        levels=levels,
        drop=drop,
        repair=not no_repair,
        max_doc_bytes=max_doc_bytes,
        near_threshold=near_threshold,
        near_measure=near_measure,
        num_perm=num_perm,
        ngram=ngram,
        shingle=shingle,
        retold_threshold=retold_threshold,
        retold_candidate=retold_candidate,
        embedder=embedder,
        verifier=verifier,
        report=not no_report,
        reference=reference,
        audit_sample=audit_sample,
        lang=lang,
        restart=restart,
        workers=workers,
        engine=engine,
        address=address,
        against=list(against),
        save_index=not no_index,
        quiet=quiet,
    )
    report(result, quiet)


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for report.html and report.json.",
)
@input_options
@detect_options
@audit_options
@handle_errors
def audit(inputs: tuple[str, ...], out: str, quiet: bool, **options: Any) -> None:
    """Audit INPUTS: how diverse they are and what they repeat; writes report.html and report.json.

    The same reading, repair, duplicate levels and report as scan, without curated outputs:
    diversity metrics (compression, distinct-n, self-repetition, Vendi), premise clusters, stock
    phrases and recurring names, duplicate shares and example pairs.

    \b
    Example:
        retold audit stories.jsonl --out audit/ --reference human.jsonl
    """
    result = api.audit(list(inputs), out, quiet=quiet, **options)
    if not quiet:
        click.echo(f"{result.documents_in:,} documents audited; report: {Path(out) / 'report.html'}")


@cli.command()
@click.argument("a")
@click.argument("b")
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for compare.html / compare.json, and each side's report under a/ and b/.",
)
@input_options
@detect_options
@audit_options
@handle_errors
def compare(a: str, b: str, out: str, quiet: bool, **options: Any) -> None:
    """Put two corpora side by side: A and B (model A vs model B, or before vs after curation).

    Audits each, then writes compare.html / compare.json: every metric for A and B, the
    per-document figures' separation (ROC-AUC), and the phrases each uses more than the other.

    \b
    Example:
        retold compare model_a.jsonl model_b.jsonl --out compare/
    """
    result = api.compare(a, b, out, quiet=quiet, **options)
    if not quiet:
        click.echo(result.table())
        click.echo(f"Report: {Path(out) / 'compare.html'}")


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for kept.jsonl (repaired records), quarantine.jsonl and summary.json.",
)
@input_options
@handle_errors
def fix(
    inputs: tuple[str, ...],
    out: str,
    text_field: str,
    id_field: str | None,
    format: str | None,
    max_doc_bytes: int,
    quiet: bool,
    workers: int | None,
    engine: str,
    address: str | None,
    restart: bool,
) -> None:
    """Repair INPUTS only: mojibake, HTML entities, control characters, line endings, NFC.

    Each record in kept.jsonl lists what was fixed in retold.fixes (e.g. "mojibake:macroman").

    \b
    Example:
        retold fix scraped.jsonl --out fixed/
    """
    result = api.fix(
        list(inputs),
        out,
        text_field=text_field,
        id_field=id_field,
        format=format,
        max_doc_bytes=max_doc_bytes,
        restart=restart,
        workers=workers,
        engine=engine,
        address=address,
        quiet=quiet,
    )
    report(result, quiet)


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


def main() -> None:
    cli(prog_name="retold")
