"""Result objects: what a run did, with ways to read what matched what."""

from __future__ import annotations

import json
import shutil
import weakref
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

#: What :meth:`ScanResult.kept_data` and its siblings can give: ``list`` (of dicts), ``arrow``
#: (a pyarrow Table), ``pandas``, ``polars``, ``dataset`` or ``iterable_dataset`` (Hugging Face).
DATA_KINDS = ("list", "arrow", "pandas", "polars", "dataset", "iterable_dataset")
_EXTRA = {"pandas": "pandas", "polars": "polars", "dataset": "datasets", "iterable_dataset": "datasets"}


def _require(kind: str) -> None:
    import importlib.util

    module = _EXTRA.get(kind)
    if module is not None and importlib.util.find_spec(module) is None:
        raise ModuleNotFoundError(
            f"as_={kind!r} needs {module}, which is not installed: pip install 'retold[{module}]'"
        )


def _flat(table: Any) -> Any:
    """The ``retold`` struct column as ``retold_id``, ``retold_reason``… columns (DataFrames)."""
    if "retold" not in table.column_names:
        return table
    i = table.column_names.index("retold")
    struct = table.column(i)
    table = table.remove_column(i)
    for f in struct.type:
        table = table.append_column(f"retold_{f.name}", struct.combine_chunks().field(f.name))
    return table


@dataclass(frozen=True)
class ScanResult:
    """The outcome of :func:`retold.scan` (or :func:`retold.fix`).

    Counts satisfy ``documents_in == kept + dropped_total + quarantined``. ``clusters``: clusters
    per detected level; ``reported``: per level detected but not dropped, the documents found to
    repeat another (they are kept). The records themselves stay on disk in ``out`` and are read
    lazily by the methods below: ``kept_records()`` and its siblings one dict at a time,
    ``kept_data()`` and its siblings whole, in the type the corpus came in (a DataFrame for a
    DataFrame, a ``datasets.Dataset`` for one, a list for a list or for files).

    ``input_kind``: what the corpus was (None: files). A run given no ``out`` works in a temporary
    folder this result owns: it goes when the result is closed (``close()``, or ``with``) or
    garbage-collected, so read what you need first.
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
    input_kind: str | None = field(default=None, repr=False)
    owned: Path | None = field(default=None, repr=False)  # the temporary folder this result removes
    input_schema: Any = field(default=None, repr=False, compare=False)  # a typed corpus's Arrow schema

    def __post_init__(self) -> None:
        if self.owned is not None:
            object.__setattr__(
                self, "_finalizer", weakref.finalize(self, shutil.rmtree, str(self.owned), True)
            )

    def bound(self, input_kind: str | None, owned: Path | None, input_schema: Any = None) -> ScanResult:
        """This result, knowing the kind of corpus it came from and owning ``owned``."""
        return replace(self, input_kind=input_kind, owned=owned, input_schema=input_schema)

    def detach(self) -> Path | None:
        """Give up the temporary folder this result owns (another result takes it over)."""
        finalizer = getattr(self, "_finalizer", None)
        if finalizer is not None:
            finalizer.detach()
        return self.owned

    def close(self) -> None:
        """Remove the temporary folder of a run given no ``out`` (nothing for one given ``out``)."""
        finalizer = getattr(self, "_finalizer", None)
        if finalizer is not None:
            finalizer()

    def __enter__(self) -> ScanResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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

    def _lines(self, name: str) -> Iterator[dict[str, Any]]:
        from retold.corpus.tables import output_rows

        self._check_open()
        return output_rows(self.out, name)

    def _check_open(self) -> None:
        finalizer = getattr(self, "_finalizer", None)
        if finalizer is not None and not finalizer.alive:
            raise ValueError("this result was closed: its temporary folder is gone (read it before close())")

    def kept_records(self) -> Iterator[dict[str, Any]]:
        """Kept records, in input order, as written to kept.jsonl (or kept.parquet)."""
        return self._lines("kept")

    def dropped_records(self) -> Iterator[dict[str, Any]]:
        """Dropped records; each has ``retold.reason``, ``retold.kept_id`` and ``retold.similarity``."""
        return self._lines("dropped")

    def quarantined_records(self) -> Iterator[dict[str, Any]]:
        return self._lines("quarantine")

    def cluster_members(self) -> Iterator[dict[str, Any]]:
        return self._lines("clusters")

    def pairs(self) -> Iterator[dict[str, Any]]:
        """Every verified pair of every level (pairs.jsonl): ``a``, ``b``, ``level``, ``similarity``…"""
        return self._lines("pairs")

    def kept_texts(self) -> list[str]:
        """The kept documents' texts (repaired), in input order."""
        field_ = self._text_field()
        return [str(r.get(field_)) for r in self.kept_records()]

    def _text_field(self) -> str:
        summary = self.out / "summary.json"
        if summary.exists():
            return str(json.loads(summary.read_text(encoding="utf-8"))["options"]["text_field"])
        return "text"

    # --- whole tables, in the caller's type --------------------------------------------------

    def kept_data(self, as_: str | None = None) -> Any:
        """The kept records, each with its ``retold`` annotation (``retold_*`` columns in a
        DataFrame; a struct column in an Arrow table or a Dataset; a dict in a list), in the
        type the corpus came in, or ``as_`` (one of :data:`DATA_KINDS`)."""
        return self._data("kept", as_)

    def dropped_data(self, as_: str | None = None) -> Any:
        """The dropped records with why (``retold_reason``, ``retold_kept_id``, ``retold_similarity``)."""
        return self._data("dropped", as_)

    def quarantined_data(self, as_: str | None = None) -> Any:
        """The unreadable records: ``source``, ``line``, ``error`` and the raw bytes."""
        return self._data("quarantine", as_)

    def pairs_data(self, as_: str | None = None) -> Any:
        """Every verified pair (what matched what): ``level``, ``a``, ``b``, ``similarity``,
        ``clustered``, ``evidence``."""
        return self._data("pairs", as_)

    def clusters_data(self, as_: str | None = None) -> Any:
        """Each document's membership of each level's clusters."""
        return self._data("clusters", as_)

    def _data(self, name: str, as_: str | None) -> Any:
        self._check_open()
        kind = as_ or self.input_kind or "list"
        if kind not in DATA_KINDS:
            raise ValueError(f"as_ must be one of {', '.join(DATA_KINDS)}, got {kind!r}")
        if kind == "list":
            return list(self._lines(name))
        _require(kind)
        from retold.corpus.tables import read_table

        table = read_table(self.out, name, self.input_schema)
        if kind == "arrow":
            return table
        if kind in ("pandas", "polars"):
            table = _flat(table)
            if kind == "pandas":
                return table.to_pandas()
            import polars

            return polars.from_arrow(table)
        import datasets

        data = datasets.Dataset(table)
        return data.to_iterable_dataset() if kind == "iterable_dataset" else data

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
