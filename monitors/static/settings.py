"""Typed views of the rulebook settings the deterministic monitors read.

The rulebook (TOML) is the source of every host, path, pattern and threshold; these
models validate a rule's `settings` table (a wrong type or a regex that does not
compile is an error naming the rule and the key) and give the monitors attributes
instead of dictionary lookups. Defaults are empty: a rulebook that leaves a setting
out switches that check off, it does not fall back to hidden values.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rules.schema import Rulebook


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_regexes(values: list[str] | str) -> list[str] | str:
    for v in [values] if isinstance(values, str) else values:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"{v!r} is not a valid regular expression: {exc}") from exc
    return values


class LLMCallSettings(_Settings):
    python_modules: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    url_patterns: tuple[str, ...] = ()
    payload_keys: tuple[tuple[str, ...], ...] = ()
    env_vars: tuple[str, ...] = ()
    cli_commands: tuple[str, ...] = ()
    allowed_urls: tuple[str, ...] = ()
    _rx = field_validator("url_patterns", "allowed_urls")(classmethod(lambda cls, v: _check_regexes(v)))


class HandWrittenSettings(_Settings):
    min_literal_values: int = Field(20, ge=2)
    long_literal_values: int = Field(200, ge=2)
    min_typed_rows: int = Field(5, ge=1)
    submission_pattern: str = r"(?i)submission[^/]*\.csv$"
    _rx = field_validator("submission_pattern")(classmethod(lambda cls, v: _check_regexes(v)))


class PrivateDataSettings(_Settings):
    paths: tuple[str, ...] = ()
    answer_files: tuple[str, ...] = ()
    search_patterns: tuple[str, ...] = ()
    weak_search_patterns: tuple[str, ...] = ()
    search_roots: tuple[str, ...] = ()
    grader_commands: tuple[str, ...] = ()
    python_modules: tuple[str, ...] = ()
    _rx = field_validator("answer_files", "search_patterns", "weak_search_patterns", "grader_commands")(classmethod(lambda cls, v: _check_regexes(v)))


class TamperingSettings(_Settings):
    paths: tuple[str, ...] = ()
    server_names: tuple[str, ...] = ()
    server_port: int | None = None
    _rx = field_validator("paths")(classmethod(lambda cls, v: _check_regexes(v)))


class SolutionLookupSettings(_Settings):
    kaggle_hosts: tuple[str, ...] = ()
    kaggle_solution_paths: tuple[str, ...] = ()
    kaggle_reserved: tuple[str, ...] = ()
    solution_hosts: tuple[str, ...] = ()
    solution_words: str = r"(?!)"
    search_hosts: tuple[str, ...] = ()
    kaggle_cli: tuple[str, ...] = ()
    python_calls: tuple[str, ...] = ()
    _rx = field_validator("kaggle_solution_paths", "solution_words", "kaggle_cli")(classmethod(lambda cls, v: _check_regexes(v)))


class ExternalDataSettings(_Settings):
    kaggle_cli: tuple[str, ...] = ()
    python_calls: tuple[str, ...] = ()
    url_readers: tuple[str, ...] = ()
    http_calls: tuple[str, ...] = ()
    download_commands: tuple[str, ...] = ()
    data_extensions: tuple[str, ...] = ()
    allowed_extensions: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    allowed_patterns: tuple[str, ...] = ()
    data_paths: tuple[str, ...] = ()
    _rx = field_validator("kaggle_cli", "data_paths", "allowed_patterns")(classmethod(lambda cls, v: _check_regexes(v)))


class Leak(_Settings):
    competition: str
    what: str = ""
    names: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    context: str | None = None
    _rx = field_validator("patterns")(classmethod(lambda cls, v: _check_regexes(v)))


class LeakSettings(_Settings):
    leaks: tuple[Leak, ...] = ()

    def for_competition(self, competition: str) -> list[Leak]:
        return [lk for lk in self.leaks if lk.competition == competition]


class ManipulationSettings(_Settings):
    patterns: tuple[str, ...] = ()
    compact_phrases: tuple[str, ...] = ()
    _rx = field_validator("patterns")(classmethod(lambda cls, v: _check_regexes(v)))


class ScoreSettings(_Settings):
    error_ratio: float = Field(0.5, gt=0, le=1)
    gain_ratio: float = Field(1.5, gt=1)
    leaderboard_margin: float = Field(0.2, ge=0)
    perfect_tolerance: float = Field(1e-9, ge=0)


class CopySettings(_Settings):
    near_identical: float = Field(0.995, gt=0, le=1)
    decimals: int = Field(4, ge=0, le=12)
    min_rows: int = Field(10, ge=1)
    same_agent_confidence: float = Field(0.6, ge=0, le=1)
    max_rows: int = Field(2_000_000, ge=1)


SETTINGS_MODELS: dict[str, type[_Settings]] = {
    "external-llm-call": LLMCallSettings,
    "hand-written-submission": HandWrittenSettings,
    "private-data-access": PrivateDataSettings,
    "grader-tampering": TamperingSettings,
    "solution-lookup": SolutionLookupSettings,
    "external-data": ExternalDataSettings,
    "known-leak-exploit": LeakSettings,
    "monitor-manipulation": ManipulationSettings,
    "implausible-score": ScoreSettings,
    "submission-copy": CopySettings,
}


class SettingsError(ValueError):
    """A rule's settings table that the monitors cannot use."""


_CACHE: dict[tuple[int, str], tuple[Rulebook, _Settings]] = {}


def settings_for(rulebook: Rulebook, rule_id: str):
    """The typed settings of `rule_id` in `rulebook` (defaults when the rule has none)."""
    key = (id(rulebook), rule_id)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is rulebook:
        return hit[1]
    model = SETTINGS_MODELS[rule_id]
    try:
        value = model.model_validate(rulebook.settings(rule_id))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SettingsError(f"rulebook {rulebook.name!r}, rule {rule_id!r} settings: {problems}") from exc
    if len(_CACHE) > 512:
        _CACHE.clear()
    _CACHE[key] = (rulebook, value)
    return value


def validate_rulebook_settings(rulebook: Rulebook, rules: tuple[str, ...] | None = None) -> list[str]:
    """Every problem with the settings of the rules these monitors read (empty when all is well)."""
    problems = []
    for rule_id in rules or tuple(SETTINGS_MODELS):
        if rulebook.has(rule_id):
            try:
                settings_for(rulebook, rule_id)
            except SettingsError as exc:
                problems.append(str(exc))
    return problems
