"""Per-competition calibration: how alike are independent notebooks of one competition?

Code for one Kaggle competition is alike by nature (read_csv → fit → predict →
to_csv), and public notebooks also copy each other (forks, "borrowed from ...").
The background is the score of notebook-vs-notebook pairs of the competition (all
pairs for small competitions, a uniform sample for large ones). Pairs at or above
the copy threshold are copies among the notebooks themselves; they are counted but
left out of the background, which describes independent work.

The decision threshold of a competition is the rulebook's threshold (MLE-bench flags
above 60% similarity) unless its independent notebooks are so alike that their 95th
percentile plus `margin` is higher; every flag says how far above the background
its pair is.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel

MAX_BACKGROUND_PAIRS = 1500
MIN_BACKGROUND_PAIRS = 10
DEFAULT_MARGIN = 0.2
MAX_THRESHOLD = 0.9


class Background(BaseModel):
    """Notebook-vs-notebook scores of one competition."""

    pairs: int = 0  # pairs scored
    copies: int = 0  # pairs at or above the threshold used while calibrating (left out below)
    median: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    scores: list[float] = []  # sorted independent scores, rounded; for percentile ranks

    def threshold(self, default: float, margin: float = DEFAULT_MARGIN) -> float:
        """The decision threshold: the default unless this background calls for more."""
        if self.pairs - self.copies < MIN_BACKGROUND_PAIRS:
            return default
        return float(min(MAX_THRESHOLD, max(default, self.p95 + margin)))

    def above(self, score: float) -> float:
        """How far `score` is above the 95th percentile of independent pairs."""
        return score - self.p95

    def percentile(self, score: float) -> float:
        """Share of independent notebook pairs (0-100) that score below `score`."""
        if not self.scores:
            return 100.0
        return 100.0 * float(np.searchsorted(self.scores, score, side="left")) / len(self.scores)

    def describe(self, score: float) -> str:
        if self.pairs == 0:
            return "no background for this competition (fewer than two notebooks)"
        return (
            f"{self.above(score):+.2f} above the 95th percentile ({self.p95:.2f}) of {self.pairs - self.copies} "
            f"independent notebook pairs of this competition (median {self.median:.2f}); "
            f"higher than {self.percentile(score):.0f}% of them"
        )


def sample_pairs(n: int, limit: int = MAX_BACKGROUND_PAIRS, seed: int = 0) -> list[tuple[int, int]]:
    """All pairs of n items, or `limit` distinct pairs drawn uniformly."""
    total = n * (n - 1) // 2
    if total <= limit:
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    rng = random.Random(seed)
    seen: set[tuple[int, int]] = set()
    while len(seen) < limit:
        i, j = rng.sample(range(n), 2)
        seen.add((min(i, j), max(i, j)))
    return sorted(seen)


def background(n: int, score: Callable[[int, int], float], copy_threshold: float) -> Background:
    """The background of a competition of n notebooks, `score(i, j)` scoring one pair."""
    pairs = sample_pairs(n)
    if not pairs:
        return Background()
    scores = np.array([score(i, j) for i, j in pairs], dtype=float)
    independent = np.sort(scores[scores < copy_threshold])
    if len(independent) == 0:
        return Background(pairs=len(scores), copies=len(scores))
    return Background(
        pairs=len(scores),
        copies=int(len(scores) - len(independent)),
        median=round(float(np.median(independent)), 4),
        p95=round(float(np.quantile(independent, 0.95)), 4),
        p99=round(float(np.quantile(independent, 0.99)), 4),
        scores=[round(float(s), 3) for s in independent],
    )
