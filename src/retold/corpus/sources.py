"""Where documents come from: paths, folders or stdin, each with its compression and format.

Compression is recognised by magic bytes first (an extension can lie), then by extension.
Format comes from ``--format`` or the extension under any compression suffix; stdin is sniffed.
"""

from __future__ import annotations

import bz2
import io
import os
import stat
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import zstandard

from retold.errors import BadOption, InputNotFound, OutputNotWritable, UnknownFormat

FORMATS = ("jsonl", "csv", "tsv", "parquet", "text")

_MAGIC = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd", b"BZh": "bz2"}
_COMPRESSION_EXT = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bz2"}
_FORMAT_EXT = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".txt": "text",
    ".md": "text",
    ".markdown": "text",
}
#: In a folder, only these are read; anything else (images, hidden files, our own outputs) is skipped.
_FOLDER_EXT = set(_FORMAT_EXT) - {".json"}


@dataclass(frozen=True, slots=True)
class Source:
    """One input stream. ``name`` is what records cite as their source."""

    name: str
    path: Path | None  # None for stdin
    format: str
    id_prefix: str  # default ids are f"{id_prefix}:{line}" (or the bare prefix for text files)
    error: str | None = None  # set when the source cannot be read at all (an unreadable folder)


def detect_compression(head: bytes) -> str | None:
    """Name the compression from the first bytes.

    >>> detect_compression(b"\\x1f\\x8b\\x08")
    'gzip'
    >>> detect_compression(b'{"a": 1}') is None
    True
    """
    for magic, name in _MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def _split_suffixes(path: Path) -> tuple[str | None, str | None]:
    """(compression, format) from a file name such as ``a.jsonl.gz``."""
    suffixes = [s.lower() for s in path.suffixes]
    comp = None
    if suffixes and suffixes[-1] in _COMPRESSION_EXT:
        comp = _COMPRESSION_EXT[suffixes.pop()]
    fmt = _FORMAT_EXT.get(suffixes[-1]) if suffixes else None
    return comp, fmt


def _sniff_format(head: bytes) -> str | None:
    """parquet, jsonl, csv or tsv from the first bytes; None when they say none of these.

    >>> _sniff_format(b'id,story\\n1,"Once upon a time, a fox"\\n'), _sniff_format(b'{"text": "a"}')
    ('csv', 'jsonl')
    """
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"PAR1"):
        return "parquet"
    if text.startswith(b"{"):
        return "jsonl"
    return _sniff_table(text)


def _sniff_table(text: bytes) -> str | None:
    """csv or tsv when the first line reads as a header row: two or more short field names."""
    first = text.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")
    for fmt, sep in (("tsv", "\t"), ("csv", ",")):
        names = [n.strip().strip('"').strip() for n in first.split(sep)]
        if len(names) >= 2 and all(0 < len(n) <= 64 and n.count(" ") <= 2 for n in names):
            return fmt
    return None


def expand_inputs(inputs: list[str], fmt: str | None = None, exclude: Path | None = None) -> list[Source]:
    """Turn the user's input arguments into sources, in a deterministic order.

    Folders are walked recursively in sorted order; hidden entries and ``exclude`` (the output
    folder, if it lies inside an input folder) are skipped.
    """
    if fmt is not None and fmt not in FORMATS:
        raise UnknownFormat(f"unknown --format {fmt!r}; expected one of {', '.join(FORMATS)}")
    sources: list[Source] = []
    if inputs.count("-") > 1:
        raise BadOption("stdin (-) can be an input only once")
    if exclude is not None:
        for arg in inputs:
            if arg != "-" and Path(arg).is_dir() and Path(arg).resolve() == exclude.resolve():
                raise OutputNotWritable(
                    f"--out {exclude} is an input folder; its files would be overwritten: choose another --out"
                )
    seen: set[Path] = set()
    for arg in inputs:
        if arg == "-":
            sources.append(Source("<stdin>", None, fmt or "auto", "stdin"))
            continue
        path = Path(arg)
        if path.is_dir():
            errors: list[tuple[str, str]] = []
            found = sorted(_walk(path, exclude, errors))
            for where, why in errors:
                sources.append(Source(where, None, "error", where, error=why))
            for f in found:
                if f.resolve() in seen:
                    continue
                seen.add(f.resolve())
                rel = f.relative_to(path).as_posix()
                _, f_fmt = _split_suffixes(f)
                sources.append(Source(str(f), f, fmt or f_fmt or "text", rel))
            continue
        if not path.exists():
            raise InputNotFound(f"input not found: {arg} (check the path, or pass - to read stdin)")
        if path.resolve() in seen:
            continue  # the same file twice is read once
        seen.add(path.resolve())
        _, f_fmt = _split_suffixes(path)
        if fmt is None and f_fmt is None and not path.is_file():
            f_fmt = "auto"  # a pipe such as <(cmd): sniffed from the one stream when read
        if fmt is None and f_fmt is None:
            f_fmt = _sniff_file(path)
        if fmt is None and f_fmt is None:
            raise UnknownFormat(
                f"cannot tell the format of {arg} from its name or content; "
                f"pass --format ({', '.join(FORMATS)})"
            )
        sources.append(Source(str(path), path, fmt or f_fmt or "text", path.name))
    return sources


STREAM_ERRORS = (EOFError, OSError, zlib.error, zstandard.ZstdError)


def _peek(stream: io.BufferedReader) -> bytes | None:
    """The first bytes, or None when the stream breaks already (the reader then quarantines it)."""
    try:
        return stream.peek(4096)[:4096]
    except STREAM_ERRORS:
        return None


def _sniff_file(path: Path) -> str | None:
    try:
        with open_binary(path) as fh:
            head = _peek(fh)
    except OSError:
        return "jsonl"  # unreadable: read_source quarantines it with the reason
    return "jsonl" if head is None else _sniff_format(head)


def _walk(root: Path, exclude: Path | None, errors: list[tuple[str, str]]) -> Iterator[Path]:
    excluded = exclude.resolve() if exclude is not None else None

    def onerror(exc: OSError) -> None:
        errors.append((str(exc.filename), f"cannot read folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        here = Path(dirpath)
        if excluded is not None and (here.resolve() == excluded or excluded in here.resolve().parents):
            dirnames[:] = []
            continue
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith("."):
                continue
            p = here / name
            suffixes = [s.lower() for s in p.suffixes]
            if suffixes and suffixes[-1] in _COMPRESSION_EXT:
                suffixes.pop()
            if suffixes and suffixes[-1] in _FOLDER_EXT:
                why = _unreadable(p)
                if why is None:
                    yield p
                else:
                    errors.append((str(p), why))


_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a folder",
}


def _unreadable(path: Path) -> str | None:
    """Why a file found in a folder will not be read, or None. Only a regular file is ever opened:
    a FIFO named ``*.txt`` would block the run forever, a device would never end."""
    try:
        mode = os.stat(path).st_mode  # through a symbolic link
    except OSError as exc:
        if path.is_symlink():
            return f"cannot read file: dangling symbolic link (to {os.readlink(path)})"
        return f"cannot read file: {exc.strerror or exc}"
    if not stat.S_ISREG(mode):
        return f"not a regular file ({_KINDS.get(stat.S_IFMT(mode), 'a special file')}): not read"
    if not os.access(path, os.R_OK):
        return "cannot read file: permission denied"
    return None


class _Decompressed(io.RawIOBase):
    """A decompressing stream that hands out every byte it could decode before a break.

    gzip/bz2 file objects drop what they had decoded when they hit a truncated end, and
    zstandard's stream reader reports a truncated frame as a normal end. This one feeds the
    library's incremental decoder (zlib, bz2, zstd) chunk by chunk, continues across concatenated
    members/frames, and raises ``EOFError`` only after handing out all decoded data, when the input
    ends inside a member.
    """

    def __init__(self, raw: io.BufferedIOBase, kind: str) -> None:
        self._raw = raw
        self._kind = kind
        self._decoder = self._new_decoder()
        self._pending = b""
        self._started = False  # some input was fed to the current decoder
        self._flushed = False

    def _new_decoder(self) -> Any:
        if self._kind == "gzip":
            return zlib.decompressobj(31)
        if self._kind == "bz2":
            return bz2.BZ2Decompressor()
        return zstandard.ZstdDecompressor().decompressobj()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = self._raw.read(1 << 16)
            if not chunk:
                if self._started and not self._decoder.eof:
                    flush = getattr(self._decoder, "flush", None)
                    if flush is not None and not self._flushed:
                        self._flushed = True  # what the decoder holds back, before reporting the break
                        self._pending += flush()
                        if self._pending:
                            continue
                    raise EOFError(f"{self._kind} stream ended before its end marker (truncated file?)")
                return 0
            while chunk:
                if self._decoder.eof:
                    self._decoder = self._new_decoder()
                    self._started = False
                    if not chunk.strip(b"\x00"):
                        break  # zero padding after the last member
                self._started = True
                self._pending += self._decoder.decompress(chunk)
                chunk = self._decoder.unused_data if self._decoder.eof else b""
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_binary(path: Path | None) -> io.BufferedReader:
    """Open a path (or stdin for None) for reading, decompressing by magic bytes.

    The result supports ``peek`` and ``readline(limit)``. A truncated or corrupt compressed
    stream yields everything decodable, then raises ``EOFError`` / ``OSError`` / ``zlib.error``.
    """
    raw: BinaryIO
    if path is None:
        raw = sys.stdin.buffer
        buf = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[arg-type]
    else:
        buf = open(path, "rb")  # noqa: SIM115 - closed by the caller
    head = buf.peek(4)[:4]
    comp = detect_compression(head)
    if comp is None and path is not None:
        comp, _ = _split_suffixes(path)
        if comp is not None and head:
            comp = None  # the extension says compressed, the bytes say otherwise: trust the bytes
    if comp is not None:
        return io.BufferedReader(_Decompressed(buf, comp))  # type: ignore[arg-type]
    return buf  # type: ignore[return-value]


def sniff_stdin_format(stream: io.BufferedReader) -> str:
    head = _peek(stream)
    if head is None or not head.strip():
        return "jsonl"  # broken (the reader quarantines it) or empty (no documents)
    fmt = _sniff_format(head)
    if fmt is None:
        raise UnknownFormat("cannot tell the format of stdin; pass --format (jsonl, csv, text …)")
    return fmt
