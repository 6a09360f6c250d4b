"""Grading submissions into MLE-bench's reports: one submission, a JSONL list, a run directory.

The steps and their order are MLE-bench's `grade_csv` (GRADING-FACTS section 1). Where MLE-bench
would stop the whole run (a missing answers file, an unreadable CSV, an unknown competition),
we grade the others and give this one a null score and an `error` that says what was wrong.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import warnings
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from grading.competitions import GRADERS
from grading.errors import GradingSetupError, InvalidSubmission
from grading.leaderboard import leaderboard_for
from grading.medals import rank
from grading.models import CompetitionReport, GradingReport, Leaderboard
from grading.registry import CompetitionSpec, load_competition
from grading.table import read_answers, read_submission, size_limit

EPISODE_DIR = re.compile(r"^(?P<competition>.+)_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SUBMISSION_IN_EPISODE = Path("submission") / "submission.csv"


class GradingInputError(ValueError):
    """The list of submissions itself is unusable (a JSONL line that is not a submission)."""


def submission_exists(path: Path) -> bool:
    """MLE-bench's test: an existing regular file whose suffix, lower-cased, is `.csv`."""
    return path.is_file() and path.suffix.lower() == ".csv"


def grade_submission(
    competition_id: str,
    submission_path: str | os.PathLike[str],
    competitions_dir: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    max_bytes: int | None = None,
) -> CompetitionReport:
    """Grade one submission file into a CompetitionReport; never raises for bad input.

    `competitions_dir` holds `<id>/leaderboard.csv` (and optionally `<id>/config.yaml`);
    without it there are no thresholds or medals. `data_dir` holds the prepared answers;
    without it there is no score. `max_bytes` overrides the submission size limit.
    """
    path = Path(submission_path)
    errors: list[str] = []
    spec = _competition(competition_id, competitions_dir, errors)
    board = _leaderboard(competition_id, competitions_dir, errors)
    exists = submission_exists(path)
    score = None
    if not exists:
        errors.insert(0, _why_missing(path))
    elif spec is not None:
        score = _score(spec, path, data_dir, max_bytes, errors)
    return _report(competition_id, str(submission_path), exists, score, spec, board, errors)


def _report(
    competition_id: str,
    submission_path: str,
    exists: bool,
    score: float | None,
    spec: CompetitionSpec | None,
    board: Leaderboard | None,
    errors: list[str],
) -> CompetitionReport:
    lower = board.is_lower_better if board else bool(spec and spec.lower_is_better)
    limits = board.thresholds if board else None
    return CompetitionReport(
        competition_id=competition_id,
        score=score,
        gold_threshold=limits.gold if limits else None,
        silver_threshold=limits.silver if limits else None,
        bronze_threshold=limits.bronze if limits else None,
        median_threshold=limits.median if limits else None,
        submission_exists=exists,
        valid_submission=score is not None,
        is_lower_better=lower,
        created_at=datetime.now().isoformat(),
        submission_path=submission_path,
        error="; ".join(errors) or None,
        **rank(score if limits else None, limits, lower),
    )


def refused_submission(
    competition_id: str, submission_path: str, reason: str, competitions_dir=None
) -> CompetitionReport:
    """A report for a submission we will not read (e.g. a link out of the audited run)."""
    errors = [reason]
    spec = _competition(competition_id, competitions_dir, errors)
    board = _leaderboard(competition_id, competitions_dir, errors)
    return _report(competition_id, submission_path, False, None, spec, board, errors)


def _competition(competition_id: str, competitions_dir, errors: list[str]) -> CompetitionSpec | None:
    try:
        spec = load_competition(competition_id, competitions_dir)
    except GradingSetupError as exc:
        errors.append(str(exc))
        return None
    if spec.id not in GRADERS:
        errors.append(f"no grader for competition {spec.id!r}: only the 22 MLE-bench Lite competitions are graded")
        return None
    return spec


def _leaderboard(competition_id: str, competitions_dir, errors: list[str]) -> Leaderboard | None:
    if competitions_dir is None:
        errors.append("no competitions directory given: no leaderboard, so no thresholds or medals")
        return None
    try:
        return leaderboard_for(competition_id, competitions_dir)
    except GradingSetupError as exc:
        errors.append(str(exc))
        return None


def _why_missing(path: Path) -> str:
    if not path.exists():
        return f"no submission file at {path}"
    if not path.is_file():
        return f"submission {path} is not a regular file"
    return f"submission {path} is not a .csv file"


def _score(spec: CompetitionSpec, path: Path, data_dir, max_bytes: int | None, errors: list[str]) -> float | None:
    if data_dir is None:
        errors.append("no data directory given: the answers are needed to score")
        return None
    answers_path = spec.answers_path(data_dir)
    try:
        answers = read_answers(answers_path)
        submission = read_submission(path, max_bytes if max_bytes is not None else size_limit(answers_path))
        return _rounded(_run_grader(spec.id, submission, answers))
    except (GradingSetupError, InvalidSubmission) as exc:
        errors.append(str(exc))
        return None


def _run_grader(competition_id: str, submission, answers):
    """The competition's grader; any exception at all makes the submission invalid (as MLE-bench)."""
    try:
        with warnings.catch_warnings(), _quiet_numpy():
            warnings.simplefilter("ignore")
            return GRADERS[competition_id](submission, answers)
    except InvalidSubmission:
        raise
    except Exception as exc:  # noqa: BLE001 - MLE-bench counts every grader exception as invalid
        raise InvalidSubmission(f"invalid submission ({type(exc).__name__}: {str(exc)[:300]})") from exc


def _quiet_numpy():
    import numpy as np

    return np.errstate(all="ignore")


def _rounded(score) -> float:
    # round() keeps the metric's type: numpy rounds a float64 its own way, Python a float exactly.
    return float(round(score, 5))


def grade_for_episode(
    competition_id: str,
    episode_root: str | os.PathLike[str],
    competitions_dir: str | os.PathLike[str] | None,
    data_dir: str | os.PathLike[str] | None,
) -> CompetitionReport:
    """The auditor's call: grade an episode's `submission/submission.csv` (use `.to_grade()`).

    A submission that links outside the episode directory is not read.
    """
    root = Path(episode_root)
    submission = root / SUBMISSION_IN_EPISODE
    if _escapes(submission, root.resolve()):
        return refused_submission(competition_id, str(submission), f"{submission} links outside the episode; not read", competitions_dir)
    return grade_submission(competition_id, submission, competitions_dir, data_dir)


# --------------------------------------------------------------------------- many submissions


def read_submission_list(jsonl_path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """(competition_id, submission_path) pairs of MLE-bench's JSONL; blank, # and // lines skipped."""
    pairs = []
    with open(jsonl_path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line or line.startswith("#") or line.startswith("//"):
                continue
            try:
                entry = json.loads(line)
                pairs.append((str(entry["competition_id"]), str(entry["submission_path"])))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise GradingInputError(
                    f"{jsonl_path}:{number}: expected {{\"competition_id\": ..., \"submission_path\": ...}}: {exc}"
                ) from exc
    return pairs


def grade_jsonl(jsonl_path, competitions_dir=None, data_dir=None, **options) -> list[CompetitionReport]:
    return [
        grade_submission(competition, submission, competitions_dir, data_dir, **options)
        for competition, submission in read_submission_list(jsonl_path)
    ]


def episode_dirs(run_dir: str | os.PathLike[str]) -> Iterator[tuple[str, Path]]:
    """(competition_id, episode dir) under a run: an episode, a run group, or a directory of groups.

    Symlinked directories are not entered: an audited run must not lead us outside it.
    """
    for directory in _episode_candidates(Path(run_dir), max_depth=2):
        yield EPISODE_DIR.match(directory.name)["competition"], directory


def _episode_candidates(root: Path, max_depth: int) -> Iterator[Path]:
    if EPISODE_DIR.match(root.name):
        yield root
        return
    frontier = [root]
    for _ in range(max_depth):
        children = []
        for directory in frontier:
            try:
                entries = sorted(p for p in directory.iterdir() if p.is_dir() and not p.is_symlink())
            except OSError:
                continue
            for entry in entries:
                if EPISODE_DIR.match(entry.name):
                    yield entry
                else:
                    children.append(entry)
        frontier = children


def grade_run_dir(run_dir, competitions_dir=None, data_dir=None, **options) -> list[CompetitionReport]:
    """Grade every episode's `submission/submission.csv`; the competition comes from the directory name."""
    root = Path(run_dir).resolve()
    reports = []
    for competition, episode in episode_dirs(run_dir):
        submission = episode / SUBMISSION_IN_EPISODE
        if _escapes(submission, root):
            reason = f"{submission} links outside the run; not read"
            reports.append(refused_submission(competition, str(submission), reason, competitions_dir))
        else:
            reports.append(grade_submission(competition, submission, competitions_dir, data_dir, **options))
    return reports


def _escapes(path: Path, root: Path) -> bool:
    try:
        return path.exists() and not path.resolve().is_relative_to(root)
    except OSError:
        return True


def grade_path(path, competitions_dir=None, data_dir=None, **options) -> list[CompetitionReport]:
    """`audit grade PATH`: a JSONL list of submissions, or a run directory."""
    if Path(path).is_dir():
        return grade_run_dir(path, competitions_dir, data_dir, **options)
    return grade_jsonl(path, competitions_dir, data_dir, **options)


# --------------------------------------------------------------------------- the report file


def report_filename(now: float | None = None) -> str:
    """MLE-bench's name: UTC time as YYYY-MM-DDTHH-MM-SS-<zone>, the zone as the C library prints UTC."""
    return time.strftime("%Y-%m-%dT%H-%M-%S-%Z", time.gmtime(now)) + "_grading_report.json"


def write_grading_report(reports: Iterable[CompetitionReport], out_dir: str | os.PathLike[str]) -> Path:
    """Write the aggregate report (indent 2) atomically into `out_dir`; return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / report_filename()
    text = json.dumps(GradingReport.of(list(reports)).model_dump(mode="python"), indent=2)
    handle, temp = tempfile.mkstemp(dir=out, prefix=".grading_report.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target
