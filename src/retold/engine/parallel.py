"""Pass 1's per-document stages, in this process or spread over worker processes.

The per-document work (repair, exact digest, MinHash sketch, static embedding) is independent from
one document to the next; the engine reads the input in one process (reading is ~10 µs a document,
repair ~100 µs) and hands batches of records to ``workers`` processes, which run the same stages
and send the annotated records back **in order** (``Pool.imap``), so the outputs do not depend on
the number of workers. Processes, not threads: repair is Python (ftfy), which holds the GIL.
Workers are started with ``spawn``: numba's thread pool and torch are not safe to fork once used.
Large arrays of the results (the retold level's sentence vectors) come back through files of the
run's work folder, mapped by this process (:func:`_pack`), the rest through the pool's pipe.
The same workers then take the per-document part of the levels' decisions (``Workers.map``: the
retold level cuts the candidate documents the stage left into sentence vectors there), their
results handed back the same way, and close after them.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import mmap
import multiprocessing
import multiprocessing.pool
import os
import pickle
import shutil
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from retold.config import ScanConfig
from retold.records import Record
from retold.stages import Stage

BATCH = 512  # records a task: large enough that pickling is a small share of the work
AUTO_BYTES = 16 << 20  # inputs smaller than this run in one process (starting workers costs ~2 s)


def make_stages(config: ScanConfig, detects: bool) -> list[Stage]:
    """Pass 1's per-document stages, in order: repair (unless switched off), then the stage of each
    level in ``config.levels`` when the verb ``detects`` duplicates."""
    from retold.dedup import registry
    from retold.repair.stage import RepairStage

    stages: list[Stage] = [RepairStage(config.text_field)] if config.repair else []
    if detects:
        for name in config.levels:
            stages.append(registry.level(name).stage(config.options(name)))
    return stages


def auto_workers(workers: int | None, input_bytes: int) -> int:
    """``workers`` as given, or (None) every core for inputs of 16 MiB or more, else 1."""
    if workers is not None:
        return max(1, workers)
    return (os.cpu_count() or 1) if input_bytes >= AUTO_BYTES else 1


_STAGES: list[Stage] = []
#: Where a worker puts the large arrays of its results (:func:`_pack`); None: all in the pipe.
_TRANSFER: Path | None = None
#: Arrays of this many bytes or more go through :data:`_TRANSFER`.
TRANSFER_BYTES = 1 << 20


def _init(config: ScanConfig, detects: bool, extra_levels: list[Any], transfer: Path | None = None) -> None:
    """A worker's stages. ``extra_levels``: levels registered in the parent beyond the built-in
    ones (a plugin's, a test's), registered here too. ``transfer``: see :func:`_pack`."""
    global _STAGES, _TRANSFER
    _TRANSFER = transfer
    from retold.dedup import registry

    # Ctrl-C reaches every process of the terminal's group: the parent alone stops the run (it ends
    # the workers), so a worker neither prints a traceback nor dies half-way through a batch
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    for level in extra_levels:
        registry.register(level)
    _STAGES = make_stages(config, detects)
    _worker_runtime()


def _worker_runtime() -> None:
    """A worker is one of a process per core: numba's parallel loops run on one thread in it (a
    thread per core in each worker was twice the threads the cores have), and the garbage
    collector neither walks the modules and models loaded so far (``gc.freeze``) nor stops every
    700 new objects (a batch makes ~10^6 lists and tuples, few of them in cycles). Together they
    took the workers' CPU on bench_retold's pieces from 10.6 to 9.6 s and on slop-score from 9.7
    to 9.2 s (3 runs each, the same bits out)."""
    import gc

    import numba

    numba.set_num_threads(1)
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def extra_levels() -> list[Any]:
    """The levels registered in this process beyond the built-in ones (for workers to register)."""
    from retold.dedup import registry

    return [lv for lv in registry.levels() if lv.name not in registry.BUILTIN_NAMES]


def run_stages(batch: list[Record]) -> tuple[list[Record], list[dict[str, int]]]:
    """A batch through this worker's stages: the records, and each stage's counts."""
    records: Iterable[Record] = iter(batch)
    for stage in _STAGES:
        records = stage.run(records)
    out = list(records)
    stats = [dict(stage.stats) for stage in _STAGES]
    for stage in _STAGES:
        stage.stats.clear()
    return out, stats


class _Packed(NamedTuple):
    """A worker's result: its pickle, and the files holding its large arrays (path, bytes)."""

    data: bytes
    files: list[tuple[str, int]]


def _call(fn: Callable[[Any], Any], item: Any) -> Any:
    """``fn(item)`` on a worker, packed (:func:`_pack`) where the run gave a transfer folder."""
    result = fn(item)
    return result if _TRANSFER is None else _pack(result, _TRANSFER)


def _received(result: Any) -> Any:
    return _unpack(result) if isinstance(result, _Packed) else result


_SENT = itertools.count()  # this worker's transfer files so far (their names)


def _pack(result: Any, folder: Path) -> _Packed:
    """``result`` pickled, each array of :data:`TRANSFER_BYTES` or more written to a file of
    its own in ``folder`` instead (out of band: pickle's protocol 5), for :func:`_unpack`.

    A batch's results carry the retold level's sentence vectors, ~17 MB a batch on bench_retold's
    pieces. Through the pool's pipe they were pickled (26 ms a batch), written and read 64 KB at a
    time (~45 ms, ~35 ms of it the reading process's CPU) and unpickled (7 ms): a copy of every
    byte at each step, on the cores the stages need, and the worker idle till the last was read.
    Through a file they are written once and the main process maps the file's pages (the level
    writes them on to its spill file from there): pieces' read 4.53 -> 4.08 s, slop-score's
    4.60 -> 4.22 s (4 interleaved runs). The file is in the run's work folder, on the disk of
    ``--out``: a full disk fails the batch with the disk's own error, as any write of the run."""
    files: list[tuple[str, int]] = []

    def out_of_band(buffer: pickle.PickleBuffer) -> bool:
        raw = buffer.raw()
        if raw.nbytes < TRANSFER_BYTES:
            return True  # in the pickle
        path = folder / f"{os.getpid()}-{next(_SENT)}"
        with open(path, "wb") as fh:
            fh.write(raw)
        files.append((str(path), raw.nbytes))
        return False

    return _Packed(pickle.dumps(result, protocol=5, buffer_callback=out_of_band), files)


def _unpack(packed: _Packed) -> Any:
    """What :func:`_pack` packed; each file mapped (copy on write), then removed: its pages stay
    until the arrays on them are freed."""
    buffers: list[Any] = []
    for path, size in packed.files:
        with open(path, "rb") as fh:
            try:
                buffers.append(
                    mmap.mmap(
                        fh.fileno(),
                        size,
                        flags=mmap.MAP_PRIVATE | getattr(mmap, "MAP_POPULATE", 0),
                        prot=mmap.PROT_READ | mmap.PROT_WRITE,
                    )
                )
            except OSError:  # a file system that cannot map files: read
                buffers.append(bytearray(fh.read()))
        os.unlink(path)
    return pickle.loads(packed.data, buffers=buffers)


@contextlib.contextmanager
def _script_not_rerun(levels: list[Any]) -> Iterator[None]:
    """Start workers without running the caller's script in them.

    A spawned worker first runs the parent's ``__main__`` script again (as ``__mp_main__``), so
    that functions defined there can be found. A script that calls ``retold.scan`` without an
    ``if __name__ == "__main__":`` guard then starts a scan in every worker, which fails, and the
    pool starts another worker, forever. The workers run retold's stages only: while they start,
    the script is hidden from multiprocessing, unless a level registered in it must be found there.
    """
    main = sys.modules.get("__main__")
    kept = {k: getattr(main, k) for k in ("__file__", "__spec__") if hasattr(main, k)}
    if main is None or not kept.get("__file__") or any(_from_main(lv) for lv in levels):
        yield
        return
    del main.__file__
    main.__spec__ = None
    try:
        yield
    finally:
        for k, v in kept.items():
            setattr(main, k, v)


def _from_main(level: Any) -> bool:
    return any(
        getattr(part, "__module__", None) == "__main__"
        for part in (
            level,
            getattr(level, "options", None),
            getattr(level, "stage", None),
            getattr(level, "index", None),
        )
    )


class _Pool(multiprocessing.pool.Pool):
    """``multiprocessing``'s pool, whose worker handler waits for what it acts on alone.

    The handler thread replaces dead workers and, once the pool is closed, ends when its tasks are
    done. It waits on the workers' sentinels, on a queue the pool notifies when it is closed or its
    tasks are all done, and (CPython's own pool, since 3.8) on the results pipe too, though it
    reads nothing from it. While results of tens of megabytes a batch went through that pipe (the
    retold level's sentence vectors, before :func:`_pack` sent them through files), it held data
    most of the read, the wait returned at once, and the handler spun: 34,635 turns through
    bench_retold's pieces (3 waits without the pipe), each taking the GIL from the threads that
    feed and read the workers; without it the read took 4.67-4.84 s against 4.98-5.36 s on
    pieces (3 interleaved runs). Results still go through the pipe whole where a pool has no
    transfer folder. A worker's death and the notifications still wake the handler."""

    def _get_sentinels(self) -> list[Any]:
        return [self._change_notifier._reader]  # type: ignore[attr-defined]


class Workers:
    """A pool of worker processes running pass 1's stages; ``run`` keeps the input order.
    ``transfer``: a folder (the run's work folder's) through which the workers hand over the large
    arrays of their results (:func:`_pack`); None: the pipe."""

    def __init__(self, workers: int, config: ScanConfig, detects: bool, transfer: Path | None = None) -> None:
        context = multiprocessing.get_context("spawn")
        levels = extra_levels()
        if transfer is not None:  # what a stopped run left in it was never read: it goes
            shutil.rmtree(transfer, ignore_errors=True)
            transfer.mkdir(parents=True)
        with _script_not_rerun(levels):
            self.pool = _Pool(
                workers, initializer=_init, initargs=(config, detects, levels, transfer), context=context
            )

    def run(self, records: Iterable[Record], stages: list[Stage]) -> Iterator[Record]:
        """The records annotated by the workers; their counts are added to ``stages``' stats."""
        it = iter(records)
        batches = iter(lambda: list(itertools.islice(it, BATCH)), [])
        for out, stats in self.map(run_stages, batches):
            for stage, counts in zip(stages, stats, strict=True):
                stage.stats.update(counts)
            yield from out

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """``fn`` (a module-level function) over ``items`` on the workers, results in order: a
        level's decision hands its per-document work here (:class:`~retold.dedup.level.DecideContext`)."""
        return map(_received, self.pool.imap(functools.partial(_call, fn), items))

    def close(self, wait: bool = True) -> None:
        """No more tasks; the workers exit once theirs are done (``wait``: wait for them)."""
        self.pool.close()
        if wait:
            self.pool.join()

    def terminate(self) -> None:
        self.pool.terminate()
        self.pool.join()
