"""The retold level (on by default) on what a corpus throws at it: nothing lost, no crash, a line in
summary.json for each."""

from __future__ import annotations

import json
from pathlib import Path

import retold

STORY = (
    "Marco Kowalska was a man shrouded in mystery. He had spent years in the shadows of Moscow. "
    "One morning a letter arrived that changed everything. Sophie, his old friend, needed help. "
    "He packed a bag and took the night train south. By dawn he stood at her door, tired but sure."
)


def _scan(tmp_path: Path, rows: list[dict], **options) -> tuple[retold.ScanResult, dict]:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    result = retold.scan(path, out=tmp_path / "out", report=False, **options)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["documents_in"] == len(rows)
    assert result.kept + sum(result.dropped.values()) + result.quarantined == len(rows)
    return result, summary


def test_an_empty_corpus(tmp_path: Path) -> None:
    result, summary = _scan(tmp_path, [])
    assert summary["levels"]["retold"]["documents"] == 0 and result.kept == 0


def test_one_document(tmp_path: Path) -> None:
    result, summary = _scan(tmp_path, [{"id": "a", "text": STORY}])
    level = summary["levels"]["retold"]
    assert level["documents"] == 1 and level["candidate_pairs"] == 0 and result.kept == 1


def test_documents_of_one_sentence_and_without_letters(tmp_path: Path) -> None:
    rows = [
        {"id": f"s{i}", "text": f"{name} smiled at the sea."} for i, name in enumerate(["Ann", "Bo", "Cy"])
    ]
    rows += [{"id": "digits", "text": "12345 67 -- !!!"}, {"id": "emoji", "text": "🙂🙂🙂"}]
    result, summary = _scan(tmp_path, rows)
    level = summary["levels"]["retold"]
    assert level["documents"] == 3  # the two without words take no part
    assert level["verified_pairs"] == 0  # one sentence aligned is no story told twice
    assert result.kept == 5


def test_a_long_document(tmp_path: Path) -> None:
    """Two 5 MB stories (72,000 sentences each; one the other with names swapped) are read, embedded
    and verified on their first 2,000 sentences, and summary.json says so."""
    long = " ".join([STORY] * 12_000)  # ~5 MB
    twin = long.replace("Marco", "Ivan").replace("Kowalska", "Petrov").replace("Sophie", "Olga")
    result, summary = _scan(
        tmp_path, [{"id": "a", "text": long}, {"id": "b", "text": twin}], max_doc_bytes=64 << 20
    )
    level = summary["levels"]["retold"]
    assert level["documents"] == 2 and level["long_documents"] == 2 and result.kept == 2
    assert any("first 2,000" in w for w in result.warnings)
