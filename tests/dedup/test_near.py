"""The near level end to end: verification against the kept document, measures, options."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

import retold
from conftest import read_jsonl
from retold.cli import cli

RNG = random.Random(7)
WORDS = [f"w{i:04d}" for i in range(5000)]
BASE = RNG.sample(WORDS, 400)


def text(start: int, stop: int) -> str:
    return " ".join(BASE[start:stop])


def write(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def chain(tmp_path: Path) -> Path:
    # word 5-gram Jaccard: A~B 0.83, B~C 0.83, A~C 0.69 (below the 0.7 threshold)
    return write(
        tmp_path,
        [
            {"id": "A", "text": text(0, 200)},
            {"id": "B", "text": text(18, 218)},
            {"id": "C", "text": text(36, 236)},
            {"id": "other", "text": " ".join(RNG.sample(WORDS, 200))},
        ],
    )


def test_no_transitive_chaining(tmp_path: Path, invariant) -> None:
    result = retold.scan(chain(tmp_path), out=tmp_path / "out")
    summary = invariant(tmp_path / "out")
    assert sorted(r["id"] for r in result.kept_records()) == ["A", "C", "other"]
    (b,) = result.dropped_records()
    assert b["id"] == "B" and b["retold"]["reason"] == "near" and b["retold"]["kept_id"] == "A"
    assert abs(b["retold"]["similarity"] - 178 / 214) < 1e-3
    assert b["retold"]["evidence"]["jaccard"] == b["retold"]["similarity"]
    assert abs(b["retold"]["evidence"]["containment"] - 178 / 196) < 1e-3
    near = summary["levels"]["near"]
    assert near["largest_cluster"] == 2 and near["largest_chained_component"] == 3
    members = read_jsonl(tmp_path / "out" / "clusters.jsonl")
    assert [(m["id"], m["cluster_id"], m["kept"], m["kept_id"]) for m in members] == [
        ("A", "near-1", True, "A"),
        ("B", "near-1", False, "A"),
    ]


def test_keep_policy_decides_direction(tmp_path: Path) -> None:
    rows = [{"id": "short", "text": text(0, 200)}, {"id": "long", "text": text(0, 210)}]
    result = retold.scan(write(tmp_path, rows), out=tmp_path / "out", keep="longest")
    assert [r["id"] for r in result.kept_records()] == ["long"]
    assert next(result.dropped_records())["retold"]["kept_id"] == "long"


def test_containment_catches_excerpts(tmp_path: Path) -> None:
    rows = [{"id": "excerpt", "text": text(100, 250)}, {"id": "full", "text": text(0, 400)}]
    path = write(tmp_path, rows)
    jaccard = retold.scan(path, out=tmp_path / "j", keep="longest")
    assert jaccard.kept == 2  # Jaccard 0.37: lengths differ
    contained = retold.scan(path, out=tmp_path / "c", keep="longest", near_measure="containment")
    (dropped,) = contained.dropped_records()
    assert dropped["id"] == "excerpt" and dropped["retold"]["kept_id"] == "full"
    assert dropped["retold"]["similarity"] == 1.0
    # containment only drops a document in favour of one that contains it
    first = retold.scan(path, out=tmp_path / "f", near_measure="containment")
    assert first.kept == 2


def test_exact_copies_are_decided_first(tmp_path: Path) -> None:
    rows = [
        {"id": "a", "text": text(0, 200)},
        {"id": "a-copy", "text": text(0, 200).upper()},
        {"id": "a-near", "text": text(0, 205)},
    ]
    result = retold.scan(write(tmp_path, rows), out=tmp_path / "out")
    reasons = {r["id"]: r["retold"]["reason"] for r in result.dropped_records()}
    assert reasons == {"a-copy": "exact", "a-near": "near"}
    levels = [(m["id"], m["level"]) for m in read_jsonl(tmp_path / "out" / "clusters.jsonl")]
    assert levels == [("a", "exact"), ("a", "near"), ("a-copy", "exact"), ("a-near", "near")]


def test_detected_not_dropped_and_levels(tmp_path: Path, invariant) -> None:
    path = chain(tmp_path)
    reported = retold.scan(path, out=tmp_path / "r", drop="exact")
    invariant(tmp_path / "r")
    assert reported.kept == 4 and reported.clusters["near"] == 1
    exact_only = retold.scan(path, out=tmp_path / "e", levels="exact")
    summary = invariant(tmp_path / "e")
    assert (
        exact_only.kept == 4 and "near" not in summary["levels"] and summary["options"]["drop"] == ["exact"]
    )


def test_short_and_wordless_documents_counted(tmp_path: Path, invariant) -> None:
    rows = [
        {"id": "s1", "text": "Three short words"},
        {"id": "s2", "text": "three short words!"},
        {"id": "p", "text": "?!…"},
        {"id": "long", "text": text(0, 50)},
    ]
    retold.scan(write(tmp_path, rows), out=tmp_path / "out", levels="near")
    summary = invariant(tmp_path / "out")
    near = summary["levels"]["near"]
    assert (near["documents"], near["short"], near["no_words"]) == (3, 2, 1)
    assert summary["dropped"] == {"near": 1} and summary["kept"] == 3


def test_runs_are_deterministic(tmp_path: Path) -> None:
    path = chain(tmp_path)
    for name in ("one", "two"):
        retold.scan(path, out=tmp_path / name)
    for name in ("kept.jsonl", "dropped.jsonl", "clusters.jsonl"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    assert not (tmp_path / "one" / ".retold-work").exists()


def test_bad_near_options_are_usage_errors(tmp_path: Path) -> None:
    path = chain(tmp_path)
    for args in (
        ["--near-threshold", "0"],
        ["--near-threshold", "1.5"],
        ["--near-measure", "cosine"],
        ["--num-perm", "0"],
        ["--levels", "exact", "--drop", "near"],
        ["--shingle", "sentence"],
    ):
        result = CliRunner().invoke(cli, ["scan", str(path), "--out", str(tmp_path / "o"), *args])
        assert result.exit_code == 2, (args, result.output)


def test_lexical_levels_import_no_embedding_stack(tmp_path: Path) -> None:
    path = chain(tmp_path)
    code = (
        "import sys, retold; retold.scan(sys.argv[1], out=sys.argv[2], levels='exact,near');"
        "heavy = {'torch', 'sentence_transformers', 'model2vec', 'transformers', 'usearch', 'faiss'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), str(tmp_path / "o")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


def test_verification_reads_sets_back_in_chunks(tmp_path: Path, monkeypatch) -> None:
    import numpy as np

    from retold.dedup import near

    rng = np.random.default_rng(3)
    sets = [np.unique(rng.integers(0, 400, size=rng.integers(0, 60))).astype(np.uint32) for _ in range(50)]
    offsets = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum([len(x) for x in sets], out=offsets[1:])
    path = tmp_path / "shingles.u32"
    np.concatenate(sets).tofile(path)
    left, right = rng.integers(0, 50, size=300), rng.integers(0, 50, size=300)
    expected = [len(np.intersect1d(sets[a], sets[b])) for a, b in zip(left, right, strict=True)]
    monkeypatch.setattr(near, "_VERIFY_CHUNK", 7)  # many chunks, some documents in several
    assert near.overlaps(left, right, offsets, path).tolist() == expected
    assert near.overlaps(left[:0], right[:0], offsets, path).tolist() == []
