"""`audit show`: evidence in context, read safely from a hostile run, printed safely."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.models import EpisodeReport, Evidence, Match
from auditor.show import LINE_WIDTH, ContextReader, evidence_context, review_command_line, terminal_safe
from tests.report.report_fixtures import build_demo_run, cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    run = tmp_path_factory.mktemp("show") / "runs"
    return run, build_demo_run(run)


def episode_at(path: str) -> EpisodeReport:
    return EpisodeReport(episode_id=Path(path).name, path=path, competition_id="c", agent=None, run_group=None, seed=0,
                         grade=None, medal="none", flags=[], verdict="clean", audited_medal="none", errors=[])


def test_show_prints_the_flag_with_context_match_and_review_commands(demo):
    run, ids = demo
    proc = cli("show", run, ids["plagiarism"], "--context", "2")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert ids["plagiarism"] in out and "verdict disqualified" in out
    assert "code/solution.py:4" in out
    assert "▶ 4 │ def train(df):" in out and "▶ 6 │     return model" in out  # the fragment, highlighted
    assert "  2 │ import numpy as np" in out and "  1 │" not in out  # two lines of context, not three
    assert "matches towhid1_leaf/kernel.ipynb lines 40-42, similarity 0.91" in out
    assert "40 │ def train(df):" in out
    flag_id = next(line.split()[1] for line in out.splitlines() if line.startswith("[1] "))
    assert f"audit review {run} {ids['plagiarism']} {flag_id} --confirm" in out


def test_show_never_passes_terminal_escapes_through(demo):
    run, ids = demo
    proc = cli("show", run, ids["hostile"])
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\ufffd[31m" in proc.stdout
    assert "<script>" in proc.stdout  # shown as text, as it is in the file


def test_show_unknown_episode_is_exit_2_with_a_suggestion(demo):
    run, ids = demo
    proc = cli("show", run, ids["leak"][:-3])
    assert proc.returncode == 2
    assert "unknown episode" in proc.stderr and ids["leak"] in proc.stderr


def test_context_never_leaves_the_run(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET\n")
    run = tmp_path / "run"
    (run / "ep" / "logs").mkdir(parents=True)
    (run / "ep" / "logs" / "link.txt").symlink_to(secret)
    e = episode_at("ep")
    for file in ("logs/link.txt", "../../secret.txt"):
        ctx = evidence_context(run, e, Evidence(file=file, line=1, excerpt="TOP SECRET"))
        assert ctx.error and "outside the run" in ctx.error
        assert not ctx.lines


def test_a_huge_line_is_clipped_around_the_excerpt(tmp_path):
    run = tmp_path / "run"
    (run / "ep").mkdir(parents=True)
    line = "a" * 100_000 + "NEEDLE_IN_HAYSTACK" + "b" * 100_000
    (run / "ep" / "journal.json").write_text("first\n" + line + "\nlast " + "c" * 1000 + "\n")
    ctx = evidence_context(run, episode_at("ep"), Evidence(file="journal.json", line=2, excerpt="NEEDLE_IN_HAYSTACK"), context=1)
    assert ctx.error is None
    first, hit, last = ctx.lines
    assert (first.number, first.before, first.highlighted) == (1, "first", False)
    assert hit.marked == "NEEDLE_IN_HAYSTACK" and hit.highlighted and hit.clipped_left and hit.clipped_right
    assert set(hit.before) == {"a"} and set(hit.after) == {"b"}
    assert len(hit.before) + len(hit.marked) + len(hit.after) <= LINE_WIDTH + 1
    assert last.clipped_right and len(last.before) == LINE_WIDTH


def test_a_file_that_changed_since_the_audit_says_so(tmp_path):
    run = tmp_path / "run"
    (run / "ep").mkdir(parents=True)
    (run / "ep" / "a.py").write_text("one\n")
    ctx = ContextReader(run).context(episode_at("ep"), Evidence(file="a.py", line=40, excerpt="x",
                                                                match=Match(source="n", line=1, similarity=1.0)))
    assert ctx.error and "no line 40" in ctx.error


def test_review_command_line_quotes_hostile_names():
    cmd = review_command_line("runs/my run", "comp_1; rm -rf ~", "rule-abc", "dismiss")
    assert cmd == "audit review 'runs/my run' 'comp_1; rm -rf ~' rule-abc --dismiss"
    assert terminal_safe("ok\x1b]0;title\x07\x9b") == "ok\ufffd]0;title\ufffd\ufffd"
