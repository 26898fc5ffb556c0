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

import numpy as np
import xxhash

from retold.dedup.clusters import REASONS, Decisions, number_clusters
from retold.records import Record
from retold.stages import Stage


def normalize_for_hash(text: str) -> str:
    """NFC, case-folded, runs of whitespace folded to one space, ends stripped.

    >>> normalize_for_hash("  The  CAFÉ\\n\\tis open ")
    'the café is open'
    """
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def exact_digest(text: str) -> bytes:
    """16-byte xxh3-128 digest of the normalised text."""
    return xxhash.xxh3_128_digest(normalize_for_hash(text).encode("utf-8", "surrogatepass"))


class ExactSignature(Stage):
    """Pass 1 of exact dedup: ``record.meta["exact"] = exact_digest(record.text)``.

    Empty (whitespace-only) texts get no digest: they are dropped as ``empty``, not grouped.
    """

    name = "exact-signature"

    def process(self, record: Record) -> Record:
        if record.text.strip():
            record.meta["exact"] = exact_digest(record.text)
        return record


class ExactIndex:
    """Pass 2 of exact dedup: group equal digests, keep the best-ranked member of each group."""

    def __init__(self) -> None:
        self._index = array("q")  # typed arrays: 8 bytes an entry, not a Python object each
        self._digest = bytearray()
        self._rank = array("d")

    def add(self, index: int, digest: bytes, rank: float) -> None:
        self._index.append(index)
        self._digest += digest
        self._rank.append(rank)

    def extend(self, docs: np.ndarray, digests: bytes, rank: float) -> None:
        """Add many documents of one rank at once (an earlier run's, from its saved index)."""
        self._index.frombytes(np.asarray(docs, dtype=np.int64).tobytes())
        self._digest += digests
        self._rank.frombytes(np.full(len(docs), rank, dtype=np.float64).tobytes())

    def __len__(self) -> int:
        return len(self._index)

    def arrays(self, start: int) -> tuple[np.ndarray, bytes]:
        """(documents, digests) of the documents numbered ``start`` or later, renumbered from 0."""
        index = np.frombuffer(self._index, dtype=np.int64)
        mine = index >= start
        digest = np.frombuffer(bytes(self._digest), dtype=np.uint8).reshape(-1, 16)[mine]
        return index[mine] - start, digest.tobytes()

    def checkpoint(self) -> dict[str, bytes]:
        """What a resumed run needs to go on from here (see :mod:`retold.engine.state`)."""
        return {"index": self._index.tobytes(), "digest": bytes(self._digest), "rank": self._rank.tobytes()}

    def restore(self, state: dict[str, bytes]) -> None:
        self._index = array("q", state["index"])
        self._digest = bytearray(state["digest"])
        self._rank = array("d", state["rank"])

    def decide(self, decisions: Decisions) -> int:
        """Mark every non-kept member of each group as dropped ``exact``; return the cluster count.

        Cluster numbers follow the input position of each cluster's kept document.
        """
        n = len(self._index)
        if n == 0:
            return 0
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
        g = group
        in_multi = multi[g]
        members = docs[in_multi]
        level = decisions.level("exact")
        level.cluster[members] = numbered[g[in_multi]]
        level.size[members] = sizes[g[in_multi]]
        level.keeper[members] = leader[g[in_multi]]
        dup = in_multi & ~starts
        dropped = docs[dup]
        decisions.reason[dropped] = REASONS.index("exact")
        decisions.kept_of[dropped] = leader[g[dup]]
        decisions.similarity[dropped] = 1.0
        return int(multi.sum())
