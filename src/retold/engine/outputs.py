"""kept.jsonl, dropped.jsonl, clusters.jsonl and pairs.jsonl: each document's fate, from the spool.

Every output line is built here. A kept or dropped line is the input record with one field added,
``retold``: what retold did to it (:func:`kept_note`, :func:`dropped_note`); a clusters.jsonl line
is one (document, level) membership (:func:`cluster_rows`); a pairs.jsonl line one verified pair
(:func:`pair_rows`).

The one fast path: the record is already JSON in the spool (``{...}``), so the ``retold`` field is
appended to that text (:func:`with_note`) instead of parsing and serialising the record again,
which would cost about as much as the rest of the write together. It gives the bytes
``dumps({**record, "retold": note})`` gives, because the spool was written by :func:`dumps` too.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from retold.corpus.spool import read_spool
from retold.corpus.writers import AtomicWriter, dumps
from retold.dedup.clusters import REASONS, Decisions
from retold.dedup.saved import Prefix
from retold.progress import progress


def with_note(record_json: str, note: dict[str, Any]) -> str:
    """``record_json`` (a JSON object with at least one field) with ``"retold": note`` added last.

    >>> with_note('{"text": "a"}', {"id": "x"})
    '{"text": "a", "retold": {"id": "x"}}'
    """
    return record_json[:-1] + ', "retold": ' + dumps(note) + "}"


class Names:
    """Ids and folders of documents by number: this run's, and those of ``--against`` indexes."""

    def __init__(self, ids: list[str], prefix: Prefix) -> None:
        self.ids = ids
        self.prefix = prefix

    def id_of(self, k: int) -> str:
        base = self.prefix.size
        return self.ids[k - base] if k >= base else self.prefix.id_of(k)

    def where(self, note: dict[str, Any], k: int) -> dict[str, Any]:
        """``note`` with ``against: FOLDER`` when document ``k`` is an earlier run's."""
        if 0 <= k < self.prefix.size:
            note["against"] = self.prefix.folder_of(k)
        return note


def kept_note(rec_id: str, fixes: list[str]) -> dict[str, Any]:
    return {"id": rec_id, "fixes": fixes}


def dropped_note(d: Decisions, i: int, rec_id: str, fixes: list[str], names: Names) -> dict[str, Any]:
    """Why document ``i`` was dropped: the level, the document it matched, the score, the evidence."""
    kept_of = int(d.kept_of[i])
    level = REASONS[int(d.reason[i])]
    note: dict[str, Any] = {
        "id": rec_id,
        "reason": level,
        "kept_id": names.id_of(kept_of) if kept_of >= 0 else None,
        "similarity": score(d.similarity[i]),
        "cluster_id": cluster_name(d, level, i),
        "fixes": fixes,
    }
    evidence = {k: score(col[i]) for k, col in d.evidence.items() if not math.isnan(col[i])}
    evidence.update(d.notes.get(level, {}).get(i, {}))
    if evidence:
        note["evidence"] = evidence
    return names.where(note, kept_of)


def cluster_rows(d: Decisions, i: int, rec_id: str, names: Names) -> Iterator[dict[str, Any]]:
    """Document ``i``'s membership of each level's cluster it belongs to."""
    for level, lc in d.levels.items():
        if lc.cluster[i] < 0:
            continue
        keeper = int(lc.keeper[i])
        row: dict[str, Any] = {
            "id": rec_id,
            "cluster_id": cluster_name(d, level, i),
            "level": level,
            "cluster_size": int(lc.size[i]),
            "kept": int(d.reason[i]) == 0,
            "kept_id": names.id_of(keeper),
            "similarity": score(d.similarity[i]) if keeper != i and int(d.kept_of[i]) == keeper else None,
        }
        note = d.notes.get(level, {}).get(i)
        if note is not None:
            row["evidence"] = note
        yield names.where(row, keeper)


def pair_rows(d: Decisions, names: Names) -> Iterator[dict[str, Any]]:
    """Every verified pair of every level, in the order the levels decided: ``a`` the member ranked
    to keep, ``b`` the other; ``clustered``: whether the level's greedy clusters put ``b`` under
    ``a`` (a pair can be verified and still not clustered: ``b`` went to a better-ranked keeper,
    or ``a`` was itself taken)."""
    for level, chunks in d.pairs.items():
        keeper = d.levels[level].keeper if level in d.levels else None
        for better, worse, similarity, evidence in chunks:
            for p, (a, b) in enumerate(zip(better.tolist(), worse.tolist(), strict=True)):
                row: dict[str, Any] = {
                    "level": level,
                    "a": names.id_of(a),
                    "b": names.id_of(b),
                    "similarity": score(similarity[p]),
                    "clustered": keeper is not None and int(keeper[b]) == a,
                }
                if evidence is not None:
                    row["evidence"] = evidence[p]
                yield names.where(row, a)


def write_outputs(
    out: Path,
    spool: Path,
    names: Names,
    d: Decisions,
    decided: bool,
    quiet: bool,
    tmp_dir: Path | None = None,
) -> tuple[list[AtomicWriter], np.ndarray]:
    """Write kept.jsonl (and, when ``decided``, dropped.jsonl, clusters.jsonl and pairs.jsonl) to temporary
    files; the caller puts them in place. Returns the writers and each document's byte offset in
    kept.jsonl (-1: not kept), for the saved index.

    Documents ``prefix.size``… are this run's, the spool's lines in order. ``tmp_dir``: where the
    files are written until put in place (the run's work folder: a failed run leaves nothing else)."""

    base = names.prefix.size
    kept_at = np.full(len(names.ids), -1, dtype=np.int64)
    kept_w = AtomicWriter.beside(out / "kept.jsonl", tmp_dir)
    dropped_w = AtomicWriter.beside(out / "dropped.jsonl", tmp_dir) if decided else None
    clusters_w = AtomicWriter.beside(out / "clusters.jsonl", tmp_dir) if decided else None
    pairs_w = AtomicWriter.beside(out / "pairs.jsonl", tmp_dir) if decided else None
    writers = [w for w in (kept_w, dropped_w, clusters_w, pairs_w) if w is not None]
    try:
        lines = progress(read_spool(spool), "write", quiet, total=len(names.ids))
        for j, (fixes, record_json) in enumerate(lines):
            i = base + j
            rec_id = names.ids[j]
            if int(d.reason[i]) == 0:
                kept_at[j] = kept_w.bytes
                kept_w.write_line(with_note(record_json, kept_note(rec_id, fixes)))
            else:
                assert dropped_w is not None, "only a verb that decides drops documents"
                dropped_w.write_line(with_note(record_json, dropped_note(d, i, rec_id, fixes, names)))
            if clusters_w is not None:
                for row in cluster_rows(d, i, rec_id, names):
                    clusters_w.write_json(row)
        if pairs_w is not None:
            for row in pair_rows(d, names):
                pairs_w.write_json(row)
        for w in writers:
            w.finish()
    except BaseException:
        for w in writers:
            w.abort()
        raise
    return writers, kept_at


def as_parquet(
    staged: list[Any], kept_at: np.ndarray, work: Path, known: Any, quiet: bool
) -> tuple[list[Any], np.ndarray]:
    """Each staged JSONL table (:func:`write_outputs`' writers, and quarantine's) written again as
    Parquet in ``work`` (:func:`retold.corpus.tables.jsonl_to_parquet`; ``known``: the input's
    Arrow schema, for kept and dropped); the JSONL parts go. ``kept_at`` becomes each kept
    document's row in kept.parquet."""
    from retold.corpus.tables import jsonl_to_parquet
    from retold.corpus.writers import StagedFile

    parquet: list[Any] = []
    try:
        for w in progress(staged, "write parquet", quiet, unit=" file"):
            name = w.path.name.removesuffix(".jsonl")
            tmp = work / f"{name}.parquet.part"
            records = name in (
                "kept",
                "dropped",
            )  # input records with retold's note; the rest are retold's own
            jsonl_to_parquet(w.tmp, tmp, known if records else None, note=records)
            parquet.append(StagedFile(w.path.with_name(f"{name}.parquet"), tmp))
    except BaseException:
        for f in parquet:
            f.abort()
        raise
    for w in staged:  # the JSONL parts go (a resumable quarantine.part stays until the commit)
        w.abort()
    rows = kept_at.copy()
    rows[rows >= 0] = np.arange(int((rows >= 0).sum()))  # a row number, not a byte offset
    return parquet, rows


def cluster_name(d: Decisions, level: str, i: int) -> str | None:
    lc = d.levels.get(level)
    if lc is None or lc.cluster[i] < 0:
        return None
    return f"{level}-{int(lc.cluster[i]) + 1}"


def score(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), 4)
