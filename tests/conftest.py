"""Shared fixtures. Tests that need ../shared (real labelled data) skip with a reason without it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

#: Words the synthetic test corpora are made of.
WORDS = [
    "fox",
    "hen",
    "mill",
    "river",
    "stone",
    "bread",
    "lamp",
    "wind",
    "rain",
    "field",
    "road",
    "night",
    "garden",
    "window",
    "letter",
    "bridge",
    "village",
    "market",
    "winter",
    "summer",
    "kettle",
    "candle",
    "forest",
    "meadow",
    "harbor",
    "wagon",
    "shadow",
    "silver",
    "copper",
]


requires_shared = pytest.mark.skipif(
    not (SHARED / "data").is_dir(),
    reason=f"labelled data not found at {SHARED} (the project's ../shared); these tests measure on it",
)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="\n") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def read_output(out: Path, name: str) -> list[dict[str, Any]]:
    """The rows of output table ``name`` (``kept``…), from its JSONL or its Parquet file."""
    parquet = out / f"{name}.parquet"
    if parquet.exists():
        import pyarrow.parquet as pq

        return pq.read_table(parquet).to_pylist()
    return read_jsonl(out / f"{name}.jsonl")


def check_invariant(out: Path) -> dict[str, Any]:
    """documents_in == kept + Σ dropped + quarantined, in the summary and in the files themselves."""
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    kept = len(read_output(out, "kept"))
    dropped = len(read_output(out, "dropped"))
    quarantined = len(read_output(out, "quarantine"))
    assert summary["kept"] == kept
    assert sum(summary["dropped"].values()) == dropped
    assert summary["quarantined"] == quarantined
    assert summary["documents_in"] == kept + dropped + quarantined
    return summary


@pytest.fixture
def invariant():
    return check_invariant


def kill_after_checkpoint(command: list[str], out: Path, env: dict[str, str], timeout: float = 180) -> None:
    """Start ``command`` (a scan writing to ``out``) and SIGKILL it once its first checkpoint is on
    disk; fails if the run ends before that. Every wait is bounded."""
    import signal
    import subprocess
    import time

    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = out / ".retold-work" / "checkpoint.pkl"
    deadline = time.monotonic() + timeout
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before its first checkpoint"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert checkpoint.exists()
