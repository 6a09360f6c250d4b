"""Talking to the endpoint over real HTTP: retries, timeouts, malformed answers, failure."""

from __future__ import annotations

import time

import pytest
from llm_fakes import FakeOpenAI, Fail, Hang, Reply, answer, quoting, ready_monitor, scripted, write_episode

from monitors.llm import LLMEpisodeError

LOG = "\n".join(["$ pip install lightgbm"] + [f"iter {i} auc 0.7{i % 10}" for i in range(30)]
                + ["$ curl https://api.anthropic.com/v1/messages -H 'x-api-key: sk-ant-xxx' -d @prompt.json"])
QUOTE = "curl https://api.anthropic.com/v1/messages"
FLAGGING = quoting("external-llm-call", QUOTE)


def episode(tmp_path):
    return write_episode(tmp_path, {"logs/agent.log": LOG})


@pytest.mark.parametrize("failure", [
    Fail(429, "rate limited", {"retry-after": "0"}),
    Fail(500, "internal error"),
    Fail(503, "overloaded"),
    Hang(1.5),
], ids=["429", "500", "503", "timeout"])
def test_transient_failures_are_retried(tmp_path, failure):
    ep = episode(tmp_path)
    with FakeOpenAI(scripted(failure, failure, then=FLAGGING)) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, [ep], llm_timeout=0.5)
        flags = monitor.check(ep, ctx)
        assert srv.count == 3
    assert [f.rule for f in flags] == ["external-llm-call"]
    assert monitor.finish(ctx)["requests"] == 3


def test_retry_after_is_honoured(tmp_path):
    ep = episode(tmp_path)
    with FakeOpenAI(scripted(Fail(429, headers={"retry-after": "0.4"}), then=FLAGGING)) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, [ep], llm_max_backoff=2.0)
        started = time.monotonic()
        assert monitor.check(ep, ctx)
        assert time.monotonic() - started >= 0.4


def test_slow_answer_within_the_timeout_is_waited_for(tmp_path):
    ep = episode(tmp_path)

    def slow(body, n):
        step = FLAGGING(body, n)
        step.delay = 0.6
        return step

    with FakeOpenAI(slow) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, [ep], llm_timeout=3.0)
        assert [f.rule for f in monitor.check(ep, ctx)] == ["external-llm-call"]
        assert srv.count == 1


def test_malformed_json_is_asked_again(tmp_path):
    ep = episode(tmp_path)
    with FakeOpenAI(scripted(Reply('{"answers": [{"rule": "external-llm-call", "violated": tru'), then=FLAGGING)) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, [ep])
        assert [f.rule for f in monitor.check(ep, ctx)] == ["external-llm-call"]
        assert srv.count == 2


@pytest.mark.parametrize("content", [
    "The final answer is no.",
    '{"answers": [{"rule": "external-llm-call", "violated": "maybe"}]}',
    "",
], ids=["prose", "wrong-schema", "empty"])
def test_answers_that_never_parse_are_an_episode_error(tmp_path, content):
    ep = episode(tmp_path)
    with FakeOpenAI(lambda b, n: Reply(content)) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, [ep])
        with pytest.raises(LLMEpisodeError, match="did not match the schema") as err:
            monitor.check(ep, ctx)
        assert srv.count == 2  # asked once more, then given up
    assert err.value.flags == []
    assert monitor.finish(ctx)["completion_tokens"] > 0 or content == ""


def test_fenced_json_from_a_lenient_server_is_accepted(tmp_path):
    ep = episode(tmp_path)

    def fenced(body, n):
        return Reply("```json\n" + FLAGGING(body, n).content + "\n```")

    with FakeOpenAI(fenced) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, [ep])
        assert monitor.check(ep, ctx)


def test_endpoint_that_keeps_failing_gives_a_clear_episode_error(tmp_path):
    ep = episode(tmp_path)
    with FakeOpenAI(lambda b, n: Fail(503, "overloaded")) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, [ep], llm_retries=3)
        with pytest.raises(LLMEpisodeError) as err:
            monitor.check(ep, ctx)
        assert srv.count == 4
    message = str(err.value)
    assert "1 of 1 requests" in message and "failed 4 attempts" in message and "HTTP 503" in message
    assert srv.base_url.split("//")[1] in message


def test_bad_key_fails_at_once_and_stops_later_episodes(tmp_path):
    first, second = episode(tmp_path / "a"), episode(tmp_path / "b")
    with FakeOpenAI(lambda b, n: Fail(401, "invalid api key")) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, [first, second])
        with pytest.raises(LLMEpisodeError, match="HTTP 401"):
            monitor.check(first, ctx)
        with pytest.raises(LLMEpisodeError, match="invalid api key"):
            monitor.check(second, ctx)
        assert srv.count == 1


def test_unreachable_endpoint_is_an_episode_error_not_a_crash(tmp_path):
    ep = episode(tmp_path)
    with FakeOpenAI(FLAGGING) as srv:
        url = srv.base_url
    monitor, ctx = ready_monitor(url, tmp_path, [ep], llm_retries=1)
    with pytest.raises(LLMEpisodeError, match="connection failed"):
        monitor.check(ep, ctx)


def test_server_without_json_schema_gets_json_object(tmp_path):
    ep = episode(tmp_path)

    def old_server(body, n):
        if body["response_format"]["type"] == "json_schema":
            return Fail(400, "response_format json_schema is not supported")
        return FLAGGING(body, n)

    with FakeOpenAI(old_server) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, [ep])
        assert [f.rule for f in monitor.check(ep, ctx)] == ["external-llm-call"]
        assert srv.bodies[-1]["response_format"] == {"type": "json_object"}
        assert '"violated"' in srv.bodies[-1]["messages"][0]["content"]  # the schema travels in the prompt


def test_requests_in_flight_never_exceed_the_concurrency_limit(tmp_path):
    def long_log(k: int) -> str:  # distinct per episode: identical windows would be answered from the cache
        return "\n".join(f"$ curl https://example.org/data/ep{k}/part{i}.csv -o part{i}.csv  # fetch shard {i} " + "x" * 200
                         for i in range(400))
    episodes = [write_episode(tmp_path / str(k), {"logs/agent.log": long_log(k)}) for k in range(3)]

    def slow(body, n):
        return Reply(answer(body), delay=0.25)

    with FakeOpenAI(slow) as srv:
        monitor, ctx = ready_monitor(srv.base_url, tmp_path, episodes, llm_concurrency=2,
                                     llm_request_chars=4000, llm_min_chars=16000, llm_budget=100_000)
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(3) as pool:  # as the pipeline's --workers would
            list(pool.map(lambda e: monitor.check(e, ctx), episodes))
        assert srv.count >= 9
        assert srv.max_in_flight == 2
