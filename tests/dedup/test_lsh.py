"""Banding choice and candidate pairs."""

from __future__ import annotations

import numpy as np

from retold.dedup.lsh import FN_WEIGHT, FP_WEIGHT, _areas, bucket_pairs, describe, optimal_bands, s_curve


def test_optimal_bands_minimises_weighted_area() -> None:
    for threshold in (0.5, 0.7, 0.9):
        b, r = optimal_bands(threshold, 128)
        assert b * r <= 128
        best = FP_WEIGHT * _areas(threshold, b, r)[0] + FN_WEIGHT * _areas(threshold, b, r)[1]
        for bb in range(1, 129):
            for rr in range(1, 128 // bb + 1):
                fp, fn = _areas(threshold, bb, rr)
                assert FP_WEIGHT * fp + FN_WEIGHT * fn >= best - 1e-9


def test_default_banding_figures() -> None:
    banding = describe(0.7, *optimal_bands(0.7, 128))
    assert (banding.bands, banding.rows) == (18, 7)
    assert banding.p_at[0.8] > 0.98 and banding.p_at[0.5] < 0.15
    assert np.all(np.diff(s_curve(np.linspace(0, 1, 50), 18, 7)) >= 0)


def test_bucket_pairs_anchor_to_best_ranked_members() -> None:
    keys = np.array([5, 5, 0, 5, 7, 7, 0, 0], dtype=np.uint64)
    order = np.lexsort((np.arange(8), keys))  # by key, then rank (= index here)
    left, right = bucket_pairs(keys, order, 8)
    assert sorted(zip(left.tolist(), right.tolist(), strict=True)) == [(0, 1), (0, 3), (1, 3), (4, 5)]
    # key 0 means "no key": documents without words never pair, even with each other


def test_bucket_pairs_bounded_by_anchors() -> None:
    m = 1000
    keys = np.full(m, 9, dtype=np.uint64)
    left, right = bucket_pairs(keys, np.arange(m), 3)
    assert len(left) == 1 + 2 + 3 * (m - 3) and set(left.tolist()) == {0, 1, 2}
    assert np.all(left < right)
