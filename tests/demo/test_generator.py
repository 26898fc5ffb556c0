"""Tests for the synthetic demo corpus: shape, determinism and the planted ground truth."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import pytest

from retold.demo.generator import FIRST_NAMES, PROMPTS, Planted, clean_texts, generate_corpus

N_STORIES = 200
SEED = 0
MOJIBAKE_MARKS = ("√", "Ã", "â€")


def normalise(text: str) -> str:
    """NFC, casefold, whitespace folding: what "exact copy" means."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def words(text: str) -> list[str]:
    return re.findall(r"\w+", unicodedata.normalize("NFC", text).casefold())


def jaccard5(a: str, b: str) -> float:
    """Word 5-gram Jaccard, written independently of the module's own helper."""
    wa, wb = words(a), words(b)
    ga = {tuple(wa[i : i + 5]) for i in range(len(wa) - 4)}
    gb = {tuple(wb[i : i + 5]) for i in range(len(wb) - 4)}
    return len(ga & gb) / len(ga | gb)


def first_names(text: str) -> set[str]:
    names = set(FIRST_NAMES)
    return {w for w in re.findall(r"\w+", unicodedata.normalize("NFC", text)) if w in names}


@pytest.fixture(scope="module")
def corpus() -> tuple[list[dict], list[Planted]]:
    return generate_corpus(N_STORIES, SEED)


@pytest.fixture(scope="module")
def by_id(corpus: tuple[list[dict], list[Planted]]) -> dict[str, dict]:
    return {r["id"]: r for r in corpus[0]}


def planted(corpus: tuple[list[dict], list[Planted]], kind: str) -> list[Planted]:
    return [p for p in corpus[1] if p.kind == kind]


def test_deterministic() -> None:
    assert generate_corpus(50, 7) == generate_corpus(50, 7)
    assert clean_texts(50, 7) == clean_texts(50, 7)


def test_different_seeds_differ() -> None:
    a, _ = generate_corpus(30, 1)
    b, _ = generate_corpus(30, 2)
    assert {r["text"] for r in a}.isdisjoint({r["text"] for r in b})


def test_records_shape(corpus: tuple[list[dict], list[Planted]]) -> None:
    records, _ = corpus
    for r in records:
        assert set(r) == {"id", "text", "prompt"}
        assert isinstance(r["text"], str) and r["text"]
        assert r["prompt"] in PROMPTS
    ids = [r["id"] for r in records]
    assert ids != sorted(ids), "records should come shuffled"


def test_ids_unique(corpus: tuple[list[dict], list[Planted]]) -> None:
    records, truth = corpus
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))
    assert len({p.id for p in truth}) == len(truth)
    assert {p.id for p in truth} <= set(ids)


@pytest.mark.parametrize(("n", "k"), [(1, 1), (5, 1), (20, 2), (200, 20)])
def test_counts(n: int, k: int) -> None:
    records, truth = generate_corpus(n, SEED)
    assert Counter(p.kind for p in truth) == {"exact": k, "near": k, "retold": k, "mojibake": k}
    assert len(records) == n + 4 * k
    assert sum(r["id"].startswith("story-") for r in records) == n
    prefixes = {"exact": "exact-", "near": "near-", "retold": "retold-", "mojibake": "moji-"}
    for p in truth:
        assert re.fullmatch(re.escape(prefixes[p.kind]) + r"\d{4}", p.id)


def test_originals_shape(corpus: tuple[list[dict], list[Planted]]) -> None:
    records, _ = corpus
    originals = [r for r in records if r["id"].startswith("story-")]
    assert len(originals) == N_STORIES
    for r in originals:
        text = r["text"]
        assert 120 <= len(text.split()) <= 300, r["id"]
        assert 8 <= len(re.findall(r"[.!?](?=\s|$)", text)) <= 15, r["id"]
        assert 2 <= len(first_names(text)) <= 3, r["id"]
    # several originals share each premise
    assert max(Counter(r["prompt"] for r in originals).values()) > 1
    assert len({r["prompt"] for r in originals}) >= 12


def test_originals_are_distinct(corpus: tuple[list[dict], list[Planted]]) -> None:
    records, _ = corpus
    originals = [r["text"] for r in records if r["id"].startswith("story-")][:60]
    worst = max(jaccard5(a, b) for i, a in enumerate(originals) for b in originals[i + 1 :])
    assert worst < 0.3


def test_of_refers_to_original(corpus: tuple[list[dict], list[Planted]], by_id: dict[str, dict]) -> None:
    _, truth = corpus
    for p in truth:
        if p.kind == "mojibake":
            assert p.of is None
        else:
            assert p.of is not None and p.of.startswith("story-") and p.of in by_id
            assert by_id[p.id]["prompt"] == by_id[p.of]["prompt"]


def test_exact_copies_normalise_to_original(
    corpus: tuple[list[dict], list[Planted]], by_id: dict[str, dict]
) -> None:
    exact = planted(corpus, "exact")
    for p in exact:
        assert normalise(by_id[p.id]["text"]) == normalise(by_id[p.of]["text"])
    verbatim = sum(by_id[p.id]["text"] == by_id[p.of]["text"] for p in exact)
    assert 0 < verbatim < len(exact), "some exact copies should differ in case or whitespace"


def test_near_copies(corpus: tuple[list[dict], list[Planted]], by_id: dict[str, dict]) -> None:
    for p in planted(corpus, "near"):
        text, original = by_id[p.id]["text"], by_id[p.of]["text"]
        assert normalise(text) != normalise(original)
        j = jaccard5(text, original)
        assert 0.5 <= j <= 0.98, (p, j)
        assert f"Jaccard {j:.2f}" in p.note


def test_retold_copies(corpus: tuple[list[dict], list[Planted]], by_id: dict[str, dict]) -> None:
    for p in planted(corpus, "retold"):
        text, original = by_id[p.id]["text"], by_id[p.of]["text"]
        assert jaccard5(text, original) < 0.3, p
        old, new = first_names(original), first_names(text)
        assert old and new
        assert not old & new, p
        assert len(new) == len(old)


def test_near_and_retold_of_same_original(corpus: tuple[list[dict], list[Planted]]) -> None:
    near = {p.of for p in planted(corpus, "near")}
    retold = {p.of for p in planted(corpus, "retold")}
    assert near & retold


def test_mojibake(corpus: tuple[list[dict], list[Planted]], by_id: dict[str, dict]) -> None:
    clean = clean_texts(N_STORIES, SEED)
    moji = planted(corpus, "mojibake")
    assert set(clean) == {p.id for p in moji}
    whole = 0
    for p in moji:
        damaged, good = by_id[p.id]["text"], clean[p.id]
        assert any(mark in damaged for mark in MOJIBAKE_MARKS), p
        assert not any(mark in good for mark in MOJIBAKE_MARKS), p
        assert not good.isascii()
        assert damaged != good
        if damaged in (good.encode("utf-8").decode("mac_roman"), good.encode("utf-8").decode("cp1252")):
            whole += 1
        else:  # only one word damaged: the rest of the text is intact
            damaged_words, good_words = damaged.split(" "), good.split(" ")
            assert len(damaged_words) == len(good_words)
            assert sum(a != b for a, b in zip(damaged_words, good_words, strict=True)) == 1
    assert 0 < whole < len(moji), "both variants (whole text, one word) should occur"
