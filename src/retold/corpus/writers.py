"""Atomic output files: written under a temporary name beside the target, then renamed.

A reader of the output folder never sees a half-written ``kept.jsonl``: either the previous file
or the complete new one.
"""

from __future__ import annotations

import contextlib
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


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=_default, allow_nan=False)


def dumps(obj: Any) -> str:
    """One JSON line (no newline). Unpaired surrogates in a field fall back to ``\\u`` escapes.

    >>> dumps({"a": "café"})
    '{"a": "café"}'
    """
    try:
        text = _ENCODER.encode(obj)  # json.dumps's own encoder, made once (a new one a call: 15%)
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


def reopen_at(path: Path, size: int) -> BinaryIO:
    """``path`` opened for appending after cutting it back to ``size`` bytes (what a checkpoint saw).

    A crash can leave bytes past the checkpoint; they are the start of work that will be redone.
    """
    fh = open(path, "r+b" if path.exists() else "w+b")  # noqa: SIM115 - the caller closes it
    if fh.seek(0, os.SEEK_END) < size:
        fh.close()
        raise OSError(f"{path} is shorter than its checkpoint ({size} bytes): the run state is damaged")
    fh.truncate(size)
    fh.seek(size)
    return fh


class AtomicWriter:
    """Write lines to ``path`` atomically: ``with AtomicWriter(p) as w: w.write_line(...)``."""

    def __init__(
        self, path: Path, tmp: Path | None = None, resume_at: int | None = None, resumable: bool = False
    ) -> None:
        """``tmp``: where the file is written until committed (default: beside ``path``, named for
        this process). ``resume_at``: go on with an existing ``tmp`` cut back to this many bytes
        (a resumed run; see :mod:`retold.engine.state`). ``resumable``: a checkpoint may point at
        ``tmp``, so :meth:`abort` closes it and leaves it (its run's work folder goes as a whole)."""
        self.path = path
        self.resumable = resumable
        self.tmp = tmp if tmp is not None else path.with_name(f".{path.name}.tmp-{os.getpid()}")
        if resume_at is None:
            self._fh: BinaryIO = open(self.tmp, "wb")  # noqa: SIM115 - closed in commit/abort
        else:
            self._fh = reopen_at(self.tmp, resume_at)
        self.lines = 0
        self.bytes = self._fh.tell()

    @classmethod
    def beside(cls, path: Path, tmp_dir: Path | None) -> AtomicWriter:
        """A writer of ``path`` whose temporary file is ``tmp_dir/NAME.part`` (a run's work folder:
        a failed run leaves nothing beside its outputs), or beside ``path`` when ``tmp_dir`` is None."""
        return cls(path, tmp=None if tmp_dir is None else tmp_dir / f"{path.name}.part")

    def checkpoint(self) -> int:
        """Flushed (to the system: the engine's checkpoint fsyncs it); the size to resume at."""
        self._fh.flush()
        return self._fh.tell()

    def write_line(self, line: str) -> None:
        data = line.encode("utf-8")
        self._fh.write(data)
        self._fh.write(b"\n")
        self.lines += 1
        self.bytes += len(data) + 1

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
        with contextlib.suppress(OSError):  # on a full disk, flushing fails: the file goes anyway
            self._fh.close()
        if not self.resumable:
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


class StagedFile:
    """A file already written whole at ``tmp`` (by another writer, such as Parquet's), put in place
    at ``path`` as :class:`AtomicWriter` puts its files: :meth:`commit` or :meth:`abort`."""

    def __init__(self, path: Path, tmp: Path) -> None:
        self.path = path
        self.tmp = tmp
        self.bytes = tmp.stat().st_size

    def finish(self) -> None:
        with open(self.tmp, "rb") as fh:
            os.fsync(fh.fileno())

    def commit(self) -> None:
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.tmp.unlink(missing_ok=True)


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


def staged_files(contents: dict[Path, str], tmp_dir: Path | None = None) -> list[AtomicWriter]:
    """Each text written whole to its file's temporary name; the caller commits them (or aborts)."""
    writers: list[AtomicWriter] = []
    try:
        for path, text in contents.items():
            writers.append(AtomicWriter.beside(path, tmp_dir))
            writers[-1].write_line(text)
            writers[-1].finish()
    except BaseException:
        for w in writers:
            w.abort()
        raise
    return writers
