"""report.json and report.html: the audit of a scanned corpus, with what the scan found.

:func:`audit_report` reads the documents back from the engine's spool (an evenly spread sample past
``AUDIT_SAMPLE``), runs :func:`retold.audit.audit_texts`, and adds the counts and duplicate shares
per level and example pairs. :func:`report_writers` stages both files for the engine's atomic
commit. ``report.json`` holds every number the page shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from retold.audit import audit_texts, sample_positions
from retold.corpus.spool import texts_at
from retold.corpus.writers import AtomicWriter, pretty_json, staged_files
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
    audit = audit_texts(
        [texts[i] for i in positions],
        [ids[i] for i in positions],
        reference=reference,
        lang=config.lang,
        embedder=config.value("embedder"),
        documents=int(n - empty.sum()),
        quiet=quiet,
    )
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
                "names": note.get("names", {}),
                "text": texts[i],
                "kept_text": texts[k],
            }
        )
    return {
        "levels": level_rows(decisions, detected, tuple(config.drop or ())),
        "pairs": shown,
        "audit": audit,
    }


def report_writers(out: Path, report: dict[str, Any], tmp_dir: Path | None = None) -> list[AtomicWriter]:
    """report.json and report.html written to temporary files (in ``tmp_dir``, if given); the
    caller commits them."""
    pages = {out / "report.json": pretty_json(report), out / "report.html": render(report)}
    return staged_files(pages, tmp_dir)


__all__ = ["audit_report", "render", "report_writers"]
