"""Worker processes: a script that calls retold without a ``__main__`` guard still runs."""

from __future__ import annotations

import json
import multiprocessing.pool
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """\
import retold
r = retold.scan({corpus!r}, out={out!r}, workers=2, report=False, quiet=True)
print("done", r.documents_in, r.kept + sum(r.dropped.values()))
"""


def test_script_without_main_guard_runs_with_workers(tmp_path: Path) -> None:
    """Spawned workers used to run such a script again, fail to start, and be started again
    forever (issue 19); now they start without it and the scan ends as in a guarded script."""
    corpus = tmp_path / "in.jsonl"
    corpus.write_text(
        "".join(
            json.dumps({"text": f"Mira walked to mill {chr(97 + i % 26)}{i} and found a letter there."})
            + "\n"
            for i in range(200)
        )
    )
    script = tmp_path / "unguarded.py"
    script.write_text(SCRIPT.format(corpus=str(corpus), out=str(tmp_path / "out")))
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=240, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["done", "200", "200"]
    assert "bootstrapping phase" not in done.stderr


def test_the_pools_handler_waits_while_large_results_arrive(monkeypatch: pytest.MonkeyPatch) -> None:
    """CPython's pool handler also woke on the results pipe, which large results keep readable:
    it spun, taking the GIL from the threads feeding and reading the workers (34,635 turns through
    bench_retold's pieces). Now it wakes only on what it acts on."""
    from retold.config import ScanConfig
    from retold.engine import parallel

    turns = [0]
    wait = multiprocessing.pool.Pool._wait_for_updates

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        turns[0] += 1
        return wait(*args, **kwargs)

    monkeypatch.setattr(multiprocessing.pool.Pool, "_wait_for_updates", staticmethod(counted))
    workers = parallel.Workers(2, ScanConfig(), detects=False)
    try:
        sizes = [len(b) for b in workers.map(bytes, [16 << 20] * 24)]  # 384 MB through the pipe
    finally:
        workers.close()
    assert sizes == [16 << 20] * 24
    assert turns[0] < 20


def test_large_arrays_come_back_through_files_that_then_go(tmp_path: Path) -> None:
    """A worker writes each array of a megabyte or more of its results to a file of the transfer
    folder and pickles the rest; the main process maps the files, removes them, and gets the same
    results, arrays it may write to (copy on write: the file is not changed)."""
    import numpy as np

    from retold.engine import parallel

    folder = tmp_path / "transfer"
    folder.mkdir()
    big = np.arange(2560 * 256, dtype=np.float32).reshape(-1, 256)  # 2.6 MB
    small = np.ones(1000, dtype=np.float32)
    result = ([{"meta": (big, 0, 10, b"parts")}, {"meta": (small, big)}], [{"documents": 2}])
    packed = parallel._pack(result, folder)
    assert len(packed.files) == 1 and packed.files[0][1] == big.nbytes  # the same array once
    assert len(packed.data) < 10_000
    back = parallel._unpack(packed)
    assert not any(folder.iterdir())
    (first, second), stats = back
    assert stats == [{"documents": 2}]
    assert np.array_equal(first["meta"][0], big) and first["meta"][1:] == (0, 10, b"parts")
    assert np.array_equal(second["meta"][0], small) and second["meta"][1] is first["meta"][0]
    first["meta"][0][0, 0] = -1.0
    assert first["meta"][0][0, 0] == -1.0


def test_a_transfer_that_cannot_be_written_fails_the_batch(tmp_path: Path) -> None:
    """A full disk (here: a folder that is gone) while a worker writes its results raises in that
    worker, and so in the run, as any error of a batch does: nothing is sent half written."""
    import numpy as np

    from retold.engine import parallel

    with pytest.raises(FileNotFoundError):
        parallel._pack(([np.zeros(1 << 20, dtype=np.float32)], []), tmp_path / "gone")


def test_workers_hand_back_large_arrays_through_the_transfer_folder(tmp_path: Path) -> None:
    """``Workers.map`` (as ``run``) with a transfer folder: the arrays come back whole and in
    order, and no file is left in the folder."""
    import numpy as np

    from retold.config import ScanConfig
    from retold.engine import parallel

    folder = tmp_path / "work" / "transfer"
    folder.mkdir(parents=True)
    (folder / "left-by-a-stopped-run").write_bytes(b"x")
    workers = parallel.Workers(2, ScanConfig(), detects=False, transfer=folder)
    try:
        sizes = [1 << 18, 1 << 10, 1 << 19, 3]
        arrays = list(workers.map(np.ones, sizes))  # 2 MB, 8 KB, 4 MB, 24 bytes of float64
    finally:
        workers.close()
    assert [len(a) for a in arrays] == sizes and all(bool((a == 1).all()) for a in arrays)
    assert [_mapped(a) for a in arrays] == [True, False, True, False]  # from a file: a megabyte or more
    assert not any(folder.iterdir())


def _mapped(array: object) -> bool:
    """Whether ``array``'s memory is a mapped file's."""
    import mmap

    while not isinstance(array, memoryview) and getattr(array, "base", None) is not None:
        array = array.base  # type: ignore[attr-defined]
    return isinstance(array, memoryview) and isinstance(array.obj, mmap.mmap)
