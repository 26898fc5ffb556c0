"""Nearest neighbours: the exact search and the faiss inverted file agree, and both are deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from retold.dedup import neighbours


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, 32))
    x = centres[rng.integers(0, 40, n)] + 0.6 * rng.normal(size=(n, 32))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_exact_excludes_itself_and_sorts_best_first() -> None:
    x = _vectors(300)
    top, cos = neighbours.nearest(x, 5)
    assert top.shape == (300, 5) and not (top == np.arange(300)[:, None]).any()
    assert (np.diff(cos, axis=1) <= 0).all()
    full = x @ x.T
    np.fill_diagonal(full, -np.inf)
    assert np.allclose(cos[:, 0], full.max(axis=1), atol=1e-5)


def test_the_inverted_file_finds_what_exact_search_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    x = _vectors(4000)
    exact_top, _ = neighbours.nearest(x, 5)
    monkeypatch.setattr(neighbours, "EXACT_LIMIT", 1000)  # 4,000 rows: the faiss path
    top, _ = neighbours.nearest(x, 5)
    again, _ = neighbours.nearest(x, 5)
    assert (top == again).all()  # deterministic
    assert not (top == np.arange(4000)[:, None]).any()
    found = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(top, exact_top, strict=True)])
    assert found > 0.9  # recall of the exact top 5
    queries, _ = neighbours.nearest(x, 3, queries=x[:10], exclude_self=False)
    assert (queries[:, 0] == np.arange(10)).all()  # a query that is a row finds itself first


def test_too_few_rows() -> None:
    top, cos = neighbours.nearest(_vectors(1), 5)
    assert top.shape == (1, 0) and cos.shape == (1, 0)


def test_cells_give_exact_values_the_same_on_any_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    import numba

    x = _vectors(5000, seed=3)
    monkeypatch.setattr(neighbours, "EXACT_LIMIT", 1000)
    monkeypatch.setattr(neighbours, "_HEAP_BYTES", 12 * 5 * 1500)  # several blocks of queries
    monkeypatch.setattr(neighbours, "_PRODUCT_BYTES", 4 * 64 * 200)  # cells' queries in chunks
    monkeypatch.setattr(neighbours, "_SEARCH_PART", 700)  # a block's queries in parts, on threads
    top, cos = neighbours.nearest(x, 5)
    found = top >= 0
    exact = np.einsum("ij,ij->i", np.repeat(x, 5, axis=0), x[np.where(found, top, 0)].reshape(-1, 32))
    assert np.allclose(exact.reshape(-1, 5)[found], cos[found], atol=1e-5)  # float32 products, not codes
    assert (np.diff(cos, axis=1) <= 0).all() and not (top == np.arange(5000)[:, None]).any()
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        for cores in (1, 3):  # each block's queries split between this many threads
            monkeypatch.setattr(neighbours.os, "cpu_count", lambda cores=cores: cores)
            one_top, one_cos = neighbours.nearest(x, 5)
            assert (one_top == top).all() and (one_cos == cos).all()
    finally:
        numba.set_num_threads(threads)
    monkeypatch.undo()
    # rows read from a half-precision or memory-mapped matrix, a few at a time, find the same
    half, _ = neighbours.nearest(x.astype(np.float16), 5)
    assert np.mean(half == top) > 0.95
    rows, _ = neighbours.Neighbours(neighbours.Rows(x, np.arange(5000))).search(5)
    assert (rows == top).all()


def test_best_outside_is_the_first_row_of_another_group_in_the_best_first_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x = _vectors(5000, seed=5)
    group = np.random.default_rng(1).integers(-1, 600, len(x))  # some rows in no group (-1)
    asked = np.arange(0, 5000, 7)
    exact = x[asked] @ x.T
    exact[group[asked][:, None] == group[None, :]] = -np.inf
    found = neighbours.Neighbours(x).best_outside(x[asked], group[asked], group)
    assert np.allclose(found, exact.max(axis=1), atol=1e-5)
    # in cells: the first row of another group among the cells' best-first rows, on any threads
    monkeypatch.setattr(neighbours, "EXACT_LIMIT", 1000)
    monkeypatch.setattr(neighbours, "_OUTSIDE_BLOCK", 100)  # many blocks of queries over the threads
    monkeypatch.setattr(neighbours, "_PRODUCT_BYTES", 4 * 64 * 200)  # cells' queries in chunks
    index = neighbours.Neighbours(x)
    top, cos = index.search(200, queries=x[asked], exclude_self=False)
    other = (group[np.where(top >= 0, top, 0)] != group[asked][:, None]) & (top >= 0)
    assert other.any(axis=1).all()
    first = cos[np.arange(len(asked)), other.argmax(axis=1)]
    cells = index.best_outside(neighbours.Rows(x, asked), group[asked], group)
    assert np.allclose(cells, first, rtol=0, atol=1e-6)  # (products of other shapes: the last bit)
    assert (index.best_outside(x[asked], group[asked], group) == cells).all()  # the same again
    assert index.best_outside(x[:0], group[:0], group).shape == (0,)
    # the nearest cell, then the rest: together the search of every cell
    near = index.best_outside(x[asked], group[asked], group, slice(0, 1))
    rest = index.best_outside(x[asked], group[asked], group, slice(1, None))
    assert np.allclose(np.maximum(near, rest), cells, rtol=0, atol=1e-6)  # (the last bit: as above)
    assert (near < cells - 1e-3).any()  # the nearest cell alone misses some


def test_an_index_among_some_rows_searches_them_in_the_same_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    """``among``: an index over some of the rows, each under the cell it has in the whole index
    (not trained again): the same results as an index of those rows built with those cells, its
    columns numbered as the rows given; exact up to its limit."""
    x = _vectors(6000, seed=7)
    monkeypatch.setattr(neighbours, "EXACT_LIMIT", 1000)
    whole = neighbours.Neighbours(x, cells=1.0)
    assert whole.in_cells
    some = np.sort(np.random.default_rng(2).choice(len(x), 2500, replace=False))
    sub = whole.among(some, exact_limit=1000)
    assert sub.in_cells and sub._index.cells == whole._index.cells
    assert sub._index.quantiser is whole._index.quantiser
    assert (sub._index.cell == whole._index.cell[some]).all()
    top, cos = sub.search(5, exclude_self=False)
    assert (top[:, 0] == np.arange(len(some))).all()  # each row finds itself first, by its number here
    # the same as cells made over those rows with that assignment, searched by hand
    exact_top, _ = neighbours.Neighbours(x[some], exact_limit=10_000).search(5, exclude_self=False)
    assert np.mean(top == exact_top) > 0.9
    own = neighbours._Cells.__new__(neighbours._Cells)
    own.base, own.quantiser, own._index, own.cells = (
        x[some],
        whole._index.quantiser,
        whole._index._index,
        whole._index.cells,
    )
    own._list(whole._index.cell[some])
    by_hand = own.search(x[some], 5, -1)
    assert (by_hand[0] == top).all() and (by_hand[1] == cos).all()
    # rows of a Rows base are rows of its matrix; few rows: an exact index
    rows = neighbours.Neighbours(neighbours.Rows(x, np.arange(len(x))), cells=1.0)
    assert (rows.among(some, exact_limit=1000).search(5, exclude_self=False)[0] == top).all()
    small = whole.among(some[:500], exact_limit=1000)
    assert not small.in_cells
    assert (small.search(3, exclude_self=False)[0][:, 0] == np.arange(500)).all()
