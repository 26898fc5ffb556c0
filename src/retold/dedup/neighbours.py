"""Nearest neighbours by cosine among unit vectors: exact up to ``EXACT_LIMIT`` rows, else faiss IVF.

Exact search multiplies the vectors block by block: at 15k documents and 256 dimensions ~1 s, with
no index to build, but it grows with the square of the corpus (a million documents: ~10^14
multiply-adds, hours on 2 cores). Past ``EXACT_LIMIT`` rows an inverted-file index (faiss
``IndexIVFFlat``: k-means cells trained on an evenly spaced sample with a fixed seed; each query
searches its ``PROBES`` nearest cells exactly) does it in about a minute at a million on 2 cores. It is
deterministic: the cells depend on the vectors and the seed only, and each query's search is exact
within them. What it can miss is a neighbour in a cell the query does not probe — a pair whose
cosine is far from both cells' centres; the retold level's pairs sit close together (cosine 0.5 and
up), and bench_scale measures the recall it keeps.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: Up to this many rows the search is exact (a few seconds at 50k; then the index pays off).
EXACT_LIMIT = 50_000
#: Cells of the inverted file: ``CELLS`` √n, each query searching ``PROBES`` of them (0.4% of the
#: rows at a million). On 120k slop-score sentence vectors (20k queries, against exact search):
#: 4√n cells took 2.9 s to build and search and found 0.81 of the neighbours at cosine ≥ 0.6,
#: 2√n 1.2 s and 0.84, √n 1.1 s and 0.85 (k-means costs the square of the cells; each query
#: scans n·PROBES/cells rows, which √n makes 8,000 at a million).
CELLS = 2
PROBES = 8
_BLOCK = 2048
#: An exact search's block of products is at most this many bytes: 2,048 queries against 50,000
#: rows were 410 MB at once (the retold level's boilerplate check, at its peak).
_BLOCK_BYTES = 64 << 20
_QUERY_BLOCK = 65536
_SEED = 1234


@njit(cache=True, nogil=True, parallel=True)
def top_k(block, k):  # type: ignore[no-untyped-def]
    """The k largest values of each row and their columns, best first (ties: lower column).

    One pass per row with a small sorted buffer: 0.2 s for 14,753 × 14,753 cosines, where
    ``np.argpartition`` took 2.8 s (and the matrix product itself 0.6 s).
    """
    rows, cols = block.shape
    idx = np.zeros((rows, k), dtype=np.int64)
    val = np.full((rows, k), -np.inf, dtype=np.float32)
    for r in prange(rows):  # rows are independent: the result does not depend on the threads
        worst = -np.inf
        for c in range(cols):
            v = block[r, c]
            if v <= worst:
                continue
            p = k - 1
            while p > 0 and val[r, p - 1] < v:
                val[r, p] = val[r, p - 1]
                idx[r, p] = idx[r, p - 1]
                p -= 1
            val[r, p] = v
            idx[r, p] = c
            worst = val[r, k - 1]
    return idx, val


class Rows:
    """Some rows of a (memory-mapped) matrix, read when asked for, as float32: a million documents'
    vectors are searched without a second copy of them in memory."""

    def __init__(self, matrix: np.ndarray, rows: np.ndarray) -> None:
        self.matrix, self.rows = matrix, rows

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), self.matrix.shape[1]

    def __getitem__(self, at: slice | np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(self.matrix[self.rows[at]], dtype=np.float32)


class Neighbours:
    """An index over ``base``'s rows (unit vectors; an array or :class:`Rows`) to search many
    times: exact up to ``EXACT_LIMIT`` rows, else a faiss inverted file built once."""

    def __init__(self, base: np.ndarray | Rows) -> None:
        if len(base) > EXACT_LIMIT:
            self.base = base
            self._index = _ivf_index(base)
        else:
            self.base = base[np.arange(len(base))] if isinstance(base, Rows) else base
            self.base = np.ascontiguousarray(self.base, dtype=np.float32)
            self._index = None

    def search(
        self, k: int, queries: np.ndarray | Rows | None = None, exclude_self: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` rows with the largest inner product with each query row, best first:
        (columns, values), each (queries, k); a missing neighbour has column -1 and value -inf.
        ``queries`` None: the rows of ``base`` themselves, each without itself when ``exclude_self``."""
        self_query = queries is None
        found = self.base if queries is None else queries
        if self._index is None and not isinstance(found, np.ndarray):
            found = found[np.arange(len(found))]
        elif isinstance(found, np.ndarray) and self._index is None:
            # (the inverted file converts its queries a block at a time: half precision stays so)
            found = np.ascontiguousarray(found, dtype=np.float32)
        skip = self_query and exclude_self
        k = max(0, min(k, len(self.base) - (1 if skip else 0)))
        if k == 0 or not len(found):
            return np.zeros((len(found), 0), dtype=np.int64), np.zeros((len(found), 0), dtype=np.float32)
        if self._index is None:
            return _exact(self.base, found, k, skip)  # type: ignore[arg-type]
        return _ivf_search(self._index, found, k, skip)


def nearest(
    base: np.ndarray, k: int, queries: np.ndarray | None = None, exclude_self: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`Neighbours.search` on a one-off index over ``base``."""
    return Neighbours(base).search(k, queries, exclude_self)


def _exact(base: np.ndarray, queries: np.ndarray, k: int, skip: bool) -> tuple[np.ndarray, np.ndarray]:
    cols, vals = [], []
    step = max(64, min(_BLOCK, _BLOCK_BYTES // (4 * max(1, len(base)))))  # rows are independent
    for lo in range(0, len(queries), step):
        block = queries[lo : lo + step] @ base.T
        if skip:
            rows = np.arange(lo, min(lo + step, len(queries)))
            block[rows - lo, rows] = -np.inf
        idx, val = top_k(block, k)
        cols.append(idx)
        vals.append(val)
    return np.concatenate(cols), np.concatenate(vals)


def _ivf_index(base: np.ndarray | Rows):  # type: ignore[no-untyped-def]
    import faiss

    dim = base.shape[1]
    cells = int(min(CELLS * np.sqrt(len(base)), len(base) // 40))  # faiss wants >= 39 training rows a cell
    sample = base[np.arange(0, len(base), max(1, len(base) // (cells * 40)))]  # evenly spaced: ~40 a cell
    quantiser = faiss.IndexFlatIP(dim)
    # rows stored as 8-bit codes: a quarter of the memory of floats and faster to scan; a cosine
    # moves by ~0.005, far below any threshold that reads it
    index = faiss.IndexIVFScalarQuantizer(
        quantiser, dim, cells, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT, False
    )
    index.cp.seed = _SEED
    index.cp.niter = 10  # cells good enough to search; 25 rounds cost 19 s at 100k for nothing found
    index.verbose = False
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    for lo in range(0, len(base), _QUERY_BLOCK):
        index.add(np.ascontiguousarray(base[lo : lo + _QUERY_BLOCK], dtype=np.float32))
    index.nprobe = PROBES
    return index


def _ivf_search(index, queries: np.ndarray | Rows, k: int, skip: bool) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    want = k + 1 if skip else k
    # filled block by block: concatenating the blocks would hold the answer twice (at a million
    # sentences × 80 neighbours, 1 GB more at the level's peak)
    cols = np.empty((len(queries), k), dtype=np.int64)
    vals = np.empty((len(queries), k), dtype=np.float32)
    for lo in range(0, len(queries), _QUERY_BLOCK):
        val, idx = index.search(np.ascontiguousarray(queries[lo : lo + _QUERY_BLOCK], dtype=np.float32), want)
        if skip:
            rows = np.arange(lo, lo + len(idx))[:, None]
            mine = idx == rows
            # drop the row itself (or, when it was not found, the last) and keep the order
            drop = np.where(mine.any(axis=1), mine.argmax(axis=1), want - 1)
            keep = np.ones_like(mine)
            keep[np.arange(len(idx)), drop] = False
            idx = idx[keep].reshape(len(idx), k)
            val = val[keep].reshape(len(idx), k)
        vals[lo : lo + len(idx)] = np.where(idx < 0, -np.inf, val)
        cols[lo : lo + len(idx)] = idx
    return cols, vals
