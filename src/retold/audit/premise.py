"""Premise clusters: documents grouped by what they are about, each labelled by its own phrases.

The method holds its quality as a corpus grows (measured in ``benchmarks/bench_premise.py``):

1. **Words.** TF-IDF of the words of 3+ letters that do not begin with a capital (names, so "Lily"
   groups nothing; sublinear counts; the language's 200 most common words and words in over half
   the documents left out),
   fitted on an even sample of at most ``PREMISE_FIT`` documents. Each document keeps its
   ``PREMISE_TERMS`` strongest words: a premise is carried by a few rare content words (arena,
   exterminator), and the pruned rows make exact cosines cheap at any size.
2. **Neighbours.** Candidates from LSA (``PREMISE_DIMENSIONS``-dimensional truncated SVD of the same
   matrix, centred; exact search, k-means cells past 50k documents), re-scored by the exact cosine of the
   pruned TF-IDF rows; each document keeps its ``PREMISE_NEIGHBOURS`` best. LSA alone is what broke
   the old clusters at scale: 128 dimensions cannot hold hundreds of premises, so stories of
   different prompts drifted together (slopscore_stories + HANNA + NT chapters: HANNA's ARI fell
   from 0.72 alone to 0.28 in the mix); the exact re-score has no such ceiling.
3. **Graph.** Each document's similarities become memberships relative to its own nearest
   neighbour (UMAP's fuzzy simplicial set: short stories on one prompt are less alike in absolute
   terms than long ones, and a fixed cosine cut-off favours one length), joined by fuzzy union.
4. **Communities.** Leiden with the constant Potts model (``PREMISE_RESOLUTION``): a group is a
   premise when its members' mean membership exceeds the resolution. Unlike modularity, whose
   null model grows with the corpus and merges small premises in a large one (measured ARI 0.25 on
   slopscore_stories), the constant Potts model has no resolution limit, so the same defaults mean
   the same thing at any size. No cluster count is given; a document with no close neighbours is
   alone (-1). Deterministic: fixed seeds, exact scores, Leiden's fixed seed.

Why words and not embeddings: on HANNA (average linkage, best distance of a sweep) the static
model's vectors scored ARI 0.00 raw and 0.58 centred with the top 4 principal directions removed,
MiniLM sentence vectors averaged 0.46, TF-IDF + LSA 0.70. Stories on one prompt share the prompt's
content words (arena, insects, exterminator) more reliably than their embeddings agree. HDBSCAN
gave 0.02-0.03: with 7 stories a premise its density estimate calls most of them noise.

Chosen on three corpora together (HANNA 96 prompts × 7, slopscore_stories 150 prompts × ~20, the
NT chapters in four translations; a sweep of neighbours 15-30 and resolutions 0.1-0.2), never one.
What it cannot do: a premise told by many more than ``PREMISE_NEIGHBOURS`` documents is connected
only through neighbours of neighbours and may split into parts of a few dozen; the report's
size table shows that.

Labels: class-based TF-IDF (Grootendorst 2022): the 1-3-word phrases of a cluster weighted by how
much more often they occur in it than in the corpus.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit, prange

from retold.audit.metrics import sample_positions, unit
from retold.dedup.names import PLACEHOLDER

PREMISE_TERMS = 64
PREMISE_DIMENSIONS = 256
PREMISE_CANDIDATES = 50
PREMISE_NEIGHBOURS = 30
PREMISE_RESOLUTION = 0.2
PREMISE_FIT = 10_000  # documents the words are fitted on
LSA_FIT = 8_000  # of those, documents the LSA is fitted on
PREMISE_SEED = 0
_EDGE_PART = 5_000_000
_QUERY_PART = 100_000  # documents whose neighbours are searched at once
LABEL_PHRASES = 5
LABELLED_CLUSTERS = 50  # the largest clusters get labels (the report shows these)
LABEL_DOCS = 20  # documents of a cluster its label is computed from (bounded time and memory)
#: Words of 3+ letters that do not begin with a capital: "n't", "'ll", "m" of tokenised contractions
#: ("I 'm") say nothing of a premise, and capitalised words are mostly names ("Lily" groups nothing).
#: Leaving them out costs nothing measurable against masking names first (HANNA ARI 0.714 vs 0.718,
#: slopscore_stories 0.899 vs 0.900) and saves the masking pass (3.6 s of 10 s on slopscore_stories).
TOKEN_PATTERN = r"\b(?![A-ZÀ-ÞА-ЯЁ])[^\W\d_]{3,}(?:['’-][^\W\d_]+)*"
STOP_WORDS = 200
METHOD = (
    f"TF-IDF (capitalised words left out, {PREMISE_TERMS} strongest words a document), {PREMISE_NEIGHBOURS} nearest "
    f"neighbours (LSA candidates re-scored exactly), Leiden (constant Potts model, resolution "
    f"{PREMISE_RESOLUTION}) on the fuzzy neighbour graph"
)


def stop_words(texts: Sequence[str], lang: str | None = None, top: int = STOP_WORDS) -> list[str]:
    """The language's ``top`` most common words (wordfreq) and "someone" (the retold level's name
    placeholder: it says nothing of a premise; the figures were measured with it left out)."""
    from wordfreq import top_n_list

    from retold.audit.language import detect_language

    lang = lang or detect_language(texts)
    return sorted(set(top_n_list(lang, top, wordlist="small")) | {PLACEHOLDER})


@dataclass
class PremiseClusters:
    """``labels[i]``: the cluster of document i (-1: alone); clusters largest first."""

    labels: np.ndarray
    clusters: list[dict[str, Any]] = field(default_factory=list)
    documents: int = 0
    fitted_on: int = 0
    vectors: np.ndarray | None = None  # LSA vectors (unit, not centred): the audit's fallback vectors

    def to_json(self, limit: int = 50) -> dict[str, Any]:
        sizes = [c["size"] for c in self.clusters]
        return {
            "method": METHOD,
            "documents": self.documents,
            "fitted_on": self.fitted_on,
            "clusters": len(self.clusters),
            "documents_in_clusters": int(sum(sizes)),
            "alone": int(self.documents - sum(sizes)),
            "size_distribution": _size_histogram(sizes),
            "top": self.clusters[:limit],
        }


def _size_histogram(sizes: list[int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for lo, hi in ((2, 2), (3, 3), (4, 5), (6, 10), (11, 20), (21, 50), (51, 100), (101, 10**12)):
        key = str(lo) if lo == hi else (f"{lo}-{hi}" if hi < 10**12 else f"{lo}+")
        out[key] = sum(1 for s in sizes if lo <= s <= hi)
    return out


class Words:
    """TF-IDF of the words of 3+ letters that do not begin with a capital (sublinear counts, smooth
    idf, rows of unit length: scikit-learn's ``TfidfVectorizer(sublinear_tf=True)``), the words cut
    and counted by pyarrow's compute kernels.

    Written here rather than taken from scikit-learn because of cost, measured on 20,000 stories
    (97 M characters): ``TfidfVectorizer.transform`` 15 s, of which its per-word Python work (stop
    words, vocabulary look-up, counting) is 9 s; the same rows here 4-5 s, the cutting (RE2, in C++)
    most of it. The premise step reads every document of a corpus, so this is most of its cost.
    """

    SPLIT = r"[^\p{L}'’-]+"  # a word: letters, with inner apostrophes and hyphens
    PART = 2000

    def __init__(
        self, texts: Sequence[str], stop: Sequence[str], min_df: int = 2, max_df: float = 0.5
    ) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        doc, words = self._all_words(texts)
        kept = pc.invert(pc.is_in(words, value_set=pa.array(sorted(stop), pa.string())))
        words, doc = pc.filter(words, kept), doc[np.asarray(kept)]
        encoded = pc.dictionary_encode(words)
        ids = np.asarray(encoded.indices, dtype=np.int64)
        terms = encoded.dictionary
        n = len(texts)
        pairs = np.unique(doc * len(terms) + ids)
        df = np.bincount(pairs % len(terms), minlength=len(terms))
        keep = np.flatnonzero((df >= min_df) & (df <= max_df * n))
        order = np.argsort(np.asarray(terms.take(pa.array(keep)).to_pylist(), dtype=object), kind="stable")
        keep = keep[order]  # vocabulary in alphabetical order: columns do not depend on reading order
        self.vocabulary = terms.take(pa.array(keep))
        self.idf = (np.log((1.0 + n) / (1.0 + df[keep])) + 1.0).astype(np.float32)

    def _all_words(self, texts: Sequence[str]) -> tuple[np.ndarray, Any]:
        """:meth:`_words` of all the texts, in parts on every core."""
        from concurrent.futures import ThreadPoolExecutor

        import pyarrow as pa

        starts = list(range(0, len(texts), self.PART))
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            parts = list(pool.map(lambda lo: self._words(texts[lo : lo + self.PART]), starts))
        if not parts:
            return np.zeros(0, dtype=np.int64), pa.array([], pa.large_string())
        doc = np.concatenate([d + lo for lo, (d, _) in zip(starts, parts, strict=True)])
        return doc, pa.concat_arrays([w for _, w in parts])

    def _words(self, texts: Sequence[str]) -> tuple[np.ndarray, Any]:
        import pyarrow as pa
        import pyarrow.compute as pc

        lists = pc.split_pattern_regex(pa.array(texts, pa.large_string()), pattern=self.SPLIT)
        offsets = np.asarray(lists.offsets, dtype=np.int64)
        doc = np.repeat(np.arange(len(texts), dtype=np.int64), np.diff(offsets))
        words = pc.utf8_trim(lists.flatten(), characters="'’-")
        ok = pc.and_(
            pc.greater_equal(pc.utf8_length(words), 3),
            pc.invert(pc.utf8_is_upper(pc.utf8_slice_codeunits(words, 0, 1))),
        )
        mask = np.asarray(ok.fill_null(False))
        return doc[mask], pc.filter(words, ok)

    def transform(self, texts: Sequence[str]) -> Any:
        """The documents' TF-IDF rows (CSR, float32, columns sorted), in parts of ``PART`` documents
        on every core: pyarrow's kernels let go of the GIL (20,000 stories: 7.3 s on one thread,
        3.9 s on two)."""
        from concurrent.futures import ThreadPoolExecutor

        from scipy.sparse import vstack

        parts = [texts[lo : lo + self.PART] for lo in range(0, len(texts), self.PART)]
        if len(parts) <= 1:
            return self._rows(texts)
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            return vstack(list(pool.map(self._rows, parts)), format="csr")

    def _rows(self, texts: Sequence[str]) -> Any:
        import pyarrow.compute as pc
        from scipy.sparse import csr_matrix

        doc, words = self._words(texts)
        term = pc.index_in(words, value_set=self.vocabulary)
        known = np.asarray(pc.is_valid(term))
        v = len(self.vocabulary)
        keys, counts = np.unique(
            doc[known] * v + np.asarray(term.drop_null(), dtype=np.int64), return_counts=True
        )
        rows, cols = keys // v, keys % v
        data = ((1.0 + np.log(counts)) * self.idf[cols]).astype(np.float32)
        norms = np.sqrt(np.bincount(rows, weights=data.astype(np.float64) ** 2, minlength=len(texts)))
        data /= np.where(norms == 0, 1.0, norms)[rows].astype(np.float32)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(texts)))])
        return csr_matrix((data, cols.astype(np.int32), indptr), shape=(len(texts), v))


class PremiseSpace:
    """The words (TF-IDF) and the LSA of a corpus, fitted on an even sample of its texts."""

    def __init__(self, texts: Sequence[str], stop: list[str]) -> None:
        from sklearn.decomposition import TruncatedSVD

        self.svd: Any = None
        self.mean: np.ndarray | None = None
        self.fitted_on = len(texts)
        self.words = Words(texts, stop)
        self.matrix: Any = None  # the sample's TF-IDF rows, until a transform of the same texts takes them
        if len(self.words.vocabulary) < 2:  # no word in two documents (and fewer than half)
            return
        matrix = self.words.transform(texts)
        dims = min(PREMISE_DIMENSIONS, matrix.shape[1] - 1, len(texts) - 1)
        self.matrix = matrix
        if dims >= 1:
            # the LSA only proposes candidates (the exact word cosine decides), so it is fitted on
            # fewer documents with two power iterations: 3.9 s instead of 8.4 s at 8,000 stories
            few = matrix[sample_positions(matrix.shape[0], LSA_FIT)]
            self.svd = TruncatedSVD(dims, n_iter=2, random_state=PREMISE_SEED).fit(few)
            self.mean = unit(self.svd.transform(few)).mean(axis=0)

    @property
    def usable(self) -> bool:
        return self.svd is not None

    def transform(self, texts: Sequence[str] | None) -> tuple[Any, np.ndarray, np.ndarray]:
        """(pruned TF-IDF rows, centred unit LSA vectors, raw unit LSA vectors) of the texts (None:
        the sample's own, without reading them again)."""
        full, self.matrix = (
            (self.matrix, None) if texts is None else (self.words.transform(texts), self.matrix)
        )
        raw = unit(self.svd.transform(full))
        rows = pruned(full, PREMISE_TERMS)
        return rows, unit(raw - self.mean).astype(np.float32), raw.astype(np.float32)


def pruned(matrix: Any, terms: int) -> Any:
    """Each row's ``terms`` largest entries (ties: lower column), L2-normalised, columns sorted."""
    from scipy.sparse import csr_matrix

    matrix = matrix.tocsr()
    matrix.sort_indices()
    data, indices, indptr = _prune(matrix.data.astype(np.float32), matrix.indices, matrix.indptr, terms)
    return csr_matrix((data, indices, indptr), shape=matrix.shape)


@njit(cache=True)
def _prune(data, indices, indptr, terms):  # type: ignore[no-untyped-def]
    n = len(indptr) - 1
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    for r in range(n):
        out_ptr[r + 1] = out_ptr[r] + min(terms, indptr[r + 1] - indptr[r])
    out_data = np.zeros(out_ptr[n], dtype=np.float32)
    out_idx = np.zeros(out_ptr[n], dtype=np.int32)
    for r in range(n):
        a, b = indptr[r], indptr[r + 1]
        seg = data[a:b]
        keep = np.sort(np.argsort(-seg, kind="mergesort")[:terms])  # columns stay in order
        norm = np.sqrt(np.sum(seg[keep] ** 2))
        o = out_ptr[r]
        for j in range(len(keep)):
            out_data[o + j] = seg[keep[j]] / norm if norm > 0 else 0.0
            out_idx[o + j] = indices[a + keep[j]]
    return out_data, out_idx, out_ptr


@njit(cache=True, nogil=True, parallel=True)
def _rescore(data, indices, indptr, cands, first):  # type: ignore[no-untyped-def]
    """Exact cosines of rows ``first``.. with their candidate rows (sorted sparse rows, merged)."""
    n, c = cands.shape
    out = np.full((n, c), -1.0, dtype=np.float32)
    for r in prange(n):  # rows are independent: the result does not depend on the threads
        a0, a1 = indptr[first + r], indptr[first + r + 1]
        for j in range(c):
            o = cands[r, j]
            if o < 0:
                continue
            b, b1 = indptr[o], indptr[o + 1]
            a = a0
            s = 0.0
            while a < a1 and b < b1:
                ia, ib = indices[a], indices[b]
                if ia == ib:
                    s += data[a] * data[b]
                    a += 1
                    b += 1
                elif ia < ib:
                    a += 1
                else:
                    b += 1
            out[r, j] = s
    return out


def neighbours(rows: Any, lsa: np.ndarray, k: int = PREMISE_NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """Each document's ``k`` nearest by exact word cosine among its LSA candidates, best first
    (columns int32, -1 for none). Searched a part of the documents at a time: only the part's
    candidates are held (a million documents' 50 candidates, their cosines and their order at
    once were 1.4 GB)."""
    from retold.dedup.neighbours import EXACT_LIMIT, Neighbours

    n = len(lsa)
    c = min(PREMISE_CANDIDATES, n - 1)
    keep = min(k, c)
    # past the exact search's limit the cells read the rows a block at a time, so they may
    # stay in half precision (a million documents: 0.5 GB instead of 1 GB)
    index = Neighbours(np.ascontiguousarray(lsa, dtype=np.float32) if n <= EXACT_LIMIT else lsa)
    cols = np.full((n, keep), -1, dtype=np.int32)
    sims = np.full((n, keep), -1.0, dtype=np.float32)
    for lo in range(0, n, _QUERY_PART):
        found, _ = index.search_rows(c, lo, min(n, lo + _QUERY_PART))
        scored = _rescore(rows.data, rows.indices, rows.indptr, found, lo)
        scored[found < 0] = -1.0
        order = np.argsort(-scored, axis=1, kind="stable")[:, :keep]
        cols[lo : lo + len(found)] = np.take_along_axis(found, order, axis=1)
        sims[lo : lo + len(found)] = np.take_along_axis(scored, order, axis=1)
    return cols, sims


def memberships(sims: np.ndarray) -> np.ndarray:
    """UMAP's fuzzy memberships: exp(-(d - ρ)/σ), d = 1 - cosine, ρ the nearest neighbour's
    distance, σ chosen (bisection) so that each document's memberships sum to log2(k)."""
    d = 1.0 - sims.astype(np.float64)
    gap = np.maximum(d - d[:, :1], 0.0)
    target = np.log2(max(2, d.shape[1]))
    lo = np.full((len(d), 1), 1e-6)
    hi = np.full((len(d), 1), 10.0)
    for _ in range(48):
        mid = (lo + hi) / 2
        over = np.exp(-gap / mid).sum(axis=1, keepdims=True) > target
        hi = np.where(over, mid, hi)
        lo = np.where(over, lo, mid)
    return np.exp(-gap / ((lo + hi) / 2))


def edges(cols: np.ndarray, sims: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The neighbour graph's undirected edges (a < b, in (a, b) order) and their weights: the
    fuzzy union of the two directions' memberships, 1 - (1 - w_ab)(1 - w_ba). Only a link to
    another document with a positive cosine counts."""
    n, k = cols.shape
    log_miss = np.empty((n, k), dtype=np.float64)
    for lo in range(0, n, _QUERY_PART):  # rows are independent: the memberships' temporaries a part at a time
        w = memberships(sims[lo : lo + _QUERY_PART])
        log_miss[lo : lo + len(w)] = np.log1p(-np.minimum(w, 1 - 1e-9))
    a, b, log_w = _union(cols, sims, log_miss)
    return a, b, -np.expm1(log_w)


@njit(cache=True)
def _union(cols, sims, log_miss):  # type: ignore[no-untyped-def]
    """Each directed link (a document, one of its neighbours) as the pair (lower, higher), pairs
    grouped by their lower end (a counting sort), each group sorted by the higher end, and equal
    pairs merged by adding their log(1 - w): the same edges, order and sums as sorting all pairs
    at once (np.unique), in 16 bytes a link instead of ~50."""
    n, k = cols.shape
    start = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        for j in range(k):
            o = cols[i, j]
            if o >= 0 and o != i and sims[i, j] > 0:
                start[min(i, o) + 1] += 1
    for i in range(n):
        start[i + 1] += start[i]
    high = np.empty(start[n], dtype=np.int32)
    value = np.empty(start[n], dtype=np.float64)
    fill = start[:n].copy()
    for i in range(n):  # in document order: a group's links keep the order np.unique's stable sort gives
        for j in range(k):
            o = cols[i, j]
            if o >= 0 and o != i and sims[i, j] > 0:
                lower = min(i, o)
                high[fill[lower]] = max(i, o)
                value[fill[lower]] = log_miss[i, j]
                fill[lower] += 1
    low_out = np.empty(start[n], dtype=np.int32)
    out = 0
    for i in range(n):
        seg = np.argsort(high[start[i] : start[i + 1]], kind="mergesort") + start[i]
        his = high[seg]
        vals = value[seg]
        for t in range(len(seg)):
            if t > 0 and his[t] == his[t - 1]:
                value[out - 1] += vals[t]
            else:
                low_out[out] = i
                high[out] = his[t]
                value[out] = vals[t]
                out += 1
    return low_out[:out], high[:out], value[:out]


class _Handover:
    """Edge weights handed to igraph a part at a time: python-igraph reads a sequence by iterating
    it into its own float64 vector, so each part is freed once it is read and ours are not held
    beside igraph's copy through Leiden, whose peak is the run's (a million documents: 190 MB)."""

    PART = 1_000_000

    def __init__(self, weights: np.ndarray) -> None:
        self._n = len(weights)
        self._parts = [weights[lo : lo + self.PART].copy() for lo in range(0, len(weights), self.PART)]

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: int) -> float:
        raise TypeError("the weights are read once, in order")  # python-igraph iterates them

    def __iter__(self) -> Iterator[float]:
        while self._parts:
            yield from self._parts.pop(0).tolist()


def neighbour_graph(n: int, a: np.ndarray, b: np.ndarray) -> Any:
    """The igraph graph of ``n`` documents and the undirected edges (``a``, ``b``) of :func:`edges`."""
    import igraph

    # edges added in parts: python-igraph turns a whole array into Python pairs first (20 M edges at
    # a million documents: 3.2 GB above the graph, 29 s; in parts of 5 M: 1.1 GB, 34 s)
    graph = igraph.Graph(n=n)
    for lo in range(0, len(a), _EDGE_PART):
        graph.add_edges(np.stack([a[lo : lo + _EDGE_PART], b[lo : lo + _EDGE_PART]], axis=1))
    return graph


def communities(graph: Any, weights: Sequence[float]) -> np.ndarray:
    """Leiden (constant Potts model) on :func:`neighbour_graph` with the edges' ``weights``; -1 for
    a document alone."""
    import igraph

    # igraph's own Leiden (C): 0.3 s for 20,000 documents where leidenalg's took 4.5 s, same
    # partitions' quality; its random numbers come from a generator seeded here (determinism)
    igraph.set_random_number_generator(random.Random(PREMISE_SEED))
    try:
        part = graph.community_leiden(
            objective_function="CPM",
            weights=weights,
            resolution=PREMISE_RESOLUTION,
            # one pass of move, refine and aggregate: a second one took 1.8x the time (300,000
            # documents: 53 s against 30 s) and moved bench_premise's ARIs by at most 0.007 (HANNA
            # 0.716 → 0.713, slopscore creative 0.810 → 0.809, the mixes ±0.006)
            n_iterations=1,
        )
    finally:
        igraph.set_random_number_generator(random)
    labels = np.asarray(part.membership, dtype=np.int64)
    sizes = np.bincount(labels)
    return np.where(sizes[labels] >= 2, labels, -1)


def representatives(rows: Any, same_as: Sequence[np.ndarray] = ()) -> np.ndarray:
    """Each document's representative (the first of its group): documents whose words are the same
    (a copy, or a story told again with other names: capitalised words are not read), and those
    ``same_as`` joins (arrays of document → the document it repeats or retells, -1 for none: a
    scan's exact, near and retold keepers). A group is one node of
    the graph: copies and retellings share their original's premise (the levels and the premises
    never contradict each other), and a premise told many times over still counts its distinct
    stories against the neighbour graph's reach (slopscore_stories with every story told again with
    other names: ARI 0.38 without this on the creative prompts)."""
    n = rows.shape[0]
    parent = np.arange(n, dtype=np.int64)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    def join(i: int, j: int) -> None:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    first: dict[bytes, int] = {}
    for i in range(n):
        a, b = rows.indptr[i], rows.indptr[i + 1]
        if a == b:
            continue  # no words: nothing says it is the same story
        key = rows.indices[a:b].tobytes() + rows.data[a:b].round(5).tobytes()
        j = first.setdefault(key, i)
        if j != i:
            join(i, j)
    for links in same_as:
        for i in np.flatnonzero((links >= 0) & (links < n) & (links != np.arange(n))).tolist():
            join(i, int(links[i]))
    return np.array([root(i) for i in range(n)], dtype=np.int64)


def labelled(rows: Any, lsa: np.ndarray, same_as: Sequence[np.ndarray] = ()) -> np.ndarray:
    """Premise labels (not renumbered; -1 alone) from the documents' words and LSA vectors."""
    return _labelled([rows, lsa], same_as)


def _labelled(held: list[Any], same_as: Sequence[np.ndarray]) -> np.ndarray:
    """:func:`labelled` of ``held`` = [rows, LSA vectors], which it empties: each step's inputs are
    freed before the next (a million documents: the rows and vectors ~1 GB, their representatives'
    copies as much again, the neighbour lists 0.5 GB; held through Leiden they were its peak)."""
    rows, lsa = held
    held.clear()
    rep_of = representatives(rows, same_as)
    reps = np.flatnonzero(rep_of == np.arange(len(rep_of)))
    found = np.full(len(reps), -1, dtype=np.int64)
    if len(reps) >= 3 and rows.nnz:
        if len(reps) < len(rep_of):  # one node a group: the representatives' rows only
            rows, lsa = rows[reps], lsa[reps]
        cols, sims = neighbours(rows, lsa)
        del rows, lsa
        a, b, weights = edges(cols, sims)
        del cols, sims
        graph = neighbour_graph(len(reps), a, b)
        del a, b  # the graph holds its own copy: Leiden's peak is the run's (a million documents: 0.2 GB)
        handover = _Handover(weights)
        del weights
        found = communities(graph, handover)
    # a group alone in the graph is still a premise of 2+ documents
    group = np.bincount(rep_of, minlength=len(rep_of))[reps]
    alone_groups = np.flatnonzero((found < 0) & (group >= 2))
    found[alone_groups] = found.max(initial=-1) + 1 + np.arange(len(alone_groups))
    at = np.full(len(rep_of), -1, dtype=np.int64)
    at[reps] = np.arange(len(reps))
    return found[at[rep_of]]


def joined_only(n: int, same_as: Sequence[np.ndarray]) -> np.ndarray:
    """Labels when the words cannot be compared: only the groups ``same_as`` joins (2+ documents)."""
    from scipy.sparse import csr_matrix

    return labelled(csr_matrix((n, 1), dtype=np.float32), np.zeros((n, 1), dtype=np.float32), same_as)


def fit_labels(
    texts: Sequence[str], stop: list[str], same_as: Sequence[np.ndarray] = ()
) -> tuple[np.ndarray, np.ndarray | None]:
    """Premise labels of in-memory texts (not renumbered) and their raw LSA vectors."""
    n = len(texts)
    if n < 3:
        return joined_only(n, same_as), None
    whole = n <= PREMISE_FIT
    space = PremiseSpace(texts if whole else [texts[int(i)] for i in sample_positions(n, PREMISE_FIT)], stop)
    if not space.usable:  # too few shared words to compare by (a corpus of copies, or of a few words)
        return joined_only(n, same_as), None
    rows, lsa, raw = space.transform(None if whole else texts)
    return labelled(rows, lsa, same_as), raw


def lsa_vectors(texts: Sequence[str], lang: str | None = None) -> np.ndarray | None:
    """The texts' LSA vectors (unit, not centred), or None when they have too few shared words."""
    if len(texts) < 3:
        return None
    space = PremiseSpace(texts, stop_words(texts, lang))
    return space.transform(None)[2] if space.usable else None


def renumbered(labels: np.ndarray) -> np.ndarray:
    """Clusters of 2+ documents numbered 0.. largest first (ties: the earlier first member)."""
    labels = np.asarray(labels, dtype=np.int64)
    if not np.any(labels >= 0):
        return np.full(len(labels), -1, dtype=np.int64)
    sizes = np.bincount(labels[labels >= 0])
    first_at = np.full(len(sizes), len(labels), dtype=np.int64)
    np.minimum.at(first_at, labels[labels >= 0], np.flatnonzero(labels >= 0))
    real = [c for c in range(len(sizes)) if sizes[c] >= 2]
    order = sorted(real, key=lambda c: (-sizes[c], first_at[c]))
    renumber = np.full(len(sizes) + 1, -1, dtype=np.int64)
    for new, old in enumerate(order):
        renumber[old] = new
    return np.where(labels >= 0, renumber[np.maximum(labels, 0)], -1)


def describe(
    labels: np.ndarray,
    texts_of: Any,
    ids_of: Any,
    stop: list[str],
    examples: int = 3,
) -> list[dict[str, Any]]:
    """Each cluster's size; the ``LABELLED_CLUSTERS`` largest also their label phrases and first
    examples (the others: empty lists, so that a million documents' tens of thousands of clusters
    cost a line each, not their texts). ``texts_of(positions)`` gives {position: original text},
    read only for the labelled clusters' first members."""
    k = int(labels.max()) + 1 if np.any(labels >= 0) else 0
    groups = members_of(labels, k)
    labelled = min(k, LABELLED_CLUSTERS)
    wanted = [int(i) for c in range(labelled) for i in groups[c][:LABEL_DOCS]]
    texts = texts_of(wanted)
    sample = np.full(len(wanted), -1, dtype=np.int64)
    at = {p: j for j, p in enumerate(wanted)}
    for c in range(labelled):
        for i in groups[c][:LABEL_DOCS]:
            sample[at[int(i)]] = c
    phrases = label_phrases([texts[p] for p in wanted], sample, labelled, stop)
    phrases += [[] for _ in range(k - labelled)]
    return [
        {
            "cluster": c,
            "size": len(members),
            "label": phrases[c],
            "examples": [
                {"id": ids_of(int(i)), "text": _opening(texts[int(i)])}
                for i in (members[:examples] if c < labelled else ())
            ],
        }
        for c, members in enumerate(groups)
    ]


def cluster(
    texts: Sequence[str],
    ids: Sequence[str],
    examples: int = 3,
    lang: str | None = None,
    same_as: Sequence[np.ndarray] = (),
) -> PremiseClusters:
    """Premise clusters of in-memory ``texts`` (``ids`` name the examples; ``same_as``: see
    :func:`representatives`)."""
    n = len(texts)
    stop = stop_words(texts, lang)
    first: dict[str, int] = {}
    identical = np.array(
        [first.setdefault(t, i) if t.strip() else -1 for i, t in enumerate(texts)], dtype=np.int64
    )
    found, raw = fit_labels(texts, stop, [*same_as, identical])
    labels = renumbered(found)
    clusters = describe(labels, lambda pos: {p: texts[p] for p in pos}, lambda i: ids[i], stop, examples)
    return PremiseClusters(labels, clusters, documents=n, fitted_on=min(n, PREMISE_FIT), vectors=raw)


def cluster_stream(
    sample_texts: Sequence[str],
    blocks: Iterable[Sequence[str]],
    n: int,
    texts_of: Any,
    ids_of: Any,
    lang: str | None = None,
    examples: int = 3,
    same_as: Sequence[np.ndarray] = (),
) -> PremiseClusters:
    """Premise clusters of ``n`` documents read in ``blocks`` (every document labelled), the space
    fitted on an even ``PREMISE_FIT`` of ``sample_texts`` (the report passes the audit's sample): memory holds each document's pruned words and LSA vector (~1 KB),
    not its text; Leiden on the graph is the peak (a million-document scan: 3.9 GB in all).
    ``same_as``: see :func:`representatives`."""
    from scipy.sparse import vstack

    fit = [sample_texts[int(i)] for i in sample_positions(len(sample_texts), PREMISE_FIT)]
    stop = stop_words(fit, lang)
    space = PremiseSpace(fit, stop)
    if n < 3 or not space.usable:
        labels = renumbered(joined_only(n, same_as))
        clusters = describe(labels, texts_of, ids_of, stop, examples)
        return PremiseClusters(labels, clusters, documents=n, fitted_on=len(fit))
    row_parts = []
    lsa = np.empty((n, space.svd.n_components), dtype=np.float16)  # filled in place: never held twice
    done = 0
    for block in blocks:
        rows, vectors, raw = space.transform(block)
        row_parts.append(rows)
        lsa[done : done + len(vectors)] = vectors  # half precision: candidates only, the word cosine decides
        done += len(vectors)
    assert done == n, (done, n)
    del block, rows, vectors, raw  # the last block's texts and vectors
    held = [vstack(row_parts, format="csr"), lsa]
    del row_parts, lsa
    _release_arrow_pool()
    labels = renumbered(_labelled(held, same_as))
    clusters = describe(labels, texts_of, ids_of, stop, examples)
    return PremiseClusters(labels, clusters, documents=n, fitted_on=len(fit))


def _release_arrow_pool() -> None:
    """Hand back what pyarrow's memory pool (mimalloc) keeps of the pages its kernels freed while
    the words were read: 63 MB at a million documents, before the graph and Leiden (the peak)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def members_of(labels: np.ndarray, k: int) -> list[np.ndarray]:
    """The documents of each cluster 0..k-1, in document order (one sort, not k scans)."""
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(k + 1))
    return [order[bounds[c] : bounds[c + 1]] for c in range(k)]


def _opening(text: str, chars: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= chars else text[:chars].rsplit(" ", 1)[0] + " …"


def label_phrases(
    texts: Sequence[str], labels: np.ndarray, k: int, stop: list[str], top: int = LABEL_PHRASES
) -> list[list[str]]:
    """The ``top`` most distinctive 1-3-word phrases of each cluster 0..k-1 (class-based TF-IDF).

    A phrase may hold stop words inside but not begin or end with one.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    if k == 0:
        return []
    members = np.flatnonzero(labels >= 0)
    try:
        counter = CountVectorizer(
            ngram_range=(1, 3), min_df=2, max_df=0.5, lowercase=False, token_pattern=TOKEN_PATTERN
        )
        matrix = counter.fit_transform([texts[int(i)] for i in members])
    except ValueError:
        return [[] for _ in range(k)]
    from scipy.sparse import csr_matrix, diags

    vocab = counter.get_feature_names_out()
    member_of = csr_matrix(
        (np.ones(len(members)), (labels[members], np.arange(len(members)))), shape=(k, len(members))
    )
    per_class = (member_of @ matrix).tocsr().astype(np.float64)  # k × phrases, sparse
    class_words = np.asarray(per_class.sum(axis=1)).ravel()
    phrase_total = np.asarray(per_class.sum(axis=0)).ravel()
    idf = np.log1p((class_words.sum() / k) / np.maximum(1.0, phrase_total))
    stops = set(stop)
    parts = [v.split() for v in vocab]
    # a longer phrase beats the words inside it at equal weight: prefer phrases a reader recognises;
    # a phrase may hold stop words inside but not begin or end with one
    boost = np.array([0.0 if p[0] in stops or p[-1] in stops else 1.0 + 0.25 * (len(p) - 1) for p in parts])
    score = (diags(1.0 / np.maximum(1.0, class_words)) @ per_class @ diags(idf * boost)).tocsr()
    out = []
    for c in range(k):
        row = score.getrow(c)
        best = row.indices[np.lexsort((row.indices, -row.data))][: top * 4]
        values = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
        chosen: list[str] = []
        for j in best.tolist():
            phrase = str(vocab[j])
            if values[j] <= 0 or any(phrase in p or p in phrase for p in chosen):
                continue
            chosen.append(phrase)
            if len(chosen) == top:
                break
        out.append(chosen)
    return out
