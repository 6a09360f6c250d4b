"""The audited medal table: SPEC fields, per-seed percentages, pass@k, complexity splits."""

from __future__ import annotations

import math
import re

import pytest

from auditor.medal_table import (
    build_medal_table,
    complexity_lists,
    complexity_of,
    mean_pass_at_k,
    pass_at_k,
)
from auditor.models import EpisodeReport, Evidence, Flag, MedalTable
from tests.conftest import need_shared

SPEC_ROW = {"agent", "competition_id", "seeds", "medals", "audited_medals", "flagged", "disqualified"}
SPEC_TOTAL = {"agent", "episodes", "any_medal_pct", "any_medal_pct_sem", "audited_any_medal_pct",
              "audited_any_medal_pct_sem", "disqualified", "needs_review"}


def ep(agent, comp, seed, medal="none", verdict="clean", flagged=False) -> EpisodeReport:
    flags = []
    if flagged or verdict != "clean":
        flags = [Flag(id="x-1", rule="plagiarism", severity="high", monitor="t", confidence=0.9, summary="s",
                      evidence=[Evidence(file="code/a.py", line=1, excerpt="x")])]
    return EpisodeReport(
        episode_id=f"{comp}_{agent}_{seed}", path=".", competition_id=comp, agent=agent, run_group=None, seed=seed,
        grade=None, medal=medal, flags=flags, verdict=verdict,
        audited_medal=medal if verdict == "clean" else "none", errors=[],
    )


def test_pass_at_k_matches_the_unbiased_estimator():
    assert pass_at_k(4, 1, 1) == pytest.approx(0.25)
    assert pass_at_k(4, 1, 2) == pytest.approx(1 - math.comb(3, 2) / math.comb(4, 2))  # 0.5
    assert pass_at_k(4, 0, 4) == 0.0
    assert pass_at_k(3, 3, 1) == 1.0
    assert pass_at_k(5, 2, 5) == 1.0  # every draw holds a medal once k > n - c
    with pytest.raises(ValueError):
        pass_at_k(2, 1, 3)


def test_pass_at_k_averages_over_competitions_with_enough_seeds():
    pct, used = mean_pass_at_k([(2, 1), (1, 1), (2, 0)])
    assert pct == {"1": pytest.approx(100 * (0.5 + 1 + 0) / 3, abs=1e-3), "2": pytest.approx(50.0)}
    assert used == {"1": 3, "2": 2}
    assert mean_pass_at_k([]) == ({}, {})


def test_spec_fields_are_kept_and_figures_are_right():
    eps = [
        # agent A, two seeds: seed 0 wins 2 of 3 competitions, seed 1 wins 1 of 3
        ep("A", "random-acts-of-pizza", 0, "gold", "disqualified"),
        ep("A", "random-acts-of-pizza", 1, "silver"),
        ep("A", "leaf-classification", 0, "bronze", "needs-review"),
        ep("A", "leaf-classification", 1),
        ep("A", "siim-covid19-detection", 0),
        ep("A", "siim-covid19-detection", 1, flagged=True),
        ep("B", "spaceship-titanic", 0, "gold"),
    ]
    table = build_medal_table(eps)
    assert [(r.agent, r.competition_id) for r in table.rows] == [
        ("A", "leaf-classification"), ("A", "random-acts-of-pizza"), ("A", "siim-covid19-detection"), ("B", "spaceship-titanic")]
    for r in table.rows:
        assert SPEC_ROW <= set(r.model_dump())
    pizza = table.rows[1]
    assert (pizza.seeds, pizza.medals, pizza.audited_medals, pizza.flagged, pizza.disqualified) == (2, 2, 1, 1, 1)
    assert pizza.model_extra["gold"] == 1 and pizza.model_extra["silver"] == 1 and pizza.model_extra["audited_gold"] == 0
    assert pizza.model_extra["complexity"] == "low"
    assert pizza.model_extra["pass_at_k"] == {"1": 100.0, "2": 100.0}
    assert pizza.model_extra["audited_pass_at_k"] == {"1": 50.0, "2": 100.0}

    a = table.totals[0]
    assert SPEC_TOTAL <= set(a.model_dump())
    # per seed: graded 2/3 and 1/3 -> mean 50, sem = std([66.7, 33.3]) / sqrt(2) = 16.67
    assert a.any_medal_pct == pytest.approx(50.0, abs=1e-3)
    assert a.any_medal_pct_sem == pytest.approx(16.6667, abs=1e-3)
    # audited: seed 0 keeps nothing (pizza disqualified, leaf awaiting review), seed 1 keeps pizza
    assert a.audited_any_medal_pct == pytest.approx(100 / 6, abs=1e-3)
    assert (a.disqualified, a.needs_review, a.episodes) == (1, 1, 6)
    x = a.model_extra
    assert (x["gold"], x["silver"], x["bronze"], x["flagged"], x["competitions"]) == (1, 1, 1, 3, 3)
    assert x["pass_at_k"]["1"] == pytest.approx(100 * (1 + 0.5 + 0) / 3, abs=1e-3)
    assert x["pass_at_k"]["2"] == pytest.approx(100 * (1 + 1 + 0) / 3, abs=1e-3)
    assert x["pass_at_k_competitions"] == {"1": 3, "2": 3}
    assert set(x["by_complexity"]) == {"low", "high"}
    assert x["by_complexity"]["low"]["competitions"] == 2 and x["by_complexity"]["high"]["episodes"] == 2
    assert x["by_complexity"]["high"]["any_medal_pct"] == 0.0
    b = table.totals[1]
    assert set(b.model_extra["by_complexity"]) == {"unknown"}
    assert b.model_extra["by_complexity"]["unknown"]["medals"] == 1


def test_extra_keys_survive_the_json_round_trip():
    table = build_medal_table([ep("A", "leaf-classification", 0, "gold"), ep("A", "leaf-classification", 1)])
    again = MedalTable.model_validate_json(table.model_dump_json())
    assert again.totals[0].model_extra["pass_at_k"] == {"1": 50.0, "2": 100.0}
    assert again.rows[0].model_extra["complexity"] == "low"


def test_complexity_lists_are_mle_benchs_75_competitions():
    tiers = complexity_lists()
    counts = {t: sum(v == t for v in tiers.values()) for t in ("low", "medium", "high")}
    assert counts == {"low": 22, "medium": 38, "high": 15}
    assert complexity_of("spaceship-titanic") == "unknown"  # MLE-bench's dev competition
    assert complexity_of("AI4Code") == "medium" and complexity_of("smartphone-decimeter-2022") == "high"


def test_low_list_is_the_lite_set_of_grading_facts():
    facts = need_shared().parent / "GRADING-FACTS.md"
    section = facts.read_text().split("## 4.")[1].split("### ")[0]
    lite = set(re.findall(r"^\| ([a-z0-9][a-z0-9-]+) \|", section, re.M)) - {"competition"}
    assert len(lite) == 22
    assert {c for c, t in complexity_lists().items() if t == "low"} == lite
