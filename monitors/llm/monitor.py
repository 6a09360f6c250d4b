"""The LLM log monitor: the rulebook's questions, asked over windows of the log.

Flow for one episode: view the log as numbered lines → choose windows (around other
monitors' flags and cheap signals, plus an overview) within an allowance → one
request per batch of windows asking every question at once (structured output) →
ground every quote in the lines that were sent → a flag per violated rule whose
quotes were found. The monitor only adds flags; it never reads back or changes
another monitor's. Its confidence is capped below the rulebook's disqualifying
threshold: a flag that rests on a model's reading goes to a reviewer.
"""

from __future__ import annotations

import logging
import math
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from auditor.models import Episode, Evidence, Flag, LLMUsage
from monitors.base import AuditContext, Monitor, register
from monitors.llm.answers import Answers, RuleAnswer
from monitors.llm.cache import AnswerCache, default_cache_dir
from monitors.llm.endpoint import COMPLETION_ESTIMATE, CHARS_PER_TOKEN, Budget, Endpoint, EndpointConfig, EndpointError, Usage
from monitors.llm.grounding import ground_quotes, unique_evidence
from monitors.llm.logview import LogView
from monitors.llm.pricing import estimated_cost
from monitors.llm.prompt import Prompt, build_prompt, clean, fixed_chars
from monitors.llm.signals import Compiled, compile_signals, leak_signals
from monitors.llm.windows import SentLine, batches, select_lines
from rules.schema import Rule, Rulebook

log = logging.getLogger(__name__)

DEFAULT_BUDGET = 20_000  # tokens per episode (prompt + completion)
MAX_EVIDENCE = 6


class LLMEpisodeError(Exception):
    """The endpoint kept failing on this episode. `flags` holds what the requests that
    did succeed found, for a pipeline that wants to keep them."""

    def __init__(self, message: str, flags: list[Flag] | None = None) -> None:
        super().__init__(message)
        self.flags = list(flags or [])


class LLMSettings(BaseModel):
    """The monitor's options (`ctx.options`), with their defaults."""

    model_config = ConfigDict(extra="ignore")

    llm_model: str = "gpt-4o"
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_budget: int | None = Field(None, ge=0)
    llm_cache_dir: str | None = None
    llm_cache: bool = True
    llm_concurrency: int = Field(4, ge=1)
    llm_timeout: float = Field(120.0, gt=0)
    llm_retries: int = Field(4, ge=0)
    llm_backoff: float = Field(1.0, ge=0)
    llm_max_backoff: float = Field(30.0, ge=0)
    llm_request_chars: int = Field(24_000, ge=1000)  # log characters per request
    llm_log_share: float = Field(0.05, gt=0, le=1)  # of the episode's log characters, at most...
    llm_min_chars: int = Field(8_000, ge=0)  # ...but at least this many (small logs)
    llm_min_confidence: float = Field(0.5, ge=0, le=1)
    llm_max_confidence: float | None = Field(None, ge=0, le=1)
    llm_price_in: float | None = None
    llm_price_out: float | None = None

    @property
    def base_url(self) -> str | None:
        return self.llm_base_url or os.environ.get("OPENAI_BASE_URL") or None

    @property
    def api_key(self) -> str | None:
        return self.llm_api_key or os.environ.get("OPENAI_API_KEY") or None

    @property
    def budget(self) -> int:
        return DEFAULT_BUDGET if self.llm_budget is None else self.llm_budget

    def confidence_cap(self, rulebook: Rulebook) -> float:
        if self.llm_max_confidence is not None:
            return self.llm_max_confidence
        return max(0.0, min(0.75, rulebook.policy.disqualify_confidence - 0.05))


def asked_rules(rulebook: Rulebook) -> list[Rule]:
    return [r for r in rulebook.rules if r.question.strip()]


@dataclass
class _Batch:
    lines: list[SentLine]
    prompt: Prompt
    answers: Answers | None = None
    error: EndpointError | None = None


@register
class LLMMonitor(Monitor):
    name = "llm"
    order = 90  # last: it reads the other monitors' flags to choose its windows

    def unavailable(self, ctx: AuditContext) -> str | None:
        settings = LLMSettings.model_validate(ctx.options)
        if not asked_rules(ctx.rulebook):
            return "the rulebook asks the LLM no question"
        if not (settings.api_key or settings.base_url):
            return "no OPENAI_API_KEY or --llm-base-url"
        smallest = self._request_overhead(ctx.rulebook) + 200
        if settings.budget < smallest:
            return f"--llm-budget {settings.budget} is below the {smallest} tokens one request needs"
        return None

    def prepare(self, ctx: AuditContext) -> None:
        self.settings = s = LLMSettings.model_validate(ctx.options)
        self.rules = asked_rules(ctx.rulebook)
        self.usage = Usage()
        cache_root = Path(s.llm_cache_dir).expanduser() if s.llm_cache_dir else default_cache_dir()
        self.endpoint = Endpoint(
            EndpointConfig(
                model=s.llm_model, base_url=s.base_url, api_key=s.api_key, timeout=s.llm_timeout,
                retries=s.llm_retries, backoff=s.llm_backoff, max_backoff=s.llm_max_backoff,
                concurrency=s.llm_concurrency,
            ),
            AnswerCache(cache_root if s.llm_cache else None),
            self.usage,
        )
        self.signals = compile_signals()
        leaks = ctx.rulebook.settings("known-leak-exploit").get("leaks", [])
        self.leaks = [leak for leak in leaks if isinstance(leak, dict)] if isinstance(leaks, list) else []
        self.overhead = self._request_overhead(ctx.rulebook)

    # ------------------------------------------------------------------ one episode

    def check(self, episode: Episode, ctx: AuditContext) -> list[Flag]:
        done = self._ask(episode, self.plan(episode, ctx))
        flags = self._flags(episode, done, ctx.prior_flags.get(episode.episode_id, []), ctx.rulebook)
        failed = [b.error for b in done if b.error is not None]
        if failed:
            raise LLMEpisodeError(
                f"{len(failed)} of {len(done)} requests to the LLM endpoint failed: {failed[0]}", flags
            )
        return flags

    def plan(self, episode: Episode, ctx: AuditContext) -> list[_Batch]:
        """The requests this episode needs (before the cache and the budget have their say)."""
        if not hasattr(self, "endpoint"):
            self.prepare(ctx)
        prior = ctx.prior_flags.get(episode.episode_id, [])
        view = LogView.build(episode, self._signals_for(episode.competition_id), [ev for f in prior for ev in f.evidence])
        if len(view) == 0:
            return []
        notes = self._leak_notes(episode.competition_id)
        return [
            _Batch(lines, build_prompt(self.rules, lines, episode.competition_id, episode.agent, notes))
            for lines in batches(select_lines(view, self.allowance(view)), self.settings.llm_request_chars)
        ]

    def _signals_for(self, competition_id: str) -> Compiled:
        return self.signals + leak_signals(self.leaks, competition_id)

    def _leak_notes(self, competition_id: str) -> list[str]:
        """What the rulebook says about this competition's known leaks (trusted text for the prompt)."""
        return [str(leak["what"]) for leak in self.leaks if leak.get("competition") == competition_id and leak.get("what")]

    def allowance(self, view: LogView) -> int:
        """Log characters to send for this episode: a share of the log, within the token budget."""
        wanted = max(self.settings.llm_min_chars, int(view.total_chars * self.settings.llm_log_share))
        per_request = self.settings.llm_request_chars
        affordable = 0
        for requests in range(1, 1 + math.ceil(wanted / per_request)):
            fits = (self.settings.budget - requests * self.overhead) * CHARS_PER_TOKEN
            affordable = max(affordable, min(fits, requests * per_request))
        return max(0, min(wanted, affordable))

    def _ask(self, episode: Episode, work: list[_Batch]) -> list[_Batch]:
        budget = Budget(self.settings.budget)
        rule_ids = [r.id for r in self.rules]

        def one(batch: _Batch) -> _Batch:
            try:
                batch.answers = self.endpoint.ask(batch.prompt, rule_ids, budget)
            except EndpointError as exc:
                batch.error = exc
            return batch

        if len(work) <= 1:
            done = [one(b) for b in work]
        else:
            with ThreadPoolExecutor(max_workers=min(self.settings.llm_concurrency, len(work))) as pool:
                done = list(pool.map(one, work))
        if budget.skipped:
            log.info("%s: token budget %d left %d of %d requests unsent", episode.episode_id,
                     budget.limit, budget.skipped, len(work))
        return done

    # ------------------------------------------------------------------ flags

    def _flags(self, episode: Episode, done: list[_Batch], prior: list[Flag], rulebook: Rulebook) -> list[Flag]:
        cap = self.settings.confidence_cap(rulebook)
        found: dict[str, tuple[float, list[Evidence], str]] = {}
        for batch in done:
            for answer in _violations(batch.answers, {r.id for r in self.rules}, self.settings.llm_min_confidence):
                grounded = ground_quotes(episode, answer.quotes, batch.lines)
                self.usage.add(dropped_quotes=grounded.dropped)
                if not grounded.evidence:
                    continue
                conf, evidence, reason = found.get(answer.rule, (0.0, [], answer.reason))
                found[answer.rule] = (max(conf, answer.confidence), evidence + grounded.evidence, reason)
        flags = []
        for rule_id, (conf, evidence, reason) in found.items():
            if _already_flagged(rule_id, evidence, prior):
                continue
            flags.append(Flag(
                rule=rule_id,
                severity=rulebook.severity(rule_id),
                monitor=self.name,
                confidence=round(min(max(conf, 0.0), cap), 3),
                summary=f"LLM monitor ({clean(self.settings.llm_model, 60)}): {_one_line(reason)}",
                evidence=unique_evidence(evidence)[:MAX_EVIDENCE],
            ))
        return flags

    # ------------------------------------------------------------------ report

    def finish(self, ctx: AuditContext) -> dict[str, Any]:
        if not hasattr(self, "usage"):
            return {}
        u = self.usage
        price = (self.settings.llm_price_in, self.settings.llm_price_out)
        return LLMUsage(
            model=self.settings.llm_model,
            requests=u.requests,
            cached=u.cached,
            prompt_tokens=u.prompt_tokens,
            completion_tokens=u.completion_tokens,
            estimated_cost_usd=estimated_cost(self.settings.llm_model, u.prompt_tokens, u.completion_tokens, price),
            dropped_quotes=u.dropped_quotes,
        ).model_dump()

    @staticmethod
    def _request_overhead(rulebook: Rulebook) -> int:
        """Tokens of one request beyond its log lines: instructions, questions, the answer."""
        return fixed_chars(asked_rules(rulebook)) // CHARS_PER_TOKEN + COMPLETION_ESTIMATE


def _violations(answers: Answers | None, asked: set[str], min_confidence: float) -> list[RuleAnswer]:
    if answers is None:
        return []
    return [a for a in answers.answers if a.rule in asked and a.violated and a.confidence >= min_confidence]


def _already_flagged(rule_id: str, evidence: list[Evidence], prior: list[Flag]) -> bool:
    """True when another monitor flagged this rule on every line the model quoted: nothing new."""
    cited = {(ev.file, ev.line) for f in prior if f.rule == rule_id for ev in f.evidence}
    return bool(cited) and all((ev.file, ev.line) in cited for ev in evidence)


_SPACE = re.compile(r"\s+")


def _one_line(reason: str, limit: int = 240) -> str:
    text = clean(_SPACE.sub(" ", reason), 4 * limit).strip()
    return (text[: limit - 1] + "…") if len(text) > limit else (text or "the model found a violation")
