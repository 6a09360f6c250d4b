"""Reviewers' decisions, kept in `PATH/reviews.jsonl` (append-only, one line a decision)."""

from __future__ import annotations

import json
from pathlib import Path

from auditor.models import Review

REVIEWS_FILE = "reviews.jsonl"


def reviews_path(run: str | Path) -> Path:
    run = Path(run)
    return (run if run.is_dir() else run.parent) / REVIEWS_FILE


def load_reviews(run: str | Path) -> dict[tuple[str, str], Review]:
    """The latest decision per (episode, flag); unreadable lines are skipped."""
    path = reviews_path(run)
    out: dict[tuple[str, str], Review] = {}
    if not path.is_file():
        return out
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
                out[(rec["episode"], rec["flag"])] = Review.model_validate(rec)
            except (ValueError, KeyError, TypeError):
                continue
    return out
