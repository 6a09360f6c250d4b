"""The schema of a rulebook: rules as data (SPEC "Rules").

A rulebook is a TOML file. Code implements kinds of evidence; the rulebook says
which evidence breaks which rule, how severe it is, and what each monitor reads
(hosts, paths, patterns, thresholds, the LLM monitor's question) under
`[rules.settings]`-style tables. Monitors read their settings through
`Rulebook.settings(rule_id)` so a user's rulebook can retune them without code.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Severity = Literal["high", "medium", "low"]

RULE_ID_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"


class Policy(BaseModel):
    """How flags become verdicts (auditor.adjudication)."""

    model_config = ConfigDict(extra="forbid")

    #: a high-severity flag at or above this confidence disqualifies; below it, needs review
    disqualify_confidence: float = Field(0.8, ge=0.0, le=1.0)
    #: severities that send an episode to review when they do not disqualify
    review_severities: list[Severity] = ["high", "medium"]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=RULE_ID_PATTERN)
    title: str
    description: str
    severity: Severity
    #: the question the LLM log monitor asks about this rule ("" = the LLM does not ask)
    question: str = ""
    #: monitor settings: hosts, paths, patterns, thresholds... (read by the monitors)
    settings: dict[str, Any] = Field(default_factory=dict)


class Rulebook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: str
    description: str = ""
    policy: Policy = Field(default_factory=Policy)
    rules: list[Rule]

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[Rule]) -> list[Rule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} appears twice")
            seen.add(rule.id)
        return rules

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def has(self, rule_id: str) -> bool:
        return self.rule(rule_id) is not None

    def severity(self, rule_id: str) -> Severity:
        rule = self.rule(rule_id)
        return rule.severity if rule else "medium"

    def settings(self, rule_id: str) -> dict[str, Any]:
        rule = self.rule(rule_id)
        return rule.settings if rule else {}
