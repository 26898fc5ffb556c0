"""report.json, report.html and premises.jsonl: the audit of a scanned corpus, with what the scan found.

:func:`audit_report` reads the documents back from the engine's spool (an evenly spread sample past
``AUDIT_SAMPLE``), runs :func:`retold.audit.audit_texts`, and adds the counts and duplicate shares
per level and example pairs. Premise clusters are the exception to the sample: every non-empty
document is read (in blocks, never all texts at once) and labelled. :func:`report_writers` stages
the files for the engine's atomic commit. ``report.json`` holds every number the page shows;
``premises.jsonl`` one line a document: its id and its premise cluster (null: alone or empty).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from retold.audit import VECTORS, audit_texts, cut, premise, sample_positions
from retold.audit.language import detect_language
from retold.corpus.spool import field_values, texts_at, texts_in_blocks
from retold.corpus.writers import AtomicWriter, pretty_json, staged_files
from retold.dedup import registry
from retold.dedup.clusters import REASONS
from retold.report.html import render

if TYPE_CHECKING:
    from retold.config import ScanConfig
    from retold.dedup.clusters import Decisions

EXAMPLE_PAIRS = 3  # per level


def level_rows(
    decisions: Decisions, detected: dict[str, int], drop: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    """Per detected level: clusters, documents that repeat another (not their cluster's keeper), share."""
    n = max(1, decisions.n)
    rows = {}
    for level, count in detected.items():
        members = decisions.repeats(level)
        rows[level] = {
            "clusters": count,
            "duplicates": members,
            "share": round(members / n, 5),
            "action": "dropped" if level in drop else "reported, kept",
        }
    return rows


def example_pairs(decisions: Decisions, per_level: int = EXAMPLE_PAIRS) -> list[tuple[str, int, int]]:
    """(level, document, its keeper) for the first ``per_level`` members of each level."""
    out = []
    index = np.arange(decisions.n)
    for level, lc in decisions.levels.items():
        members = np.flatnonzero((lc.cluster >= 0) & (lc.keeper != index) & (lc.keeper >= 0))[:per_level]
        out.extend((level, int(i), int(lc.keeper[i])) for i in members)
    return out


def audit_report(
    spool: Path,
    ids: list[str],
    decisions: Decisions,
    detected: dict[str, int],
    config: ScanConfig,
    quiet: bool = True,
    reference: list[str] | None = None,
) -> dict[str, Any]:
    n = decisions.n
    empty = decisions.reason == REASONS.index("empty")
    positions = [int(i) for i in sample_positions(n, config.audit_sample) if not empty[i]]
    pairs = example_pairs(decisions)
    wanted = set(positions) | {i for _, a, b in pairs for i in (a, b)}
    texts = texts_at(spool, wanted, config.text_field)
    positions = [i for i in positions if texts[i].strip()]
    sample = [texts[i] for i in positions]
    read = cut(sample)[0]  # as the audit reads them (audit_texts cuts again, to count the cut)
    lang = detect_language(read) if config.lang == "auto" else config.lang
    # copies and retellings share their keeper's premise: one node of the premise graph
    keepers = [lc.keeper for lc in decisions.levels.values()]
    premises = all_premises(spool, ids, ~empty, read, config.text_field, lang, keepers)
    labels = np.full(n, -1, dtype=np.int64)
    labels[np.flatnonzero(~empty)] = premises.labels
    audit = audit_texts(
        sample,
        [ids[i] for i in positions],
        reference=reference,
        lang=lang,
        embedder=config.value("embedder"),
        documents=int(n - empty.sum()),
        quiet=quiet,
        premises=premises,
        premise_of=labels[positions],
    )
    audit["curated"] = curated(spool, decisions, empty, config, lang)
    shown = []
    for level, i, k in pairs:
        note = decisions.notes.get(level, {}).get(i, {})
        similarity = decisions.similarity[i]
        shown.append(
            {
                "level": level,
                "id": ids[i],
                "kept_id": ids[k],
                "similarity": None if np.isnan(similarity) else round(float(similarity), 4),
                "score": next((lv.score for lv in registry.levels() if lv.name == level), "similarity"),
                "names": consistent_names(note.get("names", {})),
                "aligned": note.get("sentences", []),
                "text": texts[i],
                "kept_text": texts[k],
            }
        )
    vectors = audit.pop(VECTORS, None)
    if vectors is not None:
        audit["map"] = corpus_map(vectors, np.asarray(positions), labels, decisions, n)
    if config.group_by is not None:
        audit["groups"] = grouped(spool, decisions, ~empty, labels, audit, config, lang)
    return {
        "levels": level_rows(decisions, detected, tuple(config.drop or ())),
        "pairs": shown,
        "audit": audit,
        PREMISE_LABELS: (ids, labels),
    }


def curated(
    spool: Path, decisions: Decisions, empty: np.ndarray, config: ScanConfig, lang: str
) -> dict[str, Any] | None:
    """The corpus metrics of what the scan keeps beside the input's, each on the same number of
    documents evenly spread (the size-dependent metrics compare only at equal sizes); None when
    nothing was dropped but empty texts (an audit, or a corpus without copies)."""
    from concurrent.futures import ThreadPoolExecutor

    from retold.audit import corpus_metrics
    from retold.audit.metrics import compression_ratio

    present = np.flatnonzero(~empty)
    kept = np.flatnonzero((decisions.reason == 0) & ~empty)
    if not 0 < len(kept) < len(present):
        return None
    k = min(len(kept), config.audit_sample)
    kept_at = kept[sample_positions(len(kept), k)]
    input_at = present[sample_positions(len(present), k)]
    texts = texts_at(spool, set(kept_at.tolist()) | set(input_at.tolist()), config.text_field)
    embedder = config.value("embedder")
    kept_texts = cut([texts[int(i)] for i in kept_at])[0]
    input_texts = cut([texts[int(i)] for i in input_at])[0]
    # the two compressions at once: zstd at level 19 over 8 MiB takes ~7 s and releases the GIL
    with ThreadPoolExecutor(2) as pool:
        squeezed = list(pool.map(compression_ratio, (kept_texts, input_texts)))
    return {
        "documents": len(kept),
        "input_documents": len(present),
        "sample": k,
        "kept": corpus_metrics(kept_texts, embedder, lang, squeezed[0]),
        "input": corpus_metrics(input_texts, embedder, lang, squeezed[1]),
    }


def consistent_names(mapping: dict[str, str]) -> dict[str, str]:
    """The part of a name mapping that is one: each name maps to one other name that is not itself
    mapped on, nor the target of another ("Leonardo → Oscar, Oscar → DiCaprio" is a chain, not a
    mapping: both go), and no name maps to itself."""
    targets = list(mapping.values())
    return {
        a: b
        for a, b in mapping.items()
        if a != b and b not in mapping and a not in targets and targets.count(b) == 1
    }


PREMISE_LABELS = "_premise_labels"  # (ids, label per document): premises.jsonl, not report.json
#: The map shows at most this many documents (an even sample of the audited ones).
MAP_POINTS = 4000
#: Premise clusters named in the map's legend (the largest; colours repeat past them).
MAP_COLOURS = 10


def corpus_map(
    vectors: np.ndarray,
    positions: np.ndarray,
    premise_labels: np.ndarray,
    decisions: Decisions,
    documents: int,
) -> dict[str, Any]:
    """The audited documents' vectors projected on their first two principal axes (deterministic:
    an SVD, signs fixed), at most :data:`MAP_POINTS` of them evenly spread; each point with its
    premise cluster and the closest level that found it to repeat another document (``""``: none)."""
    pick = sample_positions(len(positions), MAP_POINTS)
    x = np.asarray(vectors, dtype=np.float64)[pick]
    docs = positions[pick]
    if len(x) < 3:
        return {"documents": documents, "shown": 0}
    x = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    axes = vt[:2] * np.sign(vt[:2].sum(axis=1, keepdims=True) + 1e-12)  # the same picture every run
    xy = x @ axes.T
    share = (s[:2] ** 2).sum() / max((s**2).sum(), 1e-12)
    kind = np.full(len(docs), "", dtype=object)
    index = np.arange(decisions.n)
    for level, lc in decisions.levels.items():
        member = (lc.cluster >= 0) & (lc.keeper != index) & (lc.keeper >= 0)
        for d in np.flatnonzero(member[docs]).tolist():
            if kind[d] == "":  # levels run closest first: the closest says what the document is
                kind[d] = level
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    xy = (xy - lo) / np.where(hi - lo > 0, hi - lo, 1.0)
    return {
        "documents": documents,
        "shown": len(docs),
        "projection": "the document vectors' first two principal axes",
        "variance_shown": round(float(share), 4),
        "x": [round(float(v), 4) for v in xy[:, 0]],
        "y": [round(float(v), 4) for v in xy[:, 1]],
        "premise": [int(v) for v in premise_labels[docs]],
        "kind": [str(k) for k in kind],
        "coloured": MAP_COLOURS,
    }


def grouped(
    spool: Path,
    decisions: Decisions,
    present: np.ndarray,
    premise_labels: np.ndarray,
    audit: dict[str, Any],
    config: ScanConfig,
    lang: str,
) -> dict[str, Any]:
    """The groups' table of ``--group-by`` (:mod:`retold.audit.groups`)."""
    from retold.audit import document_vectors
    from retold.audit.groups import compare_groups, group_names

    assert config.group_by is not None
    values = field_values(spool, config.group_by)
    labels, names, pooled = group_names(values)
    stock = [(p["phrase"], len(p["phrase"].split())) for p in audit["stock"]["phrases"]]
    pairs = {
        level: [(better, worse) for better, worse, _, _ in chunks]
        for level, chunks in decisions.pairs.items()
    }

    def vectors_of(texts: list[str]) -> np.ndarray | None:
        return document_vectors(texts, config.value("embedder"), lang)[0]

    return compare_groups(
        config.group_by,
        labels,
        names,
        pooled,
        present,
        lambda docs: texts_at(spool, docs, config.text_field),
        vectors_of,
        stock,
        pairs,
        premise_labels,
        config.group_sort,
        lang,
    )


def all_premises(
    spool: Path,
    ids: list[str],
    present: np.ndarray,
    sample: list[str],
    text_field: str,
    lang: str,
    keepers: list[np.ndarray],
) -> premise.PremiseClusters:
    """Premise clusters of every non-empty document of the spool (fitted on the audit's sample);
    ``keepers``: per level, the document each one repeats or retells (-1: none)."""
    where = np.flatnonzero(present)
    position = np.full(len(present) + 1, -1, dtype=np.int64)  # document -> its place among the present
    position[where] = np.arange(len(where))
    same_as = [position[np.where(k[where] >= 0, k[where], len(present))] for k in keepers]

    def texts_of(positions: list[int]) -> dict[int, str]:
        found = texts_at(spool, [int(where[p]) for p in positions], text_field)
        return {p: cut([found[int(where[p])]])[0][0] for p in positions}

    return premise.cluster_stream(
        sample,
        (cut(block)[0] for block in texts_in_blocks(spool, present, text_field)),
        len(where),
        texts_of,
        lambda p: ids[int(where[p])],
        lang=lang,
        same_as=same_as,
    )


def report_writers(out: Path, report: dict[str, Any], tmp_dir: Path | None = None) -> list[AtomicWriter]:
    """report.json and report.html written to temporary files (in ``tmp_dir``, if given); the
    caller commits them."""
    ids, labels = report.pop(PREMISE_LABELS, ([], []))
    pages = {out / "report.json": pretty_json(report), out / "report.html": render(report)}
    staged = staged_files(pages, tmp_dir)
    premises = AtomicWriter.beside(out / "premises.jsonl", tmp_dir)
    staged.append(premises)
    try:
        for rec_id, label in zip(ids, labels, strict=True):
            premises.write_json({"id": rec_id, "premise": None if label < 0 else int(label)})
        premises.finish()
    except BaseException:
        for w in staged:
            w.abort()
        raise
    return staged


__all__ = ["audit_report", "render", "report_writers"]
