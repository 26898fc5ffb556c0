"""Corpus metrics on inputs whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from retold.audit import audit_texts, cut, detect_language, metrics, sample_positions
from retold.audit.ngrams import Tokens


def test_tokens_keep_ngrams_inside_clauses_and_documents() -> None:
    tokens = Tokens.of(["a b c. d e", "f g"])
    _key, doc, start = tokens.keys(2)
    assert [tokens.phrase(int(s), 2) for s in start] == ["a b", "b c", "d e", "f g"]
    assert doc.tolist() == [0, 0, 0, 1]


def test_distinct_n() -> None:
    tokens = Tokens.of(["the cat sat", "the cat ran"])
    d = metrics.distinct_n(tokens)
    assert d["distinct_1"] == pytest.approx(4 / 6, abs=1e-4)  # the cat sat ran
    assert d["distinct_2"] == pytest.approx(3 / 4, abs=1e-4)  # the cat ×2, cat sat, cat ran
    assert d["distinct_3"] == 1.0


def test_self_repetition_counts_shared_4grams_per_document() -> None:
    shared = "one two three four five"
    tokens = Tokens.of([shared + " six", shared + " seven", "nothing in common with anyone here"])
    mean, per_doc = metrics.self_repetition(tokens)
    assert per_doc[0] == pytest.approx(2 / 3)  # 3 distinct 4-grams, 2 shared
    assert per_doc[2] == 0.0
    assert mean == pytest.approx((2 / 3 + 2 / 3 + 0) / 3, abs=1e-4)


def test_compression_sees_far_apart_copies_that_gzip_cannot() -> None:
    rng = np.random.default_rng(0)
    unique = ["".join(chr(97 + int(c)) for c in rng.integers(0, 26, 4000)) for _ in range(40)]
    copies = unique * 2  # each text twice, far apart after shuffling (160 KB)
    r_unique = metrics.compression_ratio(unique)
    r_copies = metrics.compression_ratio(copies)
    assert r_copies["zstd_long"] > 1.8 * r_unique["zstd_long"]
    assert r_copies["gzip"] < 1.2 * r_unique["gzip"]  # 32 KiB window: most copies out of reach


def test_vendi_counts_effective_documents() -> None:
    same = np.ones((10, 4))
    assert metrics.vendi(same)["vendi"] == pytest.approx(1.0)
    orthogonal = np.eye(5)
    v = metrics.vendi(orthogonal)
    assert v["vendi"] == pytest.approx(5.0) and v["vendi_share"] == pytest.approx(1.0)
    two_groups = np.repeat(np.eye(2), 6, axis=0)
    assert metrics.vendi(two_groups)["vendi"] == pytest.approx(2.0)


def test_vendi_dual_form_equals_the_n_by_n_form() -> None:
    x = metrics.unit(np.random.default_rng(1).standard_normal((50, 8)))
    eig = np.linalg.eigvalsh(x @ x.T / 50)
    eig = eig[eig > 1e-12]
    assert metrics.vendi(x)["vendi"] == pytest.approx(float(np.exp(-(eig * np.log(eig)).sum())), abs=1e-3)


def test_pairwise_similarity_and_histogram() -> None:
    p = metrics.pairwise_similarity(np.eye(3))
    assert p["mean"] == 0.0 and sum(p["histogram"]["counts"]) == 3


def test_sample_positions_spread_over_the_corpus() -> None:
    assert sample_positions(5, 10).tolist() == [0, 1, 2, 3, 4]
    picked = sample_positions(1000, 10)
    assert len(picked) == 10 and picked[0] == 0 and picked[-1] == 999


def test_detect_language() -> None:
    assert detect_language(["The cat sat on the mat and it was happy with the day."]) == "en"
    assert detect_language(["Кошка сидела на окне, и она была очень рада этому дню."]) == "ru"


def test_a_metric_name_fixes_its_vectors() -> None:
    """The static model's vectors give vendi / mean_pairwise_similarity; where the corpus is in a
    language the default model does not cover, the TF-IDF + LSA stand-in has names of its own."""
    import random

    from retold.audit import audit_texts

    rng = random.Random(0)
    letters = "абвгдежзиклмнопрстуфхцчшыэюя"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(4, 9))) for _ in range(400)]
    texts = [" ".join(rng.choice(words[k * 13 : k * 13 + 60]) for _ in range(80)) + "." for k in range(30)]
    m = audit_texts(texts, [str(i) for i in range(30)], lang="ru")["metrics"]
    assert "vendi_lsa" in m and "mean_pairwise_similarity_lsa" in m
    assert "vendi" not in m and "mean_pairwise_similarity" not in m
    english = [f"The fox and the hen walked to the mill number {i} by the river at night." for i in range(30)]
    m = audit_texts(english, [str(i) for i in range(30)], lang="en")["metrics"]
    assert "vendi" in m and "vendi_lsa" not in m


STYLES = {
    "plain": "The man went to the store. He bought bread and milk. Then he went home and ate.",
    "dialogue": '"I can\'t," she said. "You must," I told her. "Why would I?" she asked me.',
    "formal": "It is of the utmost importance that all of the members of this committee be present.",
    "past": "We had been walking for hours when they finally saw us from their boat on the lake.",
}


def test_style_vendi_counts_differently_written_documents() -> None:
    """Copies of one text are one style; texts written differently (dialogue, formal, narrative)
    count as several, whatever their length; a language wordfreq lacks and texts without words
    give None, not a figure."""
    one = metrics.style_vendi(Tokens.of([STYLES["plain"]] * 8), "en")
    assert one["vendi_style"] == pytest.approx(1.0) and one["vendi_style_share"] == pytest.approx(1 / 8)
    varied = metrics.style_vendi(Tokens.of(list(STYLES.values()) * 2), "en")
    assert varied["vendi_style"] > 2.5
    assert metrics.style_vendi(Tokens.of(["1234 !!", "…"]), "en")["vendi_style"] is None
    assert metrics.style_vendi(Tokens.of(["some words here"]), "xx")["vendi_style"] is None
    assert metrics.style_vendi(Tokens.of([]), "en")["vendi_style"] is None


def test_style_vendi_reads_a_fixed_window_of_each_document() -> None:
    """Only a document's first STYLE_WINDOW words count: two documents that begin alike and
    differ only past the window are one style."""
    head = " ".join([STYLES["plain"]] * 40)  # about 700 words
    assert len(head.split()) > metrics.STYLE_WINDOW
    a, b = head + " " + STYLES["dialogue"] * 30, head + " " + STYLES["formal"] * 30
    assert metrics.style_vendi(Tokens.of([a, b]), "en")["vendi_style"] == pytest.approx(1.0)


def test_the_audit_reads_a_long_document_to_its_first_hundred_thousand_characters() -> None:
    short, long = "a short story about the mill.", "word " * 50_000
    texts, n = cut([short, long])
    assert n == 1 and texts[0] is short and texts[1] == long[:100_000]
    found = audit_texts([short, long[:100_000], long], ["a", "b", "c"], lang="en")
    assert found["cut"] == {"characters": 100_000, "documents": 1}
    # the cut document is read as its first 100,000 characters: the same words as the one given cut
    assert found["per_document"]["self_repetition"][1] == found["per_document"]["self_repetition"][2]
