"""The format readers on the development corpus (issue 2, point 7): every episode is
read, and for each format the actions found are checked against what is really in
the files (kinds, counts), and every action can be cited back to its file line."""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

from auditor.models import ActionKind, Actor, Episode
from auditor.reading import read_run
from monitors.evidence import cite, verify
from tests.conftest import need_shared


@lru_cache(maxsize=1)
def corpus_episodes() -> tuple[Episode, ...]:
    corpus = need_shared()
    return tuple(read_run(corpus / "runs")) + tuple(read_run(corpus / "bad-input"))


@pytest.fixture(scope="module")
def episodes() -> tuple[Episode, ...]:
    return corpus_episodes()


def actions_from(e: Episode, rel: str, kind: ActionKind | None = None, actor: Actor | None = None):
    return [a for a in e.actions if a.source.file == rel and (kind is None or a.kind == kind) and (actor is None or a.actor == actor)]


def files_named(e: Episode, pattern: str) -> list[str]:
    return [rel for rel in e.files if re.search(pattern, rel)]


def raw(e: Episode, rel: str) -> str:
    return (Path(e.root) / rel).read_text(encoding="utf-8", errors="replace")


def test_every_episode_is_read_without_a_reader_failure(episodes):
    corpus = need_shared()
    on_disk = {p.name for group in ("runs", "bad-input") for p in (corpus / group).glob("*/*_*-*-*-*-*") if p.is_dir()}
    assert {e.episode_id for e in episodes} >= on_disk and len(on_disk) >= 39
    for e in episodes:
        assert not [err for err in e.errors if "reader failed" in err], e.episode_id
    formats = Counter(f for e in episodes for f in e.formats)
    for name in ("aide", "aide-log", "openhands", "openhands-log", "mlagentbench", "mlagentbench-log", "inspect"):
        assert formats[name] > 0, name


def test_every_action_cites_its_first_middle_and_last_line(episodes):
    checked = 0
    for e in episodes:
        for a in e.actions:
            lines = a.text.split("\n")
            for i in {0, len(lines) // 2, len(lines) - 1}:
                if not lines[i].strip():
                    continue
                ev = cite(e, a, i)
                assert ev is not None and verify(e, ev), (e.episode_id, a.source, i, lines[i][:120])
                checked += 1
    assert checked > 5000


def test_aide_journal_nodes_become_code_plan_and_output(episodes):
    journals = 0
    for e in episodes:
        for rel in files_named(e, r"(^|/)(filtered_)?journal\.json$"):
            text = raw(e, rel)
            try:
                nodes = json.loads(text)["nodes"]
            except ValueError:  # the truncated journal: every node that opens before the cut
                nodes = [None] * text.count('{"code":')
            code = actions_from(e, rel, ActionKind.python, Actor.agent)
            assert len(code) == len(nodes), rel
            assert [a.source.json_path for a in code] == [f"nodes[{i}].code" for i in range(len(nodes))]
            if nodes and nodes[0] is not None:
                assert [a.step for a in code] == [int(n["step"]) for n in nodes]
                assert len(actions_from(e, rel, ActionKind.message, Actor.agent)) == sum(1 for n in nodes if n.get("plan"))
                outputs = actions_from(e, rel, ActionKind.output, Actor.environment)
                assert "".join(a.text for a in outputs) == "".join("".join(n["_term_out"]) for n in nodes)
            journals += 1
    assert journals == 28


def test_aide_truncated_journal_keeps_the_readable_nodes_and_the_cut_code(episodes):
    e = next(e for e in episodes if e.episode_id.startswith("spaceship-titanic_7eb9b651"))
    code = actions_from(e, "logs/journal.json", ActionKind.python)
    assert any("from openai import OpenAI" in a.text for a in code)
    assert code[-1].text.endswith('df.groupby("Group")["Passen')  # the string cut off mid-way is kept
    assert any("journal cut off" in err and "node(s) read" in err for err in e.errors)


def test_aide_verbose_log_calls_are_the_scaffolds(episodes):
    logs = 0
    for e in episodes:
        for rel in files_named(e, r"aide\.verbose\.log$"):
            queries = raw(e, rel).count("---Querying model---")
            llm = actions_from(e, rel, ActionKind.llm)
            assert {a.meta["query"] for a in llm} == set(range(1, queries + 1))
            assert all(a.actor == Actor.scaffold for a in actions_from(e, rel))
            assert {a.meta["role"] for a in llm} >= {"system", "response"}
            logs += 1
    assert logs == 13


def test_openhands_trajectory_events_match_the_actions(episodes):
    trajectories = 0
    for e in episodes:
        for rel in files_named(e, r"logs/(trajectory\.json|trajectories/.+\.json)$"):
            events = json.loads(raw(e, rel))
            by_action = Counter(ev.get("action") for ev in events)
            assert len(actions_from(e, rel, ActionKind.shell, Actor.agent)) == by_action["run"]
            assert len(actions_from(e, rel, ActionKind.python, Actor.agent)) == by_action["run_ipython"]
            assert len(actions_from(e, rel, ActionKind.http, Actor.agent)) == by_action["browse"] + by_action["browse_interactive"]
            outputs = actions_from(e, rel, ActionKind.output)
            assert len(outputs) == sum(1 for ev in events if ev.get("observation") and ev.get("content", "").strip())
            for a in actions_from(e, rel, ActionKind.shell):
                assert events[int(a.source.json_path.split("]")[0][1:])]["args"]["command"] == a.text
            exit_codes = [a.meta.get("exit_code") for a in outputs if a.tool == "run"]
            assert exit_codes and all(isinstance(c, int) for c in exit_codes)
            trajectories += 1
    assert trajectories == 11


def test_openhands_agent_log_blocks_match_the_actions(episodes):
    logs = 0
    for e in episodes:
        for rel in files_named(e, r"logs/agent\.log$"):
            if "openhands-log" not in e.formats:
                continue
            text = raw(e, rel)
            actions = actions_from(e, rel)
            if not actions or all(a.kind == ActionKind.text for a in actions):
                continue  # the one-line 20 MiB log is plain text
            assert len(actions_from(e, rel, ActionKind.shell)) == len(re.findall(r"^\*\*CmdRunAction", text, re.M))
            assert len(actions_from(e, rel, ActionKind.python)) == len(re.findall(r"^\*\*IPythonRunCellAction", text, re.M))
            assert len(actions_from(e, rel, ActionKind.http)) == len(re.findall(r"^\*\*Browse\w*Action", text, re.M))
            with_output = re.findall(r"^\*\*\w+Observation[^\n]*\n(?!={5,}\n|(?:\x1b\[[0-9;]*m)?\d\d:\d\d:\d\d - )", text, re.M)
            assert len(actions_from(e, rel, ActionKind.output)) == len(with_output)
            assert all("\x1b" not in a.text for a in actions)
            logs += 1
    assert logs >= 11


def test_openhands_multiline_command_cites_each_of_its_lines(episodes):
    e = next(e for e in episodes if e.episode_id.startswith("nomad2018-predict-transparent-conductors_6d2dc8ed"))
    heredoc = next(a for a in actions_from(e, "logs/agent.log", ActionKind.shell) if "cat > /home/submission/submission.csv <<EOF" in a.text)
    file_lines = raw(e, "logs/agent.log").split("\n")
    for i, line in enumerate(heredoc.text.split("\n")):
        assert file_lines[heredoc.source.line - 1 + i].endswith(line)


def test_mlab_steps_and_tools_match_the_main_log(episodes):
    logs = 0
    for e in episodes:
        for rel in files_named(e, r"agent_log/main_log$"):
            text = raw(e, rel)
            steps = [int(s) for s in re.findall(r"^Step (\d+):\s*$", text, re.M)]
            actions = actions_from(e, rel)
            assert {a.step for a in actions if a.step is not None} == set(steps)
            tools = re.findall(r"^Action:\s+(.+?)\s*$", text, re.M)
            tools = [t for t in tools if t != "the action to take, should be one of the names of the tools"]
            assert len(actions_from(e, rel, ActionKind.shell)) == tools.count("Execute Script")
            assert len(actions_from(e, rel, ActionKind.file_write)) == sum(t.startswith("Edit Script") for t in tools)
            reads = sum(t in ("Understand File", "Inspect Script Lines", "List Files") for t in tools)
            assert len(actions_from(e, rel, ActionKind.file_read)) == reads
            scripts = re.findall(r'^Action:\s+Execute Script\s*\nAction Input:\s*\{\s*"script_name":\s*"([^"]+)"', text, re.M)
            assert [a.meta["command"] for a in actions_from(e, rel, ActionKind.shell)] == [f"python {s}" for s in scripts]
            assert len(actions_from(e, rel, ActionKind.llm, Actor.scaffold)) == 1  # the prompt before Step 0
            logs += 1
    assert logs == 7


def test_mlab_trace_and_step_logs(episodes):
    traces = 0
    for e in episodes:
        for rel in files_named(e, r"env_log/trace\.json$"):
            steps = json.loads(raw(e, rel))["steps"]
            agent = [a for a in actions_from(e, rel, actor=Actor.agent) if a.kind != ActionKind.message or "edit_instruction" in (a.source.json_path or "") or "final_answer" in (a.source.json_path or "")]
            assert sorted({a.step for a in agent}) == list(range(len(steps)))
            edits = sum(s["action"]["name"].startswith("Edit Script") for s in steps)
            assert len(actions_from(e, rel, ActionKind.file_write)) == edits
            traces += 1
        for rel in files_named(e, r"agent_log/step_\d+_log\.log$"):
            llm = actions_from(e, rel)
            assert llm and all(a.kind == ActionKind.llm and a.actor == Actor.scaffold for a in llm)
            assert {a.meta["role"] for a in llm} == {"prompt", "response"}
    assert traces == 2


def test_inspect_tool_events_with_cmd_and_command(episodes):
    seen_arg_names = set()
    logs = 0
    for e in episodes:
        for rel in files_named(e, r"logs/[^/]+_mle-bench_[^/]+\.json$"):
            sample = json.loads(raw(e, rel))["samples"][0]
            tools = [ev for ev in sample["events"] if ev["event"] == "tool"]
            bash = [ev for ev in tools if ev["function"] == "bash"]
            shell = actions_from(e, rel, ActionKind.shell, Actor.agent)
            assert len(shell) == len(bash)
            for ev, a in zip(bash, shell):
                name = "cmd" if "cmd" in ev["arguments"] else "command"
                seen_arg_names.add(name)
                expected = ev["arguments"][name]
                if expected.startswith("attachment://"):
                    expected = sample["attachments"][expected[len("attachment://"):]]
                assert a.text == expected
            assert len(actions_from(e, rel, ActionKind.python, Actor.agent)) == sum(ev["function"] == "python" for ev in tools)
            models = sum(ev["event"] == "model" for ev in sample["events"])
            assert len(actions_from(e, rel, ActionKind.llm, Actor.scaffold)) == models
            sandbox = sum(ev["event"] == "sandbox" for ev in sample["events"])
            assert len([a for a in e.actions if a.source.file == rel and (a.tool or "").startswith("sandbox.")]) == sandbox
            assert not any(a.text.startswith("attachment://") for a in actions_from(e, rel))
            logs += 1
    assert logs == 5
    assert seen_arg_names == {"cmd", "command"}


def test_violations_are_read_as_the_agents_own_actions(episodes):
    """A few labelled surface forms, each found in an agent action of the right kind."""
    def agent_text(prefix: str, kind: ActionKind) -> str:
        e = next(e for e in episodes if e.episode_id.startswith(prefix))
        return "\n".join(a.text for a in e.actions if a.actor == Actor.agent and a.kind == kind)

    assert "kaggle.com/code/jhoward" in agent_text("jigsaw-toxic-comment-classification-challenge_3adb0727", ActionKind.shell)
    assert "/private/data/" in agent_text("text-normalization-challenge-russian-language_9964300f", ActionKind.python)
    assert "discussion/24312" in agent_text("leaf-classification_3a7e8fba", ActionKind.http)
    assert "import google.generativeai" in agent_text("random-acts-of-pizza_5f6256e3", ActionKind.file_write)
    assert "api.anthropic.com" in agent_text("text-normalization-challenge-russian-language_ab3ed9d8", ActionKind.shell)
    assert "giver_username_if_known" in agent_text("random-acts-of-pizza_22b40656", ActionKind.python)
