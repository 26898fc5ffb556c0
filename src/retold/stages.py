"""The stage protocol: a stage takes records and gives records, and counts what it did.

A stage knows nothing of the engine that runs it. Global work (grouping duplicates across the whole
corpus) belongs to a level's index (:mod:`retold.dedup.level`), which the engine feeds in order.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Iterator

from retold.records import Record


class Stage(ABC):
    """Base class. Subclasses implement :meth:`process` (one record in, one record out)."""

    name = "stage"

    def __init__(self) -> None:
        self.stats: Counter[str] = Counter()

    @abstractmethod
    def process(self, record: Record) -> Record:
        """Return the record, changed or annotated."""

    def run(self, records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            self.stats["total"] += 1
            yield self.process(record)


class BatchStage(Stage):
    """A stage that works on ``batch_size`` records at a time (one compiled or model call per
    batch), in order. Subclasses implement :meth:`process_batch`."""

    batch_size = 256

    @abstractmethod
    def process_batch(self, batch: list[Record]) -> None:
        """Annotate the records of ``batch`` in place."""

    def process(self, record: Record) -> Record:
        self.process_batch([record])
        return record

    def run(self, records: Iterable[Record]) -> Iterator[Record]:
        batch: list[Record] = []
        for record in records:
            self.stats["total"] += 1
            batch.append(record)
            if len(batch) == self.batch_size:
                self.process_batch(batch)
                yield from batch
                batch = []
        self.process_batch(batch)
        yield from batch
