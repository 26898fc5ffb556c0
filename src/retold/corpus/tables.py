"""Records as Arrow tables: the Parquet outputs, and the records handed back in the caller's type.

Records travel through a run as JSON (the spool, the JSONL outputs). JSON has no timestamps,
bytes or decimals, so a typed input (a Parquet file, a DataFrame) comes back typed only because
its Arrow schema is kept beside the run and each column is cast back to it (:func:`rows_table`):
``2024-01-02T03:04:05`` becomes a timestamp again, base64 text bytes again. A column that cannot
go back (a time of day, a nested column holding such values) stays as the JSON gave it.

retold's own annotation, the ``retold`` field of each output line, becomes one struct column
(:data:`NOTE_TYPE`) whose ``evidence`` is JSON text: its keys differ from level to level.

:func:`jsonl_to_parquet` turns an output written as JSONL into Parquet in batches of
:data:`BATCH` lines, twice over the file: once to settle every column's type (a column whose
values have no common type is written as JSON text), once to write. Memory: one batch.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from retold.corpus.writers import dumps

BATCH = 10_000
NOTE = "retold"

#: retold's annotation of a kept or dropped record, as one struct column. Fields a record's note
#: lacks (a kept record has no reason) are null.
NOTE_TYPE = pa.struct(
    [
        ("id", pa.string()),
        ("reason", pa.string()),
        ("kept_id", pa.string()),
        ("similarity", pa.float64()),
        ("cluster_id", pa.string()),
        ("fixes", pa.list_(pa.string())),
        ("evidence", pa.string()),  # JSON text: each level's evidence has its own keys
        ("against", pa.string()),
    ]
)
_NOTE_FIELDS = [f.name for f in NOTE_TYPE]
_ERRORS = (
    pa.ArrowInvalid,
    pa.ArrowTypeError,
    pa.ArrowNotImplementedError,
    OverflowError,
    ValueError,
    TypeError,
)


def note_value(note: dict[str, Any] | None) -> dict[str, Any] | None:
    """A ``retold`` note as :data:`NOTE_TYPE` holds it (evidence as JSON text)."""
    if note is None:
        return None
    value = {k: note.get(k) for k in _NOTE_FIELDS}
    if value["evidence"] is not None:
        value["evidence"] = dumps(value["evidence"])
    return value


def _columns(rows: list[dict[str, Any]], names: list[str]) -> dict[str, list[Any]]:
    return {name: [row.get(name) for row in rows] for name in names}


def _json_text(values: list[Any]) -> pa.Array:
    return pa.array([v if v is None or isinstance(v, str) else dumps(v) for v in values], pa.string())


def typed_array(values: list[Any], type_: pa.DataType | None) -> pa.Array | None:
    """``values`` (as JSON gave them) as an Arrow array of ``type_``; ``type_`` None: JSON text.
    None when the values cannot take the type."""
    if type_ is None:
        return _json_text(values)
    if pa.types.is_binary(type_) or pa.types.is_large_binary(type_):
        try:  # bytes travel as base64 text (retold.corpus.writers)
            return pa.array(
                [None if v is None else base64.b64decode(v, validate=True) for v in values], type_
            )
        except (*_ERRORS, Exception):
            return None
    try:
        return pa.array(values, type_)
    except _ERRORS:
        pass
    try:  # ISO text back to timestamps and dates, decimal text back to decimals
        return pa.array(values).cast(type_)
    except _ERRORS:
        return None


def _value_type(values: list[Any]) -> pa.DataType | None:
    """The Arrow type of ``values``; None when they have none in common (written as JSON text)."""
    try:
        return pa.array(values).type
    except _ERRORS:
        return None


def _merge(a: pa.DataType | None, b: pa.DataType | None) -> pa.DataType | None:
    if a is None or b is None:
        return None
    if a == b or pa.types.is_null(b):
        return a
    if pa.types.is_null(a):
        return b
    try:
        merged = pa.unify_schemas(
            [pa.schema([("x", a)]), pa.schema([("x", b)])], promote_options="permissive"
        )
        return merged.field("x").type
    except _ERRORS:
        return None


class Schema:
    """The columns of a table of records: each name with its Arrow type (None: JSON text).

    ``known``: the input's own schema (a Parquet input, a DataFrame), whose types win; columns
    it does not name are typed from the values seen (:meth:`see`). ``nested_as_json``: nested
    values (retold's own evidence, whose keys differ by level) are written as JSON text, so a
    row read back gives the dict it was written from."""

    def __init__(self, known: pa.Schema | None = None, nested_as_json: bool = False) -> None:
        self.types: dict[str, pa.DataType | None] = {}
        self.fixed: set[str] = set()
        self.nested_as_json = nested_as_json
        if known is not None:
            for f in known:
                if f.name != NOTE:
                    self.types[f.name] = f.type
                    self.fixed.add(f.name)

    def see(self, rows: list[dict[str, Any]]) -> None:
        names = dict.fromkeys(k for row in rows for k in row if k != NOTE)
        for name in names:
            values = [row.get(name) for row in rows]
            if name in self.fixed:  # the input's type, unless these values cannot go back to it
                if self.types[name] is not None and typed_array(values, self.types[name]) is None:
                    self.types[name] = None
                continue
            seen = _value_type(values)
            if self.nested_as_json and seen is not None and pa.types.is_nested(seen):
                seen = None
            self.types[name] = _merge(self.types[name], seen) if name in self.types else seen

    def arrow(self, note: bool) -> pa.Schema:
        fields = [pa.field(n, pa.string() if t is None else t) for n, t in self.types.items()]
        if note:
            fields.append(pa.field(NOTE, NOTE_TYPE))
        return pa.schema(fields)


def rows_table(rows: list[dict[str, Any]], schema: Schema, note: bool) -> pa.Table:
    """``rows`` (dicts, as JSON gave them) as a table of ``schema``'s columns, each cast back to
    its type; with ``note``, the ``retold`` field as the struct column :data:`NOTE_TYPE`."""
    arrays = []
    for name, values in _columns(rows, list(schema.types)).items():
        array = typed_array(values, schema.types[name])
        arrays.append(_json_text(values) if array is None else array)
    names = list(schema.types)
    if note:
        arrays.append(pa.array([note_value(r.get(NOTE)) for r in rows], NOTE_TYPE))
        names.append(NOTE)
    table = pa.Table.from_arrays(arrays, names=names) if names else pa.table({})
    return table.cast(schema.arrow(note)) if table.num_columns else table


def _batches(path: Path) -> Iterator[list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rows.append(json.loads(line))
                if len(rows) == BATCH:
                    yield rows
                    rows = []
    if rows:
        yield rows


def jsonl_to_parquet(source: Path, dest: Path, known: pa.Schema | None, note: bool) -> int:
    """Write the JSONL file ``source`` as the Parquet file ``dest``; returns the rows written.

    ``known``: the input's schema (its columns keep their types); ``note``: the lines are input
    records carrying a ``retold`` annotation, written as a struct column (else they are retold's
    own rows, whose nested values are written as JSON text)."""
    schema = Schema(known, nested_as_json=not note)
    for rows in _batches(source):
        schema.see(rows)
    arrow = schema.arrow(note)
    n = 0
    with pq.ParquetWriter(dest, arrow, compression="zstd") as writer:
        for rows in _batches(source):
            writer.write_table(rows_table(rows, schema, note))
            n += len(rows)
        if n == 0:
            writer.write_table(arrow.empty_table())
    return n


def input_schema(paths: Iterable[Path]) -> pa.Schema | None:
    """The schema the Parquet ``paths`` share (unified, types promoted where they differ); None
    when there are none or they have no common schema."""
    schemas = []
    for path in paths:
        try:
            schemas.append(pq.read_schema(path))
        except Exception:  # an unreadable file is quarantined by the reader; its schema counts for nothing
            continue
    if not schemas:
        return None
    try:
        return pa.unify_schemas([s.remove_metadata() for s in schemas], promote_options="permissive")
    except _ERRORS:
        return None


def read_table(out: Path, name: str, known: pa.Schema | None = None) -> pa.Table:
    """Output ``name`` (``kept``, ``dropped``…) of the run in ``out`` as one Arrow table: its
    Parquet file, or its JSONL file with columns cast to ``known`` (the input's schema)."""
    parquet = out / f"{name}.parquet"
    if parquet.exists():
        return pq.read_table(parquet)
    path = out / f"{name}.jsonl"
    note = name in ("kept", "dropped")
    schema = Schema(known if note else None, nested_as_json=not note)
    batches = list(_batches(path)) if path.exists() else []
    for rows in batches:
        schema.see(rows)
    tables = [rows_table(rows, schema, note) for rows in batches]
    if not tables:
        return schema.arrow(note).empty_table()
    return pa.concat_tables(tables)


def parquet_rows(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of a Parquet file as dicts, a batch at a time."""
    for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
        yield from batch.to_pylist()


def output_rows(out: Path, name: str) -> Iterator[dict[str, Any]]:
    """The rows of output ``name`` (``kept``, ``pairs``…) of the run in ``out``, from its Parquet
    or its JSONL file, as the JSONL line holds them: evidence written as JSON text in Parquet (the
    row's, and that of its ``retold`` note) comes back as a dict."""
    parquet = out / f"{name}.parquet"
    if not parquet.exists():
        path = out / f"{name}.jsonl"
        if path.exists():
            with open(path, encoding="utf-8", newline="\n") as fh:
                for line in fh:
                    if line.strip():
                        yield json.loads(line)
        return
    for row in parquet_rows(parquet):
        for holder in (row, row.get(NOTE)):
            if isinstance(holder, dict) and isinstance(holder.get("evidence"), str):
                holder["evidence"] = json.loads(holder["evidence"])
        yield row
