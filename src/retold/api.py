"""The Python API: one function per CLI verb, with the same option names, defaults and checks.

Each function's keywords are the verb's options from :mod:`retold.options` and the levels'
options (:mod:`retold.dedup.registry`): ``retold scan a.jsonl --out X --near-threshold 0.8`` is
``retold.scan("a.jsonl", out="X", near_threshold=0.8)``. ``help(retold.scan)`` and a notebook's
completion list them (each function's signature is built from the table).

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

import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from retold.config import ScanConfig, option_table
from retold.options import GROUPS, RUN_OPTIONS, VERB_GROUPS, Option, check_all
from retold.result import ScanResult

PathLike = str | Path
#: A corpus: a path or paths (files, folders, ``-``), or one held in memory: a list of texts or
#: of dicts, any iterable of them, a pandas or polars DataFrame, a pyarrow Table or a Hugging Face
#: ``datasets.Dataset`` / ``IterableDataset`` (see :mod:`retold.corpus.memory`).
Corpus = Any


def verb_options(verb: str) -> dict[str, Option]:
    """The options ``verb`` takes, by name, in the order ``--help`` lists them."""
    groups = VERB_GROUPS[verb]
    table = sorted(option_table().items(), key=lambda item: GROUPS.index(item[1].group))  # stable
    return {name: opt for name, opt in table if opt.group in groups and opt.cli}


def _inputs(inputs: PathLike | Sequence[PathLike]) -> list[str]:
    if isinstance(inputs, str | Path):
        return [str(inputs)]
    return [str(i) for i in inputs]


def _run(
    verb: str, inputs: Corpus, out: PathLike | None, options: dict[str, Any], **fixed: Any
) -> ScanResult:
    """Check ``options`` against the verb's table, split them into what the run computes
    (:class:`ScanConfig`) and how it goes (``RunOptions``), and run. An in-memory corpus is
    written to one file first (:func:`retold.corpus.memory.spill`): in ``out/.retold-input``,
    removed once the run is complete (an interrupted run keeps it, to resume from); without
    ``out``, in a temporary folder the result owns."""
    import shutil
    import tempfile

    from retold.corpus.memory import kind_of, spill
    from retold.engine.local import RunOptions, run_scan

    check_all(options, verb_options(verb), verb)
    run = {k: options.pop(k) for k in RUN_OPTIONS if k in options}
    if "against" in run:
        run["against"] = tuple(_inputs(run["against"])) if run["against"] else ()
    config = ScanConfig.build(**options, **fixed)
    kind = kind_of(inputs)
    owned = Path(tempfile.mkdtemp(prefix="retold-")) if out is None else None
    out_dir = owned / "out" if owned is not None else Path(out)  # type: ignore[arg-type]
    spill_dir = owned / "input" if owned is not None else out_dir / ".retold-input"
    try:
        schema = None
        if kind is None:
            sources: Any = _inputs(inputs)
        else:
            spilled = spill(inputs, kind, spill_dir, config.text_field)
            sources = [spilled.source]
            if spilled.source.format == "parquet":
                from retold.corpus.tables import input_schema

                schema = input_schema([spilled.source.path])
        result = run_scan(sources, out_dir, config, verb, RunOptions(**run))
    except BaseException:
        if owned is not None:
            shutil.rmtree(owned, ignore_errors=True)
        raise
    if kind is not None and owned is None:  # complete: the copy of the corpus goes
        shutil.rmtree(spill_dir, ignore_errors=True)
    return result.bound(kind, owned, schema)


def scan(inputs: Corpus, out: PathLike | None = None, **options: Any) -> ScanResult:
    """Read, repair and deduplicate ``inputs``; write kept/dropped/quarantine/clusters/pairs/summary
    to ``out``, the saved index to ``out/index`` and the audit (report.html, report.json).

    ``inputs``: paths, or a corpus in memory (a list of texts or dicts, a pandas or polars
    DataFrame, a pyarrow Table, a ``datasets.Dataset`` or ``IterableDataset``); ``result.kept_data()``
    gives the kept records back in that type. Without ``out`` the run works in a temporary
    folder that the result removes when closed or garbage-collected.

    Raises :class:`retold.RetoldError` subclasses for problems with the run itself (missing
    input, unwritable output, a bad option value); bad records are quarantined, never raised.
    """
    return _run("scan", inputs, out, options)


def audit(inputs: Corpus, out: PathLike | None = None, **options: Any) -> ScanResult:
    """Audit ``inputs`` (paths or a corpus in memory, as :func:`scan`): write report.html and
    report.json to ``out``, no curated outputs; nothing is dropped, the report says what would be."""
    return _run("audit", inputs, out, options, drop=())


def fix(inputs: Corpus, out: PathLike | None = None, **options: Any) -> ScanResult:
    """Run the repair stage alone: every readable record goes to ``out/kept.jsonl``, repaired, with
    ``retold.fixes`` naming what changed; unreadable units go to ``out/quarantine.jsonl``."""
    return _run("fix", inputs, out, options, levels=(), drop=(), drop_empty=False)


def compare(a: PathLike, b: PathLike, out: PathLike, **options: Any) -> Any:
    """Audit corpora ``a`` and ``b`` (into ``out/a`` and ``out/b``) and write compare.html / compare.json.

    Returns a :class:`retold.report.compare.Comparison`: each metric for both, which per-document
    figures separate them (ROC-AUC), and the phrases each over-uses against the other.
    """
    from retold.audit import sample_positions
    from retold.engine.local import corpus_texts
    from retold.report.compare import compare_reports

    check_all(options, verb_options("compare"), "compare")
    config = ScanConfig.build(**{k: v for k, v in options.items() if k not in RUN_OPTIONS}, drop=())
    out = Path(out)
    texts_a = corpus_texts(_inputs(a), config)
    texts_b = corpus_texts(_inputs(b), config)
    # size-dependent figures (distinct-n, self-repetition, Vendi / n) compare fairly only at equal
    # sizes: both sides are audited on the same number of documents, spread evenly
    same = max(1, min(len(texts_a), len(texts_b), config.audit_sample))
    options = {**options, "audit_sample": same}
    audit(a, out / "a", **options)
    audit(b, out / "b", **options)
    pick = lambda texts: [texts[int(i)] for i in sample_positions(len(texts), same)]  # noqa: E731
    return compare_reports(out, str(a), str(b), pick(texts_a), pick(texts_b), lang=config.lang)


def recut(
    out: PathLike | ScanResult,
    *,
    near_threshold: float | None = None,
    retold_threshold: float | None = None,
    drop: str | Sequence[str] | None = None,
    quiet: bool = True,
) -> ScanResult:
    """Decide the finished scan in ``out`` (its folder, or its result) again at other thresholds
    or drop levels, from what it saved, without its inputs; rewrites its outputs in place.

    None keeps what the scan used. A retold threshold at or above the scanned one is replayed
    from pairs.jsonl in seconds; a near threshold (either way) re-sketches the saved texts, and
    decides the retold level again with its models when the near copies it compares change. The
    outputs are those a scan at these settings writes. Raises :class:`retold.errors.BadOption`
    below the scanned retold threshold and :class:`retold.engine.recut.NotRecuttable` for a
    folder that is not a finished scan; each message names the next step.

    Given a result, returns a result of the same kind (``kept_data()`` in the same type), which
    takes over the temporary folder of a run given no ``out``.
    """
    from retold.engine.recut import recut as recut_folder

    given = out if isinstance(out, ScanResult) else None
    folder = given.out if given is not None else Path(out)  # type: ignore[arg-type]
    if given is not None:
        given._check_open()
    result = recut_folder(
        folder, near_threshold=near_threshold, retold_threshold=retold_threshold, drop=drop, quiet=quiet
    )
    if given is None:
        return result
    owned = given.detach()
    return result.bound(given.input_kind, owned, given.input_schema)


def demo(out: PathLike = "retold-demo", *, stories: int = 200, seed: int = 0, quiet: bool = True) -> Any:
    """Generate a seeded demo corpus with planted defects, scan it, and score the scan per kind.

    Returns a :class:`retold.demo.evaluate.DemoReport`.
    """
    from retold.demo.evaluate import run_demo

    return run_demo(Path(out), stories=stories, seed=seed, quiet=quiet)


def _document(fn: Callable[..., Any], verb: str, leading: list[inspect.Parameter]) -> None:
    """Give ``fn`` the verb's options as keyword parameters (signature and docstring)."""
    table = verb_options(verb)
    params = leading + [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=opt.default)
        for name, opt in table.items()
    ]
    fn.__signature__ = inspect.Signature(params, return_annotation=fn.__annotations__.get("return"))  # type: ignore[attr-defined]
    lines = [
        f"    {name} (default {opt.shown_default or repr(opt.default)}): {opt.help}"
        for name, opt in table.items()
    ]
    fn.__doc__ = (
        f"{fn.__doc__}\n\n    Options (those of ``retold {verb} --help``, ``_`` for ``-``):\n\n"
        + "\n".join(lines)
        + "\n"
    )


_POSITIONAL = inspect.Parameter.POSITIONAL_OR_KEYWORD
_OPTIONAL_OUT = ["inputs", ("out", None)]
for _fn, _lead in (
    (scan, _OPTIONAL_OUT),
    (audit, _OPTIONAL_OUT),
    (fix, _OPTIONAL_OUT),
    (compare, ["a", "b", "out"]),
):
    _document(
        _fn,
        _fn.__name__,
        [
            inspect.Parameter(p[0], _POSITIONAL, default=p[1])
            if isinstance(p, tuple)
            else inspect.Parameter(p, _POSITIONAL)
            for p in _lead
        ],
    )
