"""Shared test helpers: where ../shared is, and small run builders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MLE_AUDITOR_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus"
EXAMPLE_RUN = REPO / "examples" / "logs" / "run-123"


def need_shared() -> Path:
    """The shared corpus; required in CI, skipped elsewhere when absent."""
    if not CORPUS.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the development corpus at {CORPUS}")
        pytest.skip(f"no development corpus at {CORPUS}")
    return CORPUS


@pytest.fixture
def corpus() -> Path:
    return need_shared()
