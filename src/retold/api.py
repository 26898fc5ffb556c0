"""The Python API: one function per CLI verb, with the same option names.

>>> import retold, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "in.jsonl").write_text('{"id": "a", "text": "caf√©"}\\n{"id": "b", "text": "CAFÉ"}\\n')
>>> result = retold.scan(d / "in.jsonl", out=d / "out")
>>> result.documents_in, result.kept, result.dropped, result.repaired
(2, 1, {'exact': 1}, 1)
>>> next(result.dropped_records())["retold"]["kept_id"]
'a'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from retold.config import (
    DEFAULT_AUDIT_SAMPLE,
    DEFAULT_LEVELS,
    DEFAULT_MAX_DOC_BYTES,
    DEFAULT_NEAR_THRESHOLD,
    DEFAULT_NUM_PERM,
    DEFAULT_RETOLD_CANDIDATE,
    DEFAULT_RETOLD_THRESHOLD,
    ScanConfig,
    parse_list,
)
from retold.result import ScanResult

PathLike = str | Path


def _inputs(inputs: PathLike | Sequence[PathLike]) -> list[str]:
    if isinstance(inputs, str | Path):
        return [str(inputs)]
    return [str(i) for i in inputs]


def scan(
    inputs: PathLike | Sequence[PathLike],
    out: PathLike,
    *,
    text_field: str = "text",
    id_field: str | None = None,
    format: str | None = None,
    keep: str = "first",
    levels: str | Sequence[str] | None = None,
    drop: str | Sequence[str] | None = None,
    repair: bool = True,
    max_doc_bytes: int = DEFAULT_MAX_DOC_BYTES,
    near_threshold: float = DEFAULT_NEAR_THRESHOLD,
    near_measure: str = "jaccard",
    num_perm: int = DEFAULT_NUM_PERM,
    ngram: int | None = None,
    shingle: str = "word",
    retold_threshold: float = DEFAULT_RETOLD_THRESHOLD,
    retold_candidate: float = DEFAULT_RETOLD_CANDIDATE,
    embedder: str | None = None,
    verifier: str | None = None,
    report: bool = True,
    reference: PathLike | None = None,
    audit_sample: int = DEFAULT_AUDIT_SAMPLE,
    lang: str = "auto",
    restart: bool = False,
    workers: int | None = None,
    engine: str = "local",
    address: str | None = None,
    against: PathLike | Sequence[PathLike] = (),
    save_index: bool = True,
    quiet: bool = True,
) -> ScanResult:
    """Read, repair and deduplicate ``inputs``; write kept/dropped/quarantine/clusters/summary to ``out``,
    and the audit (report.html, report.json) unless ``report=False``.

    Options are those of :class:`retold.config.ScanConfig`; ``quiet=False`` shows progress bars on
    a terminal. ``engine="ray"`` runs the per-document stages on a Ray cluster (``address``; see
    :mod:`retold.engine.ray`). ``against``: curated folders of earlier scans whose saved index the
    new documents are deduplicated against (see :mod:`retold.dedup.saved`). Raises :class:`retold.RetoldError` subclasses for problems with the run itself
    (missing input, unwritable output); bad records are quarantined, never raised.
    """
    from retold.engine.local import run_scan

    config = ScanConfig(
        text_field=text_field,
        id_field=id_field,
        format=format,
        keep=keep,
        levels=parse_list(levels, DEFAULT_LEVELS),
        drop=None if drop is None else parse_list(drop, ()),
        repair=repair,
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
        report=report,
        reference=None if reference is None else str(reference),
        audit_sample=audit_sample,
        lang=lang,
    )
    run = {"restart": restart, "workers": workers, "engine": engine, "address": address}
    against_ = [] if not against else _inputs(against)
    return run_scan(
        _inputs(inputs), Path(out), config, quiet, "scan", **run, against=against_, save_index=save_index
    )


def audit(
    inputs: PathLike | Sequence[PathLike],
    out: PathLike,
    *,
    restart: bool = False,
    workers: int | None = None,
    engine: str = "local",
    address: str | None = None,
    quiet: bool = True,
    **options: Any,
) -> ScanResult:
    """Audit ``inputs``: write report.html and report.json to ``out``, no curated outputs.

    ``options`` are :func:`scan`'s reading, level and audit options (``levels``, ``reference``,
    ``lang``, ``near_threshold``…); nothing is dropped, the report says what would be.
    """
    from retold.engine.local import run_scan

    config = _config(options)
    run = {"restart": restart, "workers": workers, "engine": engine, "address": address}
    return run_scan(_inputs(inputs), Path(out), config, quiet, "audit", **run)


def compare(
    a: PathLike,
    b: PathLike,
    out: PathLike,
    *,
    restart: bool = False,
    workers: int | None = None,
    engine: str = "local",
    address: str | None = None,
    quiet: bool = True,
    **options: Any,
) -> Any:
    """Audit corpora ``a`` and ``b`` (into ``out/a`` and ``out/b``) and write compare.html / compare.json.

    Returns a :class:`retold.report.compare.Comparison`: each metric for both, which per-document
    figures separate them (ROC-AUC), and the phrases each over-uses against the other.
    """
    from retold.audit import sample_positions
    from retold.engine.local import corpus_texts
    from retold.report.compare import compare_reports

    config = _config(options)
    out = Path(out)
    texts_a = corpus_texts(_inputs(a), config)
    texts_b = corpus_texts(_inputs(b), config)
    # size-dependent figures (distinct-n, self-repetition, Vendi / n) compare fairly only at equal
    # sizes: both sides are audited on the same number of documents, spread evenly
    same = max(1, min(len(texts_a), len(texts_b), config.audit_sample))
    options = {**options, "audit_sample": same}
    run = {"restart": restart, "workers": workers, "engine": engine, "address": address, "quiet": quiet}
    audit(a, out / "a", **run, **options)
    audit(b, out / "b", **run, **options)
    pick = lambda texts: [texts[int(i)] for i in sample_positions(len(texts), same)]  # noqa: E731
    return compare_reports(out, str(a), str(b), pick(texts_a), pick(texts_b), lang=config.lang)


def _config(options: dict[str, Any]) -> ScanConfig:
    """A ScanConfig from :func:`scan`'s keyword options (as the audit verbs take them)."""
    options = dict(options)
    if "levels" in options:
        options["levels"] = parse_list(options["levels"], DEFAULT_LEVELS)
    if options.get("reference") is not None:
        options["reference"] = str(options["reference"])
    try:
        return ScanConfig(drop=(), **options)
    except TypeError as exc:
        raise TypeError(f"unknown option: {exc}") from None


def fix(
    inputs: PathLike | Sequence[PathLike],
    out: PathLike,
    *,
    text_field: str = "text",
    id_field: str | None = None,
    format: str | None = None,
    max_doc_bytes: int = DEFAULT_MAX_DOC_BYTES,
    restart: bool = False,
    workers: int | None = None,
    engine: str = "local",
    address: str | None = None,
    quiet: bool = True,
) -> ScanResult:
    """Run the repair stage alone: every readable record goes to ``out/kept.jsonl``, repaired, with
    ``retold.fixes`` naming what changed; unreadable units go to ``out/quarantine.jsonl``.
    """
    from retold.engine.local import run_scan

    config = ScanConfig(
        text_field=text_field,
        id_field=id_field,
        format=format,
        levels=(),
        drop=(),
        drop_empty=False,
        max_doc_bytes=max_doc_bytes,
    )
    run = {"restart": restart, "workers": workers, "engine": engine, "address": address}
    return run_scan(_inputs(inputs), Path(out), config, quiet, "fix", **run)


def demo(out: PathLike = "retold-demo", *, stories: int = 200, seed: int = 0, quiet: bool = True) -> Any:
    """Generate a seeded demo corpus with planted defects, scan it, and score the scan per kind.

    Returns a :class:`retold.demo.evaluate.DemoReport`.
    """
    from retold.demo.evaluate import run_demo

    return run_demo(Path(out), stories=stories, seed=seed, quiet=quiet)
