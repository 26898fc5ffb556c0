"""LSH banding: which bands × rows to use, and candidate pairs from one band's keys.

Two documents whose Jaccard similarity is ``s`` share at least one of ``b`` bands of ``r`` rows
with probability ``P(s) = 1 - (1 - s^r)^b`` (the S-curve). For a threshold ``t`` we choose the
``(b, r)`` with ``b·r ≤ num_perm`` that minimises

    fp_weight · ∫₀ᵗ P(s) ds  +  fn_weight · ∫ₜ¹ (1 - P(s)) ds

(the false-positive and false-negative areas; datasketch's ``_optimal_param`` does the same with
equal weights). Every candidate is verified against exact shingle sets afterwards, so a false
positive costs only a comparison, while a false negative is a copy left in the corpus: retold
weights false negatives 3:1 by default. :func:`describe` gives the figures the README quotes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numba import njit

FP_WEIGHT = 0.25
FN_WEIGHT = 0.75


def s_curve(similarity: np.ndarray | float, bands: int, rows: int) -> np.ndarray | float:
    """Probability that a pair of this Jaccard similarity shares at least one band.

    >>> round(float(s_curve(0.7, 18, 7)), 3)
    0.787
    """
    return 1.0 - (1.0 - np.power(similarity, rows)) ** bands


def _areas(threshold: float, bands: int, rows: int) -> tuple[float, float]:
    grid_fp = np.linspace(0.0, threshold, 401)
    grid_fn = np.linspace(threshold, 1.0, 401)
    fp = float(np.trapezoid(s_curve(grid_fp, bands, rows), grid_fp))
    fn = float(np.trapezoid(1.0 - s_curve(grid_fn, bands, rows), grid_fn))
    return fp, fn


@lru_cache(maxsize=64)
def optimal_bands(
    threshold: float, num_perm: int, fp_weight: float = FP_WEIGHT, fn_weight: float = FN_WEIGHT
) -> tuple[int, int]:
    """The ``(bands, rows)`` minimising the weighted error areas for this threshold.

    >>> optimal_bands(0.7, 128)
    (18, 7)
    """
    best: tuple[float, int, int] | None = None
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            fp, fn = _areas(threshold, bands, rows)
            cost = fp_weight * fp + fn_weight * fn
            if best is None or cost < best[0] - 1e-12:
                best = (cost, bands, rows)
    assert best is not None
    return best[1], best[2]


@dataclass(frozen=True)
class Banding:
    """A banding and its figures: the error areas and P(candidate) at a few similarities."""

    threshold: float
    bands: int
    rows: int
    fp_area: float
    fn_area: float
    p_at: dict[float, float]

    def lines(self) -> list[str]:
        points = ", ".join(f"P({s:.2f})={p:.3f}" for s, p in self.p_at.items())
        return [
            f"threshold {self.threshold}: {self.bands} bands x {self.rows} rows",
            f"false-positive area {self.fp_area:.4f}, false-negative area {self.fn_area:.4f}",
            points,
        ]


def describe(threshold: float, bands: int, rows: int) -> Banding:
    fp, fn = _areas(threshold, bands, rows)
    points = sorted({0.3, 0.5, round(threshold - 0.1, 2), threshold, round(threshold + 0.1, 2), 0.9, 1.0})
    p_at = {s: float(s_curve(s, bands, rows)) for s in points if 0.0 <= s <= 1.0}
    return Banding(threshold, bands, rows, fp, fn, p_at)


@njit(cache=True, nogil=True)
def bucket_pairs(keys, order, anchors):  # type: ignore[no-untyped-def]
    """Candidate pairs from one band.

    ``order`` lists documents sorted by (key, keep position); documents with key 0 take no part.
    Within each bucket (run of equal keys) every member is paired with the first ``anchors``
    members, the best-ranked ones, which are the likeliest to be kept: a bucket of m documents
    gives at most ``anchors·m`` pairs, never m². Returns (better, worse) index arrays.
    """
    n = order.shape[0]
    cap = 0
    start = 0
    for i in range(1, n + 1):
        if i == n or keys[order[i]] != keys[order[start]]:
            m = i - start
            if m > 1 and keys[order[start]] != 0:
                a = min(m - 1, anchors)
                cap += a * (a - 1) // 2 + (m - a) * a
            start = i
    left = np.empty(cap, dtype=np.int64)
    right = np.empty(cap, dtype=np.int64)
    c = 0
    start = 0
    for i in range(1, n + 1):
        if i == n or keys[order[i]] != keys[order[start]]:
            if i - start > 1 and keys[order[start]] != 0:
                for p in range(start + 1, i):
                    for q in range(start, min(p, start + anchors)):
                        left[c] = order[q]
                        right[c] = order[p]
                        c += 1
            start = i
    return left[:c], right[:c]
