"""The retold level: the seeds are one story told twice, names do not decide, evidence is written."""

from __future__ import annotations

import itertools
import json
import pickle
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import retold
from conftest import SHARED, read_jsonl
from retold.dedup.semantic import _align, _shuffled_mean

pytest.importorskip("sentence_transformers", reason="embedding extra not installed")
SEEDS = SHARED / "seeds"
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed stories not found at {SEEDS}")
SWAP = {  # every name of seed 000, consistently replaced
    "Marco": "Luca",
    "Marc": "Luc",
    "Kowalska": "Novak",
    "Dupont": "Moreau",
    "Sophie": "Claire",
    "Paris": "Lyon",
    "Seine": "Rhône",
    "Russian": "Polish",
    "Russia": "Poland",
}


def seeds(tmp_path: Path, swap: bool = False) -> Path:
    folder = tmp_path / ("swapped" if swap else "seeds")
    folder.mkdir()
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        if swap and path.name.startswith("000"):
            text = re.sub(r"\b(" + "|".join(SWAP) + r")\b", lambda m: SWAP[m.group()], text)
        (folder / path.name).write_text(text, encoding="utf-8")
    return folder


def told(out: Path) -> list[dict]:
    return [row for row in read_jsonl(out / "clusters.jsonl") if row["level"] == "retold"]


def test_alignment_follows_order() -> None:
    sim = np.full((4, 6), 0.2)
    for i, j in enumerate([0, 2, 3, 5]):
        sim[i, j] = 0.9
    score, pairs = _align(sim, 0.35)
    assert pairs.tolist() == [[0, 0], [1, 2], [2, 3], [3, 5]]
    assert score == pytest.approx(0.9 - 0.35)  # the mean cosine above the margin
    assert _shuffled_mean(sim, 0.35, 7, 16) < score  # shuffling the events costs the alignment
    assert _shuffled_mean(sim, 0.35, 7, 16) == _shuffled_mean(sim, 0.35, 7, 16)  # seeded: the same


@needs_seeds
def test_seeds_are_one_story_told_twice(tmp_path: Path, invariant) -> None:
    out = tmp_path / "out"
    result = retold.scan(seeds(tmp_path), out=out, levels="exact,near,retold")
    summary = invariant(out)
    assert result.kept == 2 and result.dropped == {}  # retold pairs are reported and kept by default
    assert summary["clusters"] == {"exact": 0, "near": 0, "retold": 1}
    rows = told(out)
    assert [r["cluster_id"] for r in rows] == ["retold-1", "retold-1"]
    evidence = rows[1]["evidence"]
    assert evidence["names"]["Sophie"] == "Sophia"
    assert "Arseniy" in evidence["names"].values()
    assert any("shrouded in mystery" in s["this"] for s in evidence["sentences"])
    assert rows[1]["similarity"] == evidence["order_gain"] >= summary["levels"]["retold"]["threshold"]


@needs_seeds
def test_swapping_every_name_changes_nothing(tmp_path: Path) -> None:
    plain, swapped = tmp_path / "plain", tmp_path / "swapped-out"
    retold.scan(seeds(tmp_path), out=plain, levels="retold")
    retold.scan(seeds(tmp_path, swap=True), out=swapped, levels="retold")
    a, b = told(plain), told(swapped)
    assert len(a) == len(b) == 2
    assert abs(a[1]["similarity"] - b[1]["similarity"]) <= 0.02
    assert b[1]["evidence"]["names"]["Claire"] == "Sophia"


@needs_seeds
def test_drop_retold_writes_the_evidence(tmp_path: Path, invariant) -> None:
    out = tmp_path / "out"
    result = retold.scan(seeds(tmp_path), out=out, levels="exact,near,retold", drop="exact,near,retold")
    invariant(out)
    assert result.dropped == {"retold": 1}
    note = read_jsonl(out / "dropped.jsonl")[0]["retold"]
    assert note["reason"] == "retold" and note["kept_id"].startswith("000")
    assert note["evidence"]["names"]["Sophie"] == "Sophia"
    again, other = tmp_path / "again", tmp_path / "other"
    other.mkdir()
    retold.scan(seeds(other), out=again, levels="exact,near,retold", drop="exact,near,retold")
    for name in ("kept.jsonl", "dropped.jsonl", "clusters.jsonl"):
        assert (out / name).read_bytes() == (again / name).read_bytes()  # deterministic


def test_unrelated_texts_are_not_retold(tmp_path: Path) -> None:
    rows = [
        {
            "id": "a",
            "text": "The harbour was quiet at dawn. Fishermen mended their nets. Gulls circled the boats.",
        },
        {
            "id": "b",
            "text": "Quarterly revenue rose by four percent. Costs fell. The board approved a dividend.",
        },
        {"id": "c", "text": ""},
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = retold.scan(path, out=tmp_path / "out", levels="retold")
    assert result.clusters == {"retold": 0}
    assert result.dropped == {"empty": 1}


def test_top_k_is_a_stable_sort() -> None:
    from retold.dedup.neighbours import top_k as _top_k

    rng = np.random.default_rng(0)
    block = rng.integers(0, 20, size=(30, 50)).astype(np.float32)  # many ties
    block[3, 3] = -np.inf
    idx, val = _top_k(block, 7)
    expected = np.argsort(-block, axis=1, kind="stable")[:, :7]
    assert (idx == expected).all()
    assert (val == np.take_along_axis(block, expected, axis=1)).all()


def _opened_alike(rng: np.random.Generator, middle: Any) -> tuple[np.ndarray, list[Any], np.ndarray]:
    """Six tellings that open with one sentence (its vector, the tellings, six unrelated document
    vectors): [the opener, ``middle()``, a sentence of their own]."""
    from retold.dedup.semantic import Telling

    opener = _unit(rng.standard_normal(16))
    tellings = [
        Telling(
            ["Sure! Here is a story:", "x", "y"],
            set(),
            np.stack([opener, middle(), _unit(rng.standard_normal(16))]),
        )
        for _ in range(6)
    ]
    return opener, tellings, np.stack([_unit(rng.standard_normal(8)) for _ in range(6)])


def test_boilerplate_shared_by_unrelated_documents_is_silenced() -> None:
    from retold.dedup.semantic import Telling, silence_boilerplate

    rng = np.random.default_rng(1)
    opener, tellings, unrelated = _opened_alike(rng, lambda: _unit(rng.standard_normal(16)))
    assert silence_boilerplate(tellings, unrelated, min_docs=5) == 6
    assert all(not t.vectors[0].any() and t.vectors[1].any() for t in tellings)
    for t in tellings:
        t.vectors[0] = opener
    # the six on one subject, among six others: a sentence they share is evidence (copied from one
    # source), not boilerplate. (With no other subject in the run, the two cannot be told apart.)
    others = [Telling(["z"], set(), _unit(rng.standard_normal((1, 16)))) for _ in range(6)]
    one_subject = np.tile(_unit(rng.standard_normal(8)), (6, 1)) + 0.01 * rng.standard_normal((6, 8))
    doc_vectors = np.concatenate([one_subject, unrelated])
    doc_vectors /= np.linalg.norm(doc_vectors, axis=1, keepdims=True)
    assert silence_boilerplate(tellings + others, doc_vectors, min_docs=5) == 0
    assert silence_boilerplate(tellings, unrelated, min_docs=7) == 0  # too few documents


def test_zero_sentence_vectors_are_never_boilerplate() -> None:
    """A sentence with no word the model knows has a zero vector: it recurs nowhere (it is left
    out of the check's index), and the sentences around it are judged as before."""
    from retold.dedup.semantic import Telling, silence_boilerplate

    rng = np.random.default_rng(2)
    _, tellings, unrelated = _opened_alike(rng, lambda: np.zeros(16))  # "Жили-были." to an English model
    assert silence_boilerplate(tellings, unrelated, min_docs=5) == 6  # the openers, not the zeros
    assert all(not t.vectors[0].any() and t.vectors[2].any() for t in tellings)
    only_zeros = [Telling(["Жили-были."], set(), np.zeros((1, 16))) for _ in range(6)]
    assert silence_boilerplate(only_zeros, unrelated, min_docs=5) == 0


class _Fixed:
    """A stand-in sentence model: sentence k of every text gets vector k (given by the test)."""

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = vectors

    def encode_short(self, texts: list[str]) -> np.ndarray:
        return np.concatenate([self.vectors, self.vectors])[: len(texts)]


def test_one_arc_in_loosely_similar_sentences_is_not_a_retelling() -> None:
    """Order gain alone would take it: every aligned pair at cosine 0.6, none near whole."""
    from retold.dedup.semantic import MIN_ANCHOR, Verifier

    rng = np.random.default_rng(0)
    base = rng.normal(size=(6, 32))
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    noise = rng.normal(size=(6, 32))
    noise -= (noise * base).sum(axis=1, keepdims=True) * base
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    text = " ".join(f"This is the {w} sentence of the story told here." for w in "abcdef")
    for cosine, retold_ in ((0.6, False), (0.9, True)):
        other = cosine * base + np.sqrt(1 - cosine**2) * noise
        verifier = Verifier(_Fixed(np.concatenate([base, other])))
        a, b = verifier.tellings([text, text])
        match, _ = verifier.match(a, b)
        assert match.order_gain > 0.025 and len(match.pairs) >= 3
        assert (match.anchor >= MIN_ANCHOR) is retold_
        assert match.anchor == pytest.approx(cosine, abs=0.15)


def _unit(v: np.ndarray) -> np.ndarray:
    """``v`` (a vector, or rows of them) at unit length."""
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def test_a_sentence_other_stories_tell_as_closely_is_not_distinct() -> None:
    """HANNA's h22/h91: 'It was a dark and stormy night…' — the pair's best sentence, and a third
    story's too."""
    from retold.dedup.semantic import MIN_DISTINCT, RetoldMatch, Telling, distinct_anchor

    rng = np.random.default_rng(2)
    s = _unit(rng.normal(size=(3, 32)))
    words = np.full(3, 12.0)
    x = Telling(["a", "b", "c"], set(), s, words)
    y = Telling(["a", "b", "c"], set(), _unit(s + 0.1 * rng.normal(size=s.shape)), words)
    raw = (x.vectors * y.vectors).sum(axis=1)
    match = RetoldMatch(0.05, 0.3, [(k, k, float(raw[k])) for k in range(3)])
    nobody = np.zeros(3)
    assert distinct_anchor(match, x, nobody, y) == pytest.approx(raw.max())  # nobody else tells them
    third = _unit(s + 0.1 * rng.normal(size=s.shape))  # a third story tells all three as closely
    rival = np.maximum((x.vectors @ third.T).max(axis=1), (y.vectors @ third.T).max(axis=1))
    assert distinct_anchor(match, x, rival, y) < MIN_DISTINCT
    short = Telling(["a", "b", "c"], set(), x.vectors, np.full(3, 2.0))  # two-word lines count 2/8
    assert distinct_anchor(match, short, nobody, y) == pytest.approx(raw.max() * 2 / 8)


def test_rewrites_of_one_text_are_not_each_others_rivals() -> None:
    """Three rewrites of one source share its sentences: evidence. A fourth story, not verified with
    them, telling the same sentence makes it the premise's, not the story's."""
    from retold.dedup.semantic import RetoldIndex, RetoldMatch, Telling

    rng = np.random.default_rng(3)
    story = _unit(rng.normal(size=(4, 32)))
    words = np.full(4, 12.0)
    tell = {
        d: Telling(list("abcd"), set(), _unit(story + 0.05 * rng.normal(size=story.shape)), words)
        for d in range(4)
    }
    tell[4] = Telling(list("abcd"), set(), _unit(rng.normal(size=(4, 32))), words)  # unrelated
    docs = np.arange(5)

    def results(pairs: list[tuple[int, int]]) -> dict:
        out = {}
        for a, b in pairs:
            raw = (tell[a].vectors * tell[b].vectors).sum(axis=1)
            out[a, b] = (RetoldMatch(0.05, 0.3, [(k, k, float(raw[k])) for k in range(4)]), False)
        return out

    # 0, 1, 2 verified with each other; 3 tells the same story but was not verified with them
    pairs = [(0, 1), (0, 2), (1, 2)]
    left, right = RetoldIndex._distinct([0, 0, 1], [1, 2, 2], results(pairs), docs, tell)
    assert (left, right) == ([], [])  # 3 is a rival: what they share, a fourth story tells too
    tell[3] = Telling(list("abcd"), set(), _unit(rng.normal(size=(4, 32))), words)  # now it is not
    found = results(pairs)
    left, right = RetoldIndex._distinct([0, 0, 1], [1, 2, 2], found, docs, tell)
    assert list(zip(left, right, strict=True)) == pairs  # the group's members are not rivals
    assert all(m.distinct > 0.3 for m, _ in found.values())


def test_stock_sentence_check_in_cells_searches_the_rest_only_for_pairs_that_may_lead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In cells, the sentences are searched in their nearest cell, then in the rest only where an
    aligned pair may still lead by MIN_DISTINCT: the same pairs kept, with the same distinct values,
    as searching every cell of every sentence at once (to the products' last bits)."""
    from retold.dedup import neighbours, semantic
    from retold.dedup.semantic import RetoldIndex, RetoldMatch, Telling

    monkeypatch.setattr(neighbours, "EXACT_LIMIT", 1000)  # 2,400 sentences: in cells
    rng = np.random.default_rng(11)
    stock = _unit(rng.normal(size=(20, 32)))  # lines that many stories tell
    tell, words = {}, np.full(8, 12.0)
    for d in range(300):
        family = _unit(np.random.default_rng(1000 + d // 3).normal(size=(8, 32)))  # 3 rewrites each
        own = _unit(family + 0.15 * rng.normal(size=family.shape))
        own[rng.random(8) < 0.5] = stock[rng.integers(0, 20)]  # half of its lines stock
        tell[d] = Telling(list("abcdefgh"), set(), _unit(own + 0.05 * rng.normal(size=own.shape)), words)
    docs = np.arange(300)
    left = [d for d in range(0, 300, 3)] * 2
    right = [d + 1 for d in range(0, 300, 3)] + [d + 2 for d in range(0, 300, 3)]

    def results() -> dict:
        out = {}
        for a, b in zip(left, right, strict=True):
            raw = (tell[a].vectors * tell[b].vectors).sum(axis=1)
            out[a, b] = (RetoldMatch(0.05, 0.3, [(k, k, float(raw[k])) for k in range(8)]), False)
        return out

    asked: list[int] = []
    spied = semantic._rivals

    def spy(index, vectors, rows, owner, label, probes=slice(None)):  # type: ignore[no-untyped-def]
        asked.append(len(rows))
        return spied(index, vectors, rows, owner, label, probes)

    monkeypatch.setattr(semantic, "_rivals", spy)
    found = results()
    kept = RetoldIndex._distinct(list(left), list(right), found, docs, tell)
    assert 0 < len(kept[0]) < len(left)  # some pairs lead, some do not
    assert 0 < asked[1] < asked[0] / 2  # the rest of the cells for fewer than half the sentences
    monkeypatch.setattr(semantic, "RIVAL_FIRST", neighbours.PROBES)  # every cell at once
    every = results()
    assert RetoldIndex._distinct(list(left), list(right), every, docs, tell) == kept
    pairs = list(zip(*kept, strict=True))  # the kept pairs' values as reported; another's is a bound
    # (the same products in matrices of other shapes: equal to the last bits)
    assert [found[p][0].distinct for p in pairs] == pytest.approx(
        [every[p][0].distinct for p in pairs], abs=1e-6
    )


RUSSIAN = (
    "Маша жила в маленьком доме у самого моря. Каждое утро Маша ходила на берег со своей собакой Жучкой. "
    "Однажды Жучка нашла в песке старую бутылку с запиской внутри. В записке было написано, что на острове "
    "спрятан клад. Маша позвала своего друга Петю, и они взяли у деда лодку. Весь день они гребли против "
    "ветра и очень устали. На острове они нашли только сундук, полный старых писем. Письма оказались от "
    "бабушки Маши, которая когда-то жила на этом острове."
)
OTHER_RUSSIAN = (
    "Зимой в деревне выпало так много снега, что занесло все дороги. Дети лепили снеговиков и катались "
    "с горки до самого вечера. Старый учитель рассказывал им сказки у печки. Когда снег растаял, в деревню "
    "приехал почтальон с большой сумкой подарков. Все радовались весне и пели песни на площади."
)


def test_a_language_the_default_models_do_not_cover_is_read_by_its_words(tmp_path: Path) -> None:
    """Russian stories are compared by their words: a name-swapped retelling is found, unrelated
    stories are not paired, and no Russian story is ever paired with an English one."""
    swapped = RUSSIAN.replace("Маша", "Оля").replace("Маши", "Оли").replace("Петю", "Ваню")
    swapped = swapped.replace("Жучка", "Тузик").replace("Жучкой", "Тузиком").replace("очень", "сильно")
    english = "Every morning the girl walked to the sea with her dog and looked for shells in the sand."
    rows = [
        {"id": "ru0", "text": RUSSIAN},
        {"id": "ru1", "text": swapped},
        {"id": "ru2", "text": OTHER_RUSSIAN},
    ]
    rows += [{"id": f"en{i}", "text": f"{english} It was day {i} of the summer."} for i in range(2)]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    result = retold.scan(tmp_path / "in.jsonl", out=tmp_path / "o", levels="retold")
    level = json.loads((tmp_path / "o" / "summary.json").read_text())["levels"]["retold"]
    assert level["lexical_documents"] == 3 and level["documents"] == 5
    assert level["language"] == "English by the models, other languages by their words"
    assert any("3 documents are not in English" in w for w in result.warnings)
    pairs = [json.loads(line) for line in (tmp_path / "o" / "pairs.jsonl").read_text().splitlines()]
    assert [(p["a"], p["b"]) for p in pairs if p["level"] == "retold"] == [("ru0", "ru1")]
    names = pairs[0]["evidence"]["names"]
    assert names["Маша"] == "Оля" and names["Петю"] == "Ваню"


def test_english_tally_sums_to_the_english_share_of_whole_sentences() -> None:
    """A sentence's English share from its whitespace-separated words' tallies (what the tellings
    use, riding on the encoder's split) is :func:`english_share` of the whole sentence."""
    from retold.dedup.semantic import english_share, english_shares, english_tally

    sentences = [
        "The cat sat on the mat.",
        "Кошка сидела на ковре.",
        "someone met Someone at the café — “quoted” (x) l'été d'İstanbul",
        "İSTANBUL IS BIG, ΟΔΟΣ ΟΔΟΣ road; straße ﬁne",
        "well-known rock-'n'-roll isn't dead",
        "",
        "   ",
        "12 34 !!",
        "someone",
        "İ ΟΣ.Α",  # a letter that grows lowered: english_share lowers word by word, the tally too
    ]
    counts = np.array([english_tally(s.split()).sum(axis=0) if s.split() else np.zeros(3) for s in sentences])
    assert np.array_equal(english_shares(counts.astype(np.int64)), [english_share(s) for s in sentences])


def test_centred_rows_are_numpys_float64_centring_bit_for_bit() -> None:
    """The tellings' centring, a block of rows at a time, gives the float32 rows numpy's
    whole-array float64 centring and normalising gave."""
    from retold.dedup.semantic import _CENTRE_BLOCK, _centred

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((2 * _CENTRE_BLOCK + 17, 256)).astype(np.float32)
    vectors[3] = 0.0
    centre = rng.standard_normal(256) * 0.1
    by_numpy = vectors.astype(np.float64) - centre
    by_numpy /= np.maximum(np.linalg.norm(by_numpy, axis=1, keepdims=True), 1e-12)
    assert np.array_equal(_centred(vectors, centre), by_numpy.astype(np.float32))
    again = vectors.copy()
    assert _centred(again, centre, in_place=True) is again
    assert np.array_equal(again, by_numpy.astype(np.float32))


def test_tellings_joined_from_the_workers_blocks_as_by_copying() -> None:
    """The tellings' vectors joined block by block as the workers sent them are those copied a
    telling at a time, and each block is let go of; tellings given alone are copied."""
    from retold.dedup.semantic import Telling, _one_array, _packed, _unpacked

    rng = np.random.default_rng(1)

    def told(n: int) -> Telling:
        return Telling(
            [f"s{i} a b c" for i in range(n)], set(), rng.standard_normal((n, 8)).astype(np.float32)
        )

    sent = [_packed([told(n) for n in sizes]) for sizes in ((3, 1, 4), (2,), (5, 1))]
    expected = np.concatenate([p[0] for p in sent])
    last = sent[2][0][5:].copy()
    sending = list(sent)
    joined, together = _unpacked(sending)  # type: ignore[arg-type]
    assert sending == [None, None, None]
    flat, _, starts = _one_array(joined, together)
    assert np.array_equal(flat, expected) and starts.tolist() == [0, 3, 4, 8, 10, 15, 16]
    assert all(np.shares_memory(t.vectors, flat) for t in joined)
    shuffled = _unpacked(list(sent))[0][::-1]  # not one array's rows in order: copied
    flat, _, starts = _one_array(shuffled)
    assert np.array_equal(flat[: starts[1]], last) and len(flat) == 16


def test_packed_tellings_keep_their_one_array() -> None:
    """Tellings whose vectors are consecutive rows of one array are sent as those rows, not a
    copy; any other tellings' vectors are copied into one array. Both give the same rows."""
    from retold.dedup.semantic import Telling, _packed

    rng = np.random.default_rng(2)
    rows = rng.standard_normal((12, 8)).astype(np.float32)
    cuts = [(0, 3), (3, 3), (3, 7), (7, 12)]  # one telling without sentences
    told = [Telling(["a b c"] * (hi - lo), set(), rows[lo:hi]) for lo, hi in cuts]
    sent, _ = _packed(told[1:])
    assert np.shares_memory(sent, rows) and np.array_equal(sent, rows[3:])
    for order in (told[::-1], [told[0], told[3]], [*told[:2], Telling(["a b c"], set(), rows[3:4].copy())]):
        sent, _ = _packed(order)
        assert not np.shares_memory(sent, rows)
        assert np.array_equal(sent, np.concatenate([t.vectors for t in order]))


def test_english_words_kept_in_the_cache_folder(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The English word list is read from wordfreq once and kept; a cache folder that cannot be
    written costs only the read."""
    from wordfreq import top_n_list

    from retold.dedup import semantic

    expected = frozenset(top_n_list("en", semantic.CENTRE_WORDS))
    monkeypatch.setenv("RETOLD_CACHE", str(tmp_path / "cache"))
    semantic._english_words.cache_clear()
    try:
        assert semantic._english_words() == expected
        assert [p.name.startswith("english-") for p in (tmp_path / "cache").iterdir()] == [True]
        semantic._english_words.cache_clear()
        assert semantic._english_words() == expected  # from the kept list
        blocked = tmp_path / "file"
        blocked.write_text("not a folder")
        monkeypatch.setenv("RETOLD_CACHE", str(blocked))
        semantic._english_words.cache_clear()
        assert semantic._english_words() == expected
    finally:
        semantic._english_words.cache_clear()


def test_shuffled_mean_is_alignments_of_shuffled_columns_bit_for_bit() -> None:
    """The shuffles' scores come from a two-row table read through the permutation; each must be
    :func:`_align`'s score of the permuted matrix exactly (the same draws from the same seed)."""
    from numba import njit

    @njit(cache=False)
    def by_align(sim, margin, seed, shuffles, give_up):  # type: ignore[no-untyped-def]
        np.random.seed(seed)
        total = 0.0
        for _ in range(shuffles):
            perm = np.random.permutation(sim.shape[1])
            score, _ = _align(np.ascontiguousarray(sim[:, perm]), margin)
            total += score
            if total / shuffles > give_up:
                return total / shuffles
        return total / shuffles

    rng = np.random.default_rng(5)
    for m, n in ((1, 1), (1, 7), (6, 1), (5, 9), (23, 31), (40, 40)):
        sim = rng.uniform(-0.2, 1.0, (m, n))
        sim[rng.random((m, n)) < 0.3] = 0.35  # gains of exactly zero at the margin
        for seed, give_up in ((0, np.inf), (7, np.inf), (11, 0.05)):
            assert _shuffled_mean(sim, 0.35, seed, 16, give_up) == by_align(sim, 0.35, seed, 16, give_up)


def _english_share_by_regex(text: str) -> float:
    """:func:`english_share` as it was first written: one regex pass over the whole text."""
    from retold.dedup.names import PLACEHOLDER
    from retold.dedup.semantic import _english_words
    from retold.text import WORD

    lowered = text.lower()
    found = WORD.findall(lowered) if len(lowered) == len(text) else [w.lower() for w in WORD.findall(text)]
    masks = found.count(PLACEHOLDER)
    hits = sum(map(_english_words().__contains__, found)) - (masks if PLACEHOLDER in _english_words() else 0)
    return hits / (len(found) - masks) if len(found) > masks else 0.0


def test_english_share_from_remembered_pieces_is_the_whole_texts() -> None:
    """The share summed from each whitespace-separated piece's remembered tally is the one regex
    pass over the whole text gives: on ../shared's texts (their 2,000-character prefixes, as the
    level reads them) where present, and on random text over letters that change when lowered."""
    import gzip
    import random

    from retold.dedup import semantic
    from retold.dedup.semantic import SHARE_PREFIX, english_share

    texts = [
        "The cat sat on the mat.",
        "İSTANBUL IS BIG, ΟΔΟΣ ΟΔΟΣ road; straße ﬁne",
        "someone met Someone at the café — l'été d'İstanbul",
        "",
        "12 34 !!",
        "x" * 40 + " the " + "the-" * 30,
    ]
    rng = random.Random(2)
    alphabet = [*"aeIİiıΣσςΟΔ ", "the ", "someone ", "and ", "\n", "-", "'", "’", "9", "ß", "ﬁ"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(40))) for _ in range(3000)]
    for name, field in (
        ("hanna_stories/stories.jsonl", "text"),
        ("slopscore_stories/stories.jsonl.gz", "text"),
        ("tinystories_ru/stories.jsonl.gz", "story"),
    ):
        path = SHARED / "data" / name
        if path.exists():
            with (gzip.open if path.suffix == ".gz" else open)(path, "rt", encoding="utf-8") as fh:
                texts += [json.loads(line)[field][:SHARE_PREFIX] for line in itertools.islice(fh, 300)]
    semantic._TALLIED.clear()
    for text in texts + texts:  # the second time from remembered pieces
        assert english_share(text) == _english_share_by_regex(text), text


STAGE_TEXTS = [
    "Mara Quill kept the lighthouse alone. Every night she climbed the stairs with a lamp. "
    "One winter a ship ran onto the rocks below. Mara rowed out through the storm and brought "
    "the sailors home.\n\nIn the spring the town of Port Elling gave her a medal.",
    # a name that runs over a blank line: masked as one across it, as two in its sentences
    "Chapter One: Harbour Common\n\nSarah Kent waited by the sea for Sarah's brother. Sarah Kent "
    "was tired of waiting for him. They read the letters together by the water until dark.",
    "A single sentence without an end",
    "Tom went home.\x0cHe slept until noon. Then he went out again to find the dog.",  # odd space
    "Short. Very short. Still short. But this one has enough words to stand alone here.",
]


def _stage_records(texts: list[str]) -> list[Any]:
    from retold.records import Record

    return [Record(id=str(k), text=t, data={"text": t}, source="s", line=k) for k, t in enumerate(texts)]


def test_stage_makes_the_decisions_tellings_and_whole_vectors_bit_for_bit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The stage reads each text once for its whole-text vector and its telling: the vector is
    what encoding the masked text gives, the telling what the decision's verifier makes, bit for
    bit; where the sentences' words are not the text's (a name masked across a blank line, an odd
    space, a text past MAX_SENTENCES) the text is encoded whole."""
    from retold.dedup import semantic
    from retold.dedup.names import find_names, masked

    hanna = SHARED / "data" / "hanna_stories" / "stories.jsonl"
    texts = list(STAGE_TEXTS)
    if hanna.exists():  # and 40 real stories, where ../shared is present
        with hanna.open(encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in itertools.islice(fh, 40)]
    options = semantic.RetoldOptions()
    stage = semantic.RetoldEmbed(options)
    verifier = semantic.load_verifier(options, stage.embedder)
    verifier.english_only = stage.english_only
    names = [find_names(t) for t in texts]
    _, whole = stage.verifier().tellings_and_vectors(texts, names, [masked(t) for t in texts])
    assert whole[0] is not None and whole[1] is None and whole[3] is None  # pooled; across; odd space
    for limit in (semantic.MAX_SENTENCES, 2):  # (2: texts cut, encoded whole)
        monkeypatch.setattr(semantic, "MAX_SENTENCES", limit)
        records = _stage_records(texts)
        stage.process_batch(records)
        for record in records:
            space, vector, (rows, lo, hi, blob) = record.meta[semantic.NAME]
            part = pickle.loads(blob)
            assert space == semantic.SEMANTIC
            assert np.array_equal(vector, stage.embedder.encode([masked(record.text)])[0])
            (want,) = verifier.tellings([record.text])
            assert np.array_equal(rows[lo:hi], want.vectors)
            assert part[0] == want.sentences and part[1] == want.names and part[3] == want.cut
            assert np.array_equal(part[2], want.words)


@pytest.mark.parametrize("own_pages", [False, True])
def test_stage_tellings_kept_on_disk_until_the_decision_and_cut_back_on_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own_pages: bool
) -> None:
    """The index writes the stage's tellings to its work folder and reads back those a decision
    asks for (into numpy's memory, or past ``OWN_PAGES_FROM`` into an anonymous map of its own);
    a resumed run cuts them back to its checkpoint. Past the stage's budget a document gets its
    whole-text vector alone, and the decision makes its telling."""
    from retold.dedup import semantic

    if own_pages:
        monkeypatch.setattr(semantic, "OWN_PAGES_FROM", 1)

    options = semantic.RetoldOptions()
    stage = semantic.RetoldEmbed(options)
    index = semantic.RetoldIndex(tmp_path / "work", options, stage)
    first, second = _stage_records(STAGE_TEXTS), _stage_records(STAGE_TEXTS[::-1])
    stage.process_batch(first)
    for record in first:
        index.add(record, 0.0)
    state = index.checkpoint()
    stage.process_batch(second)
    for record in second:
        index.add(record, 0.0)
    docs = np.arange(2 * len(STAGE_TEXTS))
    have, where = index._spilled(docs)
    assert have.all()
    files = (index._told_path, index._parts_path)
    for pick in (docs, docs[1::2], docs[[0, 1, 2, 5, 6]]):  # runs on disk, and gaps between them
        tellings, joined = semantic._gathered(have[pick], where[pick], [], files, index.dim)
        at = 0
        for d, telling in zip(pick.tolist(), tellings, strict=True):
            rows, lo, hi, blob = (first + second)[d].meta[semantic.NAME][2]
            said, names, words, cut = pickle.loads(blob)
            assert np.array_equal(telling.vectors, rows[lo:hi]) and np.array_equal(telling.words, words)
            assert (telling.sentences, telling.names, telling.cut) == (said, names, cut)
            assert np.shares_memory(telling.vectors, joined) and np.array_equal(
                joined[at : at + hi - lo], rows[lo:hi]
            )
            at += hi - lo
        assert at == len(joined)
        assert joined.flags.writeable and (joined.base is not None) is own_pages
    # the documents the stage did not tell come as made blocks, in order, between the read ones
    verifier = stage.verifier()
    gap = np.array([False, True, True, False, True, False] + [True] * (len(docs) - 6))
    texts = [r.text for r in first + second]
    told = verifier.tellings([texts[d] for d in np.flatnonzero(~gap)])
    made = [semantic._packed(told[:2]), semantic._packed(told[2:])]
    tellings, joined = semantic._gathered(gap, where[gap], made, files, index.dim)
    assert made == [None, None]  # let go of once copied
    for d, telling in enumerate(tellings):
        rows, lo, hi, blob = (first + second)[d].meta[semantic.NAME][2]
        said = pickle.loads(blob)[0]
        assert np.array_equal(telling.vectors, rows[lo:hi]) and telling.sentences == said
        assert np.shares_memory(telling.vectors, joined)
    index.restore(state)  # the second batch is read again
    have, _ = index._spilled(docs)
    assert have.tolist() == [True] * len(first) + [False] * len(second)
    index.close()
    stage._told_bytes = semantic.STAGE_TELLING_BYTES  # the budget spent: vectors only
    late = _stage_records(STAGE_TEXTS)
    stage.process_batch(late)
    assert all(len(r.meta[semantic.NAME]) == 2 for r in late)
    assert np.array_equal(
        np.stack([r.meta[semantic.NAME][1] for r in late]),
        np.stack([r.meta[semantic.NAME][1] for r in first]),
    )


def test_same_words_without_a_split_only_where_they_are() -> None:
    """The masked sentences' words are taken for the masked text's without splitting either
    only where they are: random texts of names, their possessives, other capitals, the
    placeholder itself, sentence ends and blank lines between them."""
    import random

    from retold.dedup.names import find_names, mask_names
    from retold.dedup.semantic import _masked_sentences, _same_words
    from retold.text import counted_sentences

    tokens = ["Marco", "Sophie's", "Sophie", "Paris", "The", "someone", "Someone", "went", "home", "and"]
    ends = [" ", " ", ". ", ".\n\n", "\n\n", "\n \n", "? ", " \n\n", "… "]
    rng = random.Random(6)
    seen = {True: 0, False: 0}
    for _ in range(3000):
        text = "".join(rng.choice(tokens) + rng.choice(ends) for _ in range(rng.randrange(1, 14)))
        text += "Marco met Sophie in Paris. Then Marco smiled."  # (each text has its names)
        names = find_names(text)
        masked = _masked_sentences([counted_sentences(text)[0] or [text]], [names])[0]
        whole = mask_names(text, names)
        same = " ".join(masked).split() == whole.split()
        assert _same_words(masked, whole) == same, text
        seen[same] += 1
    assert min(seen.values()) > 50  # both kinds met


def test_prefix_shares_through_the_word_table_as_the_plain_share(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Each text's English share of its first characters, through the word table, is
    ``english_share`` of the prefix itself: English and Russian stories, names masked, prefixes
    cut inside a word, at a space, after a newline, texts shorter and exactly as long."""
    import random

    from retold.dedup.semantic import SHARE_PREFIX, english_share, prefix_shares

    rng = random.Random(9)
    words = ["The", "cat", "someone", "sat", "Кошка", "сидела", "on", "the", "mat.", "well-known", "9:30"]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randrange(0, 700))) for _ in range(40)]
    texts += ["x" * SHARE_PREFIX, "x" * (SHARE_PREFIX - 1) + " the", "a\n" * SHARE_PREFIX, "", "   "]
    texts += [t[:k] + "\n" + t[k:] for t in texts[:10] for k in (SHARE_PREFIX - 3, SHARE_PREFIX)]
    path = SHARED / "data" / "tinystories_ru" / "stories.jsonl.gz"
    if path.exists():
        import gzip

        with gzip.open(path, "rt", encoding="utf-8") as fh:
            texts += [json.loads(line)["story"] for line, _ in zip(fh, range(200), strict=False)]
        assert english_share(texts[-1]) < 0.1
    for batch in (texts, texts[::-1], texts[:1]):
        assert prefix_shares(batch).tolist() == [english_share(t[:SHARE_PREFIX]) for t in batch]
    from retold.dedup import semantic

    monkeypatch.setattr(semantic, "TALLY_WORDS", 20)  # the tallies start over, again and again
    monkeypatch.setattr(semantic, "_WORD_TALLIES", semantic._WordTallies())
    for lo in range(0, len(texts), 7):
        batch = texts[lo : lo + 7]
        assert prefix_shares(batch).tolist() == [english_share(t[:SHARE_PREFIX]) for t in batch]


def test_self_cosines_read_in_blocks_are_each_rows_own() -> None:
    """Blocks of rows (arrays or Rows of a matrix) give each row's own inner product, zero rows 0."""
    from retold.dedup import semantic
    from retold.dedup.neighbours import Rows

    rng = np.random.default_rng(3)
    matrix = rng.standard_normal((3 * semantic._SELF_BLOCK + 17, 8)).astype(np.float32)
    matrix[[0, 600, 1500]] = 0.0
    want = np.einsum("ij,ij->i", matrix, matrix)
    assert np.array_equal(semantic._self_cosines(matrix), want)
    rows = np.arange(len(matrix))[::2]
    assert np.array_equal(semantic._self_cosines(Rows(matrix, rows)), want[rows])
    assert (semantic._self_cosines(matrix) > 0).sum() == len(matrix) - 3


def test_boilerplate_in_the_verified_sentences_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``BOILERPLATE_EXACT`` edge sentences, the check searches them in the cells of every
    verified sentence (made once, for the stock-sentence check too), not in cells of their own:
    the same openers are found either way, and the cells are made only when asked for."""
    from retold.dedup import neighbours, semantic

    monkeypatch.setattr(semantic, "BOILERPLATE_EXACT", 200)
    monkeypatch.setattr(neighbours, "EXACT_LIMIT", 500)
    rng = np.random.default_rng(4)
    opener = _unit(rng.standard_normal(64))
    tellings = []
    for d in range(300):
        own = _unit(rng.standard_normal((6, 64)))
        if d % 10 == 0:  # 30 unrelated documents open alike
            own[0] = _unit(opener + 0.05 * rng.standard_normal(64))
        tellings.append(semantic.Telling([f"s{k}" for k in range(6)], set(), own))
    doc_vectors = _unit(rng.standard_normal((300, 8)))
    flat, _, starts = semantic._one_array(tellings)
    made: list[neighbours.Neighbours] = []

    def cells() -> neighbours.Neighbours:
        made.append(neighbours.Neighbours(flat, cells=semantic.RIVAL_CELLS))
        return made[-1]

    shared = semantic.boilerplate(tellings, doc_vectors, 5, (flat, starts), cells)
    assert len(made) == 1 and made[0].in_cells
    own = semantic.boilerplate(tellings, doc_vectors, 5, (flat, starts))
    want = [[0] if d % 10 == 0 else [] for d in range(300)]
    assert [s.tolist() for s in shared] == want and [s.tolist() for s in own] == want
    monkeypatch.setattr(semantic, "BOILERPLATE_EXACT", 10_000)  # few enough: exact, no cells made
    assert [s.tolist() for s in semantic.boilerplate(tellings, doc_vectors, 5, (flat, starts), cells)] == want
    assert len(made) == 1
