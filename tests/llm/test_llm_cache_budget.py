"""Cost: a re-audit sends nothing; the per-episode token budget holds; usage is reported."""

from __future__ import annotations

import pytest
from llm_fakes import FakeOpenAI, Reply, answer, quoting, ready_monitor, write_episode

LOG = "\n".join(
    [f"step {i}: $ python train.py --fold {i} && cp preds_{i}.csv /home/submission/submission.csv" for i in range(300)]
    + ["$ wget https://mirror.example.org/cactus/train_full.zip"]
)
FLAGGING = quoting("external-data", "wget https://mirror.example.org/cactus/train_full.zip")


def test_second_audit_of_the_same_run_sends_nothing(tmp_path):
    ep = write_episode(tmp_path, {"logs/agent.log": LOG})
    with FakeOpenAI(FLAGGING) as srv:
        first, ctx1 = ready_monitor(srv.base_url, tmp_path, [ep])
        flags1 = first.check(ep, ctx1)
        sent = srv.count
        second, ctx2 = ready_monitor(srv.base_url, tmp_path, [ep])  # a new audit, same cache dir
        flags2 = second.check(ep, ctx2)
        assert srv.count == sent
    usage = second.finish(ctx2)
    assert sent >= 1 and flags1 and flags1 == flags2
    assert usage["requests"] == 0 and usage["cached"] == sent and usage["prompt_tokens"] == 0


def test_cache_key_changes_with_the_model_and_the_log(tmp_path):
    ep = write_episode(tmp_path / "a", {"logs/agent.log": LOG})
    other = write_episode(tmp_path / "b", {"logs/agent.log": LOG.replace("fold", "seed")})
    with FakeOpenAI(FLAGGING) as srv:
        m, ctx = ready_monitor(srv.base_url, tmp_path, [ep])
        m.check(ep, ctx)
        n = srv.count
        m2, ctx2 = ready_monitor(srv.base_url, tmp_path, [ep], llm_model="gpt-4o-mini")
        m2.check(ep, ctx2)
        assert srv.count == 2 * n
        m.check(other, ctx)
        assert srv.count > 2 * n


def test_cache_can_be_turned_off_and_survives_a_corrupt_entry(tmp_path):
    ep = write_episode(tmp_path, {"logs/agent.log": LOG})
    with FakeOpenAI(FLAGGING) as srv:
        m, ctx = ready_monitor(srv.base_url, tmp_path, [ep], llm_cache=False)
        m.check(ep, ctx)
        m.check(ep, ctx)
        assert srv.count == 2
        assert not (tmp_path / "llm-cache").exists()
        m, ctx = ready_monitor(srv.base_url, tmp_path, [ep])
        m.check(ep, ctx)
        for entry in (tmp_path / "llm-cache").rglob("*.json"):
            entry.write_text("{not json")
        m, ctx = ready_monitor(srv.base_url, tmp_path, [ep])
        assert m.check(ep, ctx)
        assert srv.count == 4


def test_budget_caps_the_tokens_of_an_episode(tmp_path):
    big = "\n".join(f"$ curl -s https://example.org/api/v{i}/items?page={i} | jq . > items_{i}.json " + "y" * 150
                    for i in range(2000))
    ep = write_episode(tmp_path, {"logs/agent.log": big})
    with FakeOpenAI(lambda b, n: Reply(answer(b))) as srv:
        m, ctx = ready_monitor(srv.base_url, tmp_path, [ep], llm_budget=6000, llm_request_chars=4000,
                               llm_concurrency=1)
        m.check(ep, ctx)
        usage = m.finish(ctx)
    assert srv.count >= 1
    assert usage["prompt_tokens"] + usage["completion_tokens"] <= 6000
    sent_chars = sum(len(msg["content"]) for body in srv.bodies for msg in body["messages"])
    assert sent_chars < len(big) / 20


def test_budget_learns_from_usage_that_counts_more_than_the_estimate(tmp_path):
    big = "\n".join(f"$ wget https://example.org/shard{i}.parquet " + "z" * 200 for i in range(3000))
    ep = write_episode(tmp_path, {"logs/agent.log": big})
    # the server's tokenizer counts three times what chars/4 estimates
    inflated = lambda b, n: Reply(answer(b), prompt_tokens=3 * sum(len(m["content"]) for m in b["messages"]) // 4)
    with FakeOpenAI(inflated) as srv:
        m, ctx = ready_monitor(srv.base_url, tmp_path, [ep], llm_budget=30_000, llm_request_chars=6000,
                               llm_concurrency=1, llm_log_share=0.5)
        m.check(ep, ctx)
        usage = m.finish(ctx)
    assert 1 <= srv.count
    spent = usage["prompt_tokens"] + usage["completion_tokens"]
    first = srv.bodies[0]
    one_request = 3 * sum(len(msg["content"]) for msg in first["messages"]) // 4
    assert spent <= 30_000 + one_request  # at most the first, uncalibrated request overshoots
    assert srv.count <= 5  # with usage as estimated, the same budget sends 11 requests


def test_usage_and_cost_are_reported_per_run(tmp_path):
    eps = [write_episode(tmp_path / str(i), {"logs/agent.log": f"run {i}\n{LOG}"}) for i in range(2)]
    with FakeOpenAI(lambda b, n: Reply(answer(b), prompt_tokens=1000, completion_tokens=100)) as srv:
        m, ctx = ready_monitor(srv.base_url, tmp_path, eps)
        for e in eps:
            m.check(e, ctx)
        usage = m.finish(ctx)
    assert usage["model"] == "gpt-4o"
    assert usage["requests"] == srv.count == 2
    assert usage["prompt_tokens"] == 2000 and usage["completion_tokens"] == 200
    assert usage["estimated_cost_usd"] == pytest.approx(2000 * 2.5e-6 + 200 * 10e-6)
    from auditor.models import LLMUsage
    LLMUsage.model_validate(usage)


def test_local_models_cost_nothing_unless_priced(tmp_path):
    ep = write_episode(tmp_path, {"logs/agent.log": LOG})
    with FakeOpenAI(lambda b, n: Reply(answer(b), prompt_tokens=1000, completion_tokens=0)) as srv:
        m, ctx = ready_monitor(srv.base_url, tmp_path, [ep], llm_model="llama3.1:8b")
        m.check(ep, ctx)
        assert m.finish(ctx)["estimated_cost_usd"] == 0
        m, ctx = ready_monitor(srv.base_url, tmp_path / "p", [ep], llm_model="llama3.1:8b", llm_price_in=1.0)
        m.check(ep, ctx)
        assert m.finish(ctx)["estimated_cost_usd"] == pytest.approx(0.001)
