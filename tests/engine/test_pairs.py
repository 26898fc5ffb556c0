"""pairs.jsonl: every verified pair of every level, also those the greedy clusters do not use."""

from __future__ import annotations

import random
from pathlib import Path

import retold
from conftest import read_jsonl


def edited(words: list[str], rng: random.Random, share: float) -> list[str]:
    return [w if rng.random() > share else f"{w}x" for w in words]


def test_a_chain_of_near_copies_keeps_every_verified_pair(tmp_path: Path) -> None:
    rng = random.Random(1)
    a = [f"w{rng.randrange(5000)}" for _ in range(400)]
    b = edited(a, rng, 0.02)
    c = edited(b, rng, 0.02)
    rows = [{"id": i, "text": " ".join(t)} for i, t in (("A", a), ("B", b), ("C", c))]
    rows.append({"id": "A2", "text": " ".join(a).upper()})
    (tmp_path / "in.jsonl").write_text(
        "".join(f'{{"id": "{r["id"]}", "text": "{r["text"]}"}}\n' for r in rows)
    )
    retold.scan(tmp_path / "in.jsonl", out=tmp_path / "o", levels="exact,near")
    pairs = {(p["level"], p["a"], p["b"]): p for p in read_jsonl(tmp_path / "o" / "pairs.jsonl")}
    assert set(pairs) == {("exact", "A", "A2"), ("near", "A", "B"), ("near", "A", "C"), ("near", "B", "C")}
    assert pairs["near", "A", "B"]["clustered"] and pairs["near", "A", "C"]["clustered"]
    assert not pairs["near", "B", "C"]["clustered"]  # B is itself dropped under A: C's keeper is A
    assert 0.7 <= pairs["near", "B", "C"]["similarity"] == pairs["near", "B", "C"]["evidence"]["jaccard"]
