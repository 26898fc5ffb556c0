"""Run state under ``--out DIR/.retold-work``: what makes a run resumable after a crash.

The first pass (read → repair → signatures) goes in chunks of ``CHECKPOINT_EVERY`` documents. After
each chunk, everything the pass has built is on disk, and one file says how far it got:

* ``state.json`` — the run's *fingerprint*: retold's version, the verb, every option, and each
  input's path, size and modification time. Written once, when the run starts.
* ``checkpoint.pkl`` — after each chunk: how many input units were consumed, the counters, the
  ids, each level's in-memory arrays, and the byte size of every file the pass appends to (the
  spool, the quarantine, the levels' spill files). Written to a temporary name, fsynced, renamed:
  it is either the old checkpoint or the new one, never half of one. The parts take their snapshot
  (flushed, sizes noted); :class:`Checkpoints` then fsyncs the work folder's files and writes the
  checkpoint on a thread of its own while the run goes on, so a checkpoint names only bytes that
  are on disk, and the run does not wait for the disk at each one.

A rerun of the same command finds ``state.json`` with the same fingerprint: it cuts each file back
to its checkpointed size (bytes past it are work a crash interrupted), restores the arrays, skips
the input units already consumed (read again, not processed) and goes on. The second pass
(decisions, outputs) is redone whole; it is a small share of the time, and its outputs are
renamed into place only when complete. A finished run leaves ``summary.json`` with the same
fingerprint and no work folder: rerunning it does nothing and returns its result.

A different fingerprint (a changed input or option) is refused with a message naming
``--restart``, which discards the unfinished run. Input read from stdin cannot be re-read, so such
a run always starts afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import threading
from pathlib import Path
from typing import Any

from retold._version import __version__
from retold.corpus.sources import Source
from retold.errors import OutputNotWritable

#: Documents a chunk (~10 s of work). RETOLD_CHECKPOINT_EVERY sets it (the crash test uses small chunks).
CHECKPOINT_EVERY = int(os.environ.get("RETOLD_CHECKPOINT_EVERY", "50000"))
STATE = "state.json"
#: The folder through which the workers hand over their results (engine/parallel): no run state.
TRANSFER = "transfer"
CHECKPOINT = "checkpoint.pkl"
_PICKLE_PROTOCOL = 5


def fingerprint(sources: list[Source], options: dict[str, Any], mode: str) -> str | None:
    """A digest of what determines the run's outputs; None when an input is stdin (not re-readable)."""
    inputs: list[list[Any]] = []
    for source in sources:
        if source.error is not None:  # an unreadable unit: quarantined with its reason
            inputs.append([source.name, source.error])
            continue
        if source.path is None:
            return None
        try:
            st = source.path.stat()
        except OSError as exc:  # gone since the inputs were listed: the reader quarantines it
            inputs.append([str(source.path), exc.strerror or str(exc)])
            continue
        inputs.append([str(source.path.resolve()), st.st_size, st.st_mtime_ns])
    data = {"version": __version__, "mode": mode, "options": options, "inputs": inputs}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _fsync_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def begin(work: Path, print_: str | None, restart: bool) -> dict[str, Any] | None:
    """Start or resume the run in ``work``: the checkpoint to resume from, or None to start afresh.

    Refuses (``OutputNotWritable``) to mix an unfinished run with a different fingerprint unless
    ``restart``.
    """
    state_path = work / STATE
    if state_path.exists():
        try:
            saved = json.loads(state_path.read_text(encoding="utf-8")).get("fingerprint")
        except (OSError, ValueError):
            saved = "damaged"
        if print_ is not None and saved == print_ and not restart:
            checkpoint = load(work)
            if checkpoint is not None:
                return checkpoint
        elif saved != print_ and not restart and print_ is not None and (work / CHECKPOINT).exists():
            raise OutputNotWritable(
                f"{work.parent} holds an unfinished run of other inputs or options; rerun that command "
                "to finish it, add --restart to discard it, or choose another --out"
            )
    clear(work)
    if print_ is not None:
        _fsync_write(state_path, json.dumps({"fingerprint": print_}).encode())
    return None


class Checkpoints:
    """A run's checkpoints, each made durable on a thread while the run goes on.

    ``save`` lists the work folder's files (each part has flushed its own and noted its sizes in
    the checkpoint), and a thread fsyncs them, then writes ``checkpoint.pkl``: a checkpoint is on
    disk only once every byte it names is. The last checkpoint of a pass is taken as the decisions
    start, and its fsyncs (bench_retold's pieces: 0.18 s, 239 MB of sentence vectors) ran before
    them; now they run beside them. ``wait`` returns once the last checkpoint is written (raising
    what writing it raised): before the next, before the checkpoint is forgotten at the commit, and
    before a failed run looks whether it has one."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def save(self, checkpoint: dict[str, Any]) -> None:
        self.wait()
        files = [
            p
            for p in self.work.rglob("*")
            if p.is_file() and not p.is_symlink() and p.relative_to(self.work).parts[0] != TRANSFER
        ]
        self._thread = threading.Thread(
            target=self._write, args=(files, checkpoint), name="retold-checkpoint"
        )
        self._thread.start()

    def _write(self, files: list[Path], checkpoint: dict[str, Any]) -> None:
        try:
            for path in files:
                try:
                    fd = os.open(path, os.O_RDONLY)
                except FileNotFoundError:  # gone since it was listed: nothing to resume from
                    continue
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            _fsync_write(self.work / CHECKPOINT, pickle.dumps(checkpoint, protocol=_PICKLE_PROTOCOL))
        except BaseException as exc:  # raised in the run's own thread, by wait
            self._error = exc

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error


def load(work: Path) -> dict[str, Any] | None:
    path = work / CHECKPOINT
    if not path.exists():
        return None
    try:
        with open(path, "rb") as fh:
            checkpoint: dict[str, Any] = pickle.load(fh)  # our own file, in our own work folder
    except (OSError, pickle.UnpicklingError, EOFError, ValueError):
        return None  # unreadable: start afresh (it is replaced whole, so this means tampering)
    return checkpoint


def forget_checkpoint(work: Path) -> None:
    """No resuming from here on: the run's outputs are being put in place (a kill now means a
    rerun starts afresh)."""
    (work / CHECKPOINT).unlink(missing_ok=True)


def done(work: Path) -> None:
    """The run is complete and its outputs in place: a rerun finds it finished (even if removing
    the work folder is cut short)."""
    (work / STATE).unlink(missing_ok=True)


def clear(work: Path) -> None:
    """Forget any earlier run in ``work``: every file in it goes (the levels append to theirs)."""
    import shutil

    for path in work.iterdir():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def finished(out: Path, print_: str | None, files: tuple[str, ...]) -> dict[str, Any] | None:
    """The summary of a finished run with this fingerprint in ``out`` whose ``files`` all exist."""
    if print_ is None or (out / ".retold-work" / STATE).exists():
        return None
    if not all((out / name).exists() for name in files):
        return None
    try:
        summary: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return summary if summary.get("fingerprint") == print_ else None
