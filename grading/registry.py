"""Which competitions exist and where their files are.

MLE-bench keeps each competition in `<competitions>/<id>/config.yaml` (`dataset.answers`,
`dataset.sample_submission`, `grader.name`; paths relative to the data directory) beside its
`leaderboard.csv`. We ship the same facts for the 22 Lite competitions (`data/competitions.yaml`)
so grading works when the user's competitions directory has only leaderboards; a config.yaml
there, when present, wins.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel

from grading.errors import GradingSetupError


class CompetitionSpec(BaseModel):
    id: str
    answers: str  # relative to the data directory, e.g. "<id>/prepared/private/test.csv"
    sample_submission: str | None = None
    grader_name: str | None = None
    id_column: str | None = None
    target_columns: list[str] = []
    lower_is_better: bool | None = None  # the metric's natural direction, when known
    config_path: str | None = None  # the config.yaml it was read from; None for the shipped data

    def answers_path(self, data_dir: str | Path) -> Path:
        return Path(data_dir) / self.answers


@cache
def shipped_competitions() -> dict[str, CompetitionSpec]:
    text = resources.files("grading").joinpath("data/competitions.yaml").read_text(encoding="utf-8")
    return {entry["id"]: _spec_from_config(entry, None) for entry in yaml.safe_load(text)["competitions"]}


def lite_competition_ids() -> list[str]:
    return sorted(shipped_competitions())


def load_competition(competition_id: str, competitions_dir: str | Path | None = None) -> CompetitionSpec:
    """The competition's spec: the user's config.yaml if there is one, else the shipped one."""
    if competitions_dir is not None:
        config = Path(competitions_dir) / competition_id / "config.yaml"
        if config.is_file():
            return _read_config(config, competition_id)
    spec = shipped_competitions().get(competition_id)
    if spec is None:
        where = f" and there is no {Path(competitions_dir) / competition_id / 'config.yaml'}" if competitions_dir else ""
        raise GradingSetupError(f"unknown competition {competition_id!r}: not one of the 22 MLE-bench Lite competitions{where}")
    return spec


def _read_config(path: Path, competition_id: str) -> CompetitionSpec:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("dataset"), dict) or "answers" not in data["dataset"]:
            raise ValueError("no dataset.answers")
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError) as exc:
        raise GradingSetupError(f"competition config {path} is unusable: {exc}") from exc
    data.setdefault("id", competition_id)
    return _spec_from_config(data, str(path))


def _spec_from_config(data: dict, config_path: str | None) -> CompetitionSpec:
    known = shipped_competitions().get(data["id"]) if config_path else None
    dataset, grader = data.get("dataset") or {}, data.get("grader") or {}
    return CompetitionSpec(
        id=str(data["id"]),
        answers=str(dataset["answers"]),
        sample_submission=dataset.get("sample_submission"),
        grader_name=grader.get("name"),
        id_column=data.get("id_column", known.id_column if known else None),
        target_columns=data.get("target_columns", known.target_columns if known else []),
        lower_is_better=data.get("lower_is_better", known.lower_is_better if known else None),
        config_path=config_path,
    )
