"""Corpus diversity metrics, each linear or near-linear in the number of documents.

Each function says what it measures and how far it samples. All take the documents in a fixed
order and use fixed seeds, so a run gives the same figures every time.

* :func:`compression_ratio`: bytes / zstd bytes with a 128 MiB window over a fixed byte budget of
  shuffled documents. gzip's 32 KiB window sees only repeats within a few documents of each other;
  the long window sees a copy anywhere in the budget. Both are reported.
* :func:`distinct_n`: distinct n-grams / all n-grams, n = 1..4 (Li et al. 2016).
* :func:`self_repetition`: for each document, the share of its distinct 4-grams that also occur in
  another document; the corpus figure is the mean. One sort of the (4-gram, document) pairs:
  linear, where comparing documents pairwise would be quadratic. (After Salkar et al. 2022, who
  count a summarizer's n-grams repeated across its outputs.)
* :func:`pairwise_similarity`: mean cosine of all pairs of a sample of document vectors, and
  their histogram.
* :func:`vendi`: the Vendi score (Friedman & Dieng 2023) of unit document vectors through the dual
  form: the eigenvalues of ``XᵀX / n`` (d × d) are those of the n × n similarity matrix ``XXᵀ / n``,
  so it costs O(n d²), not O(n³). ``vendi / n`` reads as the effective share of unique documents.
* :func:`style_vendi`: the Vendi score of the documents' *style profiles*: how each one uses the
  language's 300 most common words, measured against the language's own frequencies (wordfreq).
  A fixed method that does not saturate where general-purpose document vectors do (see there).
"""

from __future__ import annotations

import functools
import gzip
from collections.abc import Sequence
from typing import Any

import numpy as np
import zstandard

from retold.audit.ngrams import Tokens, counts, doc_unique, lookup

COMPRESSION_BUDGET = 8 << 20  # bytes of text compressed (8 MiB)
ZSTD_WINDOW_LOG = 27  # 128 MiB: larger than the budget, so every repeat is in reach
PAIRWISE_SAMPLE = 2000
HISTOGRAM_BINS = 20


def shuffled(n: int, seed: int = 0) -> np.ndarray:
    """A fixed permutation of ``range(n)``."""
    return np.random.Generator(np.random.PCG64(seed)).permutation(n)


def compression_ratio(
    texts: Sequence[str], budget: int = COMPRESSION_BUDGET, seed: int = 0
) -> dict[str, Any]:
    """Raw bytes / compressed bytes of up to ``budget`` bytes of the documents in shuffled order.

    The shuffle (fixed seed) keeps a corpus sorted by topic from looking repetitive to gzip;
    the byte budget makes corpora of different sizes comparable.
    """
    chunks, size = [], 0
    for i in shuffled(len(texts), seed):
        data = texts[int(i)].encode("utf-8") + b"\n"
        if size + len(data) > budget and chunks:
            break
        chunks.append(data)
        size += len(data)
    raw = b"".join(chunks)[:budget]
    if not raw:
        return {"zstd_long": None, "gzip": None, "bytes": 0, "documents": 0}
    params = zstandard.ZstdCompressionParameters.from_level(19, window_log=ZSTD_WINDOW_LOG, enable_ldm=True)
    zstd = zstandard.ZstdCompressor(compression_params=params).compress(raw)
    gz = gzip.compress(raw, compresslevel=9, mtime=0)
    return {
        "zstd_long": round(len(raw) / len(zstd), 4),
        "gzip": round(len(raw) / len(gz), 4),
        "bytes": len(raw),
        "documents": len(chunks),
    }


def distinct_n(tokens: Tokens, orders: Sequence[int] = (1, 2, 3, 4)) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for n in orders:
        key, _, _ = tokens.keys(n)
        out[f"distinct_{n}"] = round(len(np.unique(key)) / len(key), 4) if len(key) else None
    return out


def self_repetition(tokens: Tokens, n: int = 4) -> tuple[float | None, np.ndarray]:
    """(corpus mean, per-document share of distinct n-grams found in another document).

    Documents with no n-gram get NaN and are left out of the mean.
    """
    key, doc, _ = tokens.keys(n)
    key, doc = doc_unique(key, doc)
    per_doc = np.full(tokens.docs, np.nan)
    if not len(key):
        return None, per_doc
    table, df = counts(key)
    shared = lookup(table, df, key) >= 2
    total = np.bincount(doc, minlength=tokens.docs)
    hit = np.bincount(doc, weights=shared, minlength=tokens.docs)
    has = total > 0
    per_doc[has] = hit[has] / total[has]
    return round(float(np.nanmean(per_doc)), 4), per_doc


def sample_positions(n: int, cap: int) -> np.ndarray:
    """At most ``cap`` positions spread evenly over ``range(n)`` (all when n <= cap)."""
    if n <= cap:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, cap).round().astype(np.int64))


def unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def pairwise_similarity(vectors: np.ndarray, sample: int = PAIRWISE_SAMPLE, seed: int = 0) -> dict[str, Any]:
    """Mean cosine over all pairs of up to ``sample`` documents, and a histogram of those cosines."""
    x = unit(vectors)
    if len(x) > sample:
        x = x[np.sort(shuffled(len(x), seed)[:sample])]
    n = len(x)
    if n < 2:
        return {"mean": None, "sampled": n, "histogram": {"edges": [], "counts": []}}
    sims = (x @ x.T)[np.triu_indices(n, 1)]
    hist, edges = np.histogram(np.clip(sims, -1, 1), bins=HISTOGRAM_BINS, range=(-1.0, 1.0))
    return {
        "mean": round(float(sims.mean()), 4),
        "sampled": n,
        "histogram": {"edges": [round(float(e), 2) for e in edges], "counts": hist.tolist()},
    }


def vendi(vectors: np.ndarray) -> dict[str, Any]:
    """Vendi score of unit vectors (cosine kernel), by the dual form; and Vendi / n."""
    x = unit(vectors)
    n = len(x)
    if n == 0:
        return {"vendi": None, "vendi_share": None}
    eig = np.linalg.eigvalsh(x.T @ x / n)
    eig = eig[eig > 1e-12]
    eig = eig / eig.sum()  # zero vectors (no text) would leave the trace below 1
    score = float(np.exp(-(eig * np.log(eig)).sum()))
    return {"vendi": round(score, 3), "vendi_share": round(score / n, 5)}


#: The style profile's words (the language's most common, by wordfreq) and the window of each
#: document it reads (its first words): one window for every document and corpus, so that a
#: profile's sampling noise (which grows as the window shrinks, and would read as diversity) is
#: the same everywhere. 400 words is about a page; a shorter document is read whole.
STYLE_WORDS = 300
STYLE_WINDOW = 400


def style_vendi(tokens: Tokens, lang: str) -> dict[str, Any]:
    """Vendi score (and Vendi / n) of the documents' style profiles, cosine kernel.

    A document's profile: for each of the language's :data:`STYLE_WORDS` most common words, its
    frequency ``f`` in the document's first :data:`STYLE_WINDOW` words against the language's
    frequency ``p`` (wordfreq), as ``(f - p) / sqrt(p)``: a word's Poisson noise is then of one size
    for every word, so no single frequent word ("the") dominates the cosine. Two documents written
    the same way (the same habits of pronouns, tense, conjunctions, dialogue) have profiles that
    point the same way, whatever their topic; this is the stylometry of Burrows' Delta, with the
    language's frequencies as the fixed centre instead of the corpus's own.

    Why not the document vectors alone: a general-purpose sentence model puts every story near
    every other (HANNA's 96 human stories on 96 prompts: mean cosine 0.86, Vendi 2.5 of 96), so
    its Vendi cannot tell a varied corpus from a uniform one. The style profiles do: on HANNA, the
    human stories score Vendi / n 0.58 and the six models 0.40-0.50 (on each document's first 400
    words, so length does not decide it); 60 copies of one story score 1/60.
    """
    top = _style_words(lang)
    if top is None or not tokens.docs:
        return {"vendi_style": None, "vendi_style_share": None}
    words, expected = top
    column = np.full(len(tokens.vocab), -1, dtype=np.int64)
    for w, i in tokens.vocab.items():
        j = words.get(w.replace("’", "'"))
        if j is not None:
            column[i] = j
    # each position's rank within its document: the window is a document's first STYLE_WINDOW words
    first = np.searchsorted(tokens.doc, np.arange(tokens.docs))
    rank = np.arange(len(tokens.doc)) - first[tokens.doc] if len(tokens.doc) else tokens.doc
    inside = rank < STYLE_WINDOW
    length = np.bincount(tokens.doc[inside], minlength=tokens.docs).astype(np.float64)
    hit = inside & (column[tokens.ids] >= 0) if len(tokens.ids) else inside
    cells = tokens.doc[hit] * len(expected) + column[tokens.ids[hit]]  # (document, word) as one index
    freq = (
        np.bincount(cells, minlength=tokens.docs * len(expected)).reshape(tokens.docs, -1).astype(np.float64)
    )
    has = length > 0
    if not has.any():  # no document has a word
        return {"vendi_style": None, "vendi_style_share": None}
    freq[has] /= length[has, None]
    profile = np.where(has[:, None], (freq - expected) / np.sqrt(expected), 0.0)
    score = vendi(profile)
    return {"vendi_style": score["vendi"], "vendi_style_share": score["vendi_share"]}


@functools.lru_cache(maxsize=4)
def _style_words(lang: str) -> tuple[dict[str, int], np.ndarray] | None:
    """The language's :data:`STYLE_WORDS` most common words (to columns) and their frequencies, or
    None where wordfreq has no list for it."""
    from wordfreq import available_languages, top_n_list, word_frequency

    if lang not in available_languages():
        return None
    words = top_n_list(lang, STYLE_WORDS)
    freq = np.array([word_frequency(w, lang) for w in words])
    keep = freq > 0
    return {w: i for i, w in enumerate(np.array(words)[keep].tolist())}, freq[keep]
