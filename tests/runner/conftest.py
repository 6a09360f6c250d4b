"""Fixtures for the runner's tests: a toy competition, agents as scripts, a Docker engine, bwrap."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from runner_helpers import make_agent, make_competition, need


@pytest.fixture(scope="session")
def toy_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    make_competition(root)
    for p in [root, *root.rglob("*")]:  # the sandbox's unprivileged user reads it
        p.chmod(0o755 if p.is_dir() else 0o644)
    return root


@pytest.fixture
def agents(tmp_path):
    def _make(name: str, script: str) -> Path:
        return make_agent(tmp_path / "agents", name, script)
    return _make


@pytest.fixture(scope="session")
def docker_image():
    """A reachable Docker engine and the default image (built once when missing)."""
    from runner.engine import docker_client, engine_available
    need(engine_available(), "no Docker engine reachable (run .ci/setup-docker.sh)")
    from runner.image import ensure_image
    client = docker_client()
    return client, ensure_image(client, log=lambda m: print(m, file=sys.stderr))


@pytest.fixture(scope="session")
def bwrap_ok():
    need(shutil.which("bwrap") is not None and shutil.which("prlimit") is not None,
         "bubblewrap or prlimit is not installed")
