"""Calibration: background statistics and the per-competition threshold."""

import numpy as np

from monitors.plagiarism.calibrate import MAX_THRESHOLD, background, sample_pairs


def test_all_pairs_for_small_sets_and_a_bounded_uniform_sample_for_large_ones():
    assert len(sample_pairs(5)) == 10
    big = sample_pairs(1000, limit=300)
    assert len(big) == 300 == len(set(big))
    assert all(i < j for i, j in big)


def test_threshold_stays_at_default_for_unlike_notebooks_and_rises_for_alike_ones():
    rng = np.random.default_rng(0)
    low = rng.uniform(0.0, 0.2, size=(30, 30))
    bg = background(30, lambda i, j: float(low[i, j]), copy_threshold=0.6)
    assert bg.threshold(0.6) == 0.6
    assert bg.above(0.9) > 0.6 and bg.percentile(0.9) == 100.0

    alike = rng.uniform(0.35, 0.55, size=(30, 30))
    bg2 = background(30, lambda i, j: float(alike[i, j]), copy_threshold=0.6)
    assert 0.6 < bg2.threshold(0.6) <= MAX_THRESHOLD
    assert abs(bg2.threshold(0.6) - (bg2.p95 + 0.2)) < 1e-9


def test_copies_among_notebooks_are_counted_but_left_out_of_the_background():
    bg = background(10, lambda i, j: 1.0 if (i, j) == (0, 1) else 0.1, copy_threshold=0.6)
    assert bg.copies == 1 and bg.pairs == 45
    assert bg.p99 < 0.2
    assert "above the 95th percentile" in bg.describe(0.9)


def test_too_small_a_background_keeps_the_default():
    bg = background(3, lambda i, j: 0.55, copy_threshold=0.6)
    assert bg.threshold(0.6) == 0.6
