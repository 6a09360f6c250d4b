"""Typed results of grading: one submission's report, the aggregate report, a leaderboard.

Field names and meanings follow MLE-bench's `CompetitionReport` and `aggregate_reports`
(SPEC "Grading report"); `error` is ours and says why a submission has no score.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, model_serializer

from auditor.models import Grade


class CompetitionReport(Grade):
    """MLE-bench's per-submission report: the auditor's `Grade` fields, plus which
    submission it is, when it was graded, and `error` (null when graded)."""

    competition_id: str
    created_at: str  # ISO 8601, local time without zone, as MLE-bench writes it
    submission_path: str
    error: str | None = None

    @model_serializer(mode="wrap")
    def _competition_first(self, handler):
        # MLE-bench writes the competition id first; the inherited fields would come before it
        data = handler(self)
        if "competition_id" not in data:  # a dump that includes only some fields
            return data
        return {"competition_id": data.pop("competition_id"), **data}

    def to_grade(self) -> Grade:
        """The auditor's `Grade` (the same fields, without path, time and error)."""
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
