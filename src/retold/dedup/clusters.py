"""What happens to each document: kept, or dropped with a reason and the document it matched.

:class:`Decisions` holds one row per readable document (by its position in the run), in numpy
arrays, so a million documents cost a few dozen MB. Levels fill it in order (empty, exact, …); a
document dropped at one level is not looked at again by a later one.

:class:`KeepPolicy` decides which member of a cluster stays: ``first`` (input order), ``longest``
(most characters), or a field name (highest numeric value of that field; records without a usable
value rank last). Ties always go to the earlier document, so the choice is deterministic.
"""

from __future__ import annotations

import decimal
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit

from retold.records import Record

#: Why a document is dropped, as stored in :attr:`Decisions.reason` (0: kept). The registry adds
#: each level's name in its order (:func:`add_reason`), so the codes follow the levels.
REASONS: list[str] = ["", "empty"]


def add_reason(name: str) -> int:
    """The code of reason ``name``, added at the end if new."""
    if name not in REASONS:
        REASONS.append(name)
    return REASONS.index(name)


@dataclass(frozen=True, slots=True)
class KeepPolicy:
    """Which member of a cluster stays. ``rank`` gives a number: lower stays."""

    spec: str = "first"

    def rank(self, index: int, record: Record) -> float:
        if self.spec == "first":
            return float(index)
        if self.spec == "longest":
            return -float(len(record.text))
        value = record.data.get(self.spec)
        return -_as_number(value)


def _as_number(value: Any) -> float:
    """A field's value as a float for ranking; missing or non-numeric values rank last.

    >>> _as_number("3.5"), _as_number(True), _as_number(None), _as_number(10**400), _as_number(decimal.Decimal("9.25"))
    (3.5, 1.0, -inf, inf, 9.25)
    """
    if isinstance(value, bool):
        return float(value)
    if not isinstance(value, int | float | str | decimal.Decimal):
        return -math.inf
    try:
        number = float(value)
    except ValueError:
        return -math.inf
    except OverflowError:  # an integer beyond float range
        return math.inf if value > 0 else -math.inf  # type: ignore[operator]
    return -math.inf if math.isnan(number) else number


@dataclass
class LevelClusters:
    """One level's clusters: ``cluster[i]`` (-1 if ``i`` is in none), its size, and its keeper."""

    cluster: np.ndarray
    size: np.ndarray
    keeper: np.ndarray

    @classmethod
    def empty(cls, n: int) -> LevelClusters:
        return cls(
            np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=np.int64), np.full(n, -1, dtype=np.int64)
        )


@dataclass
class Decisions:
    """Per-document outcome, filled level by level.

    ``reason[i]`` indexes :data:`REASONS` (0 = kept); ``kept_of[i]`` is the index of the document
    that ``i`` duplicates (-1 if none); ``similarity[i]`` the score of that match (NaN if none).
    ``levels[name]`` holds each level's clusters: a document can be the keeper of an exact cluster
    and a member of a near one. ``evidence[name][i]`` holds extra per-document scores of the
    deciding match (NaN where none), written into dropped.jsonl; ``notes[level][i]`` holds a
    level's structured evidence for document ``i`` (the retold level's aligned sentences and name
    mapping), written into dropped.jsonl and clusters.jsonl.
    """

    n: int
    reason: np.ndarray = field(init=False)
    kept_of: np.ndarray = field(init=False)
    similarity: np.ndarray = field(init=False)
    levels: dict[str, LevelClusters] = field(init=False)
    evidence: dict[str, np.ndarray] = field(init=False)
    notes: dict[str, dict[int, dict[str, Any]]] = field(init=False)
    pairs: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]] | None]]] = field(
        init=False
    )

    def __post_init__(self) -> None:
        self.pairs = {}
        self.reason = np.zeros(self.n, dtype=np.int8)
        self.kept_of = np.full(self.n, -1, dtype=np.int64)
        self.similarity = np.full(self.n, np.nan, dtype=np.float32)
        self.levels = {}
        self.evidence = {}
        self.notes = {}

    def notes_for(self, level: str) -> dict[int, dict[str, Any]]:
        """Rich evidence of a level's matches (sentences, names), by document: few documents."""
        return self.notes.setdefault(level, {})

    def level(self, name: str) -> LevelClusters:
        """The cluster arrays of a level, created on first use."""
        if name not in self.levels:
            self.levels[name] = LevelClusters.empty(self.n)
        return self.levels[name]

    def evidence_column(self, name: str) -> np.ndarray:
        if name not in self.evidence:
            self.evidence[name] = np.full(self.n, np.nan, dtype=np.float32)
        return self.evidence[name]

    def fill_level(self, name: str, keeper_of: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """Record a level's greedy clusters from ``keeper_of`` (each taken document's keeper, -1
        for the rest): cluster numbers, sizes, keepers. Returns (taken, keepers, largest size)."""
        taken = np.flatnonzero(keeper_of >= 0)
        keepers = np.unique(keeper_of[taken])
        if not len(taken):
            return taken, keepers, 0
        level = self.level(name)
        numbered = number_clusters(keepers)
        slot = np.searchsorted(keepers, keeper_of[taken])
        members = np.bincount(slot, minlength=len(keepers))
        level.cluster[keepers] = numbered
        level.size[keepers] = members + 1
        level.keeper[keepers] = keepers
        level.cluster[taken] = numbered[slot]
        level.size[taken] = members[slot] + 1
        level.keeper[taken] = keeper_of[taken]
        return taken, keepers, int(members.max()) + 1

    def set_clusters(
        self, name: str, members: np.ndarray, cluster: np.ndarray, size: np.ndarray, keeper: np.ndarray
    ) -> None:
        """Put ``members`` in level ``name``'s clusters (numbers, sizes, keepers given per member)."""
        level = self.level(name)
        level.cluster[members] = cluster
        level.size[members] = size
        level.keeper[members] = keeper

    def mark(self, name: str, docs: np.ndarray, kept_of: np.ndarray, similarity: np.ndarray | float) -> None:
        """Drop ``docs`` as copies at level ``name`` of the documents ``kept_of``, with the match's
        ``similarity``."""
        self.reason[docs] = REASONS.index(name)
        self.kept_of[docs] = kept_of
        self.similarity[docs] = similarity

    def greedy(self, name: str, better: np.ndarray, worse: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """Level ``name``'s clusters from verified pairs: the best-ranked document not yet taken
        keeps its cluster and takes each verified neighbour not yet taken, so a document is only
        dropped for a match with the very document that is kept (A~B and B~C never pull C into A's
        cluster). ``better``/``worse``: each pair's better- and worse-ranked member, the pairs sorted
        by (better's rank, worse's rank). Returns (each taken document's keeper, -1 for the others;
        the taken documents; the largest cluster's size)."""
        keeper_of = take_greedy(better, worse, self.n)
        taken, _, largest = self.fill_level(name, keeper_of)
        return keeper_of, taken, largest

    def add_pairs(
        self,
        name: str,
        better: np.ndarray,
        worse: np.ndarray,
        similarity: np.ndarray | float,
        evidence: list[dict[str, Any]] | None = None,
    ) -> None:
        """Record verified pairs of level ``name`` (each pair's better- and worse-ranked member), for
        pairs.jsonl: every pair a level verified, not only the ones its greedy clusters used."""
        if len(better):
            sim = np.broadcast_to(np.asarray(similarity, dtype=np.float64), (len(better),))
            self.pairs.setdefault(name, []).append((np.asarray(better), np.asarray(worse), sim, evidence))

    def tail(self, start: int) -> Decisions:
        """The decisions of documents ``start``… alone, renumbered from 0 (an incremental run's own
        documents, after those of the indexes it was run against). A match with an earlier
        document (below ``start``) becomes keeper / kept_of -1: a match outside this run."""
        if start == 0:
            return self
        view = Decisions(self.n - start)
        view.reason = self.reason[start:].copy()
        view.kept_of = _shift(self.kept_of[start:], start)
        view.similarity = self.similarity[start:].copy()
        view.evidence = {k: v[start:].copy() for k, v in self.evidence.items()}
        view.notes = {k: {i - start: v for i, v in d.items() if i >= start} for k, d in self.notes.items()}
        for name, lc in self.levels.items():
            view.levels[name] = LevelClusters(
                lc.cluster[start:].copy(), lc.size[start:].copy(), _shift(lc.keeper[start:], start)
            )
        return view

    def repeats(self, name: str) -> int:
        """Documents in level ``name``'s clusters that repeat another (all but the keepers)."""
        lc = self.levels.get(name)
        if lc is None:
            return 0
        return int(((lc.cluster >= 0) & (lc.keeper != np.arange(self.n))).sum())

    def drop(self, index: int, reason: str) -> None:
        self.reason[index] = REASONS.index(reason)

    def counts(self) -> dict[str, int]:
        """Dropped documents by reason (only reasons that occurred)."""
        values = np.bincount(self.reason, minlength=len(REASONS))
        return {REASONS[i]: int(values[i]) for i in range(1, len(REASONS)) if values[i]}


def _shift(refs: np.ndarray, start: int) -> np.ndarray:
    """Document references renumbered from ``start``; references to earlier documents become -1."""
    return np.where(refs >= start, refs - start, -1)


def number_clusters(keepers: np.ndarray) -> np.ndarray:
    """Cluster numbers 0, 1, … in the input order of each cluster's kept document.

    >>> number_clusters(np.array([7, 2, 9]))
    array([1, 0, 2])
    """
    numbered = np.empty(len(keepers), dtype=np.int64)
    numbered[np.argsort(keepers, kind="stable")] = np.arange(len(keepers))
    return numbered


def rank_positions(rank: np.ndarray) -> np.ndarray:
    """Each document's place in keep order: by rank, ties to the earlier document.

    >>> rank_positions(np.array([2.0, 1.0, 2.0]))
    array([1, 0, 2])
    """
    index = np.arange(len(rank), dtype=np.int64)
    pos = np.empty(len(rank), dtype=np.int64)
    pos[np.lexsort((index, rank))] = index
    return pos


@njit(cache=True, nogil=True)
def take_greedy(left, right, n):  # type: ignore[no-untyped-def]
    """Greedy clusters from verified (better, worse) pairs sorted by the better one's keep rank.

    Returns ``keeper_of``: the keeper of each taken document, -1 for the others.
    """
    keeper_of = np.full(n, -1, dtype=np.int64)
    for p in range(left.shape[0]):
        u = left[p]
        v = right[p]
        if keeper_of[u] != -1 or keeper_of[v] != -1:
            continue  # u was taken (it keeps nothing) or v already has a better-ranked keeper
        keeper_of[v] = u
    return keeper_of
