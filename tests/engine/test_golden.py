"""Outputs pinned by digest: how the code is held may change, what a run writes may not.

The fixture corpora in ``tests/data/golden`` cover every level (exact and near copies planted by
the demo generator, a retold pair written for this test), repair (mojibake), quarantine (broken
JSON, invalid UTF-8, a record without text), empty texts, repeated ids and hostile HTML. Each run
below writes its outputs; every file's SHA-256 is compared with :data:`PINNED`, taken from the code
before the engine was redesigned. ``summary.json`` is compared without what describes the machine
or the moment (timings, engine, workers) and without the fingerprint (it holds absolute paths and
modification times).

When a change is *meant* to change outputs (a new default, a fixed defect), regenerate the pins
with ``RETOLD_PRINT_DIGESTS=/tmp/pins.jsonl pytest tests/engine/test_golden.py`` and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import retold
from conftest import check_invariant, kill_after_checkpoint

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"
VOLATILE = ("timings", "engine", "workers", "fingerprint")
ALL_LEVELS = "exact,near,retold"


def digests(out: Path) -> dict[str, str]:
    """SHA-256 of every output file under ``out`` (the work folder aside), by relative path."""
    found = {}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if not path.is_file() or rel.startswith(".retold-work"):
            continue
        data = path.read_bytes()
        if path.name == "summary.json":
            summary = json.loads(data)
            data = json.dumps(_steady(summary), sort_keys=True).encode()
        found[rel] = hashlib.sha256(data).hexdigest()[:16]
    return found


def _steady(value: Any) -> Any:
    """``value`` without the keys that describe the machine or the moment, at any depth."""
    if isinstance(value, dict):
        return {k: _steady(v) for k, v in value.items() if k not in VOLATILE and not k.endswith("_seconds")}
    return value


def check(name: str, out: Path) -> None:
    got = digests(out)
    if os.environ.get("RETOLD_PRINT_DIGESTS"):
        with open(os.environ["RETOLD_PRINT_DIGESTS"], "a") as fh:
            fh.write(json.dumps({name: got}) + "\n")
        return
    assert got == PINNED[name], f"{name}: outputs differ from the pinned digests"


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fixture files under ``tmp_path/in``; the test runs in ``tmp_path`` (relative paths)."""
    shutil.copytree(GOLDEN, tmp_path / "in")
    monkeypatch.chdir(tmp_path)
    return tmp_path


INPUTS = ["in/a.jsonl", "in/b.jsonl", "in/c.jsonl"]


def test_scan_every_level(corpus: Path) -> None:
    retold.scan(INPUTS, out="out", levels=ALL_LEVELS)
    check_invariant(corpus / "out")
    check("scan", corpus / "out")


def test_scan_every_level_two_workers(corpus: Path) -> None:
    retold.scan(INPUTS, out="out", levels=ALL_LEVELS, workers=2)
    check("scan", corpus / "out")


def test_scan_resumed_after_kill(corpus: Path) -> None:
    """SIGKILL after the first checkpoint (every 20 documents), then the same command again."""
    env = {**os.environ, "RETOLD_CHECKPOINT_EVERY": "20"}
    command = [sys.executable, "-m", "retold", "scan", *INPUTS, "--out", "out", "--levels", ALL_LEVELS, "-q"]
    kill_after_checkpoint(command, corpus / "out", env)
    subprocess.run(command, env=env, check=True, timeout=300)
    check("scan", corpus / "out")


def test_scan_on_ray(corpus: Path) -> None:
    pytest.importorskip("ray")
    from retold.engine.ray import LoopbackCluster

    command = [sys.executable, "-m", "retold", "scan", *INPUTS, "--out", "out", "--levels", ALL_LEVELS, "-q"]
    with LoopbackCluster(cpus=2) as cluster:
        command += ["--engine", "ray", "--address", cluster.address]
        subprocess.run(command, env=cluster.env, check=True, timeout=300)
    check("scan", corpus / "out")


def test_scan_lexical_defaults_keep_longest(corpus: Path) -> None:
    retold.scan(INPUTS, out="out", keep="longest", near_measure="containment")
    check("lexical", corpus / "out")


def test_scan_against(corpus: Path) -> None:
    retold.scan(["in/a.jsonl"], out="A", levels=ALL_LEVELS)
    retold.scan(["in/b.jsonl", "in/c.jsonl"], out="B", levels=ALL_LEVELS, against=["A"], drop=ALL_LEVELS)
    check("against-A", corpus / "A")
    check("against-B", corpus / "B")


def test_audit(corpus: Path) -> None:
    retold.audit(INPUTS, out="audit", levels=ALL_LEVELS)
    check("audit", corpus / "audit")


def test_fix(corpus: Path) -> None:
    retold.fix(INPUTS, out="fixed")
    check("fix", corpus / "fixed")


PINNED: dict[str, Any] = {
    "against-A": {
        "clusters.jsonl": "6b7421c987fcbf9e",
        "dropped.jsonl": "782f4bcb5a76ccb3",
        "index/exact.digest.u8": "fdb90c2ac1dc04ab",
        "index/exact.docs.i64": "460c40aca1f47cb1",
        "index/fate.i8": "cba0a9cd3b42de21",
        "index/ids.jsonl": "bec87df56348bc1a",
        "index/kept_at.i64": "5df3bf27cc46ff6b",
        "index/manifest.json": "d21d325f9f7bf7da",
        "index/near.bands.u64": "68c3bc674e28658f",
        "index/near.docs.i64": "f1e2c7311473ea85",
        "index/near.offsets.i64": "286b7b85382bb63b",
        "index/near.shingles.u32": "673b21d9c3026515",
        "index/retold.docs.i64": "f1e2c7311473ea85",
        "index/retold.vectors.f32": "3adb3582b71f3a7a",
        "kept.jsonl": "a65b35d074cd9dac",
        "pairs.jsonl": "926cbd1a2fcfedab",
        "quarantine.jsonl": "e3b0c44298fc1c14",
        "report.html": "11c868f3a5bd0d51",
        "report.json": "c8d56a8a76828d47",
        "summary.json": "24213458355967e6",
    },
    "against-B": {
        "clusters.jsonl": "3012c6c2d81af674",
        "dropped.jsonl": "a258e8db09adcee3",
        "index/exact.digest.u8": "b34d529449798c33",
        "index/exact.docs.i64": "1d0a6b6f02868182",
        "index/fate.i8": "ab8b1cb5ff9fa5f2",
        "index/ids.jsonl": "11d093cd95590414",
        "index/kept_at.i64": "f4d79b9740c4283c",
        "index/manifest.json": "c06031fc94df6f4b",
        "index/near.bands.u64": "0e2b4f7a88a10ede",
        "index/near.docs.i64": "0328e13b88fa788d",
        "index/near.offsets.i64": "fbdf53dd69b39aea",
        "index/near.shingles.u32": "d8a3ae113ef0d8b5",
        "index/retold.docs.i64": "0328e13b88fa788d",
        "index/retold.vectors.f32": "b097f2be5b7b4a9d",
        "kept.jsonl": "e725edb8a96beabf",
        "pairs.jsonl": "46dc82389aa0c31f",
        "quarantine.jsonl": "f98abb57f11f398e",
        "report.html": "a29cedfde2a0d363",
        "report.json": "63e4dac127108cfc",
        "summary.json": "e90524ae44d3de77",
    },
    "audit": {"report.html": "9ed9ee931a674ca7", "report.json": "a7bed6bc8ccb1225"},
    "fix": {
        "kept.jsonl": "8f9f9bd6b9fc2ce9",
        "quarantine.jsonl": "f98abb57f11f398e",
        "summary.json": "40f29e4be0a49a5b",
    },
    "lexical": {
        "clusters.jsonl": "0e55bab2b3508b3f",
        "dropped.jsonl": "30ab8beaadf3d70e",
        "index/exact.digest.u8": "3ce5910dfa4b5c6a",
        "index/exact.docs.i64": "46f11de2eb9be71c",
        "index/fate.i8": "b6efb84468664697",
        "index/ids.jsonl": "c53148029483165a",
        "index/kept_at.i64": "b5a6cbe9c5133bad",
        "index/manifest.json": "e343e4ce8057a79a",
        "index/near.bands.u64": "ccac3a4e2c8ddd5b",
        "index/near.docs.i64": "6ca9ba56beb60356",
        "index/near.offsets.i64": "9c2352b0a8ea885e",
        "index/near.shingles.u32": "9310c0e8bce851c0",
        "kept.jsonl": "6274b4abb93262a3",
        "pairs.jsonl": "a0cb0665f7543bab",
        "quarantine.jsonl": "f98abb57f11f398e",
        "report.html": "9bbad697810ed2f8",
        "report.json": "3798a5bedd7a9c12",
        "summary.json": "64f11e960687cb92",
    },
    "scan": {
        "clusters.jsonl": "8265d2186d6001d9",
        "dropped.jsonl": "baa9423622bbb084",
        "index/exact.digest.u8": "3ce5910dfa4b5c6a",
        "index/exact.docs.i64": "46f11de2eb9be71c",
        "index/fate.i8": "bb41a2c5e8e2fb29",
        "index/ids.jsonl": "c53148029483165a",
        "index/kept_at.i64": "f144d3c198eb5302",
        "index/manifest.json": "b98f76fdcce664fe",
        "index/near.bands.u64": "ffb9b981fe67f148",
        "index/near.docs.i64": "18ab6020ceb8356e",
        "index/near.offsets.i64": "e01dfb7381a71664",
        "index/near.shingles.u32": "429c933e97282952",
        "index/retold.docs.i64": "18ab6020ceb8356e",
        "index/retold.vectors.f32": "1722cce09133d305",
        "kept.jsonl": "c5ac34c14ff3acc6",
        "pairs.jsonl": "3de2a04986af57cb",
        "quarantine.jsonl": "f98abb57f11f398e",
        "report.html": "16472309c9264756",
        "report.json": "a53e18b20f119490",
        "summary.json": "db316be1a6005326",
    },
}
