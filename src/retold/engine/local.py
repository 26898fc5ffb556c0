"""The engine: a run in five steps, each a function below.

1. :func:`read_pass` reads every input unit, sends unreadable ones to quarantine.jsonl, runs the
   per-record stages (repair, then each level's stage) here, in worker processes or on Ray, spools
   each repaired record to ``DIR/.retold-work/`` and hands it to each level's index; it
   checkpoints every ``CHECKPOINT_EVERY`` documents (:mod:`retold.engine.state`).
2. :func:`decide` lets each level, closest first, mark copies in one :class:`Decisions`.
3. the report (:mod:`retold.report`), when the verb writes one.
4. :func:`write` streams the spool once more into kept/dropped/clusters (:mod:`.outputs`).
5. :func:`summarise` and :func:`commit`: summary.json, the saved index, then every file renamed
   into place (summary.json last) and the work folder removed.

The engine never names a level: it loops over :mod:`retold.dedup.registry`. What differs between
``scan``, ``audit`` and ``fix`` is said once, in :data:`VERBS`. Memory does not grow with document
size beyond one document at a time.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import math
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retold._version import __version__
from retold.config import ScanConfig
from retold.corpus.readers import ReadOptions, read_inputs
from retold.corpus.sources import Source, expand_inputs
from retold.corpus.spool import Spool, texts_at
from retold.corpus.writers import AtomicWriter, StagedFile, pretty_json
from retold.dedup import registry, saved
from retold.dedup.clusters import REASONS, Decisions, KeepPolicy
from retold.dedup.level import DecideContext, LevelIndex
from retold.dedup.saved import Prefix, open_index, save_index, swap_in
from retold.engine import lock, state
from retold.engine.outputs import Names, as_parquet, write_outputs
from retold.engine.parallel import Workers, auto_workers, make_stages
from retold.errors import BadOption, OutputNotWritable
from retold.progress import progress
from retold.records import Quarantined, Record
from retold.repair.stage import RepairStage
from retold.result import ScanResult
from retold.stages import Stage

WORK_DIR = ".retold-work"
PEEK = 1000  # input units looked at before any work, to check --text-field and --keep


@dataclass(frozen=True)
class Verb:
    """What a verb does. ``detects``: the duplicate levels run. ``curates``: kept.jsonl,
    quarantine.jsonl and summary.json are written (and a finished run is found, not redone).
    ``decides``: dropped.jsonl, clusters.jsonl, pairs.jsonl and index/ are written. ``reports``: report.html,
    report.json and premises.jsonl are written (unless the config says no report)."""

    name: str
    detects: bool
    curates: bool
    decides: bool
    reports: bool

    def outputs(self, config: ScanConfig, fmt: str = "jsonl") -> tuple[str, ...]:
        """The files the verb writes; ``fmt``: the records' format (:func:`output_format`)."""
        files = [f"kept.{fmt}", f"quarantine.{fmt}", "summary.json"] if self.curates else []
        files += [f"dropped.{fmt}", f"clusters.{fmt}", f"pairs.{fmt}"] if self.decides else []
        files += (
            ["report.json", "report.html", "premises.jsonl"]
            if self.reports and config.report and self.curates
            else []
        )
        return tuple(files)


VERBS = {
    "scan": Verb("scan", detects=True, curates=True, decides=True, reports=True),
    "audit": Verb("audit", detects=True, curates=False, decides=False, reports=True),
    "fix": Verb("fix", detects=False, curates=True, decides=False, reports=False),
}
#: The tables a run writes as JSONL or Parquet (:func:`output_format`).
TABLES = ("kept", "dropped", "quarantine", "clusters", "pairs")
#: Every file a run may write into --out (an input there would be overwritten).
OUTPUT_FILES = tuple(
    dict.fromkeys(VERBS["scan"].outputs(ScanConfig()) + VERBS["scan"].outputs(ScanConfig(), "parquet"))
)


def output_format(config: ScanConfig, sources: list[Source]) -> str:
    """``jsonl`` or ``parquet``: as asked, or for ``auto`` Parquet when every input is Parquet."""
    if config.output_format != "auto":
        return config.output_format
    return "parquet" if sources and all(s.format == "parquet" for s in sources) else "jsonl"


@dataclass(frozen=True)
class RunOptions:
    """How a run goes, not what it computes: none of these is in the fingerprint."""

    restart: bool = False
    workers: int | None = None
    engine: str = "local"
    address: str | None = None
    against: tuple[str, ...] = ()
    save_index: bool = True
    quiet: bool = True

    def __post_init__(self) -> None:
        if self.engine not in ("local", "ray"):
            raise BadOption(f"--engine must be local or ray, got {self.engine!r}")
        if self.address is not None and self.engine != "ray":
            raise BadOption("--address is for --engine ray")


@dataclass
class Pass:
    """What pass 1 leaves for the rest of the run."""

    work: Path
    sources: list[Source]
    stages: list[Stage]
    indexes: dict[str, LevelIndex]
    prefix: Prefix
    spool: Spool
    quarantine: AtomicWriter
    workers: int
    counts: Counter[str] = field(default_factory=Counter)
    quarantine_errors: Counter[str] = field(default_factory=Counter)
    hints: list[str] = field(default_factory=list)
    empties: list[int] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # the levels' own, from their decisions
    #: Pass 1's workers, kept for the levels' decisions (``DecideContext.parallel``) and closed
    #: after them; None: everything runs in this process.
    pool: Any = None
    #: The pass's checkpoints (None: a run that is never resumed, as from stdin); the last one may
    #: still be being written while the decisions run.
    checkpoints: state.Checkpoints | None = None

    def close_pool(self, failed: bool = False, wait: bool = True) -> None:
        """End the workers: ``failed``, at once; else once their tasks are done, and unless
        ``wait``, without waiting for them to exit (a later call waits): they exit while this
        process writes the outputs (bench_retold's pieces: 0.08 s of the run's end)."""
        if self.pool is None:
            return
        if failed:
            self.pool.terminate()
        else:
            self.pool.close(wait=wait)
        if failed or wait:
            self.pool = None

    def wait_checkpoint(self) -> None:
        """After a failure: the checkpoint being written lands (or not) before the run looks for
        it; an error writing it is not the run's error, which is the one reported."""
        if self.checkpoints is not None:
            with contextlib.suppress(Exception):
                self.checkpoints.wait()

    @property
    def n(self) -> int:
        return len(self.spool)


def _give_back_freed_memory() -> None:
    """Fix glibc's mmap threshold at 1 MiB (``mallopt(M_MMAP_THRESHOLD)``).

    glibc raises the threshold each time a large block is freed, up to 32 MiB, so that later
    blocks of up to that size come from the heap, where a freed one stays in the process. A run
    frees many such blocks (the retold level's sentence vectors arrive from the workers 16 MB at a
    time, then move into one array): measured on 5,000 rewrites of slop-score stories, the level's
    peak RSS 1,330 MB with the dynamic threshold, 1,106 MB with it fixed at 128 KiB, the same time.
    At 128 KiB, though, each of the many quarter-megabyte arrays of the neighbour searches (a
    cell's rows, a chunk's probes) was fresh pages from the system, faulted in and handed back:
    at 1 MiB the retold level's process spent 0.5 s less in the kernel on bench_retold's pieces
    and slop-score (3 interleaved runs each: 2.2-2.7 s against 2.6-3.1 s), for 4-6 MB more peak
    memory. The same as ``MALLOC_MMAP_THRESHOLD_=1048576``; elsewhere than glibc, nothing."""
    global _MALLOC_SET
    if _MALLOC_SET or not sys.platform.startswith("linux"):
        return
    _MALLOC_SET = True
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # musl and other C libraries: nothing to set
        ctypes.CDLL("libc.so.6").mallopt(-3, MMAP_THRESHOLD)  # M_MMAP_THRESHOLD (malloc.h)


MMAP_THRESHOLD = 1 << 20
_MALLOC_SET = False


def run_scan(
    inputs: list[str] | list[Source], out: Path, config: ScanConfig, verb: str, run: RunOptions
) -> ScanResult:
    """Run ``verb`` (``scan``, ``audit`` or ``fix``) over ``inputs`` into ``out``.

    Earlier outputs in ``out`` stay as they were until the new ones are complete. A run that stops
    part way (a crash, kill -9, Ctrl-C) leaves its state in ``out/.retold-work``; the same command
    goes on from its last checkpoint; ``run.restart`` discards it. A failure before the first
    checkpoint leaves nothing behind.
    """
    out = Path(out)
    t0 = time.perf_counter()
    _give_back_freed_memory()
    if inputs and all(isinstance(i, Source) for i in inputs):  # an in-memory corpus, spilled
        sources: list[Source] = list(inputs)  # type: ignore[arg-type]
    else:
        sources = expand_inputs([str(i) for i in inputs], config.format, exclude=out)
    for folder in run.against:
        if Path(folder).resolve() == out.resolve():
            raise BadOption(f"--out {out} is also an --against folder; write the new run to another folder")
    with lock.held_all(out, [Path(f) for f in run.against]):
        try:
            return _run_locked(sources, out, config, verb, run, t0)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
            raise OutputNotWritable(_no_space(out, sources, config.levels)) from None


def _no_space(out: Path, sources: list[Source], levels: Iterable[str] = ()) -> str:
    """What to say when the disk of ``out`` is full: how much the run needs there, and the next step."""
    size = 0
    for source in sources:
        if source.path is not None:
            with contextlib.suppress(OSError):
                size += source.path.stat().st_size
    free = shutil.disk_usage(out).free
    need = 2 * size + sum(registry.level(name).work_space(size) for name in levels)
    return (
        f"no space left on the device of --out {out} ({free / 1e6:,.0f} MB free); the run needs about "
        f"{need / 1e6:,.0f} MB there while it works (twice its inputs' size, and its levels' work files; "
        "more if the inputs are compressed). Free some space and rerun the same command: it goes on "
        "from its last checkpoint"
    )


def _run_locked(
    sources: list[Source], out: Path, config: ScanConfig, verb: str, run: RunOptions, t0: float
) -> ScanResult:
    """:func:`run_scan` while this run holds ``out`` (and its ``--against`` folders)."""
    what = VERBS[verb]
    options = config.to_json()
    if run.against:  # the indexes scanned against decide the outputs too
        options = {**options, "against": [saved.fingerprint(f) for f in run.against]}
    fingerprint = state.fingerprint(sources, options, verb)
    fmt = output_format(config, sources)
    if what.curates and not run.restart:
        done = state.finished(out, fingerprint, what.outputs(config, fmt))
        if done is not None:  # this very run finished before: nothing to redo
            # a kill while its work folder was being removed leaves the rest of it: it goes now
            shutil.rmtree(out / WORK_DIR, ignore_errors=True)
            return ScanResult.from_summary(out, done)
    p: Pass | None = None
    try:
        p = read_pass(sources, out, config, what, run, fingerprint)
        decisions, clusters, figures = decide(p, config, what, run.quiet)
        p.close_pool(wait=False)
        own = decisions.tail(p.prefix.size)  # this run's documents alone (all, without --against)
        report = audit(p, own, clusters, config, what, out, run.quiet)
        staged, kept_at = write(p, decisions, out, what, fmt, run.quiet)
        result, summary = summarise(p, own, clusters, figures, config, verb, run, fingerprint, t0)
        summary["output_format"] = fmt if what.curates else None
        commit(p, own, kept_at, staged, report, summary, out, config, what, run)
        p.close_pool()
    except BaseException as exc:
        if p is not None:
            p.close_pool(failed=True)
            p.wait_checkpoint()
        if not (out / WORK_DIR / state.CHECKPOINT).exists():
            shutil.rmtree(out / WORK_DIR, ignore_errors=True)
        elif isinstance(exc, KeyboardInterrupt):  # stopped: say how far a rerun starts from
            checkpoint = state.load(out / WORK_DIR)
            exc.resume_from = None if checkpoint is None else checkpoint["consumed"]  # type: ignore[attr-defined]
        raise
    return result


def prepare_out(out: Path, sources: list[Source]) -> Path:
    """Create ``out`` (and its work folder) or fail with a message that names the next step."""
    for source in sources:
        path = source.path
        if path is not None and path.resolve().parent == out.resolve() and path.name in OUTPUT_FILES:
            raise OutputNotWritable(
                f"input {source.name} would be overwritten by this run's outputs; choose another --out"
            )
    if out.exists() and not out.is_dir():
        raise OutputNotWritable(f"--out {out} exists and is not a folder; choose another --out")
    work = out / WORK_DIR
    try:
        work.mkdir(parents=True, exist_ok=True)
        probe = work / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputNotWritable(
            f"cannot write to --out {out}: {exc.strerror or exc}; choose a folder you can write to"
        ) from None
    return work


def check_first(items: Iterator[Record | Quarantined], config: ScanConfig) -> Iterator[Record | Quarantined]:
    """The input units, after checking on the first :data:`PEEK` of them that ``--text-field``
    and a ``--keep`` field are fields the records have (else :class:`BadOption`, before any work)."""
    head = list(itertools.islice(items, PEEK))
    records = [r for r in head if isinstance(r, Record)]
    missing = [q.error for q in head if isinstance(q, Quarantined) and q.error.startswith("no text field")]
    if not records and missing:
        raise BadOption(f"--text-field: none of the first {len(head)} records has it: {missing[0]}")
    if config.keep not in ("first", "longest") and records:
        seen = sorted({k for r in records for k in r.data})
        if not any(config.keep in r.data for r in records):
            raise BadOption(
                f"--keep must be first, longest or a field of the records; none of the first "
                f"{len(records)} records has {config.keep!r} (fields: {', '.join(seen)})"
            )
    return itertools.chain(head, items)


def read_pass(
    sources: list[Source], out: Path, config: ScanConfig, what: Verb, run: RunOptions, fingerprint: str | None
) -> Pass:
    """Pass 1 (see the module text), resumed from the last checkpoint when there is one."""
    t0 = time.perf_counter()
    work = prepare_out(out, sources)
    counts: Counter[str] = Counter()
    opts = ReadOptions(config.text_field, config.id_field, config.max_doc_bytes)
    items = read_inputs(sources, opts, counts)
    resume = state.begin(work, fingerprint, run.restart)
    if resume is None and fingerprint is None:  # stdin, read once: peeked in place (never resumed)
        items = check_first(items, config)
    elif resume is None:  # files: the first units read apart, so no count runs ahead of a checkpoint
        check_first(read_inputs(sources, opts), config)
    else:  # units consumed before the checkpoint: read again, not processed
        for _ in itertools.islice(items, resume["consumed"]):
            pass
        counts.clear()
        print(
            f"retold: resuming the run stopped part way in {out}: {resume['consumed']:,} input units "
            "were read before its last checkpoint; going on from there",
            file=sys.stderr,
            flush=True,
        )
    # the workers start first: they import and load their models (~0.6 s) while this process
    # makes its own stages (the model again, 0.14 s on bench_retold's pieces) and indexes
    pool, workers = _pool(config, what, run, sources, work)
    try:
        levels = [registry.level(name) for name in config.levels] if what.detects else []
        stages = make_stages(config, what.detects)
        level_stages = stages[len(stages) - len(levels) :]
        indexes = {
            lv.name: lv.index(work / lv.name, config.options(lv.name), stage)
            for lv, stage in zip(levels, level_stages, strict=True)
        }
        prefix = Prefix(
            [open_index(f, {k: ix.parameters() for k, ix in indexes.items()}) for f in run.against]
        )
        if resume is None:  # an earlier run's documents go first (a resumed run has them in its checkpoint)
            for ix in prefix.indexes:
                for index in indexes.values():
                    index.extend(ix, -math.inf)
        quarantine = AtomicWriter(
            out / "quarantine.jsonl",
            tmp=work / "quarantine.part",
            resume_at=resume and resume["quarantine"],
            resumable=True,  # a stop while the outputs are written must leave what the checkpoint reads
        )
        spool = Spool(work, resume and resume["spool"])
        p = Pass(work, sources, stages, indexes, prefix, spool, quarantine, workers, counts, pool=pool)
        if fingerprint is not None:
            p.checkpoints = state.Checkpoints(work)
        if resume is not None:
            _restore(p, resume)
    except BaseException:
        if pool is not None:
            pool.terminate()
        raise
    keep = KeepPolicy(config.keep)
    keep_field = config.keep if config.keep not in ("first", "longest") else None
    try:
        pending = _readable(
            p, progress(items, "read + repair", run.quiet, initial=p.counts["documents_in"]), keep_field
        )
        while True:
            records: Iterable[Record] = itertools.islice(pending, state.CHECKPOINT_EVERY)
            if pool is not None:
                records = pool.run(records, stages)
            else:
                for stage in stages:
                    records = stage.run(records)
            before = p.n
            for rec in records:
                rank = keep.rank(p.n, rec)
                if not rec.text.strip():
                    p.empties.append(prefix.size + p.n)
                for index in indexes.values():
                    index.add(rec, rank)
                p.spool.write(rec)
            if p.checkpoints is not None:  # everything up to here goes to disk: note how far the pass got
                p.checkpoints.save(_checkpoint(p))
            if p.n - before < state.CHECKPOINT_EVERY:
                break
    except BaseException:
        p.close_pool(failed=True)
        p.wait_checkpoint()  # the last one lands before the caller looks for it
        raise
    finally:
        p.spool.close()
        p.quarantine.finish()  # kept (not removed) for a resumed run
    p.timings["read_repair"] = time.perf_counter() - t0
    return p


def _pool(
    config: ScanConfig, what: Verb, run: RunOptions, sources: list[Source], work: Path
) -> tuple[Any, int]:
    """Where pass 1's stages run: (a pool of workers or None for this process, the worker count).
    The local workers hand over their results' large arrays through ``work/transfer``."""
    if run.engine == "ray":
        from retold.engine.ray import RayWorkers

        pool = RayWorkers(config, what.detects, run.address, run.workers)
        return pool, pool.workers
    workers = auto_workers(run.workers, sum(s.path.stat().st_size for s in sources if s.path is not None))
    pool = Workers(workers, config, what.detects, transfer=work / state.TRANSFER) if workers > 1 else None
    return pool, workers


def _readable(p: Pass, items: Iterable[Record | Quarantined], keep_field: str | None) -> Iterator[Record]:
    """The records among ``items``; the others go to quarantine.jsonl, counted by error."""
    for item in items:
        p.counts["documents_in"] += 1
        if isinstance(item, Quarantined):
            p.counts["quarantined"] += 1
            p.quarantine_errors[item.error.split(":")[0].split(" (")[0]] += 1
            if item.error.startswith("no text field") and not p.hints:
                p.hints.append(item.error)
            p.quarantine.write_json(item.to_json())
            continue
        if keep_field is not None and keep_field not in item.data:
            p.counts["keep_field_missing"] += 1
        if "retold" in item.data:  # retold's own annotation field: replaced in the outputs
            item.data.pop("retold")
            p.counts["reserved_field_replaced"] += 1
        yield item


def _checkpoint(p: Pass) -> dict[str, Any]:
    return {
        "consumed": p.counts["documents_in"],
        "counts": dict(p.counts),
        "quarantine_errors": dict(p.quarantine_errors),
        "missing_field_hint": list(p.hints),
        "empties": list(p.empties),
        "stages": [dict(stage.stats) for stage in p.stages],
        "levels": {name: index.checkpoint() for name, index in p.indexes.items()},
        "spool": p.spool.checkpoint(),
        "quarantine": p.quarantine.checkpoint(),
    }


def _restore(p: Pass, resume: dict[str, Any]) -> None:
    p.counts.update(resume["counts"])
    p.quarantine_errors.update(resume["quarantine_errors"])
    p.hints.extend(resume["missing_field_hint"])
    p.empties.extend(resume["empties"])
    for stage, stats in zip(p.stages, resume["stages"], strict=True):
        stage.stats.update(stats)
    for name, index in p.indexes.items():
        index.restore(resume["levels"][name])


def decide(
    p: Pass, config: ScanConfig, what: Verb, quiet: bool = True
) -> tuple[Decisions, dict[str, int], dict[str, Any]]:
    """Each level's decision, closest first. Returns the decisions, cluster counts and figures
    per level (both of this run's documents alone under ``--against``)."""
    t0 = time.perf_counter()
    base = p.prefix.size
    decisions = Decisions(base + p.n)
    decisions.reason[:base] = p.prefix.fate()  # what the earlier runs decided of their documents
    if what.detects and config.drop_empty:
        for i in p.empties:
            decisions.drop(i, "empty")
    context = DecideContext(
        skip_before=base,
        texts=lambda docs: _texts(p, docs, config.text_field),
        progress=lambda items, desc, total=None: progress(items, desc, quiet, total=total, unit=" step"),
        parallel=p.pool.map if p.pool is not None else map,
    )
    clusters: dict[str, int] = {}
    figures: dict[str, Any] = {}
    for name, index in p.indexes.items():
        t = time.perf_counter()
        outcome = index.decide(decisions, context)
        p.timings[f"dedup_{name}"] = time.perf_counter() - t
        index.close()  # its files stay until the run completes: a crash later resumes from them
        clusters[name] = outcome.clusters
        p.warnings.extend(outcome.warnings)
        if outcome.figures is not None:
            figures[name] = outcome.figures
    for name in clusters:  # detected but not dropped: reported in clusters.jsonl, kept
        if name not in (config.drop or ()):
            decisions.reason[decisions.reason == REASONS.index(name)] = 0
    if base:  # clusters that hold at least one of this run's documents
        own = decisions.tail(base)
        clusters = {name: _clusters_in(own, name) for name in clusters}
    p.timings["dedup"] = time.perf_counter() - t0
    return decisions, clusters, figures


def _texts(p: Pass, docs: np.ndarray, field: str) -> dict[int, str]:
    """Texts of documents: the earlier runs' from their kept.jsonl, this run's from the spool."""
    base = p.prefix.size
    found = p.prefix.texts([int(d) for d in docs if d < base])
    found.update(
        {
            d + base: t
            for d, t in texts_at(p.spool.path, [int(d) - base for d in docs if d >= base], field).items()
        }
    )
    return found


def _clusters_in(own: Decisions, level: str) -> int:
    lc = own.levels.get(level)
    return 0 if lc is None else len(np.unique(lc.cluster[lc.cluster >= 0]))


def audit(
    p: Pass,
    own: Decisions,
    clusters: dict[str, int],
    config: ScanConfig,
    what: Verb,
    out: Path,
    quiet: bool,
) -> dict[str, Any] | None:
    """The report's figures, when the verb writes a report."""
    if not (what.reports and config.report):
        return None
    from retold.report import audit_report

    t0 = time.perf_counter()
    reference = None if config.reference is None else corpus_texts([config.reference], config, out)
    report = audit_report(p.spool.path, p.spool.ids, own, clusters, config, quiet, reference=reference)
    p.timings["audit"] = time.perf_counter() - t0
    p.timings.update({f"audit_{k}": v for k, v in report["audit"].pop("timings").items()})
    return report


def corpus_texts(inputs: list[str], config: ScanConfig, exclude: Path | None = None) -> list[str]:
    """The non-empty texts of ``inputs``, read like any input (unreadable records are skipped)."""
    sources = expand_inputs(inputs, config.format, exclude=exclude)
    opts = ReadOptions(config.text_field, None, config.max_doc_bytes)
    return [r.text for r in read_inputs(sources, opts) if isinstance(r, Record) and r.text.strip()]


def write(
    p: Pass, decisions: Decisions, out: Path, what: Verb, fmt: str, quiet: bool
) -> tuple[list[AtomicWriter | StagedFile], np.ndarray]:
    """The curated outputs in temporary files (none for a verb that only reports), as JSONL or,
    for ``fmt`` parquet, turned into Parquet (with the Parquet inputs' schema)."""
    t0 = time.perf_counter()
    try:
        if not what.curates:
            p.quarantine.abort()
            return [], np.zeros(0, dtype=np.int64)
        written, kept_at = write_outputs(
            out, p.spool.path, Names(p.spool.ids, p.prefix), decisions, what.decides, quiet, p.work
        )
    except BaseException:
        p.quarantine.abort()
        raise
    staged: list[AtomicWriter | StagedFile] = [p.quarantine, *written]
    if fmt == "parquet":
        from retold.corpus.tables import input_schema

        known = input_schema(s.path for s in p.sources if s.format == "parquet" and s.path is not None)
        staged, kept_at = as_parquet(staged, kept_at, p.work, known, quiet)
    p.timings["write"] = time.perf_counter() - t0
    return staged, kept_at


def summarise(
    p: Pass,
    own: Decisions,
    clusters: dict[str, int],
    figures: dict[str, Any],
    config: ScanConfig,
    verb: str,
    run: RunOptions,
    fingerprint: str | None,
    t0: float,
) -> tuple[ScanResult, dict[str, Any]]:
    """The run's result and summary.json."""
    counts = p.counts
    dropped = own.counts()
    repair = next((st for st in p.stages if isinstance(st, RepairStage)), None)
    repairs = (
        {k: v for k, v in sorted(repair.stats.items()) if k not in ("total", "repaired")} if repair else {}
    )
    p.timings["total"] = time.perf_counter() - t0
    result = ScanResult(
        out=Path(p.work.parent),
        documents_in=counts["documents_in"],
        kept=p.n - sum(dropped.values()),
        dropped=dropped,
        quarantined=counts["quarantined"],
        repaired=repair.stats["repaired"] if repair else 0,
        repairs=repairs,
        clusters=clusters,
        reported={name: own.repeats(name) for name in clusters if name not in (config.drop or ())},
        duplicate_ids=counts["duplicate_ids"],
        warnings=tuple(_warnings(p, config)),
        timings={k: round(v, 3) for k, v in p.timings.items()},
    )
    assert result.documents_in == result.kept + result.dropped_total + result.quarantined
    summary = {
        "fingerprint": fingerprint,
        "retold_version": __version__,
        "mode": verb,
        "inputs": [s.name for s in p.sources],
        "options": config.to_json(),
        "documents_in": result.documents_in,
        "kept": result.kept,
        "dropped": result.dropped,
        "quarantined": result.quarantined,
        "quarantined_by_error": dict(sorted(p.quarantine_errors.items())),
        "repaired": result.repaired,
        "repairs": result.repairs,
        "clusters": result.clusters,
        "reported": result.reported,
        "levels": figures,
        "duplicate_ids": result.duplicate_ids,
        "against": [
            {"folder": str(ix.folder), "documents": ix.documents, "kept": ix.manifest["kept"]}
            for ix in p.prefix.indexes
        ],
        "engine": run.engine,
        "workers": p.workers,
        "reserved_field_replaced": counts["reserved_field_replaced"],
        "warnings": list(result.warnings),
        "timings": result.timings,
    }
    return result, summary


def _warnings(p: Pass, config: ScanConfig) -> Iterator[str]:
    counts = p.counts
    if p.hints and counts["quarantined"] == counts["documents_in"]:
        yield f"every record was quarantined: {p.hints[0]}"
    if counts["keep_field_missing"]:
        yield (
            f"{counts['keep_field_missing']} records lack the --keep field {config.keep!r}; "
            "they rank last (ties go to the earlier record)"
        )
    if counts["documents_in"] == 0:
        yield "the input holds no documents"
    if counts["duplicate_ids"]:
        yield f"{counts['duplicate_ids']} records repeat an earlier id; they are named id#2, id#3…"
    yield from p.warnings


def commit(
    p: Pass,
    own: Decisions,
    kept_at: np.ndarray,
    staged: list[AtomicWriter | StagedFile],
    report: dict[str, Any] | None,
    summary: dict[str, Any],
    out: Path,
    config: ScanConfig,
    what: Verb,
    run: RunOptions,
) -> None:
    """The saved index, then every output renamed into place (summary.json last), then the work
    folder removed."""
    from retold.report import report_writers

    if report is not None:
        for key in (
            "retold_version",
            "mode",
            "inputs",
            "options",
            "documents_in",
            "kept",
            "dropped",
            "quarantined",
        ):
            report[key] = summary[key]
    # one clean-up for every staged file, whatever fails: the report, the index, a rename
    try:
        if report is not None:
            staged.extend(report_writers(out, report, p.work))
        index_dir: Path | None = None
        if what.decides and run.save_index:
            t0 = time.perf_counter()
            index_dir = p.work / "index.part"
            kept_file = next(w for w in staged if w.path.stem == "kept")
            save_index(
                index_dir,
                p.spool.ids,
                own.reason,
                kept_at,
                kept_file.bytes,
                config.text_field,
                p.indexes,
                p.prefix.size,
                kept_file.path.name,
            )
            summary["timings"]["index"] = round(time.perf_counter() - t0, 3)
        if what.curates:
            summary_w = AtomicWriter.beside(out / "summary.json", p.work)
            summary_w.write_line(pretty_json(summary))
            staged.append(summary_w)
        for w in staged:  # everything is complete on disk: now put the files in place, summary last
            w.finish()
        # the parts a resumed run would go on from (quarantine.part) are about to move into place:
        # from here a kill means a rerun starts afresh, never resumes from parts that are gone
        if p.checkpoints is not None:
            p.checkpoints.wait()
        state.forget_checkpoint(p.work)
        if index_dir is not None:
            swap_in(index_dir, out)
        for w in staged:
            w.commit()
    except BaseException:
        for w in staged:
            w.abort()
        raise
    state.done(p.work)  # a kill from here on leaves a finished run, recognised as such
    shutil.rmtree(p.work, ignore_errors=True)  # the run is complete: its state goes
    written = {w.path.name for w in staged}
    if what.curates:  # an earlier run's tables in this folder (another format, a scan's decisions) are stale
        for name in TABLES:
            for ext in ("jsonl", "parquet"):
                if f"{name}.{ext}" not in written:
                    (out / f"{name}.{ext}").unlink(missing_ok=True)
