"""reviews.jsonl: append-only decisions, concurrent reviewers, and `audit review` end to end."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from auditor.pipeline import AuditOptions, run_audit
from auditor.reviews import REVIEWS_FILE, ReviewError, ReviewRecord, append_review, load_reviews, read_records
from tests.report.report_fixtures import build_demo_run, cli

PER_WRITER = 150


def record(episode="e1", flag="f1", decision="confirmed", reviewer="alice", note="") -> ReviewRecord:
    return ReviewRecord(episode=episode, flag=flag, decision=decision, reviewer=reviewer, note=note, at="2024-01-01T00:00:00+00:00")


def test_latest_decision_wins_and_every_line_is_one_json_object(tmp_path):
    append_review(tmp_path, record(decision="confirmed", note="looks copied"))
    append_review(tmp_path, record(flag="f2", decision="dismissed"))
    append_review(tmp_path, record(decision="dismissed", reviewer="bob", note="multi\nline | note"))
    lines = (tmp_path / REVIEWS_FILE).read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 4
    assert [json.loads(x)["flag"] for x in lines[:-1]] == ["f1", "f2", "f1"]
    reviews = load_reviews(tmp_path)
    assert reviews[("e1", "f1")].decision == "dismissed"
    assert reviews[("e1", "f1")].reviewer == "bob" and reviews[("e1", "f1")].note == "multi\nline | note"
    assert reviews[("e1", "f2")].decision == "dismissed"


def test_a_torn_last_line_is_skipped_and_fenced_off(tmp_path):
    append_review(tmp_path, record(flag="f1"))
    with open(tmp_path / REVIEWS_FILE, "ab") as fh:
        fh.write(b'{"episode": "e1", "flag": "f9", "deci')  # a crash in the middle of a write
    assert set(load_reviews(tmp_path)) == {("e1", "f1")}
    append_review(tmp_path, record(flag="f2"))
    assert set(load_reviews(tmp_path)) == {("e1", "f1"), ("e1", "f2")}
    assert len(read_records(tmp_path)) == 2


def test_a_symlinked_reviews_file_is_never_followed(tmp_path):
    outside = tmp_path / "elsewhere.jsonl"
    outside.write_text("")
    run = tmp_path / "run"
    run.mkdir()
    (run / REVIEWS_FILE).symlink_to(outside)
    with pytest.raises(ReviewError, match="cannot open"):
        append_review(run, record())
    assert outside.read_text() == ""
    assert load_reviews(run) == {}  # an audit without decisions is stricter, never laxer


def _writer(run: str, who: str, start: multiprocessing.Event) -> None:
    start.wait()
    for i in range(PER_WRITER):
        append_review(run, record(episode=f"e{i}", flag=f"{who}-{i}", reviewer=who, note=who * 200))


def test_two_reviewers_writing_at_once_lose_nothing(tmp_path):
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), who, start)) for who in ("alice", "bob")]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    raw = (tmp_path / REVIEWS_FILE).read_bytes().split(b"\n")
    assert raw[-1] == b""
    parsed = [json.loads(line) for line in raw[:-1]]  # every line whole: no interleaving
    assert len(parsed) == 2 * PER_WRITER
    for who in ("alice", "bob"):
        mine = [p["flag"] for p in parsed if p["reviewer"] == who]
        assert mine == [f"{who}-{i}" for i in range(PER_WRITER)]  # each writer's order kept
    assert len(load_reviews(tmp_path)) == 2 * PER_WRITER


# --------------------------------------------------------------------------- `audit review` end to end


@pytest.fixture
def demo(tmp_path) -> tuple[Path, dict[str, str]]:
    run = tmp_path / "runs"
    return run, build_demo_run(run)


def flags_of(run: Path, episode: str) -> dict:
    """The episode as a fresh audit reports it (in-process: the commands are what run as processes)."""
    report = run_audit(str(run), AuditOptions(monitors=["planted"]))
    (target,) = [e for e in report.model_dump(mode="json")["episodes"] if e["episode_id"] == episode]
    return target


def test_review_is_applied_by_the_next_audit(demo):
    run, ids = demo
    before = flags_of(run, ids["leak"])
    assert before["verdict"] == "disqualified" and before["audited_medal"] == "none" and before["medal"] == "gold"
    (flag,) = [f for f in before["flags"] if f["monitor"] == "planted"]

    proc = cli("review", run, ids["leak"], flag["id"], "--dismiss", "--note", "the feature is allowed here", "--reviewer", "alice")
    assert proc.returncode == 0, proc.stderr
    assert "recorded" in proc.stderr and "episode disqualified -> clean" in proc.stderr
    after = flags_of(run, ids["leak"])
    (again,) = [f for f in after["flags"] if f["id"] == flag["id"]]  # same id on a re-audit
    assert again["review"]["decision"] == "dismissed" and again["review"]["reviewer"] == "alice"
    assert after["verdict"] == "clean" and after["audited_medal"] == "gold"

    # a reviewer may change their mind: the latest line wins, nothing is rewritten
    assert cli("review", run, ids["leak"], flag["id"], "--confirm", "--reviewer", "bob").returncode == 0
    final = flags_of(run, ids["leak"])
    assert final["verdict"] == "disqualified" and final["audited_medal"] == "none"
    assert len((run / REVIEWS_FILE).read_text().splitlines()) == 2


def test_confirming_a_medium_flag_disqualifies(demo):
    run, ids = demo
    before = flags_of(run, ids["hostile"])
    assert before["verdict"] == "needs-review"
    flag = before["flags"][0]["id"]
    assert cli("review", run, ids["hostile"], flag, "--confirm", "--reviewer", "carol").returncode == 0
    assert flags_of(run, ids["hostile"])["verdict"] == "disqualified"


def test_unknown_episode_or_flag_is_refused_with_exit_2(demo):
    run, ids = demo
    proc = cli("review", run, ids["leak"][:-4], "known-leak-exploit-00000000", "--confirm")
    assert proc.returncode == 2
    assert "unknown episode" in proc.stderr and ids["leak"] in proc.stderr  # suggests the close match
    proc = cli("review", run, ids["leak"], "known-leak-exploit-00000000", "--dismiss")
    assert proc.returncode == 2
    assert "unknown flag" in proc.stderr and "known-leak-exploit-" in proc.stderr
    proc = cli("review", run, ids["clean"], "anything", "--dismiss")
    assert proc.returncode == 2 and "no flags" in proc.stderr
    proc = cli("review", run, ids["leak"], "x", "--dismiss", "--confirm")
    assert proc.returncode == 2
    assert not (run / REVIEWS_FILE).exists()  # nothing recorded by a refused command


def test_review_of_a_missing_run_is_exit_2(tmp_path):
    proc = cli("review", tmp_path / "nope", "e", "f", "--confirm")
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_reviewer_defaults_to_the_user(demo):
    run, ids = demo
    flag = flags_of(run, ids["llm"])["flags"][0]["id"]
    env_user = os.environ.get("USER")
    proc = cli("review", run, ids["llm"], flag, "--confirm")
    assert proc.returncode == 0, proc.stderr
    (line,) = (run / REVIEWS_FILE).read_text().splitlines()
    assert json.loads(line)["reviewer"] == (env_user or "unknown")
    assert json.loads(line)["rule"] == "external-llm-call"
