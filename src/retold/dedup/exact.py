"""Exact duplicates: the same text after NFC, case folding and whitespace folding.

Two passes, datatrove-style:

1. :class:`ExactSignature` (a stage) hashes each record's normalised text with xxh3-128 and puts
   the digest on the record;
2. :class:`ExactIndex` collects (digest, keep-rank) per document in numpy arrays and groups them
   with one lexicographic sort; the best-ranked member of each group is kept.

128-bit digests make an accidental collision negligible (about 10^-20 for 10^9 documents), so no
text comparison is needed. Memory: 24 bytes per document.
"""

from __future__ import annotations

import unicodedata
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xxhash

from retold.dedup.clusters import Decisions, number_clusters
from retold.dedup.level import DecideContext, Level, LevelIndex, Outcome
from retold.records import Record
from retold.stages import Stage

if TYPE_CHECKING:
    from retold.dedup.saved import SavedIndex

NAME = "exact"


def normalize_for_hash(text: str) -> str:
    """NFC, case-folded, runs of whitespace folded to one space, ends stripped.

    >>> normalize_for_hash("  The  CAFÉ\\n\\tis open ")
    'the café is open'
    """
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def exact_digest(text: str) -> bytes:
    """16-byte xxh3-128 digest of the normalised text."""
    return xxhash.xxh3_128_digest(normalize_for_hash(text).encode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class ExactOptions:
    """The exact level has no options: its normalisation (NFC, case and whitespace folded) is fixed."""


class ExactSignature(Stage):
    """Pass 1 of exact dedup: ``record.meta[NAME] = exact_digest(record.text)``.

    Empty (whitespace-only) texts get no digest: they are dropped as ``empty``, not grouped.
    """

    name = "exact-signature"

    def __init__(self, options: ExactOptions | None = None) -> None:
        super().__init__()

    def process(self, record: Record) -> Record:
        if record.text.strip():
            record.meta[NAME] = exact_digest(record.text)
        return record


class ExactIndex(LevelIndex):
    """Pass 2 of exact dedup: group equal digests, keep the best-ranked member of each group."""

    def __init__(
        self, work: Path | None = None, options: ExactOptions | None = None, stage: Any = None
    ) -> None:
        self._count = 0  # documents added so far: the next one's number
        self._index = array("q")  # typed arrays: 8 bytes an entry, not a Python object each
        self._digest = bytearray()
        self._rank = array("d")

    def add(self, record: Record, rank: float) -> None:
        digest = record.meta.get(NAME)
        if digest is not None:  # empty texts have none: they are dropped as empty, not grouped
            self._index.append(self._count)
            self._digest += digest
            self._rank.append(rank)
        self._count += 1

    def extend(self, saved: SavedIndex, rank: float) -> None:
        docs = np.fromfile(saved.path / "exact.docs.i64", dtype=np.int64)
        self._index.frombytes((docs + self._count).tobytes())
        self._digest += (saved.path / "exact.digest.u8").read_bytes()
        self._rank.frombytes(np.full(len(docs), rank, dtype=np.float64).tobytes())
        self._count += saved.documents

    def parameters(self) -> dict[str, Any]:
        return {}

    def __len__(self) -> int:
        return len(self._index)

    def checkpoint(self) -> dict[str, Any]:
        return {
            "count": self._count,
            "index": self._index.tobytes(),
            "digest": bytes(self._digest),
            "rank": self._rank.tobytes(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        self._count = state["count"]
        self._index = array("q", state["index"])
        self._digest = bytearray(state["digest"])
        self._rank = array("d", state["rank"])

    def save(self, dest: Path, start: int, kept: np.ndarray) -> dict[str, Any]:
        """Every document with a digest, kept *and* dropped: a new copy of a dropped document is an
        exact copy of it, as in a scan of both corpora together."""
        index = np.frombuffer(self._index, dtype=np.int64)
        mine = index >= start
        docs = index[mine] - start
        digest = np.frombuffer(bytes(self._digest), dtype=np.uint8).reshape(-1, 16)[mine]
        order = np.argsort(docs, kind="stable")
        docs[order].astype(np.int64).tofile(dest / "exact.docs.i64")
        digest[order].tofile(dest / "exact.digest.u8")
        return {"hash": "xxh3-128", "normalise": "nfc-casefold-whitespace", "documents": len(order)}

    def decide(self, decisions: Decisions, context: DecideContext) -> Outcome:
        """Mark every non-kept member of each group as dropped; cluster numbers follow the input
        position of each cluster's kept document."""
        n = len(self._index)
        if n == 0:
            return Outcome(0)
        index = np.frombuffer(self._index, dtype=np.int64)
        words = np.frombuffer(bytes(self._digest), dtype=np.uint64).reshape(n, 2)
        rank = np.frombuffer(self._rank, dtype=np.float64)
        order = np.lexsort((index, rank, words[:, 1], words[:, 0]))
        hi, lo = words[order, 0], words[order, 1]
        starts = np.ones(n, dtype=bool)
        starts[1:] = (hi[1:] != hi[:-1]) | (lo[1:] != lo[:-1])
        group = np.cumsum(starts) - 1
        first = np.flatnonzero(starts)
        sizes = np.diff(np.append(first, n))
        leader = index[order[first]]  # kept document of each group
        multi = sizes > 1
        numbered = np.full(len(first), -1, dtype=np.int64)
        multi_groups = np.flatnonzero(multi)
        numbered[multi_groups] = number_clusters(leader[multi_groups])
        docs = index[order]
        in_multi = multi[group]
        members = docs[in_multi]
        decisions.set_clusters(
            NAME, members, numbered[group[in_multi]], sizes[group[in_multi]], leader[group[in_multi]]
        )
        dup = in_multi & ~starts
        decisions.mark(NAME, docs[dup], leader[group[dup]], 1.0)
        copies = np.sort(docs[dup])  # in input order; every member's text equals its keeper's
        decisions.add_pairs(NAME, decisions.kept_of[copies], copies, 1.0)
        return Outcome(int(multi.sum()))


LEVEL = Level(
    name=NAME,
    about="the same text after NFC, case folding and whitespace folding",
    options=ExactOptions,
    stage=ExactSignature,
    index=ExactIndex,
    score="identical after normalisation (1.0)",
)
