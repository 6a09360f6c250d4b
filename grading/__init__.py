"""Grading as MLE-bench grades: the 22 Lite competitions, their metrics, leaderboards and medals.

Public API:
- `grade_submission(competition_id, submission_path, competitions_dir, data_dir) -> CompetitionReport`
- `grade_jsonl(path, ...)`, `grade_run_dir(path, ...)`, `grade_path(path, ...)` -> list of reports
- `write_grading_report(reports, out_dir) -> Path` (MLE-bench's `<timestamp>_grading_report.json`)
- `leaderboard_for(competition_id, competitions_dir) -> Leaderboard` (for the implausible-score rule)
- `grade_for_episode(competition_id, episode_root, competitions_dir, data_dir)`: the auditor's
  entry point; `report.to_grade()` gives an `auditor.models.Grade`
- `GRADERS`: competition id -> grader(submission, answers) -> score
"""

from grading.competitions import GRADERS
from grading.errors import GradingSetupError, InvalidSubmission
from grading.grade import (
    GradingInputError,
    grade_for_episode,
    grade_jsonl,
    grade_path,
    grade_run_dir,
    grade_submission,
    write_grading_report,
)
from grading.leaderboard import leaderboard_for
from grading.medals import medal_positions
from grading.models import CompetitionReport, GradingReport, Leaderboard, Thresholds
from grading.registry import CompetitionSpec, lite_competition_ids, load_competition

__all__ = [
    "GRADERS",
    "CompetitionReport",
    "CompetitionSpec",
    "GradingInputError",
    "GradingReport",
    "GradingSetupError",
    "InvalidSubmission",
    "Leaderboard",
    "Thresholds",
    "grade_for_episode",
    "grade_jsonl",
    "grade_path",
    "grade_run_dir",
    "grade_submission",
    "leaderboard_for",
    "lite_competition_ids",
    "load_competition",
    "medal_positions",
    "write_grading_report",
]
