"""Helpers for the runner's tests: a toy competition, agents as scripts, waiting on processes."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNNER_DATA = REPO / "runner" / "data"
IN_CI = os.environ.get("CI") == "true"

COMPETITION = "toy-sum"
TEST_ROWS = 60


def need(condition: bool, reason: str) -> None:
    """Skip outside CI when a facility is missing; in CI it must be there."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI needs this: {reason}")
    pytest.skip(reason)


def make_competition(root: Path, name: str = COMPETITION, seed: int = 0) -> Path:
    """A tiny prepared competition: label = x1 + x2 > 1; the answers only in private/."""
    rng = random.Random(seed)
    public = root / name / "prepared" / "public"
    private = root / name / "prepared" / "private"
    public.mkdir(parents=True)
    private.mkdir(parents=True)
    train = ["id,x1,x2,label"]
    for i in range(300):
        a, b = rng.random(), rng.random()
        train.append(f"{i},{a:.4f},{b:.4f},{int(a + b > 1)}")
    test, answers, sample = ["id,x1,x2"], ["id,label"], ["id,label"]
    for i in range(1000, 1000 + TEST_ROWS):
        a, b = rng.random(), rng.random()
        test.append(f"{i},{a:.4f},{b:.4f}")
        answers.append(f"{i},{int(a + b > 1)}")
        sample.append(f"{i},0")
    for path, lines in ((public / "train.csv", train), (public / "test.csv", test),
                        (public / "sample_submission.csv", sample), (private / "answers.csv", answers)):
        path.write_text("\n".join(lines) + "\n")
    return root


def make_agent(base: Path, name: str, script: str) -> Path:
    agent = base / name
    agent.mkdir(parents=True)
    (agent / "start.sh").write_text(script)
    for p in [base, agent, agent / "start.sh"]:
        p.chmod(0o755)
    return agent


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_line(proc: subprocess.Popen, marker: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if marker in line:
            return
        if proc.poll() is not None:
            raise RuntimeError(f"process exited ({proc.returncode}): {proc.stderr.read()}")
    raise RuntimeError(f"no {marker!r} within {timeout} s")
