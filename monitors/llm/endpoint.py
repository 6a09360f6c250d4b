"""Asking an OpenAI-compatible endpoint: cache, budget, concurrency, retries.

One `Endpoint` per audit, shared by every episode (and by the pipeline's worker
threads): a semaphore bounds the requests in flight; 429, 5xx, timeouts and
connection errors are retried with exponential backoff (honouring Retry-After);
answers that are not the JSON the schema asks for are asked again once. Errors that
retrying cannot fix (bad key, unknown model) stop all later requests at once with
the same clear message, instead of failing slowly on every episode.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from dataclasses import dataclass, field

import openai

from monitors.llm.answers import Answers, MalformedAnswer, parse_answers, response_format
from monitors.llm.cache import AnswerCache
from monitors.llm.prompt import Prompt

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 4  # estimate before the response's usage is known (no tokenizer download)
COMPLETION_ESTIMATE = 400  # tokens reserved for an answer before its usage is known


class EndpointError(Exception):
    """A request that failed for good; `fatal` when no later request can succeed either."""

    def __init__(self, message: str, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


@dataclass
class EndpointConfig:
    model: str = "gpt-4o"
    base_url: str | None = None
    api_key: str | None = None
    timeout: float = 120.0
    retries: int = 4  # after the first attempt, on 429 / 5xx / timeouts / connection errors
    malformed_retries: int = 1
    backoff: float = 1.0  # seconds before the first retry; doubles each time
    max_backoff: float = 30.0
    concurrency: int = 4
    max_completion_tokens: int = 2000


@dataclass
class Usage:
    """Figures for the report's `llm` object; updated from many threads."""

    requests: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    dropped_quotes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **figures: int) -> None:
        with self.lock:
            for name, value in figures.items():
                setattr(self, name, getattr(self, name) + value)


class Budget:
    """Tokens one episode may spend, counted from the responses' usage.

    A request is sent only if its estimate fits beside what was spent and what the
    requests in flight reserved; estimates are scaled by what the endpoint's usage
    has shown so far, so a tokenizer that counts more than chars/4 is learnt.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0
        self.reserved = 0
        self.skipped = 0
        self._lock = threading.Lock()

    def reserve(self, tokens: int) -> bool:
        with self._lock:
            if self.spent + self.reserved + tokens > self.limit:
                self.skipped += 1
                return False
            self.reserved += tokens
            return True

    def release(self, reserved: int) -> None:
        with self._lock:
            self.reserved -= reserved

    def spend(self, tokens: int) -> None:
        with self._lock:
            self.spent += tokens


class Endpoint:
    def __init__(self, config: EndpointConfig, cache: AnswerCache, usage: Usage) -> None:
        self.config = config
        self.cache = cache
        self.usage = usage
        self.client = openai.OpenAI(
            api_key=config.api_key or "not-needed",  # local servers (vLLM, Ollama) take any key
            base_url=config.base_url,
            timeout=config.timeout,
            max_retries=0,  # retried here, where backoff and counting are ours
        )
        self._slots = threading.BoundedSemaphore(max(1, config.concurrency))
        self._lock = threading.Lock()
        self._estimated = 0  # prompt tokens estimated / reported so far, for calibration
        self._reported = 0
        self.mode = "json_schema"  # "json_object" once the endpoint refuses json_schema
        self.broken: str | None = None

    # ------------------------------------------------------------------ public

    def ask(self, prompt: Prompt, rule_ids: list[str], budget: Budget) -> Answers | None:
        """The answers for one prompt; None when the budget has no room for it."""
        key = prompt.key(self.config.model, self.mode)
        cached = self.cache.get(key)
        if cached is not None:
            try:
                answers = parse_answers(cached)
                self.usage.add(cached=1)
                return answers
            except MalformedAnswer:
                pass
        estimate = self.estimate(prompt)
        reservation = self._calibrated(estimate) + min(COMPLETION_ESTIMATE, self.config.max_completion_tokens)
        if not budget.reserve(reservation):
            return None
        try:
            content = self._ask_until_parsed(prompt, rule_ids, estimate, budget)
        finally:
            budget.release(reservation)
        self.cache.put(prompt.key(self.config.model, self.mode), content, self.config.model)
        return parse_answers(content)

    @staticmethod
    def estimate(prompt: Prompt) -> int:
        return prompt.chars // CHARS_PER_TOKEN + 1

    # ------------------------------------------------------------------ requests

    def _ask_until_parsed(self, prompt: Prompt, rule_ids: list[str], estimate: int, budget: Budget) -> str:
        problem = ""
        for attempt in range(self.config.malformed_retries + 1):
            content, tokens = self._complete(prompt, rule_ids, estimate)
            budget.spend(tokens)
            try:
                parse_answers(content)
                return content
            except MalformedAnswer as exc:
                problem = str(exc)
                log.info("malformed answer (attempt %d): %s", attempt + 1, exc)
        raise EndpointError(
            f"the model's answer did not match the schema after {self.config.malformed_retries + 1} tries: {problem}"
        )

    def _complete(self, prompt: Prompt, rule_ids: list[str], estimate: int) -> tuple[str, int]:
        """(content, tokens spent) of one completion, retrying what is worth retrying."""
        last, last_retry_after = "", None
        for attempt in range(self.config.retries + 1):
            if self.broken:
                raise EndpointError(self.broken, fatal=True)
            if attempt:
                time.sleep(self._delay(attempt, last_retry_after))
            last_retry_after = None
            try:
                with self._slots:
                    self.usage.add(requests=1)
                    response = self.client.chat.completions.create(**self._request(prompt, rule_ids))
                return self._content_and_usage(response, estimate)
            except openai.RateLimitError as exc:
                last, last_retry_after = f"HTTP 429 rate limited ({_detail(exc)})", _retry_after(exc)
            except openai.InternalServerError as exc:
                last = f"HTTP {exc.status_code} server error ({_detail(exc)})"
            except openai.APITimeoutError:
                last = f"timed out after {self.config.timeout:g} s"
            except openai.APIConnectionError as exc:
                last = f"connection failed ({exc.__cause__ or exc})"
            except openai.BadRequestError as exc:
                if self.mode == "json_schema" and _refuses_json_schema(exc):
                    log.warning("endpoint refuses json_schema response_format; falling back to json_object")
                    self.mode = "json_object"
                    continue
                raise EndpointError(f"HTTP 400 bad request ({_detail(exc)})") from exc
            except openai.APIStatusError as exc:
                message = f"HTTP {exc.status_code} ({_detail(exc)}) from {self.client.base_url}"
                if exc.status_code in (401, 403, 404):
                    self.broken = message  # a bad key or model fails every request alike
                raise EndpointError(message, fatal=self.broken is not None) from exc
            log.info("LLM request attempt %d failed: %s", attempt + 1, last)
        raise EndpointError(f"{self.client.base_url} failed {self.config.retries + 1} attempts; last: {last}")

    def _request(self, prompt: Prompt, rule_ids: list[str]) -> dict:
        messages = prompt.messages()
        if self.mode == "json_schema":
            fmt = response_format(rule_ids)
        else:
            fmt = {"type": "json_object"}
            schema = json.dumps(response_format(rule_ids)["json_schema"]["schema"])
            messages[0]["content"] += f"\n\nJSON schema of the answer:\n{schema}"
        return {
            "model": self.config.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": self.config.max_completion_tokens,
            "response_format": fmt,
        }

    def _content_and_usage(self, response, estimate: int) -> tuple[str, int]:
        content = response.choices[0].message.content if response.choices else None
        usage = response.usage
        prompt_tokens = usage.prompt_tokens if usage and usage.prompt_tokens else estimate
        completion_tokens = usage.completion_tokens if usage and usage.completion_tokens else len(content or "") // CHARS_PER_TOKEN
        self.usage.add(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
        with self._lock:
            self._estimated += estimate
            self._reported += prompt_tokens
        return content or "", prompt_tokens + completion_tokens

    def _calibrated(self, estimate: int) -> int:
        with self._lock:
            ratio = self._reported / self._estimated if self._estimated else 1.0
        return int(estimate * max(ratio, 0.5)) + 1

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        backoff = self.config.backoff * (2 ** (attempt - 1)) * (0.75 + random.random() / 2)
        wanted = max(backoff, retry_after or 0.0)
        return min(wanted, self.config.max_backoff)


def _retry_after(exc: openai.APIStatusError) -> float | None:
    try:
        return float(exc.response.headers.get("retry-after", ""))
    except (TypeError, ValueError):
        return None


def _detail(exc: openai.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else None
    message = (body or {}).get("message") if body else None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        message = body["error"].get("message", message)
    return str(message or exc.message)[:200]


def _refuses_json_schema(exc: openai.BadRequestError) -> bool:
    text = str(exc).lower()
    return "response_format" in text or "json_schema" in text
