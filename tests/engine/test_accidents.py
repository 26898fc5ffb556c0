"""Ordinary accidents around a run: two runs at once, a bad file in a folder, a stop signal.

Real processes, real signals, real special files; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_resume import corpus, digest

import retold
from conftest import check_invariant, read_jsonl
from retold.engine import lock
from retold.errors import OutputNotWritable

ENV = {**os.environ, "RETOLD_CHECKPOINT_EVERY": "200"}


def scan_command(src: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "retold", "scan", str(src), "--out", str(out), "--quiet", *extra]


def test_a_dangling_link_and_a_fifo_in_a_folder_are_quarantined_and_the_run_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Once upon a time a fox found a blue door in the wood.", encoding="utf-8")
    (folder / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    os.mkfifo(folder / "fifo.txt")  # opened for reading, it would block the run forever
    done = subprocess.run(
        [sys.executable, "-m", "retold", "scan", str(folder), "--out", str(tmp_path / "out"), "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    summary = check_invariant(tmp_path / "out")
    assert summary["documents_in"] == 3 and summary["quarantined"] == 2
    why = {Path(q["source"]).name: q["error"] for q in read_jsonl(tmp_path / "out" / "quarantine.jsonl")}
    assert why["dangling.txt"].startswith("cannot read file: dangling symbolic link")
    assert why["fifo.txt"] == "not a regular file (a FIFO): not read"


def test_a_second_run_into_the_same_out_is_refused_naming_the_first(tmp_path: Path) -> None:
    src = corpus(tmp_path / "c.jsonl", documents=50)
    out = tmp_path / "out"
    out.mkdir()
    with lock.held(out):
        with pytest.raises(
            OutputNotWritable, match=rf"in use by another retold run \(pid {os.getpid()}, started"
        ):
            retold.scan(src, out=out)
        done = subprocess.run(scan_command(src, out), capture_output=True, text=True, timeout=120)
        assert done.returncode == 1
        assert f"pid {os.getpid()}" in done.stderr and "choose another folder" in done.stderr
    retold.scan(src, out=out)  # given back: the next run goes ahead
    assert not (out / lock.LOCK_NAME).exists()


def test_a_folder_read_with_against_is_not_written_meanwhile(tmp_path: Path) -> None:
    src = corpus(tmp_path / "c.jsonl", documents=50)
    retold.scan(src, out=tmp_path / "A")
    with lock.held(tmp_path / "A", exclusive=False), pytest.raises(OutputNotWritable, match="in use"):
        retold.scan(src, out=tmp_path / "A")
    with lock.held(tmp_path / "A", exclusive=False):  # readers share it
        retold.scan(src, out=tmp_path / "B", against=[tmp_path / "A"])


def test_a_lock_left_by_a_killed_run_is_taken_over(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from retold.engine import lock\n"
            "with lock.held(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(120)",
            str(out),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(OutputNotWritable, match=f"pid {holder.pid}"):
        retold.scan(corpus(tmp_path / "c.jsonl", documents=20), out=out)
    holder.kill()  # kill -9: its lock file stays, its lock does not
    holder.wait(timeout=30)
    assert (out / lock.LOCK_NAME).exists()
    result = retold.scan(tmp_path / "c.jsonl", out=out)
    assert result.documents_in > 0


def test_two_runs_started_together_one_finishes_one_is_refused(tmp_path: Path) -> None:
    src = corpus(tmp_path / "c.jsonl", documents=1500)
    out = tmp_path / "out"
    runs = [subprocess.Popen(scan_command(src, out), stderr=subprocess.PIPE, text=True) for _ in range(2)]
    codes = sorted(p.wait(timeout=240) for p in runs)
    errors = [p.stderr.read() for p in runs if p.stderr is not None]
    assert codes == [0, 1], errors
    assert any("in use by another retold run" in e for e in errors)
    check_invariant(out)
    clean = tmp_path / "clean"
    retold.scan(src, out=clean, quiet=True)
    assert digest(out) == digest(clean)


def _signal_after_checkpoint(
    command: list[str], out: Path, signum: int, group: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``command``, send ``signum`` once its first checkpoint is on disk (to its whole process
    group, workers included, as a terminal's Ctrl-C does, when ``group``); its exit and stderr."""
    proc = subprocess.Popen(
        command,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=group,
    )
    checkpoint = out / ".retold-work" / "checkpoint.pkl"
    deadline = time.monotonic() + 180
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before its first checkpoint"
    sent = time.monotonic()
    if group:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - sent < 30, "the run took too long to stop"
    return subprocess.CompletedProcess(command, proc.returncode, "", err)


@pytest.mark.parametrize(
    ("signum", "code", "group"),
    [(signal.SIGTERM, 143, False), (signal.SIGINT, 130, False), (signal.SIGINT, 130, True)],
    ids=["sigterm", "sigint", "ctrl-c-to-the-group"],
)
def test_a_stop_signal_with_workers_stops_cleanly_and_the_rerun_resumes(
    tmp_path: Path, signum: int, code: int, group: bool
) -> None:
    src = corpus(tmp_path / "c.jsonl", documents=6000)
    out = tmp_path / "out"
    command = scan_command(src, out, "--workers", "2", "--levels", "exact,near")
    stopped = _signal_after_checkpoint(command, out, signum, group)
    assert stopped.returncode == code, stopped.stderr
    assert "Traceback" not in stopped.stderr, stopped.stderr
    assert "rerun the same command to resume from its last checkpoint" in stopped.stderr, stopped.stderr
    assert not (out / "kept.jsonl").exists()
    again = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "resuming the run stopped part way" in again.stderr
    clean = tmp_path / "clean"
    retold.scan(src, out=clean, levels="exact,near", quiet=True)
    assert digest(out) == digest(clean)
    assert json.loads((out / "summary.json").read_text())["documents_in"] > 6000 - 1


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 2 MB tmpfs (root only: CI runs as root); unmounted after the test."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (not root?): {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_disk_keeps_the_last_outputs_leaves_no_temporaries_and_the_rerun_resumes(
    tmp_path: Path, small_disk: Path
) -> None:
    small = corpus(tmp_path / "small.jsonl", documents=40)
    big = corpus(tmp_path / "big.jsonl", documents=4000, seed=11)
    out = small_disk / "out"
    levels = ("--levels", "exact,near")
    first = subprocess.run(
        scan_command(small, out, *levels), env=ENV, capture_output=True, text=True, timeout=120
    )
    assert first.returncode == 0, first.stderr
    before = digest(out)
    full = subprocess.run(
        scan_command(big, out, *levels), env=ENV, capture_output=True, text=True, timeout=300
    )
    assert full.returncode == 1, full.stderr
    assert "no space left on the device of --out" in full.stderr and "needs about" in full.stderr, full.stderr
    assert "Traceback" not in full.stderr
    assert digest(out) == before  # the last complete outputs, whole
    left = {p.name for p in out.iterdir()} - {*digest(out), "summary.json", "index", "pairs.jsonl"}
    assert left <= {".retold-work"}, left  # temporaries only inside the work folder
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    again = subprocess.run(
        scan_command(big, out, *levels), env=ENV, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr
    clean = tmp_path / "clean"
    retold.scan(big, out=clean, levels="exact,near", quiet=True)
    assert digest(out) == digest(clean)
    assert not (out / ".retold-work").exists()


@pytest.mark.parametrize("change", ["append", "truncate", "replace"])
def test_an_input_changed_while_it_is_read_is_said_and_never_mixed_in(tmp_path: Path, change: str) -> None:
    from retold.corpus.readers import ReadOptions, read_inputs
    from retold.corpus.sources import expand_inputs
    from retold.errors import InputChanged

    src = corpus(tmp_path / "c.jsonl", documents=200)
    items = read_inputs(expand_inputs([str(src)]), ReadOptions("text", None, 1 << 24))
    next(items)  # the file is open and being read
    if change == "append":
        with open(src, "a", encoding="utf-8") as fh:
            fh.write('{"id": "late", "text": "written while the run read the file"}\n')
    elif change == "truncate":
        os.truncate(src, src.stat().st_size // 2)
    else:
        replacement = tmp_path / "new.jsonl"
        replacement.write_text('{"id": "new", "text": "another file"}\n', encoding="utf-8")
        os.replace(replacement, src)
    with pytest.raises(InputChanged, match=r"changed while it was read \((appended|truncated|replaced)"):
        list(items)


def test_a_scan_whose_input_changes_fails_with_a_message_and_writes_no_outputs(tmp_path: Path) -> None:
    src = corpus(tmp_path / "c.jsonl", documents=20000)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        scan_command(src, out, "--levels", "exact"), env=ENV, stderr=subprocess.PIPE, text=True
    )
    checkpoint = out / ".retold-work" / "checkpoint.pkl"
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    with open(src, "a", encoding="utf-8") as fh:
        fh.write('{"id": "late", "text": "written while the run read the file"}\n')
    _, err = proc.communicate(timeout=180)
    if proc.returncode == 0:  # it had read the whole file already: nothing was mixed in
        assert "late" not in (out / "kept.jsonl").read_text()
        pytest.skip("the run had finished reading before the file changed")
    assert proc.returncode == 1 and "changed while it was read (appended to" in err, err
    assert not (out / "kept.jsonl").exists()


@pytest.mark.parametrize("phase", ["write_outputs", "report_writers"])
def test_a_stop_while_the_outputs_are_written_leaves_a_resumable_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, phase: str
) -> None:
    """A stop signal raised while kept.jsonl or the report is being written (after the last
    checkpoint) must leave the parts that checkpoint points at: the rerun resumes from them."""
    import retold.engine.local as local
    import retold.report as report

    src = corpus(tmp_path / "c.jsonl", documents=600)
    out = tmp_path / "out"
    monkeypatch.setenv("RETOLD_CHECKPOINT_EVERY", "200")
    target = local if phase == "write_outputs" else report
    real = getattr(target, phase)

    def stopped(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(target, phase, stopped)
    with pytest.raises(KeyboardInterrupt):
        retold.scan(src, out=out, levels="exact,near", quiet=True)
    assert (out / ".retold-work" / "checkpoint.pkl").exists()
    monkeypatch.setattr(target, phase, real)
    retold.scan(src, out=out, levels="exact,near", quiet=True)
    clean = tmp_path / "clean"
    retold.scan(src, out=clean, levels="exact,near", quiet=True)
    assert digest(out) == digest(clean)


def test_a_full_disks_message_counts_the_levels_work_files(tmp_path: Path) -> None:
    """The retold level writes its stage's tellings to its work folder (~12x English text, bounded):
    a full disk's message says what the run needs with them."""
    import re

    from retold.corpus.sources import expand_inputs
    from retold.engine.local import _no_space

    source = corpus(tmp_path / "in.jsonl", documents=4000)
    sources = expand_inputs([str(source)])

    def needs(*levels: str) -> float:
        found = re.search(r"needs about ([\d,]+) MB", _no_space(tmp_path, sources, levels))
        assert found is not None
        return float(found.group(1).replace(",", ""))

    size = source.stat().st_size / 1e6
    assert size > 1
    assert needs("exact", "near") == pytest.approx(2 * size, abs=1)
    assert needs("exact", "near", "retold") == pytest.approx(14 * size, abs=1)
