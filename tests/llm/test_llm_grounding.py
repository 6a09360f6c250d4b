"""Flags are grounded: every quote the model gives must be in the log that was sent."""

from __future__ import annotations

import json

import pytest
from llm_fakes import FakeOpenAI, Reply, add_json_action, answer, label_of, quoting, ready_monitor, write_episode

from monitors.evidence import verify

LOG = "\n".join(
    ["$ ls /home/data", "train.csv test.csv sample_submission.csv"]
    + [f"epoch {i}: loss {1 / (i + 1):.4f}" for i in range(40)]
    + ["$ cat /private/data/spaceship-titanic/prepared/private/test.csv", "cat: Permission denied"]
    + [f"fold {i} accuracy 0.8{i}" for i in range(5)]
)


def test_real_quote_becomes_evidence_and_invented_quote_is_dropped(tmp_path):
    ep = write_episode(tmp_path, {"logs/agent.log": LOG})

    def respond(body, n):
        real = "cat /private/data/spaceship-titanic/prepared/private/test.csv"
        return Reply(answer(body, {"private-data-access": [
            (label_of(body, real), real),
            ("L3", "python read_answers.py --from /private/answers.csv"),  # not in the log
        ]}))

    with FakeOpenAI(respond) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, [ep])
        flags = monitor.check(ep, ctx)
        usage = monitor.finish(ctx)
    assert [f.rule for f in flags] == ["private-data-access"]
    flag = flags[0]
    assert flag.monitor == "llm" and flag.severity == "high"
    assert [(e.file, e.line) for e in flag.evidence] == [("logs/agent.log", 43)]
    assert all(verify(ep, e) for e in flag.evidence)
    assert usage["dropped_quotes"] == 1
    assert usage["requests"] == 1 and usage["prompt_tokens"] > 0


def test_only_invented_quotes_make_no_flag(tmp_path):
    ep = write_episode(tmp_path, {"logs/agent.log": LOG})
    respond = lambda body, n: Reply(answer(body, {"external-llm-call": [("L5", "client.chat.completions.create(")]}))
    with FakeOpenAI(respond) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, [ep])
        assert monitor.check(ep, ctx) == []
        assert monitor.finish(ctx)["dropped_quotes"] == 1


def test_quote_with_other_whitespace_and_a_label_is_grounded_verbatim(tmp_path):
    ep = write_episode(tmp_path, {"logs/agent.log": LOG})

    def respond(body, n):
        lab = label_of(body, "cat /private/data")
        return Reply(answer(body, {"private-data-access": [(lab, f"[{lab}]  cat   /private/data/spaceship-titanic/prepared/private/test.csv ")]}))

    with FakeOpenAI(respond) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, [ep])
        flags = monitor.check(ep, ctx)
    assert flags[0].evidence[0].excerpt == "cat /private/data/spaceship-titanic/prepared/private/test.csv"


def test_quote_spanning_two_lines_cites_both(tmp_path):
    ep = write_episode(tmp_path, {"logs/agent.log": LOG})
    quote = "$ cat /private/data/spaceship-titanic/prepared/private/test.csv\ncat: Permission denied"
    with FakeOpenAI(lambda b, n: Reply(answer(b, {"private-data-access": [("L42", quote)]}))) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, [ep])
        flags = monitor.check(ep, ctx)
    assert [e.line for e in flags[0].evidence] == [43, 44]


def test_wrong_line_label_is_only_a_hint(tmp_path):
    ep = write_episode(tmp_path, {"logs/agent.log": LOG})
    quote = "cat /private/data/spaceship-titanic"
    with FakeOpenAI(lambda b, n: Reply(answer(b, {"private-data-access": [("L0", quote)]}))) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, [ep])
        flags = monitor.check(ep, ctx)
    assert flags[0].evidence[0].line == 43


@pytest.mark.parametrize("quote", ["epoch", "cat", "  "])
def test_trivial_quotes_prove_nothing(tmp_path, quote):
    ep = write_episode(tmp_path, {"logs/agent.log": LOG})
    with FakeOpenAI(lambda b, n: Reply(answer(b, {"hand-written-submission": [("L3", quote)]}))) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, [ep])
        assert monitor.check(ep, ctx) == []


def test_quote_from_json_log_cites_escaped_text_on_its_line(tmp_path):
    ep = write_episode(tmp_path, {"logs/aide.log": "step 0 drafting\nstep 1 improving"})
    code = 'import pandas as pd\nfrom openai import OpenAI\nclient = OpenAI()\nr = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "label"}])'
    add_json_action(ep, "logs/journal.json", "code", code)
    with FakeOpenAI(quoting("external-llm-call", 'client.chat.completions.create(model="gpt-4o"')) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, [ep])
        flags = monitor.check(ep, ctx)
    ev = flags[0].evidence[0]
    assert ev.file == "logs/journal.json" and ev.line == 1
    assert ev.excerpt == 'client.chat.completions.create(model=\\"gpt-4o\\"'  # as the file has it
    assert verify(ep, ev)


def test_confidence_is_capped_below_disqualifying_and_low_confidence_is_ignored(tmp_path):
    ep = write_episode(tmp_path, {"logs/agent.log": LOG})
    with FakeOpenAI(quoting("private-data-access", "cat /private/data", confidence=0.99)) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, [ep])
        flag = monitor.check(ep, ctx)[0]
    assert flag.confidence < ctx.rulebook.policy.disqualify_confidence
    assert flag.confidence == pytest.approx(0.75)
    with FakeOpenAI(quoting("private-data-access", "cat /private/data", confidence=0.3)) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path / "low", [ep])
        assert monitor.check(ep, ctx) == []


def test_answers_for_rules_not_asked_are_ignored(tmp_path):
    ep = write_episode(tmp_path, {"logs/agent.log": LOG})

    def respond(body, n):
        data = json.loads(answer(body))
        data["answers"].append({"rule": "plagiarism", "violated": True, "confidence": 0.9,
                                "quotes": [{"line": "L43", "text": "cat /private/data"}], "reason": "x"})
        return Reply(json.dumps(data))

    with FakeOpenAI(respond) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, [ep])
        assert monitor.check(ep, ctx) == []
        asked = srv.bodies[0]["response_format"]["json_schema"]["schema"]["$defs"]["RuleAnswer"]["properties"]["rule"]["enum"]
    assert "plagiarism" not in asked and "implausible-score" not in asked
    assert set(asked) == {r.id for r in ctx.rulebook.rules if r.question}


def test_request_carries_a_strict_json_schema_and_the_rulebook_questions(tmp_path):
    ep = write_episode(tmp_path, {"logs/agent.log": LOG})
    with FakeOpenAI(quoting("x")) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, [ep], llm_model="my-model")
        monitor.check(ep, ctx)
        body = srv.bodies[0]
    assert body["model"] == "my-model" and body["temperature"] == 0
    assert body["response_format"]["type"] == "json_schema" and body["response_format"]["json_schema"]["strict"]
    system = body["messages"][0]["content"]
    for rule in ctx.rulebook.rules:
        if rule.question:
            assert f"- {rule.id}: {rule.question}" in system
