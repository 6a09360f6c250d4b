"""Medal thresholds by team count, ties at a threshold, rounding, direction and the median."""

from __future__ import annotations

import pytest
from tests.grading.conftest import csv

from grading import grade_submission, leaderboard_for, medal_positions
from grading.medals import rank
from grading.models import Thresholds


@pytest.mark.parametrize(
    "n, positions",
    [(1, (1, 1, 1)), (9, (1, 1, 3)), (40, (4, 8, 16)), (99, (9, 19, 39)), (100, (10, 20, 40)), (150, (10, 30, 60)),
     (249, (10, 49, 99)), (250, (10, 50, 100)), (600, (11, 50, 100)), (999, (11, 50, 100)), (1000, (12, 50, 100)),
     (1500, (13, 75, 150))],
)  # fmt: skip
def test_medal_positions_follow_the_spec_table(n, positions):
    assert medal_positions(n) == positions


def descending(n: int) -> list[float]:
    return [round(1 - k / 10_000, 4) for k in range(n)]  # position p holds 1 - (p - 1) / 10000


AUC_ANSWERS = csv("id,has_cactus", "neg,0", *(f"p{k},1" for k in range(10_000)))


def auc_submission_scoring(target: float) -> str:
    """A submission whose ROC AUC is `target`, a multiple of 1/10,000.

    One negative predicted 0.5 and 10,000 positives, k of them above it: AUC = k / 10,000.
    """
    k = round(target * 10_000)
    return csv("id,has_cactus", "neg,0.5", *(f"p{i},{1.0 if i < k else 0.0}" for i in range(10_000)))


@pytest.mark.parametrize("n", [40, 150, 600, 1500])
def test_every_tier_for_each_team_count(layout, n):
    scores = descending(n)
    layout.leaderboard("aerial-cactus-identification", scores)
    layout.answers("aerial-cactus-identification", AUC_ANSWERS)
    board = leaderboard_for("aerial-cactus-identification", layout.competitions)
    gold, silver, bronze = (scores[p - 1] for p in medal_positions(n))
    assert (board.thresholds.gold, board.thresholds.silver, board.thresholds.bronze) == (gold, silver, bronze)
    expected = {gold: "gold", silver: "silver", bronze: "bronze", round(bronze - 0.0002, 4): "none"}
    for score, medal in expected.items():
        path = layout.submission(f"s{score}.csv", auc_submission_scoring(score))
        report = grade_submission("aerial-cactus-identification", path, layout.competitions, layout.data)
        assert report.score == score  # exactly at the threshold: a tie, which wins the medal
        got = [m for m in ("gold", "silver", "bronze") if getattr(report, f"{m}_medal")] or ["none"]
        assert got == [medal], (n, score, report)
        assert report.any_medal == (medal != "none")


def test_tie_at_threshold_wins_and_median_is_strict():
    limits = Thresholds(gold=0.9, silver=0.8, bronze=0.7, median=0.6)
    assert rank(0.9, limits, False)["gold_medal"]
    assert rank(0.8, limits, False)["silver_medal"] and not rank(0.8, limits, False)["gold_medal"]
    assert not rank(0.6, limits, False)["above_median"] and rank(0.60001, limits, False)["above_median"]
    lower = Thresholds(gold=0.1, silver=0.2, bronze=0.3, median=0.4)
    assert rank(0.1, lower, True)["gold_medal"] and rank(0.3, lower, True)["bronze_medal"]
    assert not rank(0.4, lower, True)["above_median"] and rank(0.39999, lower, True)["above_median"]


def test_direction_median_and_best_score_come_from_the_leaderboard(layout):
    layout.leaderboard("nomad2018-predict-transparent-conductors", [0.05, 0.06, 0.08, 0.09])
    board = leaderboard_for("nomad2018-predict-transparent-conductors", layout.competitions)
    assert board.is_lower_better and board.best_score == 0.05 and board.n_teams == 4
    assert board.thresholds.median == 0.07  # (0.06 + 0.08) / 2 as floating point gives
    layout.leaderboard("random-acts-of-pizza", [0.9, 0.8])
    flat = leaderboard_for("random-acts-of-pizza", layout.competitions)
    assert not flat.is_lower_better and flat.thresholds.median == 0.8500000000000001
    layout.leaderboard("spooky-author-identification", [0.3, 0.3])
    assert not leaderboard_for("spooky-author-identification", layout.competitions).is_lower_better


def test_score_is_rounded_to_5_decimals_before_comparing(layout):
    # gold threshold 0.666667 lies between rounded scores: 2/3 rounds to 0.66667 >= 0.666665
    layout.leaderboard("tabular-playground-series-dec-2021", [0.666665, 0.6, 0.5])
    layout.answers("tabular-playground-series-dec-2021", csv("Id,Cover_Type", "1,1", "2,2", "3,3"))
    path = layout.submission("s.csv", csv("Id,Cover_Type", "1,1", "2,2", "3,1"))
    report = grade_submission("tabular-playground-series-dec-2021", path, layout.competitions, layout.data)
    assert report.score == 0.66667 and report.gold_medal


def test_numpy_scores_round_like_mlebench(layout):
    # ROC AUC is a numpy float64 in scikit-learn 1.5: round() scales by 1e5 and rounds half to even,
    # so 0.123455 (binary value just below) still rounds up to 0.12346 as MLE-bench reports.
    from grading.grade import _rounded
    import numpy as np

    assert _rounded(np.float64(0.123455)) == 0.12346
    assert _rounded(0.123455) == 0.12345  # a Python float (log loss, accuracy) rounds exactly
