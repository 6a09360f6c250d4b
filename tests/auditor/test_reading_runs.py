"""Reading runs: identity, seeds, grades, and bad input (issue 2, points 2-4)."""

import json
from pathlib import Path

from auditor.reading import read_run
from tests.conftest import EXAMPLE_RUN, need_shared


def test_corpus_episodes_have_identity_seeds_and_grades():
    corpus = need_shared()
    labels = json.loads((corpus / "labels.json").read_text())
    episodes = read_run(corpus / "runs")
    keys = {f"{e.run_group}/{e.episode_id}" for e in episodes}
    expected = {k for k in labels if "run-group_broken" not in k}
    assert keys == expected
    for e in episodes:
        assert e.competition_id == e.episode_id.rsplit("_", 1)[0]
        assert e.agent == e.run_group.split("_run-group_")[1]
        assert e.grade is not None, e.episode_id
        assert e.submission is not None and e.submission.rows > 0
        assert e.actions, f"{e.episode_id}: nothing read"
    # seeds: index among the group's episodes of one competition, each 0..n-1 once
    by_comp = {}
    for e in episodes:
        by_comp.setdefault((e.run_group, e.competition_id), []).append(e.seed)
    for seeds in by_comp.values():
        assert sorted(seeds) == list(range(len(seeds)))
    assert any(len(s) > 1 for s in by_comp.values())


def test_grade_joined_by_submission_path_and_cited_line():
    corpus = need_shared()
    episodes = read_run(corpus / "runs")
    for e in episodes:
        group = corpus / "runs" / e.run_group
        report = json.loads(next(group.glob("*grading_report*.json")).read_text())
        entry = next(r for r in report["competition_reports"] if e.episode_id in r["submission_path"])
        assert e.grade.score == entry["score"]
        assert e.grade.gold_medal == entry["gold_medal"]
        file, line = e.grade_source.rsplit(":", 1)
        text = (Path(e.root) / file).read_text().split("\n")[int(line) - 1]
        assert text.strip().startswith('"score"')
        assert str(entry["score"]).lower() in text.lower() or entry["score"] is None


def test_bad_input_is_read_without_a_crash_and_every_defect_is_named():
    corpus = need_shared()
    group = next((corpus / "bad-input").iterdir())
    episodes = read_run(group)
    by_comp = {e.competition_id: e for e in episodes}
    assert len(episodes) >= 4
    for e in episodes:
        assert any("metadata.json" in err for err in e.errors)  # the group's metadata is a Python repr
    assert any("not valid UTF-8" in err for err in by_comp["random-acts-of-pizza"].errors)
    assert any("no submission" in err for err in by_comp["leaf-classification"].errors)
    truncated = by_comp["spaceship-titanic"]
    assert any("journal.json" in err and "JSON" in err for err in truncated.errors) or truncated.actions
    # the one-line 20 MiB log is streamed (in pieces), neither refused nor held in memory
    jigsaw = by_comp["jigsaw-toxic-comment-classification-challenge"]
    assert "logs/agent.log" in jigsaw.streamed
    assert not any(a.source.file == "logs/agent.log" for a in jigsaw.actions)
    assert any(a.source.file == "logs/agent.log" for a in jigsaw.iter_actions())


def test_one_episode_directory_and_directory_of_groups(tmp_path):
    one = next(p for p in EXAMPLE_RUN.iterdir() if p.is_dir())
    (episode,) = read_run(one)
    assert episode.episode_id == one.name
    assert episode.run_group == "run-123"  # identity from the name of the group it sits in
    assert episode.grade is None  # the group's report is beside PATH, and nothing outside PATH is opened
    assert not episode.errors
    assert {e.episode_id for e in read_run(EXAMPLE_RUN.parent)} == {
        p.name for p in EXAMPLE_RUN.iterdir() if p.is_dir()
    }


def test_episode_listed_in_metadata_but_missing(tmp_path):
    group = tmp_path / "2024-01-01T00-00-00-GMT_run-group_x"
    ep = group / "spaceship-titanic_11111111-2222-4333-8444-555555555555"
    (ep / "submission").mkdir(parents=True)
    (ep / "submission" / "submission.csv").write_text("a,b\n1,2\n")
    missing = "leaf-classification_11111111-2222-4333-8444-666666666666"
    (group / "metadata.json").write_text(json.dumps({"runs": {ep.name: {}, missing: {}}}))
    episodes = {e.episode_id: e for e in read_run(group)}
    assert episodes[ep.name].agent == "x"
    assert any("directory is missing" in err for err in episodes[missing].errors)


def test_not_a_run_at_all(tmp_path):
    import pytest

    from auditor.reading import RunNotReadable

    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(RunNotReadable):
        read_run(tmp_path)


def test_every_plain_text_line_cites_back_to_its_file_line():
    from monitors.evidence import cite

    corpus = need_shared()
    checked = 0
    for e in read_run(corpus / "runs" / "2024-09-14T11-02-07-GMT_run-group_opendevin"):
        for a in e.iter_actions():
            if a.kind.value != "text":
                continue
            for i, line in enumerate(a.text.split("\n")):
                ev = cite(e, a, i)
                assert ev is not None, (a.source, i, line)
                raw = (Path(e.root) / ev.file).read_text(errors="replace").split("\n")[ev.line - 1]
                assert ev.excerpt in raw
                checked += 1
    assert checked > 1000


def test_run_log_container_lines_lose_their_prefix_and_keep_their_writer(tmp_path):
    from auditor.models import Actor

    ep = tmp_path / "g" / "spaceship-titanic_11111111-2222-4333-8444-555555555555"
    ep.mkdir(parents=True)
    (ep / "run.log").write_text(
        "[2024-09-12 08:16:52,190] [run_agent.py:52] Running seed 0\n"
        "[2024-09-12 08:17:00,330] [run.py:63] [Container] + cat /home/data/description.md\n"
        "continued output of the same chunk\n"
        "[2024-09-12 08:18:00,000] [run.py:70] Agent finished\n"
    )
    (episode,) = read_run(tmp_path / "g")
    lines = [(a.actor, line) for a in episode.iter_actions() for line in a.text.split("\n")]
    assert (Actor.environment, "+ cat /home/data/description.md") in lines
    assert (Actor.environment, "continued output of the same chunk") in lines
    assert lines[0][0] == Actor.harness and lines[-1][0] == Actor.harness
