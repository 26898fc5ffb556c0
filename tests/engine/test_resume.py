"""Resumable runs: kill -9 at random points, rerun, and the outputs are those of an unbroken run."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import retold
from conftest import WORDS, check_invariant

OUTPUTS = (
    "kept.jsonl",
    "dropped.jsonl",
    "quarantine.jsonl",
    "clusters.jsonl",
    "report.json",
    "report.html",
    "premises.jsonl",
)


def corpus(path: Path, documents: int = 3000, seed: int = 7) -> Path:
    """Stories with exact and near copies, mojibake, and broken lines, as one JSONL file."""
    rng = random.Random(seed)
    lines = []
    originals: list[str] = []
    for i in range(documents):
        kind = rng.random()
        if originals and kind < 0.08:
            text = rng.choice(originals)  # exact copy
        elif originals and kind < 0.16:
            words = rng.choice(originals).split()
            for _ in range(3):
                words[rng.randrange(len(words))] = rng.choice(WORDS)
            text = " ".join(words)  # near copy
        else:
            text = " ".join(rng.choice(WORDS) for _ in range(60)) + f" number {i}."
            if kind > 0.97:
                text = "The café by the " + text.replace("fox", "caf√©")
            originals.append(text)
        lines.append(json.dumps({"id": f"d{i}", "text": text}))
        if kind < 0.005:
            lines.append('{"id": "broken", "text": "unterminated')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def digest(out: Path) -> dict[str, str]:
    return {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in OUTPUTS}


def run(src: Path, out: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "retold", "scan", str(src), "--out", str(out), "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.timeout(900)
def test_kill_9_at_random_points_then_resume_gives_identical_outputs(tmp_path: Path) -> None:
    src = corpus(tmp_path / "corpus.jsonl", documents=1500)
    env = {**os.environ, "RETOLD_CHECKPOINT_EVERY": "75"}
    t = time.perf_counter()
    ref = run(src, tmp_path / "ref", env)
    _, err = ref.communicate(timeout=300)
    assert ref.returncode == 0, err.decode()
    wall = time.perf_counter() - t
    expected = digest(tmp_path / "ref")
    summary = check_invariant(tmp_path / "ref")
    assert summary["dropped"].get("exact") and summary["dropped"].get("near") and summary["quarantined"]

    # Five campaigns of at most three runs: two killed at random moments (within the reference's
    # wall, so a fresh run is nearly always still going; a resumed one may have finished), then one
    # left to finish. A fixed number of runs keeps the test's cost a fixed multiple of one run's,
    # which is what lets it finish under load (a loop until some number of kills landed did not).
    rng = random.Random(2026)
    kills, resumed = 0, 0
    for campaign in range(5):
        out = tmp_path / f"run{campaign}"
        for attempt in range(3):
            proc = run(src, out, env)
            if attempt < 2:
                time.sleep(rng.uniform(0.05, 0.9) * wall)
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    proc.communicate()
                    kills += 1
                    resumed += (out / ".retold-work" / "checkpoint.pkl").exists()
                    continue
            try:
                _, err = proc.communicate(timeout=300)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise
            assert proc.returncode == 0, err.decode()
            break
        assert digest(out) == expected, f"campaign {campaign}: outputs differ from the unbroken run"
        check_invariant(out)
        assert not (out / ".retold-work").exists()
    # a fresh run outlives its kill moment unless it ran faster than the reference by a tenth (the
    # reference may have compiled numba's functions on a fresh clone: a floor, not the expected 7+)
    assert kills >= 3, f"only {kills} of 10 kills landed"
    # a kill with a checkpoint on disk (the run's own, or the one it resumed from)
    assert resumed >= 2, f"only {resumed} of {kills} kills came after a checkpoint"


def test_finished_run_is_not_redone_and_changes_are_refused(tmp_path: Path) -> None:
    from retold.engine import state
    from retold.errors import OutputNotWritable

    src = corpus(tmp_path / "c.jsonl", documents=300)
    out = tmp_path / "o"
    first = retold.scan(src, out=out)
    again = retold.scan(src, out=out)
    assert "finished already" in again.warnings[-1]
    # killed while its work folder was being removed (after state.done): the rest goes on a rerun
    (out / ".retold-work" / "retold").mkdir(parents=True)
    (out / ".retold-work" / "spool.jsonl").write_text("{}\n")
    retold.scan(src, out=out)
    assert not (out / ".retold-work").exists()

    # an unfinished run (state and checkpoint left by a crash) of other options is refused
    work = out / ".retold-work"
    work.mkdir()
    (work / state.STATE).write_text(json.dumps({"fingerprint": "another run"}), encoding="utf-8")
    checkpoints = state.Checkpoints(work)
    checkpoints.save({"n": 0})
    checkpoints.wait()
    with pytest.raises(OutputNotWritable, match="--restart"):
        retold.scan(src, out=out, keep="longest")
    result = retold.scan(src, out=out, keep="longest", restart=True)
    assert result.documents_in == first.documents_in  # read whole, from the start
    assert not work.exists()


def test_changed_input_is_a_new_run(tmp_path: Path) -> None:
    src = corpus(tmp_path / "c.jsonl", documents=200)
    out = tmp_path / "o"
    first = retold.scan(src, out=out)
    with open(src, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "new", "text": "a brand new story about the mill"}) + "\n")
    second = retold.scan(src, out=out)
    assert second.documents_in == first.documents_in + 1
    assert not any("finished already" in w for w in second.warnings)


@pytest.mark.timeout(300)
def test_workers_give_the_same_outputs(tmp_path: Path) -> None:
    src = corpus(tmp_path / "c.jsonl", documents=1500)
    one = retold.scan(src, out=tmp_path / "one", workers=1)
    two = retold.scan(src, out=tmp_path / "two", workers=2)
    assert digest(tmp_path / "one") == digest(tmp_path / "two")
    assert one.repaired == two.repaired and one.repairs == two.repairs and one.repaired > 0
    summary = json.loads((tmp_path / "two" / "summary.json").read_text(encoding="utf-8"))
    assert summary["workers"] == 2


def test_a_checkpoint_is_written_once_every_file_it_names_is_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkpoint is made durable on a thread: each file of the work folder is fsynced before
    checkpoint.pkl is written, and the run's thread sees it only after ``wait``."""
    import threading

    from retold.engine import state

    work = tmp_path / ".retold-work"
    (work / "retold").mkdir(parents=True)
    for name in ("spool.jsonl", "retold/tellings.f32"):
        (work / name).write_bytes(b"x" * 100)
    synced: list[str] = []
    release = threading.Event()
    real = os.fsync

    def fsync(fd: int) -> None:
        release.wait(10)
        synced.append(os.path.relpath(os.readlink(f"/proc/self/fd/{fd}"), work))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    checkpoints = state.Checkpoints(work)
    checkpoints.save({"consumed": 7})
    assert not (work / state.CHECKPOINT).exists()  # the run goes on while the disk catches up
    release.set()
    checkpoints.wait()
    assert sorted(synced[:2]) == ["retold/tellings.f32", "spool.jsonl"]
    assert synced[2:] == ["checkpoint.pkl.tmp"]
    assert state.load(work) == {"consumed": 7}


def test_a_checkpoint_that_cannot_be_written_raises_in_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error on the checkpoint's thread (a full disk at fsync) is raised by ``wait``, in the
    run's own thread, and leaves the earlier checkpoint in place."""
    import errno

    from retold.engine import state

    work = tmp_path / ".retold-work"
    work.mkdir()
    (work / "spool.jsonl").write_bytes(b"x")
    checkpoints = state.Checkpoints(work)
    checkpoints.save({"consumed": 1})
    checkpoints.wait()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    checkpoints.save({"consumed": 2})
    with pytest.raises(OSError, match="No space"):
        checkpoints.wait()
    assert state.load(work) == {"consumed": 1}
    checkpoints.wait()  # raised once


def test_a_stop_while_a_checkpoint_is_written_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop that comes while the checkpoint's thread still writes: the run waits for it before it
    looks for a checkpoint to keep, so the rerun resumes from it (not: the work folder removed
    under the thread)."""
    from retold.engine import state

    monkeypatch.setattr(state, "CHECKPOINT_EVERY", 100)
    write, save = state.Checkpoints._write, state.Checkpoints.save

    def slow_write(self: state.Checkpoints, files: list[Path], checkpoint: dict) -> None:
        time.sleep(0.5)
        write(self, files, checkpoint)

    def save_then_stop(self: state.Checkpoints, checkpoint: dict) -> None:
        save(self, checkpoint)
        raise KeyboardInterrupt

    monkeypatch.setattr(state.Checkpoints, "_write", slow_write)
    monkeypatch.setattr(state.Checkpoints, "save", save_then_stop)
    src = corpus(tmp_path / "c.jsonl", documents=300)
    with pytest.raises(KeyboardInterrupt) as stopped:
        retold.scan(src, out=tmp_path / "o", levels="exact,near", workers=1)
    assert (getattr(stopped.value, "resume_from", None) or 0) >= 100  # the checkpoint it kept
    monkeypatch.undo()
    resumed = retold.scan(src, out=tmp_path / "o", levels="exact,near", workers=1)
    fresh = retold.scan(src, out=tmp_path / "fresh", levels="exact,near", workers=1)
    assert resumed.documents_in == fresh.documents_in
    assert digest(tmp_path / "o") == digest(tmp_path / "fresh")
