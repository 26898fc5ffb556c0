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
