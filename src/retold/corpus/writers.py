"""Atomic output files: written under a temporary name beside the target, then renamed.

A reader of the output folder never sees a half-written ``kept.jsonl``: either the previous file
or the complete new one.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import os
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO


def _default(value: Any) -> Any:
    """JSON for the values Parquet and CSV readers can produce beyond JSON's own types."""
    if isinstance(value, bytes | bytearray):
        import base64

        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, _dt.date | _dt.datetime | _dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    return str(value)


def dumps(obj: Any) -> str:
    """One JSON line (no newline). Unpaired surrogates in a field fall back to ``\\u`` escapes.

    >>> dumps({"a": "café"})
    '{"a": "café"}'
    """
    try:
        text = json.dumps(obj, ensure_ascii=False, default=_default, allow_nan=False)
    except ValueError:  # NaN or Infinity: not JSON; written as null so every reader can parse the line
        text = json.dumps(_finite(obj), ensure_ascii=False, default=_default)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(json.loads(text), ensure_ascii=True)
    return text


def _finite(obj: Any) -> Any:
    """Replace NaN and ±Infinity (not valid JSON) with None, recursively."""
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


class AtomicWriter:
    """Write lines to ``path`` atomically: ``with AtomicWriter(p) as w: w.write_line(...)``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        self._fh: BinaryIO = open(self.tmp, "wb")  # noqa: SIM115 - closed in commit/abort
        self.lines = 0

    def write_line(self, line: str) -> None:
        self._fh.write(line.encode("utf-8"))
        self._fh.write(b"\n")
        self.lines += 1

    def write_json(self, obj: Any) -> None:
        self.write_line(dumps(obj))

    def finish(self) -> None:
        """Flush and close the temporary file, without putting it in place yet."""
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()

    def commit(self) -> None:
        self.finish()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self._fh.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> AtomicWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def pretty_json(obj: Any) -> str:
    """Indented, sorted JSON; ASCII escapes where a string holds an unpaired surrogate."""
    text = json.dumps(_finite(obj), ensure_ascii=False, indent=2, sort_keys=True, default=_default)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(_finite(obj), ensure_ascii=True, indent=2, sort_keys=True, default=_default)
    return text


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write one JSON document (indented, sorted keys, trailing newline) atomically."""
    with AtomicWriter(path) as w:
        w.write_line(pretty_json(obj))
