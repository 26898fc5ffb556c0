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
import os
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retold.corpus.sources import STREAM_ERRORS, Source, open_binary, sniff_stdin_format
from retold.errors import InputChanged
from retold.records import Quarantined, Record, clip_raw

Item = Record | Quarantined
BOM = b"\xef\xbb\xbf"


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
    """The id: ``--id-field`` (default ``id``) when the record has a non-null one, else file:line
    (for an in-memory corpus, whose source has no id prefix: the record's position, from 0)."""
    key = opts.id_field or "id"
    value = data.get(key)
    if value is None or value == "":
        return f"{source.id_prefix}:{line}" if source.id_prefix else str(line - 1)
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
        except STREAM_ERRORS as exc:
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
            except STREAM_ERRORS:
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
        except ValueError as exc:  # e.g. an integer of more than 4300 digits
            yield Quarantined(source.name, n, f"malformed JSON: {exc}", *clip_raw(body))
            continue
        if not isinstance(obj, dict):
            kind = type(obj).__name__
            yield Quarantined(source.name, n, f"JSON line is {kind}, expected an object", *clip_raw(body))
            continue
        yield make_record(obj, source, n, opts, body)


def read_csv(
    stream: io.BufferedReader, source: Source, opts: ReadOptions, delimiter: str = ","
) -> Iterator[Item]:
    """CSV/TSV with a header row; every physical line ends in exactly one unit.

    CSV: a quoted field may span lines. A quote still open at the end of the file would swallow
    every later row, so then only the row where it opened is quarantined ("unclosed quote") and
    parsing resumes on the next line. TSV has no quoting (``csv.QUOTE_NONE``): a ``"`` at the start of
    a text is text. Blank lines (also before the header) are skipped. A header that cannot be read
    makes every row unreadable, each quarantined with that reason. Repeated column names become
    ``name.1``, ``name.2`` so no column is lost.
    """
    csv.field_size_limit(max(csv.field_size_limit(), min(opts.max_doc_bytes * 2, 2**31 - 1)))
    lines = iter_lines(stream, source, opts.max_doc_bytes * 2)
    pushback: list[RawLine] = []
    consumed: list[RawLine] = []
    problems: list[str] = []
    ended: list[Quarantined] = []

    def decoded() -> Iterator[str]:
        while True:
            if pushback:
                item: RawLine | Quarantined = pushback.pop()
            else:
                try:
                    item = next(lines)
                except StopIteration:
                    return
            if isinstance(item, Quarantined):
                ended.append(item)
                return
            consumed.append(item)
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

    def new_reader() -> Iterator[list[str]]:
        if delimiter == "\t":
            return csv.reader(decoded(), delimiter="\t", quoting=csv.QUOTE_NONE)
        return csv.reader(decoded(), delimiter=delimiter, strict=True)

    reader = new_reader()
    header: list[str] | None = None
    header_error: str | None = None
    while True:
        try:
            row: list[str] | None = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if "unexpected end of data" in str(exc) and len(consumed) > 1:
                # an unclosed quote ran to the end of the file: quarantine its first line only
                first = consumed[0]
                pushback.extend(reversed(consumed[1:]))
                consumed.clear()
                problems.clear()
                yield Quarantined(
                    source.name, first.number, "CSV error: unclosed quote", *clip_raw(first.data)
                )
                reader = new_reader()
                continue
            problems.append(f"CSV error: {exc}")
            row = None
            reader = new_reader()
        raw = b"\n".join(line.data for line in consumed)
        line = consumed[0].number if consumed else 0
        consumed.clear()
        if problems and header is None and header_error is None and row is not None:
            header_error = "; ".join(problems)
            problems.clear()
            yield Quarantined(source.name, line, f"header row unreadable: {header_error}", *clip_raw(raw))
            continue
        if problems:
            yield Quarantined(source.name, line, "; ".join(problems), *clip_raw(raw))
            problems.clear()
            continue
        if row is None or not row or row == [""]:
            continue  # blank line
        if header_error is not None:
            yield Quarantined(source.name, line, f"header row unreadable: {header_error}", *clip_raw(raw))
            continue
        if header is None:
            header = _unique_names(row)
            continue
        if len(row) != len(header):
            yield Quarantined(
                source.name, line, f"row has {len(row)} fields, header has {len(header)}", *clip_raw(raw)
            )
            continue
        yield make_record(dict(zip(header, row, strict=True)), source, line, opts, raw)
    if consumed:
        raw = b"\n".join(line.data for line in consumed)
        reason = "; ".join(problems) or "CSV row cut off at the end of the input"
        yield Quarantined(source.name, consumed[0].number, reason, *clip_raw(raw))
    yield from ended


def _unique_names(header: list[str]) -> list[str]:
    """Repeated column names get ``.1``, ``.2``… so no column is lost.

    >>> _unique_names(["id", "text", "text", "text.1"])
    ['id', 'text', 'text.2', 'text.1']
    """
    taken = set(header)
    seen: set[str] = set()
    out = []
    for name in header:
        if name in seen:
            n = 1
            while f"{name}.{n}" in taken:
                n += 1
            taken.add(f"{name}.{n}")
            name = f"{name}.{n}"
        seen.add(name)
        out.append(name)
    return out


def read_parquet(stream: io.BufferedReader, source: Source, opts: ReadOptions) -> Iterator[Item]:
    """Parquet, batch by batch. A column whose values Python cannot hold (nanosecond timestamps,
    say) is read as strings; if the file breaks off, each row not read is quarantined by number."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        handle: Any = source.path if source.path is not None and _plain(source) else _spool(stream)
        pf = pq.ParquetFile(handle)
        total = pf.metadata.num_rows
    except Exception as exc:  # pyarrow raises several types for a bad file
        yield Quarantined(source.name, None, f"unreadable Parquet file: {exc}")
        return
    row = 0
    try:
        for batch in pf.iter_batches(batch_size=1024):
            for data in _batch_rows(batch, pa):
                row += 1
                raw = json.dumps(data, ensure_ascii=False, default=str).encode("utf-8", "replace")
                yield make_record(data, source, row, opts, raw)
    except Exception as exc:
        for missing in range(row + 1, max(total, row + 1) + 1):
            yield Quarantined(source.name, missing, f"Parquet file broke off after row {row}: {exc}")


def _batch_rows(batch: Any, pa: Any) -> list[dict[str, Any]]:
    try:
        return batch.to_pylist()
    except Exception:
        columns = {}
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            try:
                columns[name] = column.to_pylist()
            except Exception:
                columns[name] = column.cast(pa.string()).to_pylist()
        return [{name: columns[name][i] for name in columns} for i in range(batch.num_rows)]


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
    except STREAM_ERRORS as exc:
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
    if source.error is not None:
        yield Quarantined(source.name, None, source.error)
        return
    before = _snapshot(source.path)
    try:
        stream = open_binary(source.path)
    except OSError as exc:
        yield Quarantined(source.name, None, f"cannot open: {exc.strerror or exc}")
        return
    with stream:
        fmt = source.format
        if fmt == "auto":  # stdin or a pipe
            fmt = sniff_stdin_format(stream)
        if fmt == "jsonl":
            yield from read_jsonl(stream, source, opts)
        elif fmt in ("csv", "tsv"):
            yield from read_csv(stream, source, opts, "\t" if fmt == "tsv" else ",")
        elif fmt == "parquet":
            yield from read_parquet(stream, source, opts)
        else:
            yield from read_text(stream, source, opts)
    after = _snapshot(source.path)
    if before is not None and after != before:
        raise InputChanged(
            f"input {source.name} changed while it was read ({_change(before, after)}): its records "
            "would mix two versions of the file. Rerun once it no longer changes (with --restart if "
            "this run left a checkpoint: that checkpoint read the old file)"
        )


def _snapshot(path: Path | None) -> tuple[int, int, int] | None:
    """(inode, size, modification time) of a regular file; None for stdin, a pipe or a missing file."""
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None


def _change(before: tuple[int, int, int], after: tuple[int, int, int] | None) -> str:
    if after is None:
        return "removed"
    if after[0] != before[0]:
        return "replaced by another file"
    if after[1] > before[1]:
        return f"appended to: {before[1]:,} → {after[1]:,} bytes"
    if after[1] < before[1]:
        return f"truncated: {before[1]:,} → {after[1]:,} bytes"
    return "rewritten in place"


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
