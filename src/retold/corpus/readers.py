"""Streaming readers: JSONL, CSV/TSV, Parquet, text files, stdin; gzip/zstd/bz2 transparently.

Each reader yields :class:`~retold.records.Record` or :class:`~retold.records.Quarantined`, one
per input unit, and never raises on bad data: a bad line, row or file becomes a quarantine entry
that says where it was and why, with its raw bytes. Only a problem with the run itself (a missing
input) raises.

Lines are split on ``\\n`` alone (``str.splitlines`` would also split on U+2028 and U+0085, which
occur inside real JSON strings), a trailing ``\\r`` is dropped, and a UTF-8 BOM at the start of a
stream is ignored.
"""

from __future__ import annotations

import csv
import io
import json
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import zstandard

from retold.corpus.sources import Source, open_binary, sniff_stdin_format
from retold.records import Quarantined, Record, clip_raw

Item = Record | Quarantined
BOM = b"\xef\xbb\xbf"
_STREAM_ERRORS = (EOFError, OSError, zlib.error, zstandard.ZstdError)


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What the readers need to know. See :class:`retold.config.ScanConfig` for the meanings."""

    text_field: str = "text"
    id_field: str | None = None
    max_doc_bytes: int = 16 << 20


# --- records from parsed rows ------------------------------------------------------------------


def make_record(data: dict[str, Any], source: Source, line: int, opts: ReadOptions, raw: bytes) -> Item:
    """Check a parsed row's text and id, and make it a Record (or say why it cannot be one)."""
    field = opts.text_field
    if field not in data:
        names = ", ".join(list(data)[:8]) or "none"
        return Quarantined(
            source.name,
            line,
            f"no text field {field!r} (fields: {names}); pass --text-field",
            *clip_raw(raw),
        )
    text = data[field]
    if text is None:
        return Quarantined(source.name, line, f"text field {field!r} is null", *clip_raw(raw))
    if not isinstance(text, str):
        kind = type(text).__name__
        return Quarantined(
            source.name, line, f"text field {field!r} is {kind}, expected a string", *clip_raw(raw)
        )
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > opts.max_doc_bytes:
        return Quarantined(
            source.name,
            line,
            f"document is {size:,} bytes, over --max-doc-bytes {opts.max_doc_bytes:,}",
            *clip_raw(raw),
        )
    return Record(record_id(data, source, line, opts), text, data, source.name, line)


def record_id(data: dict[str, Any], source: Source, line: int, opts: ReadOptions) -> str:
    """The id: ``--id-field`` (default ``id``) when the record has a non-null one, else file:line."""
    key = opts.id_field or "id"
    value = data.get(key)
    if value is None or value == "":
        return f"{source.id_prefix}:{line}"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


# --- line splitting shared by JSONL and CSV ---------------------------------------------------


@dataclass(slots=True)
class RawLine:
    number: int
    data: bytes  # the line without its line ending (at most the cap, when oversize)
    full_size: int | None = None  # set when the line was longer than the cap


def iter_lines(stream: io.BufferedReader, source: Source, cap: int) -> Iterator[RawLine | Quarantined]:
    """Physical lines, capped at ``cap`` bytes; a broken stream ends with one Quarantined."""
    number = 0
    while True:
        try:
            line = stream.readline(cap + 1)
        except _STREAM_ERRORS as exc:
            yield Quarantined(
                source.name,
                number + 1,
                f"input stream broke off after line {number} (truncated or corrupt compressed file?): {exc}",
            )
            return
        if not line:
            return
        number += 1
        if number == 1 and line.startswith(BOM):
            line = line[len(BOM) :]
        full_size = None
        if len(line) > cap and not line.endswith(b"\n"):
            full_size = len(line)
            try:
                while True:  # drain the rest of the oversize line without keeping it
                    more = stream.readline(1 << 20)
                    full_size += len(more)
                    if not more or more.endswith(b"\n"):
                        break
            except _STREAM_ERRORS:
                pass
        if line.endswith(b"\n"):
            line = line[:-1]
        if line.endswith(b"\r"):
            line = line[:-1]
        yield RawLine(number, line, full_size)


# --- readers ------------------------------------------------------------------------------------


def read_jsonl(stream: io.BufferedReader, source: Source, opts: ReadOptions) -> Iterator[Item]:
    for item in iter_lines(stream, source, opts.max_doc_bytes * 2):
        if isinstance(item, Quarantined):
            yield item
            continue
        n, body = item.number, item.data
        if item.full_size is not None:
            yield Quarantined(
                source.name,
                n,
                f"line is {item.full_size:,} bytes, over twice --max-doc-bytes {opts.max_doc_bytes:,}",
                *clip_raw(body, item.full_size),
            )
            continue
        if not body.strip():
            continue  # blank line: no record there
        if b"\x00" in body:
            yield Quarantined(source.name, n, "NUL byte in line", *clip_raw(body))
            continue
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Quarantined(
                source.name, n, f"invalid UTF-8 at byte {exc.start}: {exc.reason}", *clip_raw(body)
            )
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Quarantined(
                source.name,
                n,
                f"malformed JSON: {exc.msg} at column {exc.colno}",
                *clip_raw(body),
            )
            continue
        except RecursionError:
            yield Quarantined(source.name, n, "malformed JSON: nested too deeply", *clip_raw(body))
            continue
        if not isinstance(obj, dict):
            kind = type(obj).__name__
            yield Quarantined(source.name, n, f"JSON line is {kind}, expected an object", *clip_raw(body))
            continue
        yield make_record(obj, source, n, opts, body)


def read_csv(
    stream: io.BufferedReader, source: Source, opts: ReadOptions, delimiter: str = ","
) -> Iterator[Item]:
    """CSV/TSV with a header row. A quoted field may span lines; a row's raw bytes are kept."""
    consumed: list[bytes] = []
    problems: list[str] = []
    ended: list[Quarantined] = []
    first_line = [0]

    def decoded() -> Iterator[str]:
        for item in iter_lines(stream, source, opts.max_doc_bytes * 2):
            if isinstance(item, Quarantined):
                ended.append(item)
                return
            if not consumed:
                first_line[0] = item.number
            consumed.append(item.data)
            data = item.data
            if item.full_size is not None:
                problems.append(f"line is {item.full_size:,} bytes, over twice --max-doc-bytes")
            if b"\x00" in data:
                problems.append("NUL byte in row")
                data = data.replace(b"\x00", b"")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                problems.append(f"invalid UTF-8 at byte {exc.start}: {exc.reason}")
                text = data.decode("utf-8", "replace")
            yield text + "\n"

    reader = csv.reader(decoded(), delimiter=delimiter, strict=False)
    header: list[str] | None = None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(f"CSV error: {exc}")
            row = None
        raw = b"\n".join(consumed)
        line = first_line[0]
        consumed.clear()
        if problems:
            yield Quarantined(source.name, line, "; ".join(problems), *clip_raw(raw))
            problems.clear()
            continue
        if row is None:
            continue
        if header is None:
            header = row
            continue
        if not row:
            continue  # blank line
        if len(row) != len(header):
            yield Quarantined(
                source.name,
                line,
                f"row has {len(row)} fields, header has {len(header)}",
                *clip_raw(raw),
            )
            continue
        yield make_record(dict(zip(header, row, strict=True)), source, line, opts, raw)
    if consumed and problems:
        yield Quarantined(source.name, first_line[0], "; ".join(problems), *clip_raw(b"\n".join(consumed)))
    yield from ended


def read_parquet(stream: io.BufferedReader, source: Source, opts: ReadOptions) -> Iterator[Item]:
    import pyarrow.parquet as pq

    try:
        handle: Any = source.path if source.path is not None and _plain(source) else _spool(stream)
        pf = pq.ParquetFile(handle)
    except Exception as exc:  # pyarrow raises several types for a bad file
        yield Quarantined(source.name, None, f"unreadable Parquet file: {exc}")
        return
    row = 0
    try:
        for batch in pf.iter_batches(batch_size=1024):
            for data in batch.to_pylist():
                row += 1
                raw = json.dumps(data, ensure_ascii=False, default=str).encode("utf-8", "replace")
                yield make_record(data, source, row, opts, raw)
    except Exception as exc:
        yield Quarantined(source.name, row + 1, f"Parquet file broke off after row {row}: {exc}")


def _plain(source: Source) -> bool:
    assert source.path is not None
    with open(source.path, "rb") as fh:
        return fh.read(4) == b"PAR1"


def _spool(stream: io.BufferedReader) -> io.BytesIO:
    return io.BytesIO(stream.read())


def read_text(stream: io.BufferedReader, source: Source, opts: ReadOptions) -> Iterator[Item]:
    """A whole file (or stdin) is one document; its id is its path relative to the input folder."""
    try:
        raw = stream.read(opts.max_doc_bytes + 1)
        size = len(raw)
        if size > opts.max_doc_bytes:
            while more := stream.read(1 << 20):
                size += len(more)
    except _STREAM_ERRORS as exc:
        yield Quarantined(source.name, None, f"file broke off (truncated or corrupt?): {exc}")
        return
    if size > opts.max_doc_bytes:
        yield Quarantined(
            source.name,
            None,
            f"document is {size:,} bytes, over --max-doc-bytes {opts.max_doc_bytes:,}",
            *clip_raw(raw, size),
        )
        return
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            yield Quarantined(source.name, None, f"invalid UTF-16: {exc.reason}", *clip_raw(raw))
            return
    else:
        if raw.startswith(BOM):
            raw = raw[len(BOM) :]
        if b"\x00" in raw:
            yield Quarantined(
                source.name,
                None,
                "NUL bytes in text file (binary, or UTF-16 without a BOM?)",
                *clip_raw(raw),
            )
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Quarantined(
                source.name,
                None,
                f"invalid UTF-8 at byte {exc.start}: {exc.reason}",
                *clip_raw(raw),
            )
            return
    data = {"id": source.id_prefix, opts.text_field: text}
    yield Record(source.id_prefix, text, data, source.name, 0)


def read_source(source: Source, opts: ReadOptions) -> Iterator[Item]:
    """All items of one source, in order."""
    try:
        stream = open_binary(source.path)
    except OSError as exc:
        yield Quarantined(source.name, None, f"cannot open: {exc.strerror or exc}")
        return
    with stream:
        fmt = source.format
        if fmt == "auto":
            fmt = sniff_stdin_format(stream)
        if fmt == "jsonl":
            yield from read_jsonl(stream, source, opts)
        elif fmt in ("csv", "tsv"):
            yield from read_csv(stream, source, opts, "\t" if fmt == "tsv" else ",")
        elif fmt == "parquet":
            yield from read_parquet(stream, source, opts)
        else:
            yield from read_text(stream, source, opts)


def read_inputs(
    sources: list[Source], opts: ReadOptions, stats: Counter[str] | None = None
) -> Iterator[Item]:
    """Every item of every source, with ids made unique across the run.

    A repeated id gets ``#2``, ``#3``… appended (the record itself is not changed), so that
    clusters and ``kept_id`` always name one document. The count is in the stats.
    """
    seen: dict[str, int] = {}
    for source in sources:
        for item in read_source(source, opts):
            if isinstance(item, Record):
                n = seen.get(item.id, 0) + 1
                seen[item.id] = n
                if n > 1:
                    if stats is not None:
                        stats["duplicate_ids"] += 1
                    new = f"{item.id}#{n}"
                    while new in seen:
                        n += 1
                        new = f"{item.id}#{n}"
                    seen[item.id] = n
                    seen[new] = 1
                    item.id = new
            yield item
