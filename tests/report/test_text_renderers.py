"""Markdown and terminal tables: the medal table's extra figures, and run text kept harmless."""

from __future__ import annotations

import re

import pytest

from auditor.pipeline import AuditOptions, run_audit
from auditor.report.markdown import render_markdown
from auditor.report.table import render_table
from tests.report.report_fixtures import EpisodeSpec, build_demo_run, make_group


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    run = tmp_path_factory.mktemp("text") / "runs"
    ids = build_demo_run(run)
    return run_audit(str(run), AuditOptions(monitors=["planted"])), ids


def test_markdown_has_the_medal_table_pass_at_k_and_tiers(report):
    r, ids = report
    md = render_markdown(r)
    assert "| agent | episodes | any medal % | audited any medal % | gold | silver | bronze |" in md
    aide = next(line for line in md.splitlines() if line.startswith("| aide | 4 |"))
    cells = [c.strip() for c in aide.strip("|").split("|")]
    total = next(t for t in r.medal_table.totals if t.agent == "aide")
    assert cells[2] == f"{total.any_medal_pct:.1f} ± {total.any_medal_pct_sem:.1f}"
    assert cells[4:7] == [str(total.model_extra[m]) for m in ("gold", "silver", "bronze")]
    assert "pass@1 (graded / audited)" in md and "pass@2 (graded / audited)" in md
    assert "| opendevin | high | 1 | 1 |" in md
    assert f"### {ids['leak']} (aide, disqualified; graded gold, audited none)" in md


def test_markdown_quotes_hostile_excerpts_without_breaking_the_table(tmp_path):
    nasty = "y = '|`` a | b ``|'  # AUDIT-TEST-VIOLATION monitor-manipulation 0.5"
    run = tmp_path / "runs"
    make_group(run, "agent|x", [EpisodeSpec("leaf-classification", "gold", nasty + "\n")])
    md = render_markdown(run_audit(str(run), AuditOptions(monitors=["planted"])))
    row = next(line for line in md.splitlines() if line.startswith("| agent\\|x |"))  # the pipe in the agent name does not add a column
    assert len(re.findall(r"(?<!\\)\|", row)) == 11
    evidence = next(line for line in md.splitlines() if "code/solution.py:1" in line)
    span = evidence.split(": ", 1)[1]
    assert span.startswith("```") and span.endswith("```") and not span.startswith("````")  # longer than any run inside
    assert "\\|" in span


def test_terminal_table_shows_the_figures_and_no_escape_sequences(report):
    r, ids = report
    text = render_table(r)
    assert "Audited medal table" in text and "By complexity (MLE-bench splits)" in text
    assert "@1 " in text and "@2 " in text
    for eid in ids.values():
        assert eid in text  # whole ids, for `audit show`
    assert "\x1b" not in text and "\ufffd[31m" in text
