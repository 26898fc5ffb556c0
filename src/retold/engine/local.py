"""The local engine: one process, two streaming passes over the corpus.

Pass 1 reads every input unit, sends unreadable ones to quarantine.jsonl, runs the per-record
stages (repair, exact signature, near sketch) and spools each repaired record to
``DIR/.retold-work/`` on disk, collecting only the small per-document keys the global passes need
(24 bytes a document for exact dedup; the near level spills its shingles and band keys to disk and
keeps 16 bytes). The global passes then decide every document's fate in numpy arrays, level by
level (exact, then near among what exact kept). Pass 2 streams the spool once more and writes
kept.jsonl, dropped.jsonl and clusters.jsonl. All outputs are written
under temporary names and renamed when complete; summary.json is written last.

Memory does not grow with document size beyond one document at a time.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from retold import __version__
from retold.config import ScanConfig
from retold.corpus.readers import ReadOptions, read_inputs
from retold.corpus.sources import Source, expand_inputs
from retold.corpus.writers import AtomicWriter, dumps, pretty_json, reopen_at
from retold.dedup import saved
from retold.dedup.clusters import REASONS, Decisions, KeepPolicy
from retold.dedup.exact import ExactIndex
from retold.dedup.saved import LevelArrays, Prefix, near_parameters, open_index, save_index, swap_in
from retold.engine import state
from retold.engine.parallel import Workers, auto_workers, make_stages
from retold.engine.spool import texts_at
from retold.errors import BadOption, OutputNotWritable
from retold.progress import progress
from retold.records import Quarantined, Record
from retold.repair.stage import RepairStage
from retold.result import ScanResult
from retold.stages import Stage

if TYPE_CHECKING:
    from retold.dedup.near import NearIndex
    from retold.dedup.semantic import RetoldIndex
    from retold.engine.ray import RayWorkers

OUTPUT_FILES = (
    "kept.jsonl",
    "dropped.jsonl",
    "quarantine.jsonl",
    "clusters.jsonl",
    "summary.json",
    "report.json",
    "report.html",
)
WORK_DIR = ".retold-work"


@dataclass(frozen=True)
class RunOptions:
    """How a run goes (not what it computes: none of these is in the fingerprint)."""

    restart: bool = False
    workers: int | None = None
    engine: str = "local"
    address: str | None = None
    against: tuple[str, ...] = ()
    save_index: bool = True


def prepare_out(out: Path, sources: list[Source]) -> Path:
    """Create ``out`` (and its work folder) or fail with a message that names the next step."""
    for source in sources:
        if (
            source.path is not None
            and source.path.resolve().parent == out.resolve()
            and (source.path.name in OUTPUT_FILES)
        ):
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


def run_scan(
    inputs: list[str],
    out: Path,
    config: ScanConfig,
    quiet: bool = True,
    mode: str = "scan",
    restart: bool = False,
    workers: int | None = None,
    engine: str = "local",
    address: str | None = None,
    against: list[str] | None = None,
    save_index: bool = True,
) -> ScanResult:
    """Run the whole job (``mode="scan"``), the audit alone (``"audit"``) or the repair stage alone
    (``"fix"``).

    Earlier outputs in ``out`` stay as they were until the new ones are complete. A run that
    stops part way (a crash, kill -9, Ctrl-C) leaves its state in ``out/.retold-work``; the same
    command goes on from its last checkpoint (:mod:`retold.engine.state`); ``restart=True``
    discards it. A failure before the first checkpoint leaves nothing behind. ``workers``: processes
    for pass 1's per-document stages (None: every core for inputs of 16 MiB or more; with
    ``engine="ray"``, every CPU of the cluster at ``address``: :mod:`retold.engine.ray`). ``against``:
    curated folders whose saved index the new documents are deduplicated against
    (:mod:`retold.dedup.saved`); ``save_index``: write this run's own index to ``out/index``.
    """
    out = Path(out)
    if engine not in ("local", "ray"):
        raise BadOption(f"--engine must be local or ray, got {engine!r}")
    if address is not None and engine != "ray":
        raise BadOption("--address is for --engine ray")
    run = RunOptions(restart, workers, engine, address, tuple(against or ()), save_index)
    try:
        return _run(inputs, out, config, quiet, mode, run)
    except BaseException:
        if not (out / WORK_DIR / state.CHECKPOINT).exists():
            shutil.rmtree(out / WORK_DIR, ignore_errors=True)
        raise


def _run(
    inputs: list[str],
    out: Path,
    config: ScanConfig,
    quiet: bool,
    mode: str,
    run: RunOptions,
) -> ScanResult:
    restart, workers = run.restart, run.workers
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    sources = expand_inputs(inputs, config.format, exclude=out)
    for folder in run.against:
        if Path(folder).resolve() == out.resolve():
            raise BadOption(f"--out {out} is also an --against folder; write the new run to another folder")
    options = config.to_json()
    if run.against:  # the indexes scanned against decide the outputs too
        options = {**options, "against": [saved.fingerprint(f) for f in run.against]}
    print_ = state.fingerprint(sources, options, mode)
    files = ["kept.jsonl", "quarantine.jsonl", "summary.json"]
    files += ["dropped.jsonl", "clusters.jsonl"] if mode == "scan" else []
    files += ["report.json", "report.html"] if mode == "scan" and config.report else []
    done = state.finished(out, print_, tuple(files)) if mode != "audit" and not restart else None
    if done is not None:  # this very run finished before: nothing to redo
        return ScanResult.from_summary(out, done)
    work = prepare_out(out, sources)
    resume = state.begin(work, print_, restart)
    opts = ReadOptions(config.text_field, config.id_field, config.max_doc_bytes)
    keep = KeepPolicy(config.keep)
    keep_field = config.keep if config.keep not in ("first", "longest") else None

    counts: Counter[str] = Counter()
    quarantine_errors: Counter[str] = Counter()
    missing_field_hint: list[str] = []

    quarantine = AtomicWriter(
        out / "quarantine.jsonl", tmp=work / "quarantine.part", resume_at=resume and resume["quarantine"]
    )
    spool_path = work / "spool.jsonl"
    ids_path = work / "ids.jsonl"
    detect = mode in ("scan", "audit")
    exact = ExactIndex() if "exact" in config.levels and detect else None
    empties: list[int] = []
    stages = make_stages(config, mode)
    repair = next((st for st in stages if isinstance(st, RepairStage)), None)
    near: NearIndex | None = None
    if "near" in config.levels and detect:
        from retold.dedup.near import NearIndex

        near_options = config.near_options()
        near = NearIndex(work / "near", near_options, near_options.hasher())
    told: RetoldIndex | None = None
    if "retold" in config.levels and detect:
        told = _retold_index(work, config, stages[-1])
    pool: Workers | RayWorkers | None = None
    if run.engine == "ray":
        from retold.engine.ray import RayWorkers

        pool = RayWorkers(config, mode, run.address, workers)
        workers = pool.workers
    else:
        workers = auto_workers(workers, sum(s.path.stat().st_size for s in sources if s.path is not None))
        pool = Workers(workers, config, mode) if workers > 1 else None

    def readable(items: Iterable[Record | Quarantined]) -> Iterator[Record]:
        for item in items:
            counts["documents_in"] += 1
            if isinstance(item, Quarantined):
                counts["quarantined"] += 1
                quarantine_errors[item.error.split(":")[0].split(" (")[0]] += 1
                if item.error.startswith("no text field") and not missing_field_hint:
                    missing_field_hint.append(item.error)
                quarantine.write_json(item.to_json())
                continue
            if keep_field is not None and keep_field not in item.data:
                counts["keep_field_missing"] += 1
            if "retold" in item.data:
                item.data.pop("retold")
                counts["reserved_field_replaced"] += 1
            yield item

    levels = {"exact": exact, "near": near, "retold": told}
    prefix = _against(run.against, exact, near, told, feed=resume is None)
    base = prefix.size  # documents of the indexes scanned against come first: 0…base-1
    n = 0
    ids: list[str] = []
    if resume is not None:  # go on from the last checkpoint
        n = resume["n"]
        quarantine_errors.update(resume["quarantine_errors"])
        missing_field_hint.extend(resume["missing_field_hint"])
        empties.extend(resume["empties"])
        for stage, stats in zip(stages, resume["stages"], strict=True):
            stage.stats.update(stats)
        for name, index in levels.items():
            if index is not None:
                index.restore(resume["levels"][name])
    spool = reopen_at(spool_path, resume["spool"]) if resume else open(spool_path, "wb")  # noqa: SIM115
    ids_file = reopen_at(ids_path, resume["ids"]) if resume else open(ids_path, "wb")  # noqa: SIM115
    if resume is not None:
        ids_file.seek(0)
        ids = [json.loads(line) for line in ids_file.read(resume["ids"]).splitlines()]
        ids_file.seek(resume["ids"])
    try:
        items: Iterator[Record | Quarantined] = read_inputs(sources, opts, counts)
        if resume is not None:  # units consumed before the checkpoint: read again, not processed
            for _ in itertools.islice(items, resume["consumed"]):
                pass
            counts.clear()
            counts.update(resume["counts"])
        pending = readable(progress(items, "read + repair", quiet, initial=counts["documents_in"]))
        while True:
            records: Iterable[Record] = itertools.islice(pending, state.CHECKPOINT_EVERY)
            if pool is not None:
                records = pool.run(records, stages)
            else:
                for stage in stages:
                    records = stage.run(records)
            before = n
            for rec in records:
                rank = keep.rank(n, rec)
                if not rec.text.strip():
                    empties.append(base + n)
                elif exact is not None:
                    exact.add(base + n, rec.meta["exact"], rank)
                if near is not None:
                    near.add(rec.meta.get("near"), rank)
                if told is not None:
                    told.add(rec.meta.get("retold"), rank)
                ids.append(rec.id)
                ids_file.write(dumps(rec.id).encode("utf-8") + b"\n")
                spool.write(f"{dumps(rec.fixes)}\t{dumps(rec.data)}\n".encode())
                n += 1
            if print_ is not None:  # everything up to here is on disk: note how far the pass got
                for fh in (spool, ids_file):
                    fh.flush()
                    os.fsync(fh.fileno())
                state.save(
                    work,
                    {
                        "consumed": counts["documents_in"],
                        "n": n,
                        "counts": dict(counts),
                        "quarantine_errors": dict(quarantine_errors),
                        "missing_field_hint": list(missing_field_hint),
                        "empties": list(empties),
                        "stages": [dict(stage.stats) for stage in stages],
                        "levels": {k: v.checkpoint() for k, v in levels.items() if v is not None},
                        "spool": spool.tell(),
                        "ids": ids_file.tell(),
                        "quarantine": quarantine.checkpoint(),
                    },
                )
            if n - before < state.CHECKPOINT_EVERY:
                break
        spool.close()
        ids_file.close()
        quarantine.finish()
        if pool is not None:
            pool.close()
    except BaseException:
        if pool is not None:
            pool.terminate()
        spool.close()
        ids_file.close()
        quarantine.finish()  # kept (not removed) for a resumed run
        raise
    timings["read_repair"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    decisions = Decisions(base + n)
    decisions.reason[:base] = prefix.fate()  # what the earlier runs decided of their documents
    if mode in ("scan", "audit") and config.drop_empty:
        for i in empties:
            decisions.drop(i, "empty")
    clusters: dict[str, int] = {}
    level_stats: dict[str, dict[str, object]] = {}
    if exact is not None:
        clusters["exact"] = exact.decide(decisions)
    if near is not None:
        near_stats = near.decide(decisions, skip_before=base)
        near.close()  # its files stay until the run completes: a crash in pass 2 resumes from them
        clusters["near"] = near_stats.clusters
        level_stats["near"] = {
            **near_stats.to_json(),
            "threshold": near.options.threshold,
            "measure": near.options.measure,
            "shingle": f"{near.hasher.ngram}-{near.hasher.unit}",
            "num_perm": near.hasher.num_perm,
        }
    if told is not None:
        told_stats = told.decide(
            decisions, lambda docs: _texts(prefix, spool_path, docs, config.text_field), skip_before=base
        )
        told.close()  # (as for near)
        clusters["retold"] = told_stats.clusters
        level_stats["retold"] = {
            **told_stats.to_json(),
            "threshold": told.options.threshold,
            "candidate_threshold": told.options.candidate_threshold,
            "embedder": told.embedder_name,
            "verifier": told.verifier_name,
        }
    for level in clusters:  # detected but not dropped: reported in clusters.jsonl, kept
        if level not in (config.drop or ()):
            _undrop(decisions, level)
    own = decisions.tail(base)  # this run's documents alone (all of them without --against)
    if base:  # clusters that hold at least one new document
        clusters = {k: _clusters_in(own, k) for k in clusters}
    timings["dedup"] = time.perf_counter() - t1

    report: dict[str, Any] | None = None
    if mode in ("scan", "audit") and config.report:
        from retold.report import audit_report

        t3 = time.perf_counter()
        report = audit_report(
            spool_path, ids, own, clusters, config, quiet, reference=_reference_texts(config, out)
        )
        timings["audit"] = time.perf_counter() - t3
        timings.update({f"audit_{k}": v for k, v in report["audit"].pop("timings").items()})

    t2 = time.perf_counter()
    try:
        if mode == "audit":  # no curated outputs: the report is the result
            quarantine.abort()
            staged = []
        else:
            written, kept_at = _write_outputs(out, spool_path, ids, decisions, mode, quiet, prefix)
            staged = [quarantine, *written]
    except BaseException:
        quarantine.abort()
        raise
    timings["write"] = time.perf_counter() - t2

    dropped = own.counts()
    kept = n - sum(dropped.values())
    repairs = (
        {k: v for k, v in sorted(repair.stats.items()) if k not in ("total", "repaired")} if repair else {}
    )
    warnings: list[str] = []
    if missing_field_hint and counts["quarantined"] == counts["documents_in"]:
        warnings.append(f"every record was quarantined: {missing_field_hint[0]}")
    if keep_field is not None and counts["keep_field_missing"]:
        warnings.append(
            f"{counts['keep_field_missing']} records lack the --keep field {keep_field!r}; "
            "they rank last (ties go to the earlier record)"
        )
    if counts["documents_in"] == 0:
        warnings.append("the input holds no documents")
    duplicate_ids = counts["duplicate_ids"]
    if duplicate_ids:
        warnings.append(f"{duplicate_ids} records repeat an earlier id; they are named id#2, id#3…")
    timings["total"] = time.perf_counter() - t0
    result = ScanResult(
        out=out,
        documents_in=counts["documents_in"],
        kept=kept,
        dropped=dropped,
        quarantined=counts["quarantined"],
        repaired=repair.stats["repaired"] if repair else 0,
        repairs=repairs,
        clusters=clusters,
        duplicate_ids=duplicate_ids,
        warnings=tuple(warnings),
        timings={k: round(v, 3) for k, v in timings.items()},
    )
    summary = {
        "fingerprint": print_,
        "retold_version": __version__,
        "mode": mode,
        "inputs": [s.name for s in sources],
        "options": config.to_json(),
        "documents_in": result.documents_in,
        "kept": result.kept,
        "dropped": result.dropped,
        "quarantined": result.quarantined,
        "quarantined_by_error": dict(sorted(quarantine_errors.items())),
        "repaired": result.repaired,
        "repairs": result.repairs,
        "clusters": result.clusters,
        "levels": level_stats,
        "duplicate_ids": duplicate_ids,
        "against": [
            {"folder": str(ix.folder), "documents": ix.documents, "kept": ix.manifest["kept"]}
            for ix in prefix.indexes
        ],
        "engine": run.engine,
        "workers": workers,
        "reserved_field_replaced": counts["reserved_field_replaced"],
        "warnings": list(result.warnings),
        "timings": result.timings,
    }
    assert result.documents_in == result.kept + result.dropped_total + result.quarantined
    if report is not None:
        from retold.report import report_writers

        report.update(
            {k: summary[k] for k in ("retold_version", "mode", "inputs", "options", "documents_in")}
        )
        report.update({k: summary[k] for k in ("kept", "dropped", "quarantined")})
        staged.extend(report_writers(out, report))
    index_dir: Path | None = None
    if mode == "scan" and run.save_index:
        t4 = time.perf_counter()
        index_dir = work / "index.part"
        kept_file = next(w for w in staged if w.path.name == "kept.jsonl")
        save_index(
            index_dir,
            ids,
            own.reason,
            kept_at,
            kept_file.bytes,
            config.text_field,
            _level_arrays(base, exact, near, told),
        )
        timings["index"] = time.perf_counter() - t4
        summary["timings"]["index"] = round(timings["index"], 3)
    summary_w = AtomicWriter(out / "summary.json") if mode != "audit" else None
    if summary_w is not None:
        staged.append(summary_w)
    try:
        if summary_w is not None:
            summary_w.write_line(pretty_json(summary))
        for w in staged:  # everything is complete on disk: now put the files in place, summary last
            w.finish()
        if index_dir is not None:
            swap_in(index_dir, out)
        for w in staged:
            w.commit()
    except BaseException:
        for w in staged:
            w.abort()
        raise
    shutil.rmtree(work, ignore_errors=True)  # the run is complete: its state goes
    if mode == "fix":
        for name in ("dropped.jsonl", "clusters.jsonl"):
            (out / name).unlink(missing_ok=True)
    return result


def _against(
    folders: tuple[str, ...],
    exact: ExactIndex | None,
    near: NearIndex | None,
    told: RetoldIndex | None,
    feed: bool,
) -> Prefix:
    """Open the saved indexes of ``folders`` (refused unless they serve this run's levels with its
    parameters) and, unless resuming (``feed=False``: the checkpoint holds them), put their
    documents in front of this run's in each level's index, ranked before every new document."""
    wanted: dict[str, dict[str, Any]] = {}
    if exact is not None:
        wanted["exact"] = {}
    if near is not None:
        wanted["near"] = near_parameters(near.hasher)
    if told is not None:
        wanted["retold"] = {"embedder": told.embedder_name}
    indexes = [open_index(f, wanted) for f in folders]
    if feed:
        start = 0
        for ix in indexes:
            if exact is not None:
                docs, digests = ix.exact()
                exact.extend(docs + start, digests, -math.inf)
            if near is not None:
                docs, offsets, shingles, keys = ix.near()
                near.add_saved(ix.documents, docs, offsets, shingles, keys, -math.inf)
            if told is not None:
                docs, vectors = ix.retold()
                told.add_saved(ix.documents, docs, vectors, -math.inf)
            start += ix.documents
    return Prefix(indexes)


def _texts(prefix: Prefix, spool: Path, docs: np.ndarray, field: str) -> dict[int, str]:
    """Texts of documents: the earlier runs' from their kept.jsonl, this run's from the spool."""
    old = [int(d) for d in docs if d < prefix.size]
    new = [int(d) - prefix.size for d in docs if d >= prefix.size]
    out = prefix.texts(old)
    out.update({d + prefix.size: t for d, t in texts_at(spool, new, field).items()})
    return out


def _clusters_in(own: Decisions, level: str) -> int:
    lc = own.levels.get(level)
    return 0 if lc is None else len(np.unique(lc.cluster[lc.cluster >= 0]))


def _level_arrays(
    base: int, exact: ExactIndex | None, near: NearIndex | None, told: RetoldIndex | None
) -> LevelArrays:
    """This run's documents' arrays in each level's index, for :func:`save_index`."""
    arrays = LevelArrays()
    if exact is not None:
        arrays.exact_docs, arrays.exact_digest = exact.arrays(base)
    if near is not None:
        offsets, shingles, bands = near.spill()
        arrays.near_offsets = offsets[base:]
        arrays.near_shingles = shingles
        arrays.near_bands = bands
        arrays.near_bands_start = base
        arrays.near_params = near_parameters(near.hasher)
    if told is not None:
        has, vectors, dim = told.spill()
        arrays.retold_has = has[base:]
        arrays.retold_vectors = vectors
        arrays.retold_vectors_start = int(has[:base].sum())
        arrays.retold_dim = dim
        arrays.embedder = told.embedder_name
    return arrays


def _retold_index(work: Path, config: ScanConfig, embed: Stage) -> RetoldIndex:
    """The retold level's index; the verifier model loads only if there are candidate pairs."""
    from retold.dedup.semantic import RetoldIndex, Verifier
    from retold.embed import load

    options = config.retold_options()
    verifier = options.verifier or ""
    if verifier == "static" or verifier.startswith("static:"):  # the fast verifier: a static model
        spec, kind = verifier.partition(":")[2] or options.embedder, "static"
    else:
        spec, kind = options.verifier, "transformer"
    index = RetoldIndex(work / "retold", options, lambda: Verifier(load(spec, kind=kind), options.margin))
    index.embedder_name = embed.embedder.name  # type: ignore[attr-defined]
    return index


def _reference_texts(config: ScanConfig, out: Path) -> list[str] | None:
    """The texts of ``--reference``."""
    return None if config.reference is None else corpus_texts([config.reference], config, out)


def corpus_texts(inputs: list[str], config: ScanConfig, exclude: Path | None = None) -> list[str]:
    """The non-empty texts of ``inputs``, read like any input (unreadable records are skipped)."""
    sources = expand_inputs(inputs, config.format, exclude=exclude)
    opts = ReadOptions(config.text_field, None, config.max_doc_bytes)
    counts: Counter[str] = Counter()
    return [r.text for r in read_inputs(sources, opts, counts) if isinstance(r, Record) and r.text.strip()]


def _undrop(decisions: Decisions, reason: str) -> None:
    """A level that is detected but not in --drop: its members are reported in clusters, kept."""
    code = REASONS.index(reason)
    decisions.reason[decisions.reason == code] = 0


def _write_outputs(
    out: Path, spool_path: Path, ids: list[str], d: Decisions, mode: str, quiet: bool, prefix: Prefix
) -> tuple[list[AtomicWriter], np.ndarray]:
    """Write kept/dropped/clusters to temporary files; the caller puts them in place. Returns the
    writers and each document's byte offset in kept.jsonl (-1: not kept), for the saved index.

    Documents ``prefix.size``… are this run's (the spool's lines, in order); a match with an earlier
    document (an --against index's) names its id and the folder of that scan (``against``)."""
    base = prefix.size
    kept_at = np.full(len(ids), -1, dtype=np.int64)

    def name(k: int) -> str:
        return ids[k - base] if k >= base else prefix.id_of(k)

    def where(note: dict[str, Any], k: int) -> dict[str, Any]:
        if 0 <= k < base:
            note["against"] = prefix.folder_of(k)
        return note

    kept_w = AtomicWriter(out / "kept.jsonl")
    dropped_w = AtomicWriter(out / "dropped.jsonl") if mode == "scan" else None
    clusters_w = AtomicWriter(out / "clusters.jsonl") if mode == "scan" else None
    writers = [w for w in (kept_w, dropped_w, clusters_w) if w is not None]
    try:
        with open(spool_path, encoding="utf-8", newline="\n") as spool:
            for j, line in enumerate(progress(spool, "write", quiet, total=len(ids))):
                i = base + j
                head, _, data = line.rstrip("\n").partition("\t")
                fixes = json.loads(head)
                rec_id = ids[j]
                reason = int(d.reason[i])
                if reason == 0:
                    kept_at[j] = kept_w.bytes
                    note = {"id": rec_id, "fixes": fixes}
                    kept_w.write_line(data[:-1] + ', "retold": ' + dumps(note) + "}")
                else:
                    assert dropped_w is not None
                    kept_of = int(d.kept_of[i])
                    level = REASONS[reason]
                    note = {
                        "id": rec_id,
                        "reason": level,
                        "kept_id": name(kept_of) if kept_of >= 0 else None,
                        "similarity": _score(d.similarity[i]),
                        "cluster_id": _cluster_name(d, level, i),
                        "fixes": fixes,
                    }
                    evidence = {k: _score(col[i]) for k, col in d.evidence.items() if not math.isnan(col[i])}
                    evidence.update(d.notes.get(level, {}).get(i, {}))
                    if evidence:
                        note["evidence"] = evidence
                    where(note, kept_of)
                    dropped_w.write_line(data[:-1] + ', "retold": ' + dumps(note) + "}")
                if clusters_w is not None:
                    for level, lc in d.levels.items():
                        if lc.cluster[i] < 0:
                            continue
                        keeper = int(lc.keeper[i])
                        row = {
                            "id": rec_id,
                            "cluster_id": _cluster_name(d, level, i),
                            "level": level,
                            "cluster_size": int(lc.size[i]),
                            "kept": reason == 0,
                            "kept_id": name(keeper),
                            "similarity": _score(d.similarity[i])
                            if keeper != i and int(d.kept_of[i]) == keeper
                            else None,
                        }
                        note = d.notes.get(level, {}).get(i)
                        if note is not None:
                            row["evidence"] = note
                        clusters_w.write_json(where(row, keeper))
        for w in writers:
            w.finish()
    except BaseException:
        for w in writers:
            w.abort()
        raise
    return writers, kept_at


def _cluster_name(d: Decisions, level: str, i: int) -> str | None:
    lc = d.levels.get(level)
    if lc is None or lc.cluster[i] < 0:
        return None
    return f"{level}-{int(lc.cluster[i]) + 1}"


def _score(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), 4)
