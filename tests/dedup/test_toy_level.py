"""A level registered from outside (``toy_level.py``, under 60 lines) runs through the whole engine:
scan, two workers, ``--against``, and a resume after kill -9, with no edit to ``engine/``."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import toy_level

import retold
from conftest import WORDS, check_invariant, kill_after_checkpoint, read_jsonl
from retold.dedup import registry

HERE = Path(__file__).resolve().parent
OUTPUTS = ("kept.jsonl", "dropped.jsonl", "clusters.jsonl", "quarantine.jsonl")


@pytest.fixture(autouse=True)
def first_level() -> Iterator[None]:
    registry.register(toy_level.LEVEL)
    yield
    registry.unregister("first")


def corpus(path: Path, documents: int, seed: int = 3) -> Path:
    """Stories; every tenth opens with the sentence of an earlier one and goes on differently."""
    rng = random.Random(seed)
    words = WORDS[:15]
    lines = []
    for i in range(documents):
        opening = f"The {rng.choice(words)} and the {rng.choice(words)} met at number {i}."
        if i % 10 == 9:
            opening = json.loads(lines[i - 5])["text"].split(".")[0] + "."
        body = " ".join(rng.choice(words) for _ in range(40))
        lines.append(json.dumps({"id": f"d{i}", "text": f"{opening} {body}."}))
    path.write_text("\n".join(lines) + "\n")
    return path


def outputs(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUTS}


def test_the_toy_level_drops_same_first_sentences(tmp_path: Path) -> None:
    src = corpus(tmp_path / "in.jsonl", 200)
    result = retold.scan(src, out=tmp_path / "one", levels="exact,first", drop="exact,first", first_words=11)
    check_invariant(tmp_path / "one")
    assert result.dropped == {"first": 20}
    dropped = read_jsonl(tmp_path / "one" / "dropped.jsonl")
    assert {(d["retold"]["id"], d["retold"]["kept_id"]) for d in dropped} >= {("d9", "d4"), ("d19", "d14")}
    summary = json.loads((tmp_path / "one" / "summary.json").read_text())
    assert summary["options"]["first_words"] == 11 and summary["clusters"]["first"] == 20

    retold.scan(src, out=tmp_path / "two", levels="exact,first", drop="exact,first", workers=2)
    assert outputs(tmp_path / "two") == outputs(tmp_path / "one")


def test_the_toy_level_against_an_earlier_scan(tmp_path: Path) -> None:
    src = corpus(tmp_path / "all.jsonl", 200)
    lines = src.read_text().splitlines(keepends=True)
    (tmp_path / "a.jsonl").write_text("".join(lines[:105]))
    (tmp_path / "b.jsonl").write_text("".join(lines[105:]))
    options = {"levels": "exact,first", "drop": "exact,first"}
    retold.scan(tmp_path / "a.jsonl", out=tmp_path / "A", **options)
    result = retold.scan(tmp_path / "b.jsonl", out=tmp_path / "B", against=tmp_path / "A", **options)
    retold.scan(src, out=tmp_path / "joint", **options)
    dropped = {
        d["retold"]["id"]: d["retold"]["kept_id"] for d in read_jsonl(tmp_path / "B" / "dropped.jsonl")
    }
    joint_dropped = {
        d["retold"]["id"]: d["retold"]["kept_id"] for d in read_jsonl(tmp_path / "joint" / "dropped.jsonl")
    }
    assert dropped == {k: v for k, v in joint_dropped.items() if int(k[1:]) >= 105}
    assert dropped["d109"] == "d104"  # d104 is in A
    assert result.dropped == {"first": len(dropped)}


def test_the_toy_level_resumes_after_kill(tmp_path: Path) -> None:
    src = corpus(tmp_path / "in.jsonl", 3000)
    run = (
        "import sys, toy_level; from retold.dedup import registry; registry.register(toy_level.LEVEL); "
        "from retold.cli import main; sys.argv[0] = 'retold'; main()"
    )
    env = {**os.environ, "RETOLD_CHECKPOINT_EVERY": "100", "PYTHONPATH": str(HERE)}
    command = [
        sys.executable,
        "-c",
        run,
        "scan",
        str(src),
        "--levels",
        "exact,first",
        "--drop",
        "first",
        "-q",
    ]
    subprocess.run([*command, "--out", str(tmp_path / "whole")], env=env, check=True, timeout=300)
    kill_after_checkpoint([*command, "--out", str(tmp_path / "killed")], tmp_path / "killed", env)
    subprocess.run([*command, "--out", str(tmp_path / "killed")], env=env, check=True, timeout=300)
    assert outputs(tmp_path / "killed") == outputs(tmp_path / "whole")
    help_text = subprocess.run(
        [*command[:3], "scan", "--help"], env=env, capture_output=True, text=True
    ).stdout
    help_text = " ".join(help_text.split())
    assert "--first-words" in help_text and "exact, near, retold, first" in help_text
