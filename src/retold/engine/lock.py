"""One run at a time holds an output folder; folders read with ``--against`` are held for reading.

A lock is ``flock`` on ``OUT/.retold-work.lock``: the kernel lets it go when its process ends, however it
ends (kill -9 included), so a lock left by a dead run is never in force and the next run takes it
over at once; there is no PID to check for staleness and no time-out to guess. The file holds the
holder's PID, start time and command, which the refusal quotes. Writers take it exclusively,
``--against`` readers shared: two scans may read one curated folder together, but none may read it
while a run rewrites it.

The file is removed when the lock is given back. A run that opened the old file just before it
went would then hold a lock on a file no longer in the folder: after taking the lock, a run checks
that the path still names the file it locked, and tries again if not.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from retold.errors import OutputNotWritable

LOCK_NAME = ".retold-work.lock"  # beside the work folder; outputs never take this name


def _holder(path: Path) -> str:
    """Who holds the lock at ``path``, as its file says."""
    try:
        said = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        said = {}
    if not said:
        return "another retold run"
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(said.get("started", 0)))
    return f"another retold run (pid {said.get('pid')}, started {started}: {said.get('command', '')})"


@contextlib.contextmanager
def held(folder: Path, exclusive: bool = True) -> Iterator[None]:
    """Hold ``folder``'s lock for the block: exclusively to write it, shared to read it
    (``--against``). Refused at once (:class:`OutputNotWritable`) while another run holds it in a
    way that conflicts."""
    folder = Path(folder)
    path = folder / LOCK_NAME
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            what = "--out" if exclusive else "--against"
            raise OutputNotWritable(
                f"{what} {folder} is in use by {_holder(path)}; wait for it to finish, or choose "
                "another folder"
            ) from None
        except OSError:  # a filesystem without locks (some network mounts): the run goes on unheld
            os.close(fd)
            yield
            return
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder before us removed the file as we opened it: try the new one
    try:
        if exclusive:
            said = {"pid": os.getpid(), "started": time.time(), "command": " ".join(sys.argv)[:200]}
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps(said).encode())
        yield
    finally:
        # the last holder removes the file (a reader, when it can take the lock alone)
        alone = exclusive
        if not alone:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                alone = True
            except BlockingIOError:
                pass
        if alone:
            with contextlib.suppress(OSError):
                os.unlink(path)
        os.close(fd)  # closing gives the lock back


@contextlib.contextmanager
def held_all(out: Path, against: list[Path]) -> Iterator[None]:
    """``out`` held to write (created if missing) and every ``--against`` folder to read."""
    if Path(out).exists() and not Path(out).is_dir():
        raise OutputNotWritable(f"--out {out} exists and is not a folder; choose another --out")
    made = not Path(out).exists()
    try:
        Path(out).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputNotWritable(
            f"cannot write to --out {out}: {exc.strerror or exc}; choose a folder you can write to"
        ) from None
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(held(out))
            for folder in against:
                if Path(folder).is_dir():
                    stack.enter_context(held(Path(folder), exclusive=False))
            yield
    except BaseException:
        if made:  # a run that failed before writing anything leaves no folder behind
            with contextlib.suppress(OSError):
                Path(out).rmdir()  # only if empty
        raise
