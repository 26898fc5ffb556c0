"""Result objects: what a run did, with ways to read what matched what."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with open(path, encoding="utf-8", newline="\n") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


@dataclass(frozen=True)
class ScanResult:
    """The outcome of :func:`retold.scan` (or :func:`retold.fix`).

    Counts satisfy ``documents_in == kept + dropped_total + quarantined``. ``clusters``: clusters
    per detected level; ``reported``: per level detected but not dropped, the documents found to
    repeat another (they are kept). The records themselves stay on disk in ``out`` and are read
    lazily by the methods below.
    """

    out: Path
    documents_in: int
    kept: int
    dropped: dict[str, int]
    quarantined: int
    repaired: int
    repairs: dict[str, int] = field(default_factory=dict)
    clusters: dict[str, int] = field(default_factory=dict)
    reported: dict[str, int] = field(default_factory=dict)
    duplicate_ids: int = 0
    warnings: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_summary(cls, out: Path, summary: dict[str, Any]) -> ScanResult:
        """The result of a finished run, read back from its summary.json."""
        return cls(
            out=Path(out),
            documents_in=summary["documents_in"],
            kept=summary["kept"],
            dropped=dict(summary["dropped"]),
            quarantined=summary["quarantined"],
            repaired=summary["repaired"],
            repairs=dict(summary.get("repairs", {})),
            clusters=dict(summary.get("clusters", {})),
            reported=dict(summary.get("reported", {})),
            duplicate_ids=summary.get("duplicate_ids", 0),
            warnings=(*summary.get("warnings", ()), "this run had finished already; nothing was redone"),
            timings=dict(summary.get("timings", {})),
        )

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    @property
    def kept_ratio(self) -> float:
        """Share of input documents kept (1.0 for an empty input)."""
        return self.kept / self.documents_in if self.documents_in else 1.0

    @property
    def report_path(self) -> Path | None:
        """report.html, when the run wrote one."""
        path = self.out / "report.html"
        return path if path.exists() else None

    @property
    def summary_path(self) -> Path:
        return self.out / "summary.json"

    def kept_records(self) -> Iterator[dict[str, Any]]:
        """Kept records, in input order, as written to kept.jsonl."""
        return _iter_jsonl(self.out / "kept.jsonl")

    def dropped_records(self) -> Iterator[dict[str, Any]]:
        """Dropped records; each has ``retold.reason``, ``retold.kept_id`` and ``retold.similarity``."""
        return _iter_jsonl(self.out / "dropped.jsonl")

    def quarantined_records(self) -> Iterator[dict[str, Any]]:
        return _iter_jsonl(self.out / "quarantine.jsonl")

    def cluster_members(self) -> Iterator[dict[str, Any]]:
        return _iter_jsonl(self.out / "clusters.jsonl")

    def selected_with_duplicates(self) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Each kept record with the records dropped as its duplicates (kept → dropped direction).

        The other direction, dropped → kept, is ``record["retold"]["kept_id"]`` on each dropped record.
        Holds the dropped records in memory, grouped by kept id.
        """
        by_kept: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for rec in self.dropped_records():
            kept_id = rec.get("retold", {}).get("kept_id")
            if kept_id is not None:
                by_kept[kept_id].append(rec)
        for rec in self.kept_records():
            yield rec, by_kept.get(rec["retold"]["id"], [])
