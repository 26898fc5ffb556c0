"""``retold recut OUT``: a finished scan decided again at other thresholds or drop levels, from what
the scan saved (its outputs and index/), without its inputs.

Each level is decided again in the run's order, one of two ways:

* **From the texts**, by the level's own stage, index and decision, where the level has no
  :class:`~retold.dedup.level.Replay` (empty, exact, near: hashes and MinHash, no model; ~1 s a
  100k documents). Near must be: its LSH banding follows the threshold, so a scan at another
  threshold has other candidates, and only sketching again gives a scan's outputs.
* **Replayed from pairs.jsonl** (the retold level): it verifies every pair at its floor and
  applies its threshold last, to the similarity as reported, so at a higher threshold its
  verified pairs are the scan's that reach it; clustered again by the same greedy code. That
  holds while it compares the documents it compared in the scan: where the levels before it
  leave others (a higher near threshold keeps near copies the scan dropped) or its floor moves
  (a scan below the verifier's default threshold), it is decided again with its models, which
  takes the level's time, and summary.json's warnings say so. Below the scanned threshold its
  pairs are not there: :class:`BadOption` names the scan to run.
* **drop** decides nothing: every level marks its copies whatever it drops; the levels not
  dropped are kept and reported (as :func:`retold.engine.local.decide` does).

The outputs are written by the engine's own writers (:func:`retold.engine.outputs.write_outputs`,
:func:`~retold.engine.outputs.as_parquet`) from a spool rebuilt from kept and dropped (a JSONL
line is the record's JSON with ``retold``'s note appended; a Parquet row gives the record's
columns back), so they are the outputs a scan at the new settings writes. The report
(report.html, report.json, premises.jsonl) describes the scan's decisions and needs the embedding
pass: recut removes it and says so in summary.json's warnings.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from retold._version import __version__
from retold.config import ScanConfig, option_table
from retold.corpus.spool import read_spool, texts_at
from retold.corpus.tables import output_rows, parquet_rows
from retold.corpus.writers import AtomicWriter, dumps, pretty_json
from retold.dedup import registry
from retold.dedup.clusters import REASONS, Decisions, KeepPolicy
from retold.dedup.level import DecideContext, LevelIndex, Outcome
from retold.dedup.saved import INDEX_DIR, MANIFEST, Prefix, save_index, swap_in
from retold.engine import lock, state
from retold.engine.outputs import Names, as_parquet, write_outputs
from retold.errors import BadOption, RetoldError
from retold.progress import progress
from retold.records import Record
from retold.result import ScanResult
from retold.text import WORD

WORK_DIR = ".retold-work"
REPORT_FILES = ("report.html", "report.json", "premises.jsonl")
NOTE = ', "retold": '  # how :func:`retold.engine.outputs.with_note` appends the note to a record


class NotRecuttable(RetoldError):
    """The folder is not a finished scan recut can work from, or the recut asked for needs what
    the scan did not compute (the next step is a new scan)."""


def recut(
    out: Path | str,
    *,
    near_threshold: float | None = None,
    retold_threshold: float | None = None,
    drop: tuple[str, ...] | list[str] | str | None = None,
    quiet: bool = True,
) -> ScanResult:
    """Decide the finished scan in ``out`` again at ``near_threshold``/``retold_threshold`` (at or
    above the scanned ones) and with ``drop`` levels (None: as scanned), rewriting kept.jsonl,
    dropped.jsonl, clusters.jsonl, pairs.jsonl, summary.json and index/ in place (all or none).

    Raises :class:`BadOption` for a threshold below the scanned one and :class:`NotRecuttable`
    where only a new scan can give the outputs (see the module text)."""
    out = Path(out)
    t0 = time.perf_counter()
    finished_scan(out)  # refused before taking the lock when it cannot be one
    with lock.held(out):
        summary = finished_scan(out)
        return _recut_locked(out, summary, near_threshold, retold_threshold, drop, quiet, t0)


def finished_scan(out: Path) -> dict[str, Any]:
    """The summary of the finished scan in ``out``, or :class:`NotRecuttable` naming the next step."""
    rescan = f"run retold scan INPUT --out {out} (with the settings you want) instead"
    if not out.is_dir():
        raise NotRecuttable(f"{out} is not a folder; recut needs the --out folder of a finished retold scan")
    if (out / WORK_DIR / state.STATE).exists():
        raise NotRecuttable(
            f"{out} holds a run in progress or stopped part way; rerun its command to finish it, then recut"
        )
    path = out / "summary.json"
    if not path.exists():
        what = "a retold audit's report" if (out / "report.json").exists() else "no summary.json"
        raise NotRecuttable(f"{out} holds {what}, not a finished retold scan; {rescan}")
    try:
        summary: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotRecuttable(f"{path} cannot be read ({exc}); {rescan}") from None
    mode = summary.get("mode")
    if mode != "scan":
        raise NotRecuttable(
            f"{out} holds the output of retold {mode}, which decides nothing to recut; {rescan}"
        )
    if summary.get("retold_version") != __version__:
        raise NotRecuttable(
            f"{out} was written by retold {summary.get('retold_version')}; this is retold {__version__}, "
            f"whose decisions may differ: {rescan}"
        )
    if summary.get("against"):
        raise NotRecuttable(
            f"{out} was scanned --against other folders, which recut does not handle; {rescan}"
        )
    fmt = summary.get("output_format") or "jsonl"
    for name in ("kept", "dropped", "clusters", "pairs", "quarantine"):
        if not (out / f"{name}.{fmt}").exists():
            raise NotRecuttable(f"{out}/{name}.{fmt} is missing; {rescan}")
    manifest_path = out / INDEX_DIR / MANIFEST
    if not manifest_path.exists():
        raise NotRecuttable(
            f"{out} has no saved index (it was scanned with --no-index); recut reads the order of the "
            f"documents from it: {rescan}"
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    kept_file = str(manifest.get("kept_file", "kept.jsonl"))
    if kept_file != f"kept.{fmt}" or manifest.get("kept_jsonl_bytes") != (out / kept_file).stat().st_size:
        raise NotRecuttable(f"{out}/kept.{fmt} changed since the scan wrote it; {rescan}")
    summary["_manifest"] = manifest
    return summary


def _recut_locked(
    out: Path,
    summary: dict[str, Any],
    near_threshold: float | None,
    retold_threshold: float | None,
    drop: tuple[str, ...] | list[str] | str | None,
    quiet: bool,
    t0: float,
) -> ScanResult:
    manifest = summary.pop("_manifest")
    scanned = summary["options"]
    table = option_table()
    unknown = [k for k in scanned if k not in table]
    if unknown:
        raise NotRecuttable(
            f"{out} was scanned with options this retold does not know ({', '.join(unknown)})"
        )
    old = ScanConfig.build(**scanned)
    asked: dict[str, Any] = {}
    if near_threshold is not None:
        asked["near_threshold"] = near_threshold
    if retold_threshold is not None:
        asked["retold_threshold"] = retold_threshold
    if drop is not None:
        asked["drop"] = drop
    for name, value in asked.items():
        table[name].check(value)
    config = ScanConfig.build(**{**scanned, **asked})
    check_thresholds(out, summary, old, config)
    for name in config.levels:
        if name not in registry.BUILTIN_NAMES:
            raise NotRecuttable(f"recut does not know how to decide level {name} again; rerun retold scan")

    work = out / WORK_DIR
    shutil.rmtree(work, ignore_errors=True)  # no state.json (checked): a finished run's or recut's leftovers
    work.mkdir()
    fmt = summary.get("output_format") or "jsonl"
    staged: list[Any] = []
    try:
        ids = _ids(out)
        fate = np.fromfile(out / INDEX_DIR / "fate.i8", dtype=np.int8)
        if len(fate) != len(ids) or len(ids) != int(manifest["documents"]):
            raise NotRecuttable(f"{out}/{INDEX_DIR} is damaged; rerun retold scan")
        known = _record_schema(out) if fmt == "parquet" else None
        timings: dict[str, float] = {}
        t = time.perf_counter()
        indexes = {
            name: registry.level(name).index(work / name, config.options(name), stage)
            for name, stage in _stages(config).items()
        }
        spool = work / "spool.jsonl"
        empties, worded = _read(out, ids, fate, config, indexes, spool, fmt, quiet)
        timings["read"] = time.perf_counter() - t
        t = time.perf_counter()
        warnings = list(summary.get("warnings", []))
        level_indexes: dict[str, Any] = dict(indexes)
        decisions, figures, clusters = _decide(
            out, summary, old, config, ids, empties, spool, indexes, level_indexes, warnings, quiet
        )
        timings["dedup"] = time.perf_counter() - t
        t = time.perf_counter()
        names = Names(ids, Prefix([]))
        written, kept_at = write_outputs(out, spool, names, decisions, True, quiet, work)
        staged += written
        if fmt == "parquet":
            staged, kept_at = as_parquet(staged, kept_at, work, known, quiet)
        timings["write"] = time.perf_counter() - t
        t = time.perf_counter()
        kept_w = next(w for w in staged if w.path.stem == "kept")
        for name in config.levels:  # a level replayed from its pairs: its part of the scan's index
            replay = registry.level(name).replay
            if replay is not None and name not in level_indexes:
                entry = manifest.get("levels", {}).get(name, {})
                level_indexes[name] = replay.saved(out / INDEX_DIR, entry, worded)
        index_dir = work / "index.part"
        save_index(
            index_dir,
            ids,
            decisions.reason,
            kept_at,
            kept_w.bytes,
            config.text_field,
            level_indexes,
            0,
            kept_w.path.name,
        )
        for index in level_indexes.values():
            warnings += getattr(index, "warnings", [])
        timings["index"] = time.perf_counter() - t
        result, new_summary = _summarise(out, summary, old, config, decisions, figures, clusters, warnings)
        timings["total"] = time.perf_counter() - t0
        new_summary["timings"] = {k: round(v, 3) for k, v in timings.items()}
        summary_w = AtomicWriter.beside(out / "summary.json", work)
        summary_w.write_line(pretty_json(new_summary))
        staged.append(summary_w)
        for w in staged:
            w.finish()
        swap_in(index_dir, out)
        for w in staged:  # summary.json last
            w.commit()
    except BaseException:
        for w in staged:
            w.abort()
        shutil.rmtree(work, ignore_errors=True)
        raise
    for name in REPORT_FILES:
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(work, ignore_errors=True)
    return ScanResult(
        out=out,
        documents_in=result["documents_in"],
        kept=result["kept"],
        dropped=result["dropped"],
        quarantined=result["quarantined"],
        repaired=result["repaired"],
        repairs=dict(result.get("repairs", {})),
        clusters=result["clusters"],
        reported=result["reported"],
        duplicate_ids=result.get("duplicate_ids", 0),
        warnings=tuple(result["warnings"]),
        timings=new_summary["timings"],
    )


def _rescan(out: Path, summary: dict[str, Any], option: str, value: Any) -> str:
    inputs = " ".join(str(i) for i in summary.get("inputs", [])) or "INPUT"
    return f"rerun retold scan {inputs} --out {out} --{option.replace('_', '-')} {value}"


def _gains(name: str, config: ScanConfig) -> tuple[float, float]:
    """(floor, threshold) of replayed level ``name`` at ``config`` (:class:`~retold.dedup.level.Replay`)."""
    replay = registry.level(name).replay
    assert replay is not None
    return replay.gains(config.options(name))


def check_thresholds(out: Path, summary: dict[str, Any], old: ScanConfig, new: ScanConfig) -> None:
    """A replayed level's threshold below the scanned one: :class:`BadOption` (pairs.jsonl holds
    no pair below it). Levels decided again from the texts take any threshold."""
    for name in old.levels:
        replay = registry.level(name).replay
        if replay is None or name not in new.levels:
            continue
        before, after = _gains(name, old)[1], _gains(name, new)[1]
        if after < before:
            flag = "--" + replay.threshold_option.replace("_", "-")
            raise BadOption(
                f"the scan in {out} wrote the {name} pairs at {flag} {before}; recut can only raise "
                f"it (asked {after}): {_rescan(out, summary, replay.threshold_option, after)}"
            )


def _ids(out: Path) -> list[str]:
    with open(out / INDEX_DIR / "ids.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _stages(config: ScanConfig) -> dict[str, Any]:
    """The pass-1 stage of each level decided again, by level (in the run's order)."""
    return {
        name: registry.level(name).stage(config.options(name))
        for name in config.levels
        if registry.level(name).replay is None
    }


def _saved_lines(out: Path, fate: np.ndarray, fmt: str) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Each document's record and line, in input order, from kept and dropped as the scan decided
    (the line: the JSONL line, None for Parquet rows)."""
    if fmt == "parquet":
        kept_rows, dropped_rows = parquet_rows(out / "kept.parquet"), parquet_rows(out / "dropped.parquet")
        for f in fate.tolist():
            row = next(kept_rows if f == 0 else dropped_rows, None)
            if row is None:
                raise NotRecuttable(
                    f"{out}: kept.parquet and dropped.parquet hold fewer documents than the scan"
                )
            yield row, None
        return
    with (
        open(out / "kept.jsonl", encoding="utf-8", newline="\n") as kept,
        open(out / "dropped.jsonl", encoding="utf-8", newline="\n") as dropped,
    ):
        for f in fate.tolist():
            line = (kept if f == 0 else dropped).readline()
            if not line:
                raise NotRecuttable(f"{out}: kept.jsonl and dropped.jsonl hold fewer documents than the scan")
            line = line.rstrip("\n")
            yield json.loads(line), line


def _record_schema(out: Path) -> Any:
    """The columns kept.parquet gives the records (their types), without retold's note."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(out / "kept.parquet").remove_metadata()
    return schema.remove(schema.get_field_index("retold")) if "retold" in schema.names else schema


def _read(
    out: Path,
    ids: list[str],
    fate: np.ndarray,
    config: ScanConfig,
    indexes: dict[str, LevelIndex],
    spool: Path,
    fmt: str,
    quiet: bool,
) -> tuple[list[int], np.ndarray]:
    """Every document back from the outputs: the spool rebuilt (the record's JSON as the scan
    spooled it; from Parquet, as its columns give it back), each level decided again fed as in
    pass 1. Returns the empty documents and which documents have a word."""
    stages = _stages(config)
    keep = KeepPolicy(config.keep)
    field = config.text_field
    worded = np.zeros(len(ids), dtype=bool)

    def records() -> Iterator[Record]:
        with open(spool, "w", encoding="utf-8", newline="\n") as fh:
            lines = progress(_saved_lines(out, fate, fmt), "recut: read", quiet, total=len(ids))
            for i, (data, line) in enumerate(lines):
                note = data.pop("retold") or {}
                if line is None:  # a Parquet row
                    record_json = dumps(data)
                else:
                    tail = NOTE + dumps(note) + "}"
                    if not line.endswith(tail):
                        raise NotRecuttable(
                            f"{out}: the line of document {ids[i]!r} was changed since the scan; rescan"
                        )
                    record_json = line[: -len(tail)] + "}"
                if note.get("id") != ids[i]:
                    raise NotRecuttable(
                        f"{out}: the record of document {ids[i]!r} was changed since the scan; rescan"
                    )
                fixes = list(note.get("fixes") or [])
                fh.write(f"{dumps(fixes)}\t{record_json}\n")
                yield Record(ids[i], data[field], data, "", i, fixes)

    stream: Iterator[Record] = records()
    for stage in stages.values():
        stream = stage.run(stream)
    empties: list[int] = []
    count = 0
    for i, rec in enumerate(stream):
        count += 1
        rank = keep.rank(i, rec)
        if not rec.text.strip():
            empties.append(i)
        worded[i] = WORD.search(rec.text) is not None
        for index in indexes.values():
            index.add(rec, rank)
    if count != len(ids):
        raise NotRecuttable(f"{out}: kept.jsonl and dropped.jsonl hold other documents than the scan")
    return empties, worded


def _decide(
    out: Path,
    summary: dict[str, Any],
    old: ScanConfig,
    config: ScanConfig,
    ids: list[str],
    empties: list[int],
    spool: Path,
    indexes: dict[str, LevelIndex],
    level_indexes: dict[str, Any],
    warnings: list[str],
    quiet: bool,
) -> tuple[Decisions, dict[str, Any], dict[str, int]]:
    """Each level's decision in the run's order, as :func:`retold.engine.local.decide` makes them:
    decided again from the texts, or replayed from pairs.jsonl where the level's pairs there are
    those a scan at these settings would verify, else (the documents it compares changed, or its
    floor did) decided again with its models (``level_indexes`` then gets its new index)."""
    n = len(ids)
    decisions = Decisions(n)
    if config.drop_empty:
        for i in empties:
            decisions.drop(i, "empty")
    bar = lambda items, desc, total=None: progress(items, desc, quiet, total=total, unit=" step")  # noqa: E731
    context = DecideContext(progress=bar)
    figures: dict[str, Any] = {}
    clusters: dict[str, int] = {}
    position = {d: i for i, d in enumerate(ids)}
    saved_clusters = _saved_clusters(out, position)
    for k, name in enumerate(config.levels):
        if name in indexes:
            outcome = indexes[name].decide(decisions, context)
            indexes[name].close()
        elif _same_documents(config, decisions, config.levels[:k], saved_clusters, empties) and (
            name in old.levels and _gains(name, old)[0] == _gains(name, config)[0]
        ):
            outcome = _replay(out, summary, config, name, decisions, position, saved_clusters)
        else:
            outcome = _run_again(name, config, ids, spool, decisions, bar, quiet)
            level_indexes[name] = outcome.index  # type: ignore[attr-defined]
            warnings.append(
                f"recut: the {name} level compared the documents again with its models: the documents "
                "the levels before it leave are not those of the scan (or it verifies at another floor)"
            )
        clusters[name] = outcome.clusters
        warnings.extend(outcome.warnings)
        if outcome.figures is not None:
            figures[name] = outcome.figures
    for name in clusters:  # detected but not dropped: reported in clusters.jsonl, kept
        if name not in (config.drop or ()):
            decisions.reason[decisions.reason == REASONS.index(name)] = 0
    return decisions, figures, clusters


def _saved_clusters(out: Path, position: dict[str, int]) -> dict[str, dict[int, tuple[int, float | None]]]:
    """The scan's clusters: per level, each member's (keeper, similarity) by document."""
    found: dict[str, dict[int, tuple[int, float | None]]] = {}
    for row in output_rows(out, "clusters"):
        found.setdefault(row["level"], {})[position[row["id"]]] = (
            position[row["kept_id"]],
            row.get("similarity"),
        )
    return found


def _same_documents(
    config: ScanConfig,
    decisions: Decisions,
    before: tuple[str, ...],
    saved_clusters: dict[str, dict[int, tuple[int, float | None]]],
    empties: list[int],
) -> bool:
    """Whether the levels ``before`` leave the documents they left in the scan: a level compares
    only those, so its pairs say nothing of any other."""
    scanned = np.ones(decisions.n, dtype=bool)
    if config.drop_empty:
        scanned[empties] = False
    for name in before:
        for d, (keeper, _) in saved_clusters.get(name, {}).items():
            if keeper != d:
                scanned[d] = False
    return bool(np.array_equal(decisions.reason == 0, scanned))


def _run_again(
    name: str,
    config: ScanConfig,
    ids: list[str],
    spool: Path,
    decisions: Decisions,
    bar: Any,
    quiet: bool,
) -> Outcome:
    """Level ``name`` decided as a scan decides it: its stage over the rebuilt spool, its index,
    its decision (with its models). The outcome carries the index (``index``) for index/."""
    lv = registry.level(name)
    options = config.options(name)
    stage = lv.stage(options)
    index = lv.index(spool.parent / name, options, stage)
    keep = KeepPolicy(config.keep)
    field = config.text_field

    def records() -> Iterator[Record]:
        for i, (fixes, record_json) in enumerate(read_spool(spool)):
            data = json.loads(record_json)
            yield Record(ids[i], data[field], data, "", i, fixes)

    stream = progress(stage.run(records()), f"recut: {name}", quiet, total=len(ids))
    for i, rec in enumerate(stream):
        index.add(rec, keep.rank(i, rec))
    context = DecideContext(
        texts=lambda docs: texts_at(spool, [int(d) for d in docs], field),
        progress=bar,
    )
    outcome = index.decide(decisions, context)
    index.close()
    outcome.index = index  # type: ignore[attr-defined]
    return outcome


def _replay(
    out: Path,
    summary: dict[str, Any],
    config: ScanConfig,
    name: str,
    decisions: Decisions,
    position: dict[str, int],
    saved_clusters: dict[str, dict[int, tuple[int, float | None]]],
) -> Outcome:
    """Level ``name``'s decision from the scan's verified pairs that reach the new threshold (the
    level applies its threshold last, to the similarity as reported: :class:`Replay`)."""
    figures = dict(summary.get("levels", {}).get(name, {}))
    threshold = _gains(name, config)[1]
    rows = [row for row in output_rows(out, "pairs") if row["level"] == name]
    left = np.array([position[r["a"]] for r in rows], dtype=np.int64)
    right = np.array([position[r["b"]] for r in rows], dtype=np.int64)
    gain = np.array([r["similarity"] for r in rows], dtype=np.float64)
    keep = gain >= threshold
    vl, vr, gains = left[keep], right[keep], gain[keep]
    evidence = [r.get("evidence") for r, k in zip(rows, keep.tolist(), strict=True) if k]
    figures["threshold"] = threshold
    figures.update(verified_pairs=len(vl), clusters=0, members=0, largest_cluster=0)
    if not len(vl):
        return Outcome(0, figures)
    decisions.add_pairs(name, vl, vr, gains, evidence)  # type: ignore[arg-type]
    keeper_of, taken, largest = decisions.greedy(name, vl, vr)
    at = {(a, b): p for p, (a, b) in enumerate(zip(vl.tolist(), vr.tolist(), strict=True))}
    notes = decisions.notes_for(name)
    marks = np.zeros(len(taken))
    saved = saved_clusters.get(name, {})
    for k, d in enumerate(taken.tolist()):
        p = at[int(keeper_of[d]), d]
        notes[d] = evidence[p]
        was = saved.get(d)
        # the scan's own figure for this very match (its float32, rounded) where it made it
        marks[k] = was[1] if was is not None and was[0] == keeper_of[d] and was[1] is not None else gains[p]
    decisions.mark(name, taken, keeper_of[taken], marks)
    count = len(np.unique(keeper_of[taken]))
    figures.update(clusters=count, members=len(taken), largest_cluster=int(largest))
    return Outcome(count, figures)


def _summarise(
    out: Path,
    summary: dict[str, Any],
    old: ScanConfig,
    config: ScanConfig,
    decisions: Decisions,
    figures: dict[str, Any],
    clusters: dict[str, int],
    warnings: list[str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """summary.json at the new settings: the scan's, with what the recut decided."""
    dropped = decisions.counts()
    kept = decisions.n - sum(dropped.values())
    reported = {name: decisions.repeats(name) for name in clusters if name not in (config.drop or ())}
    changed = {
        k: {"scanned": summary["options"].get(k), "now": v}
        for k, v in config.to_json().items()
        if summary["options"].get(k) != v
    }
    gone = [name for name in REPORT_FILES if (out / name).exists()]
    if gone:
        warnings.append(
            f"recut: {', '.join(gone)} described the scan's decisions and were removed (the report "
            "needs the embedding pass); rerun retold scan or retold audit at these settings to write it"
        )
    new = {
        **summary,
        "fingerprint": None,  # these outputs were not made by a scan of the inputs: a rerun redoes it
        "options": config.to_json(),
        "kept": kept,
        "dropped": dropped,
        "clusters": clusters,
        "reported": reported,
        "levels": {**summary.get("levels", {}), **figures},
        "warnings": warnings,
        "recut": {"changed": changed, "scanned_fingerprint": summary.get("fingerprint")},
    }
    assert new["documents_in"] == kept + sum(dropped.values()) + new["quarantined"]
    return new, new
