"""The answer the model must give: structured output checked by pydantic.

One answer per asked rule: violated or not, how sure, and quotes copied from the
log. The JSON schema sent as `response_format` is generated from these models, so
the schema the endpoint enforces and the parser that reads it cannot drift apart.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class Quote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line: str  # the label of the line it was copied from, e.g. "L123" (a hint only)
    text: str  # copied verbatim from that line


class RuleAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: str
    violated: bool
    confidence: float
    quotes: list[Quote]
    reason: str


class Answers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: list[RuleAnswer]


class MalformedAnswer(ValueError):
    """The endpoint answered, but not with the JSON the schema asks for."""


def response_format(rule_ids: list[str]) -> dict[str, Any]:
    """A strict `json_schema` response format whose `rule` field only admits the asked rules."""
    schema = Answers.model_json_schema()
    schema["$defs"]["RuleAnswer"]["properties"]["rule"]["enum"] = list(rule_ids)
    return {"type": "json_schema", "json_schema": {"name": "rule_answers", "strict": True, "schema": schema}}


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def parse_answers(content: str | None) -> Answers:
    """The model's answers; MalformedAnswer when the content is not valid against the schema.

    Endpoints that ignore `response_format` (older local servers) often wrap the JSON
    in a Markdown fence; that much is forgiven, nothing else is.
    """
    if not content or not content.strip():
        raise MalformedAnswer("empty answer")
    fenced = _FENCE.match(content)
    text = fenced.group(1) if fenced else content
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedAnswer(f"answer is not JSON ({exc.msg} at char {exc.pos})") from exc
    try:
        return Answers.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise MalformedAnswer(f"answer does not match the schema ({where}: {first['msg']})") from exc
