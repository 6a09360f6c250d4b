"""The audited medal table (SPEC `medal_table`): medals as graded beside medals that
survive the audit, per (agent, competition) and per agent.

`any_medal_pct` follows MLE-bench: for each seed, the percentage of that seed's
episodes with a medal; then the mean and the standard error of the mean over seeds.
"""

from __future__ import annotations

import math
from collections import defaultdict

from auditor.models import EpisodeReport, MedalTable, MedalTableRow, MedalTableTotal


def mean_and_sem(values: list[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(var) / math.sqrt(len(values))


def per_seed_pct(episodes: list[EpisodeReport], audited: bool) -> list[float]:
    by_seed: dict[int, list[EpisodeReport]] = defaultdict(list)
    for e in episodes:
        by_seed[e.seed].append(e)
    out = []
    for seed in sorted(by_seed):
        eps = by_seed[seed]
        won = sum(1 for e in eps if (e.audited_medal if audited else e.medal) != "none")
        out.append(100.0 * won / len(eps))
    return out


def build_medal_table(episodes: list[EpisodeReport]) -> MedalTable:
    table = MedalTable()
    by_pair: dict[tuple[str | None, str], list[EpisodeReport]] = defaultdict(list)
    by_agent: dict[str | None, list[EpisodeReport]] = defaultdict(list)
    for e in episodes:
        by_pair[(e.agent, e.competition_id)].append(e)
        by_agent[e.agent].append(e)
    for (agent, comp), eps in sorted(by_pair.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        table.rows.append(
            MedalTableRow(
                agent=agent,
                competition_id=comp,
                seeds=len(eps),
                medals=sum(e.medal != "none" for e in eps),
                audited_medals=sum(e.audited_medal != "none" for e in eps),
                flagged=sum(bool(e.flags) for e in eps),
                disqualified=sum(e.verdict == "disqualified" for e in eps),
            )
        )
    for agent, eps in sorted(by_agent.items(), key=lambda kv: str(kv[0])):
        pct, sem = mean_and_sem(per_seed_pct(eps, audited=False))
        apct, asem = mean_and_sem(per_seed_pct(eps, audited=True))
        table.totals.append(
            MedalTableTotal(
                agent=agent,
                episodes=len(eps),
                any_medal_pct=round(pct, 4),
                any_medal_pct_sem=round(sem, 4),
                audited_any_medal_pct=round(apct, 4),
                audited_any_medal_pct_sem=round(asem, 4),
                disqualified=sum(e.verdict == "disqualified" for e in eps),
                needs_review=sum(e.verdict == "needs-review" for e in eps),
            )
        )
    return table
