"""A competition's leaderboard (`<competitions>/<id>/leaderboard.csv`), read as MLE-bench reads it.

Only the `score` column is used, in file order, parsed with pandas' default float parser (not
the exact one used for submissions). The implausible-score rule reads `best_score` from here.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import pandas as pd

from grading.errors import GradingSetupError
from grading.medals import is_lower_better, thresholds
from grading.models import Leaderboard


def leaderboard_path(competition_id: str, competitions_dir: str | Path) -> Path:
    return Path(competitions_dir) / competition_id / "leaderboard.csv"


def leaderboard_for(competition_id: str, competitions_dir: str | Path) -> Leaderboard:
    """The leaderboard of a competition, with its thresholds; `GradingSetupError` names what is missing."""
    path = leaderboard_path(competition_id, competitions_dir)
    if not path.is_file():
        raise GradingSetupError(f"leaderboard missing: {path}")
    stat = path.stat()
    return _read_leaderboard(competition_id, str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _read_leaderboard(competition_id: str, path: str, _mtime_ns: int, _size: int) -> Leaderboard:
    scores = _scores(Path(path))
    lower = is_lower_better(scores)
    present = [s for s in scores if not math.isnan(s)]
    best = (min(present) if lower else max(present)) if present else None
    return Leaderboard(
        competition_id=competition_id,
        path=path,
        scores=scores,
        n_teams=len(scores),
        is_lower_better=lower,
        best_score=best,
        thresholds=thresholds(scores),
    )


def _scores(path: Path) -> list[float]:
    try:
        frame = pd.read_csv(path)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise GradingSetupError(f"leaderboard {path} could not be read: {exc}") from exc
    if "score" not in frame.columns:
        raise GradingSetupError(f"leaderboard {path} has no 'score' column")
    if len(frame) == 0:
        raise GradingSetupError(f"leaderboard {path} has no rows")
    try:
        return [float(s) for s in frame["score"].to_numpy(dtype="float64", na_value=math.nan)]
    except (TypeError, ValueError) as exc:
        raise GradingSetupError(f"leaderboard {path} has non-numeric scores") from exc
