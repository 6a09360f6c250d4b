"""The pre-publication gate (`--fail-on`, SPEC exit codes) and quiet output, end to end via the CLI."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.report.report_fixtures import DEMO, REPO, EpisodeSpec, cli, make_group


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A run with a high and a medium flag, and one with only a medium flag."""
    root = tmp_path_factory.mktemp("gate")
    mixed = root / "mixed"
    make_group(mixed, "aide", [DEMO["leak"], DEMO["hostile"], DEMO["clean"]])
    medium = root / "medium"
    make_group(medium, "aide", [DEMO["hostile"], DEMO["clean"]])
    return {"mixed": mixed, "medium": medium}


def gate(run: Path, *extra: str) -> subprocess.CompletedProcess:
    return cli(run, "--monitors", "planted", "--format", "json", *extra)


def test_fail_on_follows_severity(runs):
    assert gate(runs["mixed"]).returncode == 0  # default: never
    assert gate(runs["mixed"], "--fail-on", "high").returncode == 1
    assert gate(runs["medium"], "--fail-on", "high").returncode == 0
    assert gate(runs["medium"], "--fail-on", "medium").returncode == 1
    assert gate(runs["medium"], "--fail-on", "low").returncode == 1


def test_bad_gate_arguments_are_exit_2(runs, tmp_path):
    assert gate(runs["mixed"], "--fail-on", "sometimes").returncode == 2
    assert cli(tmp_path / "missing", "--fail-on", "high").returncode == 2


def test_reviews_open_or_close_the_gate(tmp_path):
    run = tmp_path / "run"
    make_group(run, "aide", [DEMO["leak"], DEMO["hostile"]])
    report = json.loads(gate(run).stdout)
    flags = {e["competition_id"]: e["flags"][0] for e in report["episodes"]}
    episodes = {e["competition_id"]: e["episode_id"] for e in report["episodes"]}
    leak, medium = flags["random-acts-of-pizza"], flags["spaceship-titanic"]
    assert (leak["severity"], medium["severity"]) == ("high", "medium")

    assert cli("review", run, episodes["random-acts-of-pizza"], leak["id"], "--dismiss", "--reviewer", "r").returncode == 0
    assert gate(run, "--fail-on", "high").returncode == 0  # the only high flag was dismissed
    assert gate(run, "--fail-on", "medium").returncode == 1  # the medium one is still unreviewed
    assert cli("review", run, episodes["spaceship-titanic"], medium["id"], "--confirm", "--reviewer", "r").returncode == 0
    assert gate(run, "--fail-on", "medium").returncode == 1  # confirmed: stays a failure
    assert gate(run, "--fail-on", "high").returncode == 0


def test_json_mode_prints_the_report_and_nothing_else(runs, tmp_path):
    proc = gate(runs["mixed"])
    assert proc.stderr == ""
    report = json.loads(proc.stdout)
    assert len(report["episodes"]) == 3
    out = tmp_path / "report.json"
    proc = gate(runs["mixed"], "--out", str(out))
    assert proc.stdout == ""
    assert " ".join(proc.stderr.split()) == f"report written to {out} (3 episodes)"
    assert json.loads(out.read_text())["medal_table"]["totals"][0]["agent"] == "aide"


def test_no_progress_bar_when_output_is_not_a_terminal(runs):
    proc = cli(runs["mixed"], "--monitors", "planted", "--format", "markdown")
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert proc.stdout.startswith("# Audit of")


def run_on_a_terminal(args: list[str], timeout: float = 120) -> str:
    """Run the CLI with stdout and stderr on a pseudo-terminal; everything it wrote there."""
    code = ("import sys; import tests.report.report_fixtures as f; f.PlantedMonitor.default = False; "
            "from auditor.cli import main; main(sys.argv[1:])")
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdin=subprocess.DEVNULL, stdout=follower, stderr=follower,
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO), "TERM": "xterm", "COLUMNS": "120"})
    os.close(follower)
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=10)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", errors="replace")


def test_progress_bar_is_shown_on_a_terminal(tmp_path):
    run = tmp_path / "run"
    make_group(run, "aide", [EpisodeSpec("leaf-classification") for _ in range(30)])
    shown = run_on_a_terminal([str(run), "--monitors", "planted", "--format", "table"])
    assert "Audited medal table" in shown
    assert "monitoring" in shown and "/30" in shown
