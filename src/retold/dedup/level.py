"""What a duplicate level is: a name, options, a pass-1 stage and an index with one set of methods.

A level lives in one module that ends with ``LEVEL = Level(...)``; :mod:`retold.dedup.registry`
lists the modules, and the engine loops over the registry without naming any level. A run uses
a level in three steps:

1. **pass 1**, per document: the level's :attr:`Level.stage` (a :class:`~retold.stages.Stage`,
   run in this process, in worker processes or on Ray actors) puts what the level needs on
   ``record.meta[level.name]``; the engine hands each record, in input order, to the level's index
   (:meth:`LevelIndex.add`), which keeps a few bytes a document in memory and spills the rest.
2. **decide**, once, over the whole corpus: :meth:`LevelIndex.decide` marks the documents it
   finds to be copies in the shared :class:`~retold.dedup.clusters.Decisions` (levels run from the
   closest to the loosest; a document dropped by one is not looked at by the next).
3. **save**: :meth:`LevelIndex.save` writes the level's part of ``--out DIR/index/``, which
   :meth:`LevelIndex.extend` reads back when a later run is deduplicated ``--against`` it.

Between chunks of pass 1 the engine checkpoints every index (:meth:`LevelIndex.checkpoint`) and a
resumed run restores it (:meth:`LevelIndex.restore`). ``docs/architecture.md`` walks through
adding a level.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from retold.dedup.clusters import Decisions
from retold.records import Record
from retold.stages import Stage

if TYPE_CHECKING:
    from retold.dedup.saved import SavedIndex


@dataclass(frozen=True)
class DecideContext:
    """What a level may need besides its own index when it decides.

    ``skip_before``: documents numbered below it come from ``--against`` indexes and were decided
    by their own runs: a pair of two of them is not examined again. ``texts``: reads documents'
    repaired texts by number (this run's from the spool, earlier runs' from their kept.jsonl).
    ``progress(items, desc, total)``: the items (steps of the level's work), with a progress bar
    when the run shows them. ``parallel(fn, items)``: ``fn`` over ``items``, results in order, on
    the run's worker processes when it has them (``fn`` a module-level function, items and results
    picklable), else here: per-document work of a decision spread over the cores.
    """

    skip_before: int = 0
    texts: Callable[[np.ndarray], dict[int, str]] = field(default=lambda docs: {})
    progress: Callable[..., Iterable[Any]] = field(default=lambda items, desc, total=None: items)
    parallel: Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]] = field(default=map)


@dataclass
class Outcome:
    """What a level's decision found: its cluster count, figures for ``summary.json``
    (``levels.<name>``; None when the count says it all), and warnings for the user."""

    clusters: int
    figures: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)


class LevelIndex(ABC):
    """A level's per-run index. Documents are numbered in the order they are added, earlier runs'
    (:meth:`extend`) first."""

    @abstractmethod
    def add(self, record: Record, rank: float) -> None:
        """The next document of this run; ``rank`` orders who keeps a cluster (lower stays)."""

    @abstractmethod
    def extend(self, saved: SavedIndex, rank: float) -> None:
        """Every document of an earlier run, from its saved index, all of rank ``rank``."""

    @abstractmethod
    def parameters(self) -> dict[str, Any]:
        """What an index saved by another run must share with this one to be used ``--against``."""

    @abstractmethod
    def checkpoint(self) -> dict[str, Any]:
        """Flush the index's files (to the system: the engine fsyncs every file of the work folder
        before a checkpoint names it); the in-memory state and file sizes that :meth:`restore`
        starts from."""

    @abstractmethod
    def restore(self, state: dict[str, Any]) -> None:
        """Go on from a checkpoint (files cut back to their checkpointed sizes)."""

    @abstractmethod
    def decide(self, decisions: Decisions, context: DecideContext) -> Outcome:
        """Find copies among the documents still kept in ``decisions`` and mark them there."""

    @abstractmethod
    def save(self, dest: Path, start: int, kept: np.ndarray) -> dict[str, Any]:
        """Write this run's documents (numbered from ``start``) into the index folder ``dest``;
        ``kept``: their numbers (from 0) that were kept. Returns the level's manifest entry."""

    def close(self) -> None:  # noqa: B027 - most levels hold no open file
        """Release open files; the files themselves stay until the run is complete."""


@dataclass(frozen=True)
class Replay:
    """How ``retold recut`` makes a level's decision again without its models, from the verified
    pairs a scan wrote to pairs.jsonl: the level verifies at a floor (``gains(options)`` gives
    ``(floor, threshold)``) and applies its threshold ``threshold_option`` last, to each pair's
    similarity as reported; so at a higher threshold its pairs are those of the scan that reach
    it. ``saved(index_dir, manifest_entry, kept)``: the level's part of the new index/ for the
    documents ``kept`` now, from the scan's (None when it cannot be made from it).

    A level without a Replay is decided again by recut from the saved texts, with its own stage
    and index (cheap for levels that hash)."""

    threshold_option: str
    gains: Callable[[Any], tuple[float, float]]
    saved: Callable[[Path, dict[str, Any], np.ndarray], Any]


def no_work_space(size: int) -> int:
    """A level whose index writes a few bytes a document and nothing more."""
    return 0


@dataclass(frozen=True)
class Level:
    """One duplicate level, as the registry lists it.

    ``options``: a frozen dataclass whose fields are declared with :func:`retold.options.option`
    (they become CLI options and API keywords) and whose ``__post_init__`` checks them together.
    ``stage(options)``: the pass-1 stage. ``index(work, options, stage)``: the index, with a folder
    of its own for spill files. ``on``: detected unless ``--levels`` says otherwise; ``drops``:
    removed unless ``--drop`` says otherwise (else reported in clusters.jsonl and kept).
    ``replay``: how recut decides the level again from pairs.jsonl (:class:`Replay`; None: from
    the texts, with the level's own stage and index). ``score``: what the level's similarity is,
    as a person reads it (the report labels pairs with it). ``work_space(size)``: the most bytes
    its index writes to its folder for inputs of ``size`` bytes, beyond a few a document (what a
    full disk's message adds to the run's own need).
    """

    name: str
    about: str
    options: type
    stage: Callable[[Any], Stage]
    index: Callable[[Path, Any, Stage], LevelIndex]
    on: bool = True
    drops: bool = True
    replay: Replay | None = None
    score: str = "similarity"
    work_space: Callable[[int], int] = no_work_space  # (module functions: a Level is pickled)
