"""Pass 1's per-document stages, in this process or spread over worker processes.

The per-document work (repair, exact digest, MinHash sketch, static embedding) is independent from
one document to the next; the engine reads the input in one process (reading is ~10 µs a document,
repair ~100 µs) and hands batches of records to ``workers`` processes, which run the same stages
and send the annotated records back **in order** (``Pool.imap``), so the outputs do not depend on
the number of workers. Processes, not threads: repair is Python (ftfy), which holds the GIL.
Workers are started with ``spawn``: numba's thread pool and torch are not safe to fork once used.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from typing import Any

from retold.config import ScanConfig
from retold.records import Record
from retold.stages import Stage

BATCH = 512  # records a task: large enough that pickling is a small share of the work
AUTO_BYTES = 16 << 20  # inputs smaller than this run in one process (starting workers costs ~2 s)


def make_stages(config: ScanConfig, mode: str) -> list[Stage]:
    """The per-document stages of pass 1, in order, for ``config`` and the verb ``mode``."""
    from retold.dedup.exact import ExactSignature
    from retold.repair.stage import RepairStage

    stages: list[Stage] = []
    detect = mode in ("scan", "audit")
    if config.repair:
        stages.append(RepairStage(config.text_field))
    if detect and "exact" in config.levels:
        stages.append(ExactSignature())
    if detect and "near" in config.levels:
        from retold.dedup.near import NearSketch  # numba: only when the level runs

        stages.append(NearSketch(config.near_options().hasher()))
    if detect and "retold" in config.levels:
        from retold.dedup.semantic import RetoldEmbed
        from retold.embed import load

        stages.append(RetoldEmbed(load(config.retold_options().embedder, kind="static")))
    return stages


def auto_workers(workers: int | None, input_bytes: int) -> int:
    """``workers`` as given, or (None) every core for inputs of 16 MiB or more, else 1."""
    if workers is not None:
        return max(1, workers)
    return (os.cpu_count() or 1) if input_bytes >= AUTO_BYTES else 1


_STAGES: list[Stage] = []


def _init(config: ScanConfig, mode: str) -> None:
    global _STAGES
    _STAGES = make_stages(config, mode)


def _run_batch(batch: list[Record]) -> tuple[list[Record], list[dict[str, int]]]:
    records: Iterable[Record] = iter(batch)
    for stage in _STAGES:
        records = stage.run(records)
    out = list(records)
    stats = [dict(stage.stats) for stage in _STAGES]
    for stage in _STAGES:
        stage.stats.clear()
    return out, stats


class Workers:
    """A pool of worker processes running pass 1's stages; ``run`` keeps the input order."""

    def __init__(self, workers: int, config: ScanConfig, mode: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.pool = context.Pool(workers, initializer=_init, initargs=(config, mode))

    def run(self, records: Iterable[Record], stages: list[Stage]) -> Iterator[Record]:
        """The records annotated by the workers; their counts are added to ``stages``' stats."""
        it = iter(records)
        batches = iter(lambda: list(itertools.islice(it, BATCH)), [])
        for out, stats in self.pool.imap(_run_batch, batches):
            for stage, counts in zip(stages, stats, strict=True):
                stage.stats.update(counts)
            yield from out

    def close(self) -> None:
        self.pool.close()
        self.pool.join()

    def terminate(self) -> None:
        self.pool.terminate()
        self.pool.join()


def describe(workers: int) -> dict[str, Any]:
    return {"workers": workers, "start_method": "spawn" if workers > 1 else None}
