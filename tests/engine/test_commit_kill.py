"""A kill at any instant of putting the outputs in place: the rerun finishes the run, with the
outputs of an unbroken one (a kill after quarantine.part moved into place used to leave a checkpoint
pointing at it, and the rerun failed: 'the run state is damaged')."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import check_invariant

OUTPUTS = ("kept.jsonl", "dropped.jsonl", "clusters.jsonl", "pairs.jsonl", "quarantine.jsonl", "summary.json")
KILL_AT = """
import os, sys, shutil
from retold.corpus.writers import AtomicWriter
from retold.engine import local
at = int(sys.argv[3])
calls = [0]
def kill_here(*args, **kwargs):
    calls[0] += 1
    if calls[0] == at:
        os._exit(9)
    return original(*args, **kwargs)
if sys.argv[4] == "commit":
    original = AtomicWriter.commit
    AtomicWriter.commit = kill_here
else:
    original = shutil.rmtree
    local.shutil.rmtree = kill_here
import retold
retold.scan(sys.argv[1], out=sys.argv[2], quiet=True)
"""


def corpus(path: Path) -> Path:
    lines = [
        f'{{"id": "{i}", "text": "Story {i % 40} of a fox, a hen and a mill by the river."}}'
        for i in range(300)
    ]
    lines.append('{"id": "broken", "text": "no end')
    path.write_text("\n".join(lines) + "\n")
    return path


def outputs(out: Path) -> dict[str, bytes]:
    got = {name: (out / name).read_bytes() for name in OUTPUTS}
    import json

    summary = json.loads(got.pop("summary.json"))
    return {
        **got,
        "counts": repr({k: summary[k] for k in ("documents_in", "kept", "dropped", "quarantined")}),
    }


@pytest.mark.parametrize("where, at", [("commit", 1), ("commit", 3), ("commit", 6), ("rmtree", 1)])
def test_a_kill_while_the_outputs_go_in_place_is_never_fatal(tmp_path: Path, where: str, at: int) -> None:
    src = corpus(tmp_path / "in.jsonl")
    env = {**os.environ, "RETOLD_CHECKPOINT_EVERY": "100"}
    subprocess.run(
        [sys.executable, "-m", "retold", "scan", str(src), "-o", str(tmp_path / "whole"), "-q"],
        env=env,
        check=True,
        timeout=300,
    )
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AT, str(src), str(tmp_path / "o"), str(at), where], env=env, timeout=300
    )
    assert killed.returncode == 9
    rerun = subprocess.run(
        [sys.executable, "-m", "retold", "scan", str(src), "-o", str(tmp_path / "o"), "-q"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert outputs(tmp_path / "o") == outputs(tmp_path / "whole")
    check_invariant(tmp_path / "o")
    assert not (tmp_path / "o" / ".retold-work" / "state.json").exists()
