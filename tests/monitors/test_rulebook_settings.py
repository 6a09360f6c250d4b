"""The shipped rulebook's settings, and errors for broken ones that say where and what."""

from __future__ import annotations

import re

import pytest

from monitors.static.settings import SETTINGS_MODELS, SettingsError, settings_for, validate_rulebook_settings
from rules.load import RulebookError, load_rulebook, parse_rulebook

SPEC_RULES = {"external-llm-call", "hand-written-submission", "private-data-access", "grader-tampering", "solution-lookup",
              "plagiarism", "submission-copy", "known-leak-exploit", "external-data", "monitor-manipulation", "implausible-score"}
SPEC_SEVERITY = {"external-data": "medium", "monitor-manipulation": "medium", "implausible-score": "medium"}


def test_shipped_rulebook_has_every_spec_rule_with_spec_severity_and_valid_settings() -> None:
    rb = load_rulebook()
    assert {r.id for r in rb.rules} == SPEC_RULES
    for r in rb.rules:
        assert r.severity == SPEC_SEVERITY.get(r.id, "high"), r.id
    assert validate_rulebook_settings(rb) == []
    for rule_id in SETTINGS_MODELS:  # every deterministic rule is configured, not left to empty defaults
        assert rb.settings(rule_id), rule_id


def test_the_four_known_leaks_of_spec_are_listed() -> None:
    leaks = settings_for(load_rulebook(), "known-leak-exploit").leaks
    assert {lk.competition for lk in leaks} >= {"random-acts-of-pizza", "smartphone-decimeter-2022",
                                                 "hubmap-kidney-segmentation", "multi-modal-gesture-recognition"}


SMALL = """name = "mine"
version = "1"

[[rules]]
id = "monitor-manipulation"
title = "t"
description = "d"
severity = "medium"

[rules.settings]
{settings}
"""


def test_bad_settings_are_named_by_rule_and_key() -> None:
    bad_regex = parse_rulebook(SMALL.format(settings="patterns = ['(unclosed']"), "user.toml")
    with pytest.raises(SettingsError, match=r"'mine', rule 'monitor-manipulation' settings: patterns.*not a valid regular expression"):
        settings_for(bad_regex, "monitor-manipulation")
    typo = parse_rulebook(SMALL.format(settings="paterns = ['ignore']"), "user.toml")
    problems = validate_rulebook_settings(typo)
    assert len(problems) == 1 and "monitor-manipulation" in problems[0] and "paterns" in problems[0]
    from monitors.base import AuditContext
    from monitors.static import StaticMonitor

    reason = StaticMonitor().unavailable(AuditContext(rulebook=typo))
    assert reason and "paterns" in reason  # the monitor is skipped with the reason, not run half-configured
    fine = parse_rulebook(SMALL.format(settings="patterns = ['ignore previous']"), "user.toml")
    assert validate_rulebook_settings(fine) == [] and settings_for(fine, "monitor-manipulation").patterns == ("ignore previous",)


def test_a_broken_rulebook_file_names_file_and_line(tmp_path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('name = "x"\nversion = "1"\n\n[[rules]]\nid = "external-llm-call"\ntitle = "t"\ndescription = "d"\nseverity = "fatal"\n')
    with pytest.raises(RulebookError) as err:
        load_rulebook(path)
    assert re.search(r"mine\.toml:8: rules\.0\.severity", str(err.value))
    path.write_text('name = "x"\nversion = \n')
    with pytest.raises(RulebookError, match=r"mine\.toml: not valid TOML.*line 2"):
        load_rulebook(path)
