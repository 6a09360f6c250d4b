"""Builders for synthetic MLE-bench layouts: <competitions>/<id>/leaderboard.csv, <data>/<id>/prepared/..."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from grading.registry import load_competition


@dataclass
class Layout:
    root: Path

    @property
    def competitions(self) -> Path:
        return self.root / "competitions"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def answers(self, competition_id: str, text: str) -> Path:
        path = load_competition(competition_id).answers_path(self.data)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def leaderboard(self, competition_id: str, scores: list[float]) -> Path:
        path = self.competitions / competition_id / "leaderboard.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = "".join(f"team{i},{s!r}\n" for i, s in enumerate(scores))
        path.write_text("teamName,score\n" + rows, encoding="utf-8")
        return path

    def submission(self, name: str, text: str | bytes) -> Path:
        path = self.root / "submissions" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout(tmp_path)


def csv(header: str, *rows: str) -> str:
    return "\n".join([header, *rows]) + "\n"
