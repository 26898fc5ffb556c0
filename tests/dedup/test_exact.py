"""Exact dedup: normalisation, keep policies, clusters in both directions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import retold
from conftest import read_jsonl
from retold.dedup.exact import normalize_for_hash


def test_normalisation() -> None:
    assert normalize_for_hash("Caf\u0065\u0301  IS\nopen") == normalize_for_hash("café is open")
    assert normalize_for_hash("Straße") == normalize_for_hash("STRASSE")


def corpus(tmp_path: Path) -> Path:
    rows = [
        {"id": "a", "text": "Once upon a time.", "q": 1},
        {"id": "b", "text": "Another tale."},
        {"id": "c", "text": "ONCE upon  a time. ", "q": 9},
        {"id": "d", "text": "once upon a time.", "q": "5"},
        {"id": "e", "text": "another TALE."},
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("keep, kept", [("first", ["a", "b"]), ("longest", ["b", "c"]), ("q", ["b", "c"])])
def test_keep_policies(tmp_path: Path, invariant, keep: str, kept: list[str]) -> None:
    result = retold.scan(corpus(tmp_path), out=tmp_path / "out", keep=keep)
    invariant(tmp_path / "out")
    assert sorted(r["id"] for r in result.kept_records()) == kept
    assert result.dropped == {"exact": 3} and result.clusters == {"exact": 2, "near": 0, "retold": 0}


def test_clusters_and_both_directions(tmp_path: Path) -> None:
    result = retold.scan(corpus(tmp_path), out=tmp_path / "out")
    members = read_jsonl(tmp_path / "out" / "clusters.jsonl")
    assert [(m["id"], m["cluster_id"], m["cluster_size"], m["kept"]) for m in members] == [
        ("a", "exact-1", 3, True),
        ("b", "exact-2", 2, True),
        ("c", "exact-1", 3, False),
        ("d", "exact-1", 3, False),
        ("e", "exact-2", 2, False),
    ]
    groups = {kept["id"]: [d["id"] for d in dups] for kept, dups in result.selected_with_duplicates()}
    assert groups == {"a": ["c", "d"], "b": ["e"]}
    for rec in result.dropped_records():
        assert rec["retold"]["reason"] == "exact" and rec["retold"]["similarity"] == 1.0


def test_detected_but_not_dropped(tmp_path: Path, invariant) -> None:
    result = retold.scan(corpus(tmp_path), out=tmp_path / "out", drop="")
    invariant(tmp_path / "out")
    assert result.kept == 5 and result.clusters == {"exact": 2, "near": 0, "retold": 0}


def test_mojibake_copy_is_exact_after_repair(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text(
        json.dumps({"id": "x", "text": "A small café."})
        + "\n"
        + json.dumps({"id": "y", "text": "A small caf√©."})
        + "\n",
        encoding="utf-8",
    )
    result = retold.scan(path, out=tmp_path / "out")
    assert result.dropped == {"exact": 1} and result.repaired == 1
