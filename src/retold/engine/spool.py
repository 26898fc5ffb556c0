"""The engine's spool: one line per readable document, ``fixes<TAB>record``, in input order.

Pass 1 writes it (:mod:`retold.engine.local`); the retold verifier and the report read documents'
repaired texts back from it by position, with :func:`texts_at`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path


def texts_at(spool: Path, positions: Iterable[int], text_field: str) -> dict[int, str]:
    """The texts of the documents at ``positions`` (one pass over the spool, stopping early)."""
    wanted = set(positions)
    out: dict[int, str] = {}
    if not wanted:
        return out
    with open(spool, encoding="utf-8", newline="\n") as fh:
        for i, line in enumerate(fh):
            if i in wanted:
                out[i] = json.loads(line.rstrip("\n").partition("\t")[2])[text_field]
                if len(out) == len(wanted):
                    break
    return out
