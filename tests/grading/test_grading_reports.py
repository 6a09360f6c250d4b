"""grade_jsonl / grade_run_dir / report file / CLI function, and every kind of unreadable input."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from tests.grading.conftest import csv

from grading import GradingInputError, grade_jsonl, grade_run_dir, grade_submission, write_grading_report
from grading.cli import grade_command
from grading.grade import grade_for_episode

CACTUS = "aerial-cactus-identification"
ANSWERS = csv("id,has_cactus", "a,0", "b,0", "c,1", "d,1")
GOOD = csv("id,has_cactus", "a,0.1", "b,0.4", "c,0.35", "d,0.8")  # AUC 0.75
UUID = "0b6f6a2e-1c1e-4c8e-9d7a-2f5d1e0c9a11"


@pytest.fixture
def cactus(layout):
    layout.answers(CACTUS, ANSWERS)
    layout.leaderboard(CACTUS, [0.9, 0.8, 0.7, 0.6, 0.5])  # n=5: gold=silver=pos 1, bronze pos 2
    return layout


def grade(layout, path, **options):
    return grade_submission(CACTUS, path, layout.competitions, layout.data, **options)


def test_valid_submission_report_has_mlebench_fields_and_no_error(cactus):
    report = grade(cactus, cactus.submission("s.csv", GOOD))
    assert report.score == 0.75 and report.valid_submission and report.error is None
    assert (report.gold_threshold, report.bronze_threshold, report.median_threshold) == (0.9, 0.8, 0.7)
    assert report.above_median and not report.any_medal and not report.is_lower_better


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("ragged.csv", csv("id,has_cactus", "a,0.1", "b,0.4,7,8", "c,0.35", "d,0.8"), "malformed csv"),
        ("latin1.csv", "id,has_cactus\nä,0.1\nb,0.4\nc,0.35\nd,0.8\n".encode("latin-1"), "not utf-8"),
        ("empty.csv", "", "no column"),  # an empty table: the column checks fail first
        ("header.csv", "id,has_cactus\n", "0 rows"),
        ("semicolon.csv", GOOD.replace(",", ";"), "no column"),
    ],
)
def test_unreadable_submissions_are_invalid_with_a_reason(cactus, name, content, reason):
    report = grade(cactus, cactus.submission(name, content))
    assert report.submission_exists and report.score is None and not report.valid_submission
    assert reason in report.error.lower()
    assert report.gold_threshold == 0.9  # thresholds are still reported


def test_file_over_the_size_limit_is_refused_unread(cactus):
    big = cactus.submission("big.csv", GOOD + "x" * 5000)
    report = grade(cactus, big, max_bytes=1000)
    assert report.score is None and "limit" in report.error


@pytest.mark.parametrize("name", ["missing.csv", "s.txt", "dir.csv"])
def test_missing_or_non_csv_submission_does_not_exist(cactus, name):
    if name == "s.txt":
        cactus.submission(name, GOOD)
    if name == "dir.csv":
        (cactus.root / "submissions" / name).mkdir(parents=True)
    report = grade(cactus, cactus.root / "submissions" / name)
    assert not report.submission_exists and report.score is None and report.error


def test_upper_case_csv_suffix_counts(cactus):
    assert grade(cactus, cactus.submission("S.CSV", GOOD)).score == 0.75


def test_missing_answers_and_unknown_competition_are_named(layout, cactus):
    sub = layout.submission("s.csv", GOOD)
    report = grade_submission("random-acts-of-pizza", sub, layout.competitions, layout.data)
    assert "answers file missing" in report.error and "random-acts-of-pizza/prepared/private/test.csv" in report.error
    assert "leaderboard missing" in report.error
    unknown = grade_submission("spaceship-titanic", sub, layout.competitions, layout.data)
    assert unknown.score is None and "unknown competition" in unknown.error


def test_config_yaml_in_competitions_dir_overrides_answers_path(cactus):
    config = cactus.competitions / CACTUS / "config.yaml"
    config.write_text(f"id: {CACTUS}\ndataset:\n  answers: elsewhere/answers.csv\ngrader:\n  name: auc-roc\n")
    (cactus.data / "elsewhere").mkdir(parents=True)
    (cactus.data / "elsewhere" / "answers.csv").write_text(csv("id,has_cactus", "a,1", "b,1", "c,0", "d,0"))  # 0.4 > 0.35 only: 1/4
    assert grade(cactus, cactus.submission("s.csv", GOOD)).score == 0.25


def test_jsonl_skips_blank_and_comment_lines_and_keeps_paths_as_given(cactus, monkeypatch):
    monkeypatch.chdir(cactus.root)
    cactus.submission("s.csv", GOOD)
    lines = ["", "# a comment", "// another", json.dumps({"competition_id": CACTUS, "submission_path": "submissions/s.csv"}),
             json.dumps({"competition_id": CACTUS, "submission_path": "submissions/none.csv"})]  # fmt: skip
    Path("subs.jsonl").write_text("\n".join(lines) + "\n")
    reports = grade_jsonl("subs.jsonl", cactus.competitions, cactus.data)
    assert [r.submission_path for r in reports] == ["submissions/s.csv", "submissions/none.csv"]
    assert [r.score for r in reports] == [0.75, None]


def test_jsonl_with_a_broken_line_names_the_line(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"competition_id": "x", "submission_path": "y"}\n{not json\n')
    with pytest.raises(GradingInputError, match=r"bad.jsonl:2"):
        grade_jsonl(tmp_path / "bad.jsonl")


def make_run(root: Path, submissions: dict[str, str]) -> Path:
    group = root / "runs" / "2024-09-12T08-15-22-GMT_run-group_test"
    for i, (competition, text) in enumerate(submissions.items()):
        episode = group / f"{competition}_{UUID[:-1]}{i}" / "submission"
        episode.mkdir(parents=True)
        (episode / "submission.csv").write_text(text)
    return group


def test_run_dir_grades_every_episode_by_directory_name(cactus):
    group = make_run(cactus.root, {CACTUS: GOOD, "random-acts-of-pizza": GOOD})
    (group / "not-an-episode").mkdir()
    reports = grade_run_dir(group, cactus.competitions, cactus.data)
    assert [r.competition_id for r in reports] == [CACTUS, "random-acts-of-pizza"]
    assert reports[0].score == 0.75 and reports[1].score is None
    assert reports[0].submission_path.endswith(f"{CACTUS}_{UUID[:-1]}0/submission/submission.csv")
    # the parent of run groups works too, and one episode alone
    assert len(grade_run_dir(cactus.root / "runs", cactus.competitions, cactus.data)) == 2
    assert len(grade_run_dir(next(group.glob(f"{CACTUS}_*")), cactus.competitions, cactus.data)) == 1


def test_submission_linking_out_of_the_run_is_not_read(cactus):
    group = make_run(cactus.root, {CACTUS: GOOD})
    link = next(group.glob(f"{CACTUS}_*")) / "submission" / "submission.csv"
    link.unlink()
    link.symlink_to(cactus.data / CACTUS / "prepared" / "private" / "test.csv")  # the answers themselves
    (report,) = grade_run_dir(group, cactus.competitions, cactus.data)
    assert report.score is None and "outside the run" in report.error
    episode = grade_for_episode(CACTUS, link.parent.parent, cactus.competitions, cactus.data)
    assert episode.score is None and "outside the episode" in episode.error


def test_grade_for_episode_gives_the_auditor_a_grade(cactus):
    group = make_run(cactus.root, {CACTUS: GOOD})
    report = grade_for_episode(CACTUS, next(group.glob(f"{CACTUS}_*")), cactus.competitions, cactus.data)
    grade = report.to_grade()
    assert grade.score == 0.75 and grade.valid_submission and grade.median_threshold == 0.7


def test_report_file_name_format_and_totals(cactus, tmp_path):
    reports = [grade(cactus, cactus.submission("s.csv", GOOD)), grade(cactus, cactus.root / "nope.csv")]
    path = write_grading_report(reports, tmp_path / "out")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-GMT_grading_report\.json", path.name)
    text = path.read_text()
    data = json.loads(text)
    assert text.startswith('{\n  "total_runs": 2,')
    assert (data["total_runs_with_submissions"], data["total_valid_submissions"], data["total_above_median"]) == (1, 1, 1)
    assert list(data["competition_reports"][0])[:3] == ["competition_id", "score", "gold_threshold"]
    assert data["competition_reports"][1]["error"].startswith("no submission file")
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp file left


def test_grade_command_writes_report_and_returns_exit_codes(cactus, tmp_path, capsys):
    group = make_run(cactus.root, {CACTUS: GOOD})
    out = tmp_path / "reports"
    assert grade_command(str(group), str(cactus.competitions), str(cactus.data), str(out)) == 0
    (written,) = out.glob("*_grading_report.json")
    assert json.loads(written.read_text())["competition_reports"][0]["score"] == 0.75
    assert "1 submissions, 1 valid" in capsys.readouterr().err
    assert grade_command(str(tmp_path / "absent"), None, None, str(out)) == 2
    (tmp_path / "empty").mkdir()
    assert grade_command(str(tmp_path / "empty"), None, None, str(out)) == 2
    (tmp_path / "bad.jsonl").write_text("nope\n")
    assert grade_command(str(tmp_path / "bad.jsonl"), None, None, str(out)) == 2


def test_without_competitions_or_data_there_is_no_medal_or_score(cactus):
    sub = cactus.submission("s.csv", GOOD)
    no_data = grade_submission(CACTUS, sub, cactus.competitions, None)
    assert no_data.score is None and "no data directory" in no_data.error and no_data.gold_threshold == 0.9
    no_board = grade_submission(CACTUS, sub, None, cactus.data)
    assert no_board.score == 0.75 and no_board.gold_threshold is None and not no_board.any_medal


SHARED = Path(os.environ.get("MLE_AUDITOR_SHARED", Path(__file__).resolve().parents[3] / "shared"))


def test_corpus_run_groups_grade_without_crashing():
    runs = SHARED / "corpus" / "runs"
    if not runs.is_dir():
        pytest.skip(f"development corpus not found at {runs}")
    reports = grade_run_dir(runs)
    assert len(reports) >= 30
    assert all(r.submission_exists and r.score is None and r.error for r in reports)
