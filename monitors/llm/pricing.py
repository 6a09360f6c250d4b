"""Estimated cost of the tokens an audit used (USD per million tokens, list prices).

Prices change and endpoints differ (a local vLLM or Ollama costs nothing per token),
so the report calls this an estimate; `llm_price_in` / `llm_price_out` options
override the table for any model.
"""

from __future__ import annotations

#: model name prefix -> (input, output) USD per 1M tokens; the longest matching prefix wins
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4-turbo": (10.00, 30.00),
    "o1-mini": (1.10, 4.40),
    "o3-mini": (1.10, 4.40),
    "o1": (15.00, 60.00),
}


def price_of(model: str, override: tuple[float | None, float | None] = (None, None)) -> tuple[float, float]:
    """(input, output) USD per 1M tokens; (0, 0) for a model not in the table (local models)."""
    known = max((p for p in PRICES if model.startswith(p)), key=len, default=None)
    base = PRICES[known] if known else (0.0, 0.0)
    return (override[0] if override[0] is not None else base[0], override[1] if override[1] is not None else base[1])


def estimated_cost(model: str, prompt_tokens: int, completion_tokens: int,
                   override: tuple[float | None, float | None] = (None, None)) -> float:
    price_in, price_out = price_of(model, override)
    return round((prompt_tokens * price_in + completion_tokens * price_out) / 1_000_000, 6)
