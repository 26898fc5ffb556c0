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
"""

from __future__ import annotations

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
