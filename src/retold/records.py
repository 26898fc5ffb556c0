"""The units that flow between stages.

A :class:`Record` is one readable document; a :class:`Quarantined` is one input unit (a line, a row,
a file) that could not be read as a document. Readers yield both, so no input unit is ever lost:
every one ends as kept, dropped or quarantined.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

#: Raw bytes of a quarantined unit are stored in full up to this size; beyond it, the head is stored
#: with the full length and SHA-256, and (source, line) points at the untouched input.
MAX_QUARANTINE_RAW = 1 << 20


@dataclass(slots=True)
class Record:
    """One document.

    ``data`` is the input record as read (a dict of its fields); ``text`` the document text (after
    repair, once the repair stage has run); ``fixes`` the names of the repairs applied to it.
    """

    id: str
    text: str
    data: dict[str, Any]
    source: str
    line: int
    fixes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)  # what stages compute (digests, signatures)


@dataclass(slots=True)
class Quarantined:
    """One unreadable input unit: where it was, why it failed, and its raw bytes."""

    source: str
    line: int | None
    error: str
    raw: bytes = b""
    raw_size: int | None = None  # full size when ``raw`` holds only the head

    def to_json(self) -> dict[str, Any]:
        """The quarantine.jsonl line: raw bytes as UTF-8 text when they decode, else base64.

        >>> Quarantined("a.jsonl", 3, "bad", b"\\xff{").to_json()["raw"]
        {'encoding': 'base64', 'data': '/3s=', 'bytes': 2}
        """
        raw = self.raw
        size = self.raw_size if self.raw_size is not None else len(raw)
        out: dict[str, Any] = {"source": self.source, "line": self.line, "error": self.error}
        try:
            enc: dict[str, Any] = {"encoding": "utf-8", "data": raw.decode("utf-8"), "bytes": size}
        except UnicodeDecodeError:
            enc = {"encoding": "base64", "data": base64.b64encode(raw).decode("ascii"), "bytes": size}
        if size > len(raw):
            enc["truncated"] = True
        out["raw"] = enc
        return out


def clip_raw(raw: bytes, full_size: int | None = None) -> tuple[bytes, int | None]:
    """Keep at most :data:`MAX_QUARANTINE_RAW` bytes; return (head, full size or None)."""
    if len(raw) <= MAX_QUARANTINE_RAW and full_size is None:
        return raw, None
    return raw[:MAX_QUARANTINE_RAW], full_size if full_size is not None else len(raw)
