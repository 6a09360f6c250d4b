"""Medal thresholds and ranking, as MLE-bench derives them from a leaderboard (SPEC table).

The leaderboard is used as given: its `score` column in file order, trusted to be sorted best
first. Positions are 1-based; fractions of the team count are truncated toward zero.
"""

from __future__ import annotations

import math

import numpy as np

from grading.models import Thresholds


def medal_positions(n_teams: int) -> tuple[int, int, int]:
    """1-based leaderboard positions of the gold, silver and bronze thresholds for n teams."""
    n = n_teams
    if n < 1:
        raise ValueError("a leaderboard needs at least one team")
    if n < 100:
        return max(1, int(n * 0.1)), max(1, int(n * 0.2)), max(1, int(n * 0.4))
    if n < 250:
        return 10, max(1, int(n * 0.2)), max(1, int(n * 0.4))
    if n < 1000:
        return 10 + int(n * 0.002), 50, 100
    return 10 + int(n * 0.002), max(1, int(n * 0.05)), max(1, int(n * 0.1))


def is_lower_better(scores: list[float]) -> bool:
    """Lower is better exactly when the first score is strictly below the last one."""
    return bool(scores[0] < scores[-1])


def thresholds(scores: list[float]) -> Thresholds:
    gold, silver, bronze = (float(scores[p - 1]) for p in medal_positions(len(scores)))
    return Thresholds(gold=gold, silver=silver, bronze=bronze, median=_median(scores))


def _median(scores: list[float]) -> float:
    # pandas' median: missing values skipped; for an even count the plain mean of the middle two.
    present = np.asarray([s for s in scores if not math.isnan(s)], dtype=np.float64)
    return float(np.median(present)) if len(present) else math.nan


def rank(score: float | None, limits: Thresholds | None, lower_is_better: bool) -> dict[str, bool]:
    """Medals for a rounded score: inclusive at each threshold, exclusive tiers, strict median."""
    if score is None or limits is None:
        return dict(gold_medal=False, silver_medal=False, bronze_medal=False, above_median=False, any_medal=False)

    def reaches(threshold: float) -> bool:
        return score <= threshold if lower_is_better else score >= threshold

    gold = reaches(limits.gold)
    silver = not gold and reaches(limits.silver)
    bronze = not gold and not silver and reaches(limits.bronze)
    above_median = score < limits.median if lower_is_better else score > limits.median
    return dict(
        gold_medal=gold, silver_medal=silver, bronze_medal=bronze, above_median=above_median,
        any_medal=gold or silver or bronze,
    )  # fmt: skip
