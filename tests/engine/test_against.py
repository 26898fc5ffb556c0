"""Incremental scans: ``scan NEW --against CURATED/`` against the index an earlier scan saved."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import retold
from conftest import kill_after_checkpoint
from retold.cli import cli
from retold.dedup.saved import IncompatibleIndex
from retold.demo.generator import generate_corpus

SHARED = Path(__file__).resolve().parents[3] / "shared"


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return path


def _drops(folder: Path) -> dict[str, tuple[str, str, str | None]]:
    out = {}
    for line in (folder / "dropped.jsonl").read_text().splitlines():
        note = json.loads(line)["retold"]
        out[note["id"]] = (note["reason"], note["kept_id"], note.get("against"))
    return out


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo corpus cut in two: planted copies of batch A's stories land in batch B."""
    records, _ = generate_corpus(150, seed=11)
    d = tmp_path_factory.mktemp("batches")
    half = len(records) // 2
    return _write(d / "a.jsonl", records[:half]), _write(d / "b.jsonl", records[half:])


def test_b_against_a_drops_what_a_scan_of_both_drops(batches: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = batches
    retold.scan([a, b], tmp_path / "both", report=False)
    first = retold.scan(a, tmp_path / "a", report=False)
    inc = retold.scan(b, tmp_path / "b", against=tmp_path / "a", report=False)
    b_ids = {json.loads(line)["id"] for line in b.read_text().splitlines()}
    full = {k: v[:2] for k, v in _drops(tmp_path / "both").items() if k in b_ids}
    mine = _drops(tmp_path / "b")
    assert {k: v[:2] for k, v in mine.items()} == full
    a_ids = {json.loads(line)["id"] for line in a.read_text().splitlines()}
    cross = {k for k, v in mine.items() if v[1] in a_ids}
    assert cross, "the fixture plants copies of A's stories in B"
    assert all(mine[k][2] == str(tmp_path / "a") for k in cross)  # where the kept document lives
    assert inc.documents_in == inc.kept + inc.dropped_total + inc.quarantined == len(b_ids)
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["against"] == [
        {"folder": str(tmp_path / "a"), "documents": first.documents_in, "kept": first.kept}
    ]
    rows = [json.loads(line) for line in (tmp_path / "b" / "clusters.jsonl").read_text().splitlines()]
    assert {r["id"] for r in rows} <= b_ids  # only this run's documents get rows
    assert any(r.get("against") == str(tmp_path / "a") and r["kept_id"] in a_ids for r in rows)


def test_chained_batches_and_a_rerun_that_finds_its_run_done(
    batches: tuple[Path, Path], tmp_path: Path
) -> None:
    a, b = batches
    retold.scan(a, tmp_path / "a", report=False)
    retold.scan(b, tmp_path / "b", against=tmp_path / "a", report=False)
    c = _write(tmp_path / "c.jsonl", [{"id": f"c{i}", "text": line} for i, line in enumerate(_texts(a, b))])
    third = retold.scan(c, tmp_path / "c", against=[tmp_path / "a", tmp_path / "b"], report=False)
    assert third.kept == 0 and third.dropped == {"exact": 2}
    kept_in = {v[2] for v in _drops(tmp_path / "c").values()}
    assert kept_in == {str(tmp_path / "a"), str(tmp_path / "b")}
    again = retold.scan(c, tmp_path / "c", against=[tmp_path / "a", tmp_path / "b"], report=False)
    assert again.timings == third.timings  # read back from summary.json, not redone


def _texts(a: Path, b: Path) -> list[str]:
    """A document kept in A and one kept only in B (its id is not in A), in other case/spacing."""
    first_a = json.loads(a.read_text().splitlines()[0])["text"]
    b_kept = [json.loads(line) for line in (a.parent / "b.jsonl").read_text().splitlines()]
    a_texts = {json.loads(line)["text"] for line in a.read_text().splitlines()}
    only_b = next(r["text"] for r in b_kept if r["text"] not in a_texts and r["text"].strip())
    return [first_a.upper(), "  ".join(only_b.split())]


def test_saved_index_is_written_atomically_and_can_be_skipped(
    batches: tuple[Path, Path], tmp_path: Path
) -> None:
    a, _ = batches
    retold.scan(a, tmp_path / "a", report=False)
    manifest = json.loads((tmp_path / "a" / "index" / "manifest.json").read_text())
    assert manifest["format"] == "retold-index" and manifest["version"] == 1
    assert set(manifest["levels"]) == {"exact", "near", "retold"}
    assert manifest["kept_jsonl_bytes"] == (tmp_path / "a" / "kept.jsonl").stat().st_size
    retold.scan(a, tmp_path / "n", report=False, save_index=False)
    assert not (tmp_path / "n" / "index").exists()
    assert not list((tmp_path / "a").glob(".index*"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no-index", "no saved index"),
        ("version", "version 99"),
        ("kept", "kept.jsonl changed since its index was saved"),
        ("num-perm", "num_perm 128 there, 64 here"),
        ("levels", "its index has no retold level"),
    ],
)
def test_an_index_that_does_not_fit_is_refused(
    batches: tuple[Path, Path], tmp_path: Path, change: str, message: str
) -> None:
    a, b = batches
    first: dict = {"levels": "exact,near"} if change == "levels" else {}
    retold.scan(a, tmp_path / "a", report=False, save_index=change != "no-index", **first)
    options: dict = {"report": False}
    if change == "version":
        path = tmp_path / "a" / "index" / "manifest.json"
        path.write_text(path.read_text().replace('"version": 1', '"version": 99'))
    elif change == "kept":
        with open(tmp_path / "a" / "kept.jsonl", "a") as fh:
            fh.write('{"id": "sneaked in", "text": "x"}\n')
    elif change == "num-perm":
        options["num_perm"] = 64
    elif change == "levels":
        options["levels"] = "exact,retold"
    with pytest.raises(IncompatibleIndex, match=message):
        retold.scan(b, tmp_path / "b", against=tmp_path / "a", **options)
    assert not (tmp_path / "b" / "kept.jsonl").exists()


def test_cli_against_errors_and_out_that_is_the_against_folder(
    batches: tuple[Path, Path], tmp_path: Path
) -> None:
    a, b = batches
    retold.scan(a, tmp_path / "a", report=False)
    runner = CliRunner()
    same = runner.invoke(
        cli, ["scan", str(b), "--out", str(tmp_path / "a"), "--against", str(tmp_path / "a")]
    )
    assert same.exit_code == 2 and "is also an --against folder" in same.output
    missing = runner.invoke(cli, ["scan", str(b), "--out", str(tmp_path / "b"), "--against", str(tmp_path)])
    assert (
        missing.exit_code == 1 and "Error: --against" in missing.output and "no saved index" in missing.output
    )
    ok = runner.invoke(
        cli, ["scan", str(b), "-q", "--out", str(tmp_path / "b"), "--against", str(tmp_path / "a")]
    )
    assert ok.exit_code == 0, ok.output


@pytest.mark.skipif(not (SHARED / "seeds").is_dir(), reason="../shared/seeds is absent")
@pytest.mark.skipif(os.environ.get("RETOLD_SKIP_MODELS") == "1", reason="RETOLD_SKIP_MODELS=1")
def test_a_story_retold_in_a_later_batch_is_found_against_the_first(tmp_path: Path) -> None:
    pytest.importorskip("sentence_transformers", reason="the embed extra is not installed")
    seeds = sorted((SHARED / "seeds").glob("*.txt"))
    a = _write(tmp_path / "a.jsonl", [{"id": "first", "text": seeds[0].read_text()}])
    b = _write(tmp_path / "b.jsonl", [{"id": "second", "text": seeds[1].read_text()}])
    options = {"levels": "exact,near,retold", "drop": "exact,near,retold", "report": False}
    retold.scan(a, tmp_path / "a", **options)
    result = retold.scan(b, tmp_path / "b", against=tmp_path / "a", **options)
    assert result.dropped == {"retold": 1}
    note = json.loads((tmp_path / "b" / "dropped.jsonl").read_text())["retold"]
    assert note["kept_id"] == "first" and note["against"] == str(tmp_path / "a")
    assert note["evidence"]["names"]  # the name mapping, as in a scan of both


def test_a_killed_incremental_run_resumes_to_the_same_outputs(tmp_path: Path) -> None:
    """kill -9 after a checkpoint of `scan B --against A`, rerun: outputs and index as unbroken."""
    import subprocess
    import sys

    records, _ = generate_corpus(1500, seed=5)
    half = len(records) // 2
    a, b = _write(tmp_path / "a.jsonl", records[:half]), _write(tmp_path / "b.jsonl", records[half:])
    retold.scan(a, tmp_path / "a", report=False)
    env = {**os.environ, "RETOLD_CHECKPOINT_EVERY": "100"}
    command = [
        sys.executable,
        "-m",
        "retold",
        "scan",
        str(b),
        "-q",
        "--against",
        str(tmp_path / "a"),
        "--out",
    ]
    subprocess.run([*command, str(tmp_path / "ref")], env=env, check=True, timeout=300)
    out = tmp_path / "o"
    kill_after_checkpoint([*command, str(out)], out, env, timeout=120)
    subprocess.run([*command, str(out)], env=env, check=True, timeout=300)
    names = [
        "kept.jsonl",
        "dropped.jsonl",
        "clusters.jsonl",
        "quarantine.jsonl",
        "report.json",
        "premises.jsonl",
    ]
    names += sorted(f"index/{p.name}" for p in (tmp_path / "ref" / "index").iterdir())
    for name in names:
        assert (tmp_path / "ref" / name).read_bytes() == (out / name).read_bytes(), name
