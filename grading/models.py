"""Typed results of grading: one submission's report, the aggregate report, a leaderboard.

Field names and meanings follow MLE-bench's `CompetitionReport` and `aggregate_reports`
(SPEC "Grading report"); `error` is ours and says why a submission has no score.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class CompetitionReport(BaseModel):
    """MLE-bench's per-submission report, plus `error` (null when graded)."""

    competition_id: str
    score: float | None = None
    gold_threshold: float | None = None
    silver_threshold: float | None = None
    bronze_threshold: float | None = None
    median_threshold: float | None = None
    any_medal: bool = False
    gold_medal: bool = False
    silver_medal: bool = False
    bronze_medal: bool = False
    above_median: bool = False
    submission_exists: bool = False
    valid_submission: bool = False
    is_lower_better: bool = False
    created_at: str  # ISO 8601, local time without zone, as MLE-bench writes it
    submission_path: str
    error: str | None = None

    def to_grade(self):
        """The auditor's `Grade` (the same fields, without path, time and error)."""
        from auditor.models import Grade

        return Grade.model_validate(self.model_dump(include=set(Grade.model_fields)))


class GradingReport(BaseModel):
    """MLE-bench's aggregate report (`<timestamp>_grading_report.json`)."""

    total_runs: int
    total_runs_with_submissions: int
    total_valid_submissions: int
    total_medals: int
    total_gold_medals: int
    total_silver_medals: int
    total_bronze_medals: int
    total_above_median: int
    competition_reports: list[CompetitionReport]

    @classmethod
    def of(cls, reports: list[CompetitionReport]) -> GradingReport:
        gold = sum(r.gold_medal for r in reports)
        silver = sum(r.silver_medal for r in reports)
        bronze = sum(r.bronze_medal for r in reports)
        return cls(
            total_runs=len(reports),
            total_runs_with_submissions=sum(r.submission_exists for r in reports),
            total_valid_submissions=sum(r.valid_submission for r in reports),
            total_medals=gold + silver + bronze,
            total_gold_medals=gold,
            total_silver_medals=silver,
            total_bronze_medals=bronze,
            total_above_median=sum(r.above_median for r in reports),
            competition_reports=list(reports),
        )


class Thresholds(BaseModel):
    gold: float
    silver: float
    bronze: float
    median: float


class Leaderboard(BaseModel):
    """A competition's public leaderboard as MLE-bench uses it: the `score` column in file order."""

    competition_id: str
    path: str
    scores: list[float] = Field(repr=False)
    n_teams: int
    is_lower_better: bool
    best_score: float | None  # the best non-missing score in the metric's direction
    thresholds: Thresholds
