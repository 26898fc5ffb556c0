"""``retold recut OUT``: a finished scan decided again at a higher threshold or other drop levels,
from what the scan saved, without its inputs and without embedding anything again.

What each level needs, and where recut finds it:

* **empty** and **exact** have no threshold: decided again from the texts (a hash a document).
* **near** is decided again whole, by the level's own code (:class:`~retold.dedup.near.NearIndex`),
  from the repaired texts that kept.jsonl and dropped.jsonl hold: MinHash sketches at the banding
  the new threshold gives, candidates, verification, clusters. The LSH banding follows the
  threshold (:func:`~retold.dedup.lsh.optimal_bands`), so the scan's candidates are not those of
  a scan at the new threshold; sketching again (no model: ~1 s a 100k documents) is what makes
  the outputs those of a fresh scan.
* **retold** cannot be decided again without its models: its verified pairs are read back from
  pairs.jsonl and those whose order gain reaches the new threshold kept (the order gain of a
  pair does not depend on the threshold). It compares only the documents the levels before it
  left, so a recut that changes those (a near copy no longer dropped at a higher near threshold)
  is refused. Two of its gates look beyond the pair (:mod:`retold.dedup.semantic`): the
  distinctness gate compares a pair with every story outside its group of verified tellings, and
  a near-verbatim pair that fails with its boilerplate silenced is scored again on its full
  sentences. Where the pairs.jsonl of the scan shows either would decide otherwise at the new
  threshold (a group of tellings split; a near-verbatim pair taken out while boilerplate was
  silenced), the recut is refused. Pairs the scan verified but the distinctness gate then
  rejected are saved nowhere: one that links two groups at the scanned threshold but not at the
  new one goes unseen (docs/recut limits).
* **drop** decides nothing: every level marks its copies whatever it drops; the levels not
  dropped are kept and reported (as :func:`retold.engine.local.decide` does).

The outputs are written by the engine's own writer (:func:`retold.engine.outputs.write_outputs`)
from a spool rebuilt from kept.jsonl and dropped.jsonl (each line is the record's JSON with
``retold``'s note appended), so every line is built by the code that built the scan's. The
report (report.html, report.json, premises.jsonl) describes the scan's decisions and needs the
embedding pass: recut removes it and says so in summary.json's warnings.
"""

from __future__ import annotations

import inspect
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from retold._version import __version__
from retold.config import ScanConfig, option_table
from retold.corpus.writers import AtomicWriter, dumps, pretty_json
from retold.dedup import registry
from retold.dedup.clusters import REASONS, Decisions, KeepPolicy
from retold.dedup.level import DecideContext, LevelIndex
from retold.dedup.saved import INDEX_DIR, MANIFEST, Prefix, save_index, swap_in
from retold.engine import lock, state
from retold.engine.outputs import Names, write_outputs
from retold.errors import BadOption, RetoldError
from retold.progress import progress
from retold.records import Record
from retold.result import ScanResult
from retold.text import WORD

WORK_DIR = ".retold-work"
#: The level replayed from pairs.jsonl (its stage embeds); every other one is decided again from
#: the saved texts (their stages hash: no model).
REPLAYED = "retold"
REPORT_FILES = ("report.html", "report.json", "premises.jsonl")
NOTE = ', "retold": '  # how :func:`retold.engine.outputs.with_note` appends the note to a record
ROUNDED = 0.5e-4  # pairs.jsonl gives similarities to 4 decimals: the true one is within this


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
    if summary.get("output_format", "jsonl") != "jsonl" or (out / "kept.parquet").exists():
        raise NotRecuttable(f"{out} holds Parquet outputs; recut reads JSONL outputs: {rescan}")
    for name in ("kept.jsonl", "dropped.jsonl", "clusters.jsonl", "pairs.jsonl", "quarantine.jsonl"):
        if not (out / name).exists():
            raise NotRecuttable(f"{out}/{name} is missing; {rescan}")
    manifest_path = out / INDEX_DIR / MANIFEST
    if not manifest_path.exists():
        raise NotRecuttable(
            f"{out} has no saved index (it was scanned with --no-index); recut reads the order of the "
            f"documents from it: {rescan}"
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("kept_jsonl_bytes") != (out / "kept.jsonl").stat().st_size:
        raise NotRecuttable(f"{out}/kept.jsonl changed since the scan wrote it; {rescan}")
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
    staged: list[AtomicWriter] = []
    try:
        ids = _ids(out)
        fate = np.fromfile(out / INDEX_DIR / "fate.i8", dtype=np.int8)
        if len(fate) != len(ids) or len(ids) != int(manifest["documents"]):
            raise NotRecuttable(f"{out}/{INDEX_DIR} is damaged; rerun retold scan")
        timings: dict[str, float] = {}
        t = time.perf_counter()
        indexes = {
            name: registry.level(name).index(work / name, config.options(name), stage)
            for name, stage in _stages(config).items()
        }
        spool = work / "spool.jsonl"
        empties, worded = _read(out, ids, fate, config, indexes, spool, quiet)
        timings["read"] = time.perf_counter() - t
        t = time.perf_counter()
        decisions, figures, clusters = _decide(out, summary, config, ids, empties, worded, indexes, quiet)
        timings["dedup"] = time.perf_counter() - t
        t = time.perf_counter()
        names = Names(ids, Prefix([]))
        written, kept_at = write_outputs(out, spool, names, decisions, True, quiet, work)
        staged += written
        timings["write"] = time.perf_counter() - t
        t = time.perf_counter()
        kept_w = next(w for w in written if w.path.name == "kept.jsonl")
        level_indexes: dict[str, Any] = dict(indexes)
        warnings = list(summary.get("warnings", []))
        if REPLAYED in config.levels:
            level_indexes[REPLAYED] = _SavedVectors(out / INDEX_DIR, manifest, worded)
        index_dir = work / "index.part"
        save_index(
            index_dir, ids, decisions.reason, kept_at, kept_w.bytes, config.text_field, level_indexes, 0
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


def _owner(option: str) -> str:
    """The level whose option ``option`` is."""
    return next(lv.name for lv in registry.levels() if option in dict(registry.option_table_of(lv)))


def _retold_threshold(summary: dict[str, Any], config: ScanConfig) -> float:
    """The retold level's threshold in effect: as asked, else the one the scan used (its default
    depends on the verifier: summary.json's ``levels.retold.threshold`` says which it was)."""
    asked = config.value("retold_threshold")
    return float(asked if asked is not None else summary["levels"][REPLAYED]["threshold"])


def check_thresholds(out: Path, summary: dict[str, Any], old: ScanConfig, new: ScanConfig) -> None:
    """A threshold below the scanned one: :class:`BadOption` (the scan verified no pair below it)."""
    before, after = old.value("near_threshold"), new.value("near_threshold")
    if _owner("near_threshold") in old.levels and after < before:
        raise BadOption(
            f"the scan in {out} verified pairs at near-threshold {before}; recut can only raise it "
            f"(asked {after}): {_rescan(out, summary, 'near_threshold', after)}"
        )
    if REPLAYED in old.levels:
        before, after = _retold_threshold(summary, old), _retold_threshold(summary, new)
        if after < before:
            raise BadOption(
                f"the scan in {out} verified pairs at retold-threshold {before}; recut can only raise "
                f"it (asked {after}): {_rescan(out, summary, 'retold_threshold', after)}"
            )


def _ids(out: Path) -> list[str]:
    with open(out / INDEX_DIR / "ids.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _stages(config: ScanConfig) -> dict[str, Any]:
    """The pass-1 stage of each level decided again, by level (in the run's order)."""
    return {
        name: registry.level(name).stage(config.options(name)) for name in config.levels if name != REPLAYED
    }


def _saved_lines(out: Path, fate: np.ndarray) -> Iterator[str]:
    """Each document's line, in input order, from kept.jsonl or dropped.jsonl as the scan decided."""
    with (
        open(out / "kept.jsonl", encoding="utf-8", newline="\n") as kept,
        open(out / "dropped.jsonl", encoding="utf-8", newline="\n") as dropped,
    ):
        for f in fate.tolist():
            line = (kept if f == 0 else dropped).readline()
            if not line:
                raise NotRecuttable(f"{out}: kept.jsonl and dropped.jsonl hold fewer documents than the scan")
            yield line.rstrip("\n")


def _read(
    out: Path,
    ids: list[str],
    fate: np.ndarray,
    config: ScanConfig,
    indexes: dict[str, LevelIndex],
    spool: Path,
    quiet: bool,
) -> tuple[list[int], np.ndarray]:
    """Every document back from the outputs: the spool rebuilt (the record's JSON as the scan
    spooled it), each recomputed level's stage and index fed as in pass 1. Returns the empty
    documents and which documents have a word (those the retold level gave a vector)."""
    stages = _stages(config)
    keep = KeepPolicy(config.keep)
    field = config.text_field
    worded = np.zeros(len(ids), dtype=bool)

    def records() -> Iterator[Record]:
        with open(spool, "w", encoding="utf-8", newline="\n") as fh:
            lines = progress(_saved_lines(out, fate), "recut: read", quiet, total=len(ids))
            for i, line in enumerate(lines):
                data = json.loads(line)
                note = data.pop("retold")
                tail = NOTE + dumps(note) + "}"
                if note.get("id") != ids[i] or not line.endswith(tail):
                    raise NotRecuttable(
                        f"{out}: the line of document {ids[i]!r} was changed since the scan; rescan"
                    )
                record_json = line[: -len(tail)] + "}"
                fixes = list(note.get("fixes", []))
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
    config: ScanConfig,
    ids: list[str],
    empties: list[int],
    worded: np.ndarray,
    indexes: dict[str, LevelIndex],
    quiet: bool,
) -> tuple[Decisions, dict[str, Any], dict[str, int]]:
    """Each level's decision in the run's order, as :func:`retold.engine.local.decide` makes them."""
    n = len(ids)
    decisions = Decisions(n)
    if config.drop_empty:
        for i in empties:
            decisions.drop(i, "empty")
    context = DecideContext(
        progress=lambda items, desc, total=None: progress(items, desc, quiet, total=total, unit=" step"),
    )
    figures: dict[str, Any] = {}
    clusters: dict[str, int] = {}
    position = {d: i for i, d in enumerate(ids)}
    saved_clusters = _saved_clusters(out, position)
    for name in config.levels:
        if name in indexes:
            outcome = indexes[name].decide(decisions, context)
            indexes[name].close()
            clusters[name] = outcome.clusters
            if outcome.figures is not None:
                figures[name] = outcome.figures
        else:
            before = [lv for lv in config.levels[: config.levels.index(name)]]
            _same_documents(out, summary, config, decisions, before, saved_clusters, empties)
            fig, count = _replay(out, summary, config, decisions, position, saved_clusters)
            clusters[name] = count
            figures[name] = fig
    for name in clusters:  # detected but not dropped: reported in clusters.jsonl, kept
        if name not in (config.drop or ()):
            decisions.reason[decisions.reason == REASONS.index(name)] = 0
    return decisions, figures, clusters


def _saved_clusters(out: Path, position: dict[str, int]) -> dict[str, dict[int, tuple[int, float | None]]]:
    """The scan's clusters.jsonl: per level, each member's (keeper, similarity) by document."""
    found: dict[str, dict[int, tuple[int, float | None]]] = {}
    with open(out / "clusters.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            found.setdefault(row["level"], {})[position[row["id"]]] = (
                position[row["kept_id"]],
                row.get("similarity"),
            )
    return found


def _same_documents(
    out: Path,
    summary: dict[str, Any],
    config: ScanConfig,
    decisions: Decisions,
    before: list[str],
    saved_clusters: dict[str, dict[int, tuple[int, float | None]]],
    empties: list[int],
) -> None:
    """The retold level compares the documents the levels before it leave: they must be the ones
    the scan's left, or its pairs say nothing of the others (:class:`NotRecuttable`)."""
    n = decisions.n
    scanned = np.ones(n, dtype=bool)
    if config.drop_empty:
        scanned[empties] = False
    for name in before:
        for d, (keeper, _) in saved_clusters.get(name, {}).items():
            if keeper != d:
                scanned[d] = False
    now = decisions.reason == 0
    if np.array_equal(now, scanned):
        return
    back, gone = int((now & ~scanned).sum()), int((scanned & ~now).sum())
    changed = [
        f"--{k.replace('_', '-')} {config.value(k)}"
        for k in ("near_threshold",)
        if config.value(k) != summary["options"].get(k)
    ]
    said = []
    if back:
        said.append(f"{back:,} documents the scan dropped before the retold level are no longer copies")
    if gone:
        said.append(f"{gone:,} documents it compared are now dropped before it")
    raise NotRecuttable(
        f"at these settings {' and '.join(said)}; the retold level compares only the documents the "
        f"levels before it leave, so its pairs must be found again with its models: rerun retold scan "
        f"{' '.join(map(str, summary.get('inputs', []))) or 'INPUT'} --out {out} {' '.join(changed)}".rstrip()
    )


def _replay(
    out: Path,
    summary: dict[str, Any],
    config: ScanConfig,
    decisions: Decisions,
    position: dict[str, int],
    saved_clusters: dict[str, dict[int, tuple[int, float | None]]],
) -> tuple[dict[str, Any], int]:
    """The retold level's decision from the scan's verified pairs that reach the new threshold."""
    figures = dict(summary.get("levels", {}).get(REPLAYED, {}))
    scanned_t = figures.get("threshold")
    threshold = _retold_threshold(summary, config)
    rows = []
    with open(out / "pairs.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["level"] == REPLAYED:
                rows.append(row)
    left = np.array([position[r["a"]] for r in rows], dtype=np.int64)
    right = np.array([position[r["b"]] for r in rows], dtype=np.int64)
    gain = np.array([r["similarity"] for r in rows], dtype=np.float64)
    keep = np.ones(len(rows), dtype=bool)
    if scanned_t is None or threshold != scanned_t:
        unsure = np.flatnonzero(np.abs(gain - threshold) <= ROUNDED)
        if len(unsure):
            r = rows[int(unsure[0])]
            raise NotRecuttable(
                f"the retold pair {r['a']} / {r['b']} has an order gain of {r['similarity']} to 4 "
                f"decimals, too close to --retold-threshold {threshold} to tell which side it is on: "
                f"recut at {threshold + 2 * ROUNDED:g}, or {_rescan(out, summary, 'retold_threshold', threshold)}"
            )
        keep = gain >= threshold
        if not keep.all():
            _check_groups(out, summary, left, right, keep, threshold, rows)
            _check_near_verbatim(out, summary, left, right, keep, threshold, rows)
    vl, vr, gains = left[keep], right[keep], gain[keep]
    evidence = [r.get("evidence") for r, k in zip(rows, keep.tolist(), strict=True) if k]
    figures["threshold"] = threshold
    figures.update(verified_pairs=len(vl), clusters=0, members=0, largest_cluster=0)
    if not len(vl):
        return figures, 0
    decisions.add_pairs(REPLAYED, vl, vr, gains, evidence)  # type: ignore[arg-type]
    keeper_of, taken, largest = decisions.greedy(REPLAYED, vl, vr)
    at = {(a, b): p for p, (a, b) in enumerate(zip(vl.tolist(), vr.tolist(), strict=True))}
    notes = decisions.notes_for(REPLAYED)
    marks = np.zeros(len(taken))
    saved = saved_clusters.get(REPLAYED, {})
    for k, d in enumerate(taken.tolist()):
        p = at[int(keeper_of[d]), d]
        notes[d] = evidence[p]
        was = saved.get(d)
        # the scan's own figure for this very match (its float32, rounded) where it made it
        marks[k] = was[1] if was is not None and was[0] == keeper_of[d] and was[1] is not None else gains[p]
    decisions.mark(REPLAYED, taken, keeper_of[taken], marks)
    count = len(np.unique(keeper_of[taken]))
    figures.update(clusters=count, members=len(taken), largest_cluster=int(largest))
    return figures, count


def _components(left: np.ndarray, right: np.ndarray, n: int) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _check_groups(
    out: Path,
    summary: dict[str, Any],
    left: np.ndarray,
    right: np.ndarray,
    keep: np.ndarray,
    threshold: float,
    rows: list[dict[str, Any]],
) -> None:
    """The distinctness gate weighs each pair against the stories outside its group of verified
    tellings: a pair left whose group loses a member would be weighed anew (:class:`NotRecuttable`)."""
    docs, local = np.unique(np.concatenate([left, right]), return_inverse=True)
    m = len(left)
    a, b = local[:m], local[m:]
    before = _components(a, b, len(docs))
    after = _components(a[keep], b[keep], len(docs))
    size_before = np.bincount(before)[before]
    size_after = np.bincount(after)[after]
    split = np.flatnonzero(keep & (size_after[a] != size_before[a]))
    if len(split):
        r = rows[int(split[0])]
        raise NotRecuttable(
            f"at --retold-threshold {threshold} the retold pair {r['a']} / {r['b']} loses tellings of "
            "its group (pairs below the threshold linked them); the level weighs each pair against the "
            "stories outside its group, with sentence vectors the scan did not save: "
            f"{_rescan(out, summary, 'retold_threshold', threshold)}"
        )


def _check_near_verbatim(
    out: Path,
    summary: dict[str, Any],
    left: np.ndarray,
    right: np.ndarray,
    keep: np.ndarray,
    threshold: float,
    rows: list[dict[str, Any]],
) -> None:
    """A near-verbatim pair (whole-text cosine ≥ ``WHOLE_COSINE``) that fails with its boilerplate
    silenced is scored again on its full sentences: a pair taken out by the new threshold may pass
    that way where the scan silenced boilerplate (:class:`NotRecuttable` when it might)."""
    if not summary.get("levels", {}).get(REPLAYED, {}).get("boilerplate_sentences"):
        return
    path = out / INDEX_DIR
    docs = (
        np.fromfile(path / "retold.docs.i64", dtype=np.int64) if (path / "retold.docs.i64").exists() else None
    )
    out_pairs = np.flatnonzero(~keep)
    # the level's own figure, read from its module (the engine imports no level's module)
    whole_cosine = inspect.getmodule(registry.level(REPLAYED).index).WHOLE_COSINE  # type: ignore[union-attr]
    vectors = None
    if docs is not None and len(docs):
        vectors = np.memmap(path / "retold.vectors.f32", dtype=np.float32, mode="r").reshape(len(docs), -1)
    for p in out_pairs.tolist():
        a, b = int(left[p]), int(right[p])
        cosine = 1.0
        if vectors is not None and docs is not None:
            ia, ib = np.searchsorted(docs, a), np.searchsorted(docs, b)
            if ia < len(docs) and ib < len(docs) and docs[ia] == a and docs[ib] == b:
                x, y = np.asarray(vectors[ia], np.float64), np.asarray(vectors[ib], np.float64)
                cosine = float(x @ y / max(np.linalg.norm(x) * np.linalg.norm(y), 1e-12))
        if cosine >= whole_cosine - 1e-3:
            r = rows[p]
            raise NotRecuttable(
                f"at --retold-threshold {threshold} the retold pair {r['a']} / {r['b']} (near verbatim) "
                "would be scored again with the boilerplate the scan silenced, which needs the "
                f"sentence vectors: {_rescan(out, summary, 'retold_threshold', threshold)}"
            )


class _SavedVectors:
    """The retold level's part of the new index: the scan's saved vectors of the documents kept
    now. A document kept now but not by the scan had its vector left out: the level is then left
    out of the index, with a warning (an ``--against`` run with the retold level refuses it)."""

    def __init__(self, path: Path, manifest: dict[str, Any], worded: np.ndarray) -> None:
        self.path = path
        self.entry = manifest.get("levels", {}).get(REPLAYED)
        self.worded = worded
        self.warnings: list[str] = []

    def save(self, dest: Path, start: int, kept: np.ndarray) -> dict[str, Any]:
        if not self.entry:
            return {}
        docs = np.fromfile(self.path / "retold.docs.i64", dtype=np.int64)
        want = kept[self.worded[kept]]
        rows = np.searchsorted(docs, want)
        found = (
            (rows < len(docs)) & (docs[np.minimum(rows, len(docs) - 1)] == want) if len(docs) else want < 0
        )
        if not found.all():
            self.warnings.append(
                f"recut: index/ holds no retold vectors: {int((~found).sum()):,} documents kept now were "
                "dropped by the scan, which saved no vector of them; a later --against run with the "
                "retold level refuses this folder until it is scanned again"
            )
            return {}
        dim = int(self.entry["dim"])
        vectors = np.memmap(self.path / "retold.vectors.f32", dtype=np.float32, mode="r").reshape(-1, dim)
        spaces = np.fromfile(self.path / "retold.spaces.i8", dtype=np.int8)
        with open(dest / "retold.vectors.f32", "wb") as fh:
            for lo in range(0, len(rows), 65536):
                fh.write(np.asarray(vectors[rows[lo : lo + 65536]]).tobytes())
        del vectors
        want.astype(np.int64).tofile(dest / "retold.docs.i64")
        spaces[rows].astype(np.int8).tofile(dest / "retold.spaces.i8")
        return {**self.entry, "documents": len(want)}


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
