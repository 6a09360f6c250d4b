"""The documented GitHub Actions example really gates: its audit steps, run as written."""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from tests.report.report_fixtures import DEMO, REPO, make_group

WORKFLOW = REPO / "examples" / "github-actions" / "audit.yml"


def audit_steps() -> list[tuple[str, str]]:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    return [(s["name"], s["run"]) for s in jobs["audit"]["steps"] if "run" in s and "audit " in s["run"] and "pip" not in s["run"]]


def run_step(script: str, cwd, env: dict) -> subprocess.CompletedProcess:
    # `audit` is the real entry point, with the test monitor registered so the run has flags
    shim = (f'audit() {{ PYTHONPATH={REPO} {sys.executable} -c "import sys; import tests.report.report_fixtures as f; '
            f'f.PlantedMonitor.default = True; from auditor.cli import main; main(sys.argv[1:])" "$@"; }}\n')
    return subprocess.run(["bash", "-euo", "pipefail", "-c", shim + script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_workflow_publishes_only_after_the_gate():
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    assert jobs["publish"]["needs"] == "audit"
    gate = [run for name, run in audit_steps() if "--fail-on \"$FAIL_ON\"" in run]
    assert len(gate) == 1


def test_the_workflow_steps_fail_on_a_flagged_run_and_pass_a_clean_one(tmp_path):
    env_defaults = yaml.safe_load(WORKFLOW.read_text())["env"]
    for name, specs, expected in (("flagged", [DEMO["leak"], DEMO["clean"]], 1), ("clean", [DEMO["clean"]], 0)):
        work = tmp_path / name
        make_group(work / "results", "aide", specs)
        summary = work / "summary.md"
        env = {**os.environ, **env_defaults, "GITHUB_STEP_SUMMARY": str(summary)}
        codes = {step: run_step(script, work, env) for step, script in audit_steps()}
        gate = next(proc for step, proc in codes.items() if step.startswith("Gate"))
        assert gate.returncode == expected, gate.stderr
        others = [proc for step, proc in codes.items() if not step.startswith("Gate")]
        assert all(p.returncode == 0 for p in others), [p.stderr for p in others]
        assert "## Audited medal table" in summary.read_text()
        assert (work / "audit-out" / "audit.html").read_text().startswith("<!doctype html>")
