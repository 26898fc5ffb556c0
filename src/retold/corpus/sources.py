"""Where documents come from: paths, folders or stdin, each with its compression and format.

Compression is recognised by magic bytes first (an extension can lie), then by extension.
Format comes from ``--format`` or the extension under any compression suffix; stdin is sniffed.
"""

from __future__ import annotations

import bz2
import gzip
import io
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import zstandard

from retold.errors import InputNotFound, UnknownFormat

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
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"PAR1"):
        return "parquet"
    if text.startswith(b"{"):
        return "jsonl"
    return None


def expand_inputs(inputs: list[str], fmt: str | None = None, exclude: Path | None = None) -> list[Source]:
    """Turn the user's input arguments into sources, in a deterministic order.

    Folders are walked recursively in sorted order; hidden entries and ``exclude`` (the output
    folder, if it lies inside an input folder) are skipped.
    """
    if fmt is not None and fmt not in FORMATS:
        raise UnknownFormat(f"unknown --format {fmt!r}; expected one of {', '.join(FORMATS)}")
    sources: list[Source] = []
    for arg in inputs:
        if arg == "-":
            sources.append(Source("<stdin>", None, fmt or "auto", "stdin"))
            continue
        path = Path(arg)
        if path.is_dir():
            found = sorted(_walk(path, exclude))
            for f in found:
                rel = f.relative_to(path).as_posix()
                _, f_fmt = _split_suffixes(f)
                sources.append(Source(str(f), f, fmt or f_fmt or "text", rel))
            continue
        if not path.exists():
            raise InputNotFound(f"input not found: {arg} (check the path, or pass - to read stdin)")
        if not path.is_file():
            raise InputNotFound(f"input is not a file or folder: {arg}")
        _, f_fmt = _split_suffixes(path)
        if fmt is None and f_fmt is None:
            f_fmt = _sniff_file(path)
        if fmt is None and f_fmt is None:
            raise UnknownFormat(
                f"cannot tell the format of {arg} from its name or content; "
                f"pass --format ({', '.join(FORMATS)})"
            )
        sources.append(Source(str(path), path, fmt or f_fmt or "text", path.name))
    return sources


def _sniff_file(path: Path) -> str | None:
    with open_binary(path) as fh:
        return _sniff_format(fh.peek(4096)[:4096])


def _walk(root: Path, exclude: Path | None) -> Iterator[Path]:
    excluded = exclude.resolve() if exclude is not None else None
    for dirpath, dirnames, filenames in os.walk(root):
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
                yield p


def open_binary(path: Path | None) -> io.BufferedReader:
    """Open a path (or stdin for None) for reading, decompressing by magic bytes.

    The result supports ``peek`` and ``readline(limit)``.
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
    if comp == "gzip":
        return io.BufferedReader(gzip.GzipFile(fileobj=buf))  # type: ignore[arg-type]
    if comp == "bz2":
        return io.BufferedReader(bz2.BZ2File(buf))  # type: ignore[arg-type]
    if comp == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(buf, read_across_frames=True)
        return io.BufferedReader(reader)  # type: ignore[arg-type]
    return buf  # type: ignore[return-value]


def sniff_stdin_format(stream: io.BufferedReader) -> str:
    fmt = _sniff_format(stream.peek(4096)[:4096])
    if fmt is None:
        raise UnknownFormat("cannot tell the format of stdin; pass --format (jsonl, csv, text …)")
    return fmt
