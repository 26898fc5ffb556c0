"""Outputs pinned by digest: how the code is held may change, what a run writes may not.

The fixture corpora in ``tests/data/golden`` cover every level (exact and near copies planted by
the demo generator, a retold pair written for this test), repair (mojibake), quarantine (broken
JSON, invalid UTF-8, a record without text), empty texts, repeated ids and hostile HTML. Each run
below writes its outputs; every file's SHA-256 is compared with :data:`PINNED`, taken from the code
before the engine was redesigned. ``summary.json`` is compared without what describes the machine
or the moment (timings, engine, workers) and without the fingerprint (it holds absolute paths and
modification times).

When a change is *meant* to change outputs (a new default, a fixed defect), regenerate the pins
with ``RETOLD_PRINT_DIGESTS=/tmp/pins.jsonl pytest tests/engine/test_golden.py``, then
``PYTHONPATH=tests python tests/engine/test_golden.py /tmp/pins.jsonl`` (it rewrites :data:`PINNED`,
:data:`SHAPES` and ``tests/data/golden/numbers.json``) and ``ruff format tests``, and say why in the commit.

The retold level's outputs depend on the static model distilled on first use, and the model on the
versions of the packages that distil it (torch, transformers, model2vec, numpy's eigensolver) and on
the machine: ``constraints.txt`` pins the versions, but two CPUs with the same versions distilled
models that differ in the last bits of their floats (3ad0f737… and e79551e3…, 2026-12-02), and two
machines with the same model (e79551e3…, 2026-12-03 and 2026-12-06) wrote other digests for the
files that carry numbers (the first machine's outputs were not kept, so which numbers moved is not
known; the source was not found: not OpenBLAS's kernels, numpy's SIMD, numba's CPU target, the hash
seed nor the ``regex`` release of 2026-12-02, which each leave this machine's digests as they are).
On both pairs every decision was the same (kept, dropped, the index, premises, summary.json). So the files of
:data:`MODEL_NUMBERS` are compared exactly where their digests match the pins, and elsewhere by what
they say: their text with every number taken out must be the pinned one (:data:`SHAPES`: the same
pairs, clusters, names, sentences and counts), and their numbers within :data:`TOLERANCE` of the
pinned ones (``tests/data/golden/numbers.json``). Every other file is compared exactly everywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
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


def model_digest() -> str:
    """SHA-256 of the default static model's weights, as distilled on this machine."""
    from retold.embed.static import distilled

    return hashlib.sha256((distilled() / "model.safetensors").read_bytes()).hexdigest()[:16]


def check(name: str, out: Path) -> None:
    got = digests(out)
    if os.environ.get("RETOLD_PRINT_DIGESTS"):
        shapes, numbers = {}, {}
        for rel in sorted(k for k in got if Path(k).name in MODEL_NUMBERS):
            shapes[rel], numbers[rel] = said(out / rel)
        with open(os.environ["RETOLD_PRINT_DIGESTS"], "a") as fh:
            fh.write(
                json.dumps({name: got, "shapes": shapes, "numbers": numbers, "model": model_digest()}) + "\n"
            )
        return
    if got == PINNED[name]:
        return
    steady = {k: v for k, v in PINNED[name].items() if Path(k).name not in MODEL_NUMBERS}
    assert {k: got.get(k) for k in steady} == steady, (
        f"{name}: outputs that carry no model number differ from the pins"
    )
    assert sorted(got) == sorted(PINNED[name]), f"{name}: other files than the pinned ones"
    pinned_numbers = json.loads((GOLDEN / "numbers.json").read_text(encoding="utf-8"))[name]
    for rel, shape in SHAPES[name].items():
        text, numbers = said(out / rel)
        assert text == shape, (
            f"{name}: {rel} says other things than the pinned one (its digest is {got[rel]}; with the "
            f"numbers taken out it still differs, so this is not the last digit of a float)"
        )
        if rel in pinned_numbers:
            far = [
                (i, a, b)
                for i, (a, b) in enumerate(zip(numbers, pinned_numbers[rel], strict=True))
                if abs(a - b) > TOLERANCE
            ]
            assert not far, f"{name}: {rel}: numbers (at, got, pinned) beyond {TOLERANCE}: {far[:5]}"


#: How far a number written in a :data:`MODEL_NUMBERS` file may be from its pin on another machine:
#: the files round to 4 decimals, and a last-bit change may move a rounded value one step, or a
#: share of a few documents a little more.
TOLERANCE = 1e-3
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def said(path: Path) -> tuple[str, list[float]]:
    """What a :data:`MODEL_NUMBERS` file says, as (its digest with every float taken out, those
    floats in order). JSON values are walked: integers stay (counts must match), except a
    histogram's (a similarity at a bin's edge moves a count). HTML has its numbers taken out of its
    text (they repeat report.json's, which is compared); the vectors file is kept as its size."""
    numbers: list[float] = []

    def walk(value: Any, histogram: bool = False) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, histogram or k == "histogram") for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, histogram) for v in value]
        if isinstance(value, float):
            numbers.append(value)
            return "#"
        if histogram and isinstance(value, int) and not isinstance(value, bool):
            return "#"  # a bin's count: not compared (the similarities it counts are, as the mean)
        return value

    data = path.read_bytes()
    if path.suffix == ".json":
        shape = json.dumps(walk(json.loads(data)), sort_keys=True)
    elif path.suffix == ".jsonl":
        shape = "\n".join(json.dumps(walk(json.loads(line)), sort_keys=True) for line in data.splitlines())
    elif path.suffix == ".html":
        shape = _NUMBER.sub("#", data.decode("utf-8"))
    else:
        shape = str(len(data))
    return hashlib.sha256(shape.encode()).hexdigest()[:16], numbers


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


def test_scan_every_level_tellings_made_in_the_decision(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stage's budget for tellings spent from the start: the decision makes every telling from
    the texts, and the outputs are the same."""
    from retold.dedup import semantic

    monkeypatch.setattr(semantic, "STAGE_TELLING_BYTES", 0)
    retold.scan(INPUTS, out="out", levels=ALL_LEVELS, workers=1)
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


#: The outputs that carry the static model's numbers (similarities, gains, its vectors, the
#: report's vector metrics): compared by :func:`said` where their digests differ from the pins.
MODEL_NUMBERS = frozenset(
    {
        "clusters.jsonl",
        "pairs.jsonl",
        "dropped.jsonl",
        "retold.vectors.f32",
        "report.html",
        "report.json",
    }
)

#: The default static model the pins were taken with (:func:`model_digest`), for the record.
MODEL = "e79551e309c0dda8"

PINNED: dict[str, Any] = {
    "scan": {
        "clusters.jsonl": "cc6cc285f360f375",
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
        "index/retold.spaces.i8": "256c8c9c8801e746",
        "index/retold.vectors.f32": "1218989f7a7f582d",
        "kept.jsonl": "c5ac34c14ff3acc6",
        "pairs.jsonl": "8608216ab39749ff",
        "premises.jsonl": "25660507b9fcdad9",
        "quarantine.jsonl": "f98abb57f11f398e",
        "report.html": "7373e4aa590771bf",
        "report.json": "b6017f99bc6f5636",
        "summary.json": "eede2944ac2c42ed",
    },
    "lexical": {
        "clusters.jsonl": "cd65863c339e5de1",
        "dropped.jsonl": "30ab8beaadf3d70e",
        "index/exact.digest.u8": "3ce5910dfa4b5c6a",
        "index/exact.docs.i64": "46f11de2eb9be71c",
        "index/fate.i8": "b6efb84468664697",
        "index/ids.jsonl": "c53148029483165a",
        "index/kept_at.i64": "b5a6cbe9c5133bad",
        "index/manifest.json": "8b73ebe731fc3824",
        "index/near.bands.u64": "ccac3a4e2c8ddd5b",
        "index/near.docs.i64": "6ca9ba56beb60356",
        "index/near.offsets.i64": "9c2352b0a8ea885e",
        "index/near.shingles.u32": "9310c0e8bce851c0",
        "index/retold.docs.i64": "6ca9ba56beb60356",
        "index/retold.spaces.i8": "c97339b470e77827",
        "index/retold.vectors.f32": "31171408738a0a39",
        "kept.jsonl": "6274b4abb93262a3",
        "pairs.jsonl": "8f48f450216c0c75",
        "premises.jsonl": "2338749bffd9bdaf",
        "quarantine.jsonl": "f98abb57f11f398e",
        "report.html": "211d75e19ea3a2be",
        "report.json": "d206a784853140e7",
        "summary.json": "dba0774e6dc040b3",
    },
    "against-A": {
        "clusters.jsonl": "24aeaacd8299b848",
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
        "index/retold.spaces.i8": "7e5906b7c0e1829e",
        "index/retold.vectors.f32": "33f5a9c9d599294b",
        "kept.jsonl": "a65b35d074cd9dac",
        "pairs.jsonl": "6ad2474ac0c87373",
        "premises.jsonl": "a524ee6ddeef5982",
        "quarantine.jsonl": "e3b0c44298fc1c14",
        "report.html": "78aebd8f6bd4a543",
        "report.json": "ccd089522a936c17",
        "summary.json": "a12611b051bf902a",
    },
    "against-B": {
        "clusters.jsonl": "2cbe1200c12360c3",
        "dropped.jsonl": "f746736a7a6bb18f",
        "index/exact.digest.u8": "b34d529449798c33",
        "index/exact.docs.i64": "1d0a6b6f02868182",
        "index/fate.i8": "c0f920c443eddaba",
        "index/ids.jsonl": "11d093cd95590414",
        "index/kept_at.i64": "2210e4a5b3c4a914",
        "index/manifest.json": "edfd293b61343432",
        "index/near.bands.u64": "2cfbbcb324b8e50a",
        "index/near.docs.i64": "ddc6d78470e7093f",
        "index/near.offsets.i64": "3be15909fa4ecac1",
        "index/near.shingles.u32": "af5611db20822a86",
        "index/retold.docs.i64": "ddc6d78470e7093f",
        "index/retold.spaces.i8": "fc1df255dfe9a3d6",
        "index/retold.vectors.f32": "1aa10426e41adb71",
        "kept.jsonl": "08822123ca3304a6",
        "pairs.jsonl": "4c189346767ef156",
        "premises.jsonl": "9c4ce52a70c1e955",
        "quarantine.jsonl": "f98abb57f11f398e",
        "report.html": "1b97ac7654ec662f",
        "report.json": "986e05a861c73b1f",
        "summary.json": "45de1e56b3a0b2aa",
    },
    "audit": {
        "premises.jsonl": "25660507b9fcdad9",
        "report.html": "f764d3c54dc74072",
        "report.json": "b4a4b55205b0477a",
    },
    "fix": {
        "kept.jsonl": "8f9f9bd6b9fc2ce9",
        "quarantine.jsonl": "f98abb57f11f398e",
        "summary.json": "368c6257216c00b7",
    },
}

#: Each :data:`MODEL_NUMBERS` file's :func:`said` digest (its text with the floats taken out).
SHAPES: dict[str, dict[str, str]] = {
    "scan": {
        "clusters.jsonl": "0ecf4cc7db782878",
        "dropped.jsonl": "3ac7df73d1a16a7f",
        "index/retold.vectors.f32": "785ed014916eb569",
        "pairs.jsonl": "825a9e8f8a1e4860",
        "report.html": "74311010552dcbfd",
        "report.json": "ea1495b6e2c19a7b",
    },
    "lexical": {
        "clusters.jsonl": "7555cd55869f1d9e",
        "dropped.jsonl": "707cdb409216f0da",
        "index/retold.vectors.f32": "6f3cd9223eb9d88a",
        "pairs.jsonl": "6f3b4dd7608522d3",
        "report.html": "6d9efe03fca3be92",
        "report.json": "4e09195d4d6416dc",
    },
    "against-A": {
        "clusters.jsonl": "af94e622cb8660aa",
        "dropped.jsonl": "5feebbed5179354a",
        "index/retold.vectors.f32": "f74eb9ead719d5c4",
        "pairs.jsonl": "55cdb05be04413c3",
        "report.html": "624b39d81e93d888",
        "report.json": "eb45cf94152eddb5",
    },
    "against-B": {
        "clusters.jsonl": "743f17292a39d7f8",
        "dropped.jsonl": "3a6cb4b4f01bec47",
        "index/retold.vectors.f32": "756e916296aee541",
        "pairs.jsonl": "ac00b99eed27856f",
        "report.html": "c547b7792a0d3726",
        "report.json": "87a16b9c66235b86",
    },
    "audit": {"report.html": "0134365b90b731c0", "report.json": "a4400026c2c319b2"},
    "fix": {},
}


def write_pins(printed: Path) -> None:
    """From a ``RETOLD_PRINT_DIGESTS`` file: ``numbers.json`` written, :data:`PINNED` and
    :data:`SHAPES` rewritten in this file (each run's entries must agree)."""
    pinned: dict[str, Any] = {}
    shapes: dict[str, Any] = {}
    numbers: dict[str, Any] = {}
    for line in printed.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        name = next(k for k in row if k not in ("shapes", "numbers", "model"))
        entry = (row[name], row["shapes"], {k: v for k, v in row["numbers"].items() if v})
        assert pinned.get(name, entry[0]) == entry[0], f"{name}: two runs wrote different outputs"
        pinned[name], shapes[name], numbers[name] = entry
    missing = set(PINNED) - set(pinned)
    assert not missing, f"no printed outputs for {sorted(missing)}: did every golden test pass its run?"
    (GOLDEN / "numbers.json").write_text(json.dumps(numbers, sort_keys=True) + "\n", encoding="utf-8")
    here = Path(__file__)
    text = here.read_text(encoding="utf-8")
    for var, value in (("PINNED: dict[str, Any]", pinned), ("SHAPES: dict[str, dict[str, str]]", shapes)):
        start = text.index(f"{var} = ")
        end = (
            text.index("\n}\n", start) + 3
            if text[start:].split("\n", 1)[0].endswith("{")
            else text.index("\n", start) + 1
        )
        text = text[:start] + f"{var} = {json.dumps(value, indent=4)}\n" + text[end:]
    here.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write_pins(Path(sys.argv[1]))
