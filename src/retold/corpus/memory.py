"""Corpora held in memory: lists, DataFrames, Arrow tables and Hugging Face datasets.

A run reads files (it reads them twice, resumes from a checkpoint and may hand them to Ray
workers), so an in-memory corpus is first written to one file, a batch at a time (:func:`spill`),
and the run reads that file like any other: the same streaming, resume and engines. Tables
(pandas, polars, pyarrow, ``datasets``) are written as Parquet, so their columns keep their types;
lists and other iterables of records as JSONL. The file is named by its content: the same corpus
spilled twice is the same file, untouched, so a rerun after an interruption resumes.

Records of an in-memory corpus without an id field get their position (``"0"``, ``"1"``…) as
their id. What kind of object came in (:class:`Spilled` ``kind``) is what the result gives back
(:meth:`retold.result.ScanResult.kept_data`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xxhash

from retold.corpus.sources import Source
from retold.corpus.writers import dumps
from retold.errors import BadOption, RetoldError

BATCH = 10_000


class InputFailed(RetoldError):
    """An in-memory corpus raised while it was being read: nothing was run."""


@dataclass(frozen=True)
class Spilled:
    """An in-memory corpus written to ``source.path``; ``kind`` is what came in, ``columns`` the
    columns it had (for tables)."""

    source: Source
    kind: str
    columns: tuple[str, ...] = ()


def _module(obj: Any) -> str:
    return type(obj).__module__.split(".")[0]


def kind_of(data: Any) -> str | None:
    """The kind of in-memory corpus ``data`` is; None for a path or a list of paths."""
    if isinstance(data, str | os.PathLike):
        return None
    module, name = _module(data), type(data).__name__
    if module == "pandas" and name == "DataFrame":
        return "pandas"
    if module == "polars" and name in ("DataFrame", "LazyFrame"):
        return "polars"
    if module == "pyarrow" and name in ("Table", "RecordBatch", "RecordBatchReader"):
        return "arrow"
    if module == "datasets" and name == "Dataset":
        return "dataset"
    if module == "datasets" and name == "IterableDataset":
        return "iterable_dataset"
    if isinstance(data, Mapping):
        raise BadOption(
            "a corpus is a path, a list of texts or records, a DataFrame, an Arrow table or a "
            "datasets.Dataset; got a dict (for a dict of columns, pass pandas.DataFrame(d))"
        )
    # a list of strings: paths or texts? paths have no spaces or line breaks; texts nearly always do
    strings = isinstance(data, list | tuple) and data and all(isinstance(x, str | os.PathLike) for x in data)
    if strings and all(isinstance(x, os.PathLike) or not _spaced(x) for x in data):
        return None
    if isinstance(data, Iterable):
        return "list"
    raise BadOption(
        f"cannot read a corpus from a {type(data).__name__}: pass a path, a list of texts or "
        "records, a pandas or polars DataFrame, a pyarrow Table or a datasets.Dataset"
    )


def _spaced(text: str) -> bool:
    return len(text) > 4096 or any(c.isspace() for c in text)


def spill(data: Any, kind: str, folder: Path, text_field: str) -> Spilled:
    """Write ``data`` (of ``kind``) into ``folder`` as one file named by its content."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "list":
        return _spill_rows(data, folder, text_field)
    if kind == "iterable_dataset":
        return _spill_rows(data, folder, text_field, kind=kind, rows_of=_label(kind))
    columns = _column_names(data, kind)
    if text_field not in columns:
        shown = ", ".join(columns[:20]) or "none"
        raise BadOption(
            f"the {_label(kind)} has no column {text_field!r} (columns: {shown}); pass text_field= "
            "to name the column holding the text"
        )
    try:
        table = _arrow(data, kind)
    except _Mixed:  # a pandas column of mixed values: row by row, the odd rows quarantined
        rows = (dict(zip(columns, row, strict=True)) for row in data.itertuples(index=False, name=None))
        return _spill_rows(rows, folder, text_field, kind=kind, rows_of=_label(kind))
    return Spilled(_write_parquet(table, folder, kind), kind, columns)


def _column_names(data: Any, kind: str) -> tuple[str, ...]:
    if kind == "dataset":
        return tuple(data.column_names)
    if kind == "polars" and type(data).__name__ == "LazyFrame":
        return tuple(data.collect_schema().names())
    if kind == "arrow":
        return tuple(data.schema.names)
    return tuple(str(c) for c in data.columns)


def _label(kind: str) -> str:
    return {
        "pandas": "pandas DataFrame",
        "polars": "polars DataFrame",
        "arrow": "Arrow table",
        "dataset": "Hugging Face Dataset",
        "iterable_dataset": "Hugging Face IterableDataset",
        "list": "list",
    }[kind]


def _arrow(data: Any, kind: str) -> Any:
    """A pyarrow Table or RecordBatchReader of ``data``."""
    import pyarrow as pa

    if kind == "pandas":
        try:
            return pa.Table.from_pandas(data, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            # a column of mixed values (texts and numbers) has no Arrow type: every column goes as
            # JSON-able values instead, so the odd rows are quarantined one by one, not refused
            raise _Mixed(str(exc)) from None
    if kind == "polars":
        if type(data).__name__ == "LazyFrame":
            data = data.collect()
        return data.to_arrow()
    if kind == "arrow":
        if isinstance(data, pa.RecordBatch):
            return pa.Table.from_batches([data])
        return data
    if kind == "dataset":
        # with_format("arrow") reads the rows the Dataset shows (after select, shuffle, filter)
        return data.with_format("arrow")
    raise AssertionError(kind)


class _Mixed(Exception):
    pass


def _batches(table: Any, kind: str) -> Iterator[Any]:
    import pyarrow as pa

    if kind == "dataset":
        n = len(table)
        for start in range(0, n, BATCH):
            yield table[start : start + BATCH]
        return
    if isinstance(table, pa.RecordBatchReader):
        yield from table
        return
    yield from table.to_batches(max_chunksize=BATCH)


def _write_parquet(table: Any, folder: Path, kind: str) -> Source:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = _temporary(folder, ".parquet")
    schema = table.features.arrow_schema if kind == "dataset" else table.schema
    try:
        with pq.ParquetWriter(tmp, schema.remove_metadata(), compression="zstd") as writer:
            for batch in _batches(table, kind):
                t = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
                t = t.replace_schema_metadata(None)
                writer.write_table(t)
        digest = xxhash.xxh3_128()  # Parquet's bytes are the same for the same table: they name it
        with open(tmp, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return _settle(tmp, folder, digest.hexdigest(), "parquet", _label(kind))


def _temporary(folder: Path, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=".spill-", suffix=suffix, dir=folder)
    os.close(fd)
    return Path(name)


def _settle(tmp: Path, folder: Path, digest: str, fmt: str, label: str) -> Source:
    """``tmp`` renamed to its content's name; an existing file of that name (the same corpus,
    spilled by an earlier run) is kept as it was, so a rerun finds the same input and resumes."""
    path = folder / f"{digest[:32]}.{fmt}"
    if path.exists():
        tmp.unlink()
    else:
        os.replace(tmp, path)
    return Source(f"<{label}>", path, fmt, "")


def _spill_rows(
    data: Iterable[Any], folder: Path, text_field: str, kind: str = "list", rows_of: str = "list"
) -> Spilled:
    """Records (dicts) or texts, one JSONL line each; an item that is neither becomes a record
    whose text is that item, so the reader quarantines it with its reason."""
    tmp = _temporary(folder, ".jsonl")
    digest = xxhash.xxh3_128()
    n = 0
    columns: dict[str, None] = {}
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            items = iter(data)
            lines: list[str] = []
            while True:
                try:
                    item = next(items)
                except StopIteration:
                    break
                except Exception as exc:
                    raise InputFailed(
                        f"the {rows_of} raised after {n:,} records: {type(exc).__name__}: {exc}; "
                        "nothing was run (fix the source of the records and run again)"
                    ) from exc
                record = dict(item) if isinstance(item, Mapping) else {text_field: item}
                if len(columns) < 1000:
                    columns.update(dict.fromkeys(record))
                lines.append(_line(record))
                n += 1
                if len(lines) == BATCH:
                    _flush(fh, lines, digest)
            _flush(fh, lines, digest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Spilled(_settle(tmp, folder, digest.hexdigest(), "jsonl", rows_of), kind, tuple(columns))


def _flush(fh: Any, lines: list[str], digest: Any) -> None:
    text = "".join(lines)
    fh.write(text)
    digest.update(text.encode("utf-8", "surrogatepass"))
    lines.clear()


def _line(record: dict[str, Any]) -> str:
    return dumps({k if isinstance(k, str) else str(k): _plain(v) for k, v in record.items()}) + "\n"


def _plain(value: Any) -> Any:
    """NumPy scalars and arrays as JSON takes them; NaN stays a float (quarantined as not a text)."""
    item = getattr(value, "item", None)
    if item is not None and getattr(value, "ndim", None) == 0:
        return item()
    tolist = getattr(value, "tolist", None)
    if tolist is not None and getattr(value, "ndim", 0) >= 1:
        return tolist()
    return value
