"""Nearest neighbours by cosine among unit vectors: exact up to ``EXACT_LIMIT`` rows, else in cells.

Exact search multiplies the vectors block by block: at 15k documents and 256 dimensions ~1 s, with
no index to build, but it grows with the square of the corpus (a million documents: ~10^14
multiply-adds, hours on 2 cores). Past ``EXACT_LIMIT`` rows the rows are put in k-means cells (faiss
k-means on an evenly spaced sample with a fixed seed) and each query searches its ``PROBES``
nearest cells exactly, a cell at a time as one matrix product (:class:`_Cells`). It is
deterministic: the cells depend on the vectors and the seed only, and each query's search is exact
within them. What it can miss is a neighbour in a cell the query does not probe — a pair whose
cosine is far from both cells' centres; the retold level's pairs sit close together (cosine 0.5 and
up), and bench_scale measures the recall it keeps.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit, prange
from threadpoolctl import threadpool_limits

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
#: A block of queries' best-k lists (values and columns) take at most this many bytes.
_HEAP_BYTES = 64 << 20
#: One product of a cell's queries and rows takes at most this many bytes.
_PRODUCT_BYTES = 16 << 20
_SEED = 1234
#: Queries a thread takes at once in :meth:`_Cells.search` (a thread a core). Fixed, not a share
#: of the cores: the products' shapes, and so their values to the last bit, do not depend on the
#: machine's number of cores (8,192: 0.76 s, 16,384: 0.65 s, 4,096: 0.98 s for the boilerplate
#: check's search of 71,167 edge sentences).
_SEARCH_PART = 16384
#: Queries a thread takes at once in :meth:`_Cells.best_outside` (a thread a core).
_OUTSIDE_BLOCK = 65536


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
            if v > worst:
                worst = _insert(val[r], idx[r], v, c)
    return idx, val


@njit(cache=True, nogil=True, inline="always")
def _insert(vals, cols, v, c):  # type: ignore[no-untyped-def]
    """Put value ``v`` (column ``c``) into the best-first list ``vals``/``cols``, its last entry
    falling off; an equal value already there stays ahead. Returns the new last value."""
    p = vals.shape[0] - 1
    while p > 0 and vals[p - 1] < v:
        vals[p] = vals[p - 1]
        cols[p] = cols[p - 1]
        p -= 1
    vals[p] = v
    cols[p] = c
    return vals[vals.shape[0] - 1]


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
    times: exact up to ``exact_limit`` rows (``EXACT_LIMIT`` unless given), else cells built once
    (:class:`_Cells`), ``cells`` √n of them."""

    def __init__(self, base: np.ndarray | Rows, exact_limit: int | None = None, cells: float = CELLS) -> None:
        if len(base) > (EXACT_LIMIT if exact_limit is None else exact_limit):
            self.base = base
            self._index: _Cells | None = _Cells(base, cells)
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
            return _exact(self.base, found, k, 0 if skip else -1)  # type: ignore[arg-type]
        return self._index.search(found, k, 0 if skip else -1)

    def among(self, at: np.ndarray, exact_limit: int | None = None) -> Neighbours:
        """An index over the rows ``at`` of this base alone (its rows numbered as in ``at``):
        exact up to ``exact_limit`` rows, else in this index's cells (:meth:`_Cells.of_rows`),
        which are not trained again."""
        base = self.base
        rows: np.ndarray | Rows = (
            Rows(base.matrix, base.rows[at]) if isinstance(base, Rows) else Rows(base, np.asarray(at))
        )
        if self._index is None or len(at) <= (EXACT_LIMIT if exact_limit is None else exact_limit):
            return Neighbours(rows, exact_limit=len(at))
        out = object.__new__(Neighbours)
        out.base, out._index = rows, self._index.of_rows(np.asarray(at), rows)
        return out

    @property
    def in_cells(self) -> bool:
        """Whether the index searches cells (else every row)."""
        return self._index is not None

    def best_outside(
        self,
        queries: np.ndarray | Rows,
        query_group: np.ndarray,
        row_group: np.ndarray,
        probes: slice = slice(None),
    ) -> np.ndarray:
        """For each query row the largest inner product with a row of another group (float32;
        -inf where none is searched): ``query_group[q]`` is query ``q``'s group, ``row_group[r]``
        row ``r``'s. Exact below ``exact_limit`` rows, else among the query's ``PROBES`` cells.
        ``probes``: which of the query's cells, nearest first (``slice(0, 1)``: the nearest; an
        exact index ignores it). The maximum of two searches of complementary ``probes`` is the
        maximum of one search of all.

        The same value as the first row of another group in the query's best-first list, without
        the list: no list of k to keep and merge, and no second, longer search for a query whose
        first k are all its own group's (:func:`_best_outside`)."""
        query_group = np.ascontiguousarray(query_group, dtype=np.int64)
        row_group = np.ascontiguousarray(row_group, dtype=np.int64)
        best = np.full(len(queries), -np.inf, dtype=np.float32)
        if not len(queries) or not len(self.base):
            return best
        if self._index is not None:
            self._index.best_outside(queries, query_group, row_group, best, probes)
            return best
        step = max(64, min(_BLOCK, _BLOCK_BYTES // (4 * len(self.base))))
        everyone = np.arange(len(self.base), dtype=np.int64)
        for lo in range(0, len(queries), step):
            block = np.ascontiguousarray(queries[lo : lo + step], dtype=np.float32) @ self.base.T
            mine = np.arange(lo, lo + len(block), dtype=np.int64)
            _best_outside(block, mine, everyone, query_group, row_group, best)
        return best

    def search_rows(self, k: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`search` for the base's rows ``start:stop`` as queries, each without itself: the
        same results as those rows of a whole search, with a part's lists in memory (a million
        documents' 50 candidates are 600 MB at once)."""
        k = max(0, min(k, len(self.base) - 1))
        queries = self.base[start:stop]
        if k == 0 or not len(queries):
            return np.zeros((len(queries), 0), dtype=np.int64), np.zeros((len(queries), 0), dtype=np.float32)
        if self._index is None:
            return _exact(self.base, queries, k, start)  # type: ignore[arg-type]
        return self._index.search(queries, k, start)


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS on one thread while numba's threads run (or call it). numba's ``np.dot`` calls
    scipy's own OpenBLAS, not numpy's, and scipy loads it on first use: it is loaded here first so
    that the limit reaches it. Unlimited, OpenBLAS started from inside an OpenMP loop with threads
    of its own warns that it may hang, and each of numba's threads started BLAS threads of its own
    (a cells search whose products ran in numba's threads took 22 s instead of 4 s)."""
    import scipy.linalg.cython_blas  # noqa: F401  (loads scipy's OpenBLAS)

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def nearest(
    base: np.ndarray, k: int, queries: np.ndarray | None = None, exclude_self: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`Neighbours.search` on a one-off index over ``base``."""
    return Neighbours(base).search(k, queries, exclude_self)


def _exact(base: np.ndarray, queries: np.ndarray, k: int, self_at: int) -> tuple[np.ndarray, np.ndarray]:
    """``self_at`` >= 0: the queries are the base's rows from ``self_at`` on, and each skips itself."""
    cols, vals = [], []
    step = max(64, min(_BLOCK, _BLOCK_BYTES // (4 * max(1, len(base)))))  # rows are independent
    # one buffer for every block's products: a fresh array each block was fresh pages from the
    # system each time (a run hands blocks past its mmap threshold back at once: engine/local),
    # and their faults a third of the search (pieces' 9,049 documents: 0.73 s, 0.34 s of it in
    # the kernel)
    room = np.empty(min(step, len(queries)) * len(base), dtype=np.result_type(queries, base))
    for lo in range(0, len(queries), step):
        asked = queries[lo : lo + step]
        block = np.matmul(asked, base.T, out=room[: len(asked) * len(base)].reshape(len(asked), len(base)))
        if self_at >= 0:
            rows = np.arange(lo, min(lo + step, len(queries)))
            block[rows - lo, rows + self_at] = -np.inf
        idx, val = top_k(block, k)
        cols.append(idx)
        vals.append(val)
    return np.concatenate(cols), np.concatenate(vals)


class _Cells:
    """k-means cells over ``base``'s rows (faiss, trained on an evenly spaced sample with a fixed
    seed), each row listed under its nearest centre; a query searches its ``PROBES`` nearest cells.

    The search itself is not faiss's: a block of queries is scanned cell by cell, each cell's
    queries against each cell's rows as one matrix product in float32 (:func:`_merge` keeps each
    query's best ``k``). faiss's inverted file scans a query's cells one query at a time: on the
    75,424 sentences the retold level's stock-sentence check looks up among 245,770 (slop-score),
    its 8-bit scan took 11.9 s and its float scan 14.5 s; the products take ~4 s, exact within the
    cells, and the rows need no second copy (the 8-bit codes were a quarter of the rows' size)."""

    def __init__(self, base: np.ndarray | Rows, per_root: float = CELLS) -> None:
        import faiss

        self.base = base
        dim = base.shape[1]
        n = len(base)
        cells = int(min(per_root * np.sqrt(n), n // 40))  # faiss wants >= 39 training rows a cell
        sample = base[np.arange(0, n, max(1, n // (cells * 40)))]  # evenly spaced: ~40 a cell
        quantiser = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantiser, dim, cells, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = _SEED
        index.cp.niter = 10  # cells good enough to search; 25 rounds cost 19 s at 100k for nothing found
        index.verbose = False
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
        self.quantiser = index.quantizer  # (the index keeps it alive: hold the index too)
        self._index = index
        cell = np.empty(n, dtype=np.int64)
        for lo in range(0, n, _QUERY_BLOCK):
            _, found = self.quantiser.search(
                np.ascontiguousarray(base[lo : lo + _QUERY_BLOCK], dtype=np.float32), 1
            )
            cell[lo : lo + len(found)] = found[:, 0]
        self.cells = cells
        self._list(cell)

    def _list(self, cell: np.ndarray) -> None:
        """Each row under its cell (``cell[r]``: row ``r``'s)."""
        self.cell = cell
        self.order = np.argsort(cell, kind="stable")  # rows cell by cell, in row order within a cell
        self.bounds = np.searchsorted(cell[self.order], np.arange(self.cells + 1))

    def of_rows(self, at: np.ndarray, base: np.ndarray | Rows) -> _Cells:
        """These cells over the rows ``at`` of this base alone (``base``: those rows), each row
        under the cell it is under here: no k-means trained or rows assigned again."""
        out = object.__new__(_Cells)
        out.base, out.quantiser, out._index, out.cells = base, self.quantiser, self._index, self.cells
        out._list(self.cell[at])
        return out

    def search(self, queries: np.ndarray | Rows, k: int, self_at: int) -> tuple[np.ndarray, np.ndarray]:
        """``self_at``: see :func:`_merge`."""
        cols = np.full((len(queries), k), -1, dtype=np.int64)
        vals = np.full((len(queries), k), -np.inf, dtype=np.float32)
        step = max(1024, _HEAP_BYTES // (12 * k))  # a block's best-k lists: values and columns
        # each block's queries cut into parts of _SEARCH_PART, taken by threads, a thread a core,
        # each scanning its part cell by cell (the products, the merge and faiss's probes let go
        # of the GIL). One thread, with BLAS and the merge on one core each, left the other core
        # idle during the products (bench_retold's pieces, 71,167 edge sentences: 1.04 s; in
        # parts on two threads 0.65 s)
        import faiss

        workers = os.cpu_count() or 1
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)  # the probes' threads: one per part, the parts side by side
        try:
            with one_blas_thread(), ThreadPoolExecutor(max_workers=workers) as pool:
                for lo in range(0, len(queries), step):
                    hi = min(lo + step, len(queries))
                    spans = [(at, min(_SEARCH_PART, hi - at)) for at in range(lo, hi, _SEARCH_PART)]
                    list(pool.map(lambda span: self._block(queries, *span, self_at, cols, vals), spans))
        finally:
            faiss.omp_set_num_threads(threads)
        return cols, vals

    def best_outside(
        self,
        queries: np.ndarray | Rows,
        query_group: np.ndarray,
        row_group: np.ndarray,
        best: np.ndarray,
        probes: slice = slice(None),
    ) -> None:
        """:meth:`Neighbours.best_outside` within each query's cells (``probes`` of them, nearest
        first), into ``best``: blocks of queries on a thread a core (the products and faiss's
        probes let go of the GIL), each query's maximum the same whichever thread or order finds it."""
        import faiss

        workers = os.cpu_count() or 1
        blocks = workers * -(-len(queries) // (workers * _OUTSIDE_BLOCK))  # as many on each thread
        step = -(-len(queries) // blocks)
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)  # the probes' threads: one per block, the blocks side by side
        try:
            with one_blas_thread(), ThreadPoolExecutor(max_workers=workers) as pool:
                list(
                    pool.map(
                        lambda lo: self._outside_block(
                            queries, lo, step, query_group, row_group, best, probes
                        ),
                        range(0, len(queries), step),
                    )
                )
        finally:
            faiss.omp_set_num_threads(threads)

    def _outside_block(
        self,
        queries: np.ndarray | Rows,
        lo: int,
        step: int,
        query_group: np.ndarray,
        row_group: np.ndarray,
        best: np.ndarray,
        probes: slice,
    ) -> None:
        block = np.ascontiguousarray(queries[lo : lo + step], dtype=np.float32)
        for rows, mine, here, q, out in self._by_cell(block, probes):
            np.matmul(q, here.T, out=out)
            _best_outside(out, mine + lo, rows, query_group, row_group, best)

    def _by_cell(
        self, block: np.ndarray, probes: slice = slice(None)
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """``block``'s queries cell by cell, in cell order: (the cell's rows, some of the block's
        queries that probe it, the rows' vectors, those queries' vectors, room for their products)
        a chunk of queries at a time; ``probes``: which of each query's cells, nearest first. The
        arrays are buffers made once for the block, filled again for the next: fresh arrays for
        each cell were fresh pages from the system each time (a run hands blocks past its mmap
        threshold back at once: engine/local), and zeroing them took a third of the search."""
        _, probe = self.quantiser.search(block, min(PROBES, self.cells))
        probe = np.ascontiguousarray(probe[:, probes])
        flat = probe.ravel()
        owner = np.repeat(np.arange(len(block)), probe.shape[1])[flat >= 0]
        flat = flat[flat >= 0]
        by_cell = np.argsort(flat, kind="stable")
        owner, flat = owner[by_cell], flat[by_cell]
        edges = np.searchsorted(flat, np.arange(self.cells + 1))
        widest = int(np.diff(self.bounds).max())
        dim = block.shape[1]
        cell_rows = np.empty((widest, dim), dtype=np.float32)
        chunk = max(1, min(len(block), _PRODUCT_BYTES // (4 * widest)))
        asked = np.empty((chunk, dim), dtype=np.float32)
        product = np.empty(chunk * widest, dtype=np.float32)
        for c in np.flatnonzero(np.diff(edges)).tolist():
            rows = self.order[self.bounds[c] : self.bounds[c + 1]]
            if not len(rows):
                continue
            here = cell_rows[: len(rows)]
            if isinstance(self.base, np.ndarray) and self.base.dtype == np.float32:
                np.take(self.base, rows, axis=0, out=here)
            else:
                here[:] = self.base[rows]
            for at in range(edges[c], edges[c + 1], chunk):
                mine = owner[at : min(at + chunk, edges[c + 1])]
                q = asked[: len(mine)]
                np.take(block, mine, axis=0, out=q)
                yield rows, mine, here, q, product[: len(mine) * len(rows)].reshape(len(mine), len(rows))

    def _block(
        self,
        queries: np.ndarray | Rows,
        lo: int,
        step: int,
        self_at: int,
        cols: np.ndarray,
        vals: np.ndarray,
    ) -> None:
        """One block of queries, scanned cell by cell into ``cols`` and ``vals``."""
        block = np.ascontiguousarray(queries[lo : lo + step], dtype=np.float32)
        c_out, v_out = cols[lo : lo + len(block)], vals[lo : lo + len(block)]
        for rows, mine, here, q, out in self._by_cell(block):
            np.matmul(q, here.T, out=out)
            _merge(out, mine, rows, v_out, c_out, lo + self_at if self_at >= 0 else -1)


@njit(cache=True, nogil=True)
def _merge(products, queries, rows, vals, cols, self_at):  # type: ignore[no-untyped-def]
    """Merge ``products[a, r]`` (query ``queries[a]`` of the block against row ``rows[r]``) into
    each query's best-first list (``vals``, ``cols``); ties keep the row merged first (cells in
    order, rows in order). Calls on two threads with different queries touch different lists.
    ``self_at`` >= 0: the block's queries are the base's rows from ``self_at`` on, and each skips
    itself."""
    k = vals.shape[1]
    for a in range(products.shape[0]):
        q = queries[a]
        worst = vals[q, k - 1]
        for r in range(products.shape[1]):
            v = products[a, r]
            if v > worst and (self_at < 0 or rows[r] != q + self_at):
                worst = _insert(vals[q], cols[q], v, rows[r])


@njit(cache=True, nogil=True)
def _best_outside(products, queries, rows, query_group, row_group, best):  # type: ignore[no-untyped-def]
    """Raise ``best[queries[a]]`` to ``products[a, r]`` wherever row ``rows[r]`` is of another
    group than query ``queries[a]``. A query appears once in a call: calls on two threads with
    different queries touch different entries."""
    for a in range(products.shape[0]):
        q = queries[a]
        mine = query_group[q]
        top = best[q]
        for r in range(products.shape[1]):
            v = products[a, r]
            if v > top and row_group[rows[r]] != mine:
                top = v
        best[q] = top
