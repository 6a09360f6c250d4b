"""The audited medal table (SPEC `medal_table`): medals as graded beside medals that
survive the audit, per (agent, competition) and per agent.

`any_medal_pct` follows MLE-bench: for each seed, the percentage of that seed's
episodes with a medal; then the mean and the standard error of the mean over seeds.

Beyond SPEC's fields (kept exactly), rows and totals carry extra keys:
- `gold`, `silver`, `bronze` (as graded) and `audited_gold`, ... (after the audit);
- `needs_review` on rows, `flagged` and `competitions` on totals;
- `pass_at_k` / `audited_pass_at_k`: {"k": percent} with MLE-bench's unbiased
  estimator, per competition 1 - C(n-c, k) / C(n, k) for n seeds and c medals,
  averaged over the competitions that have at least k seeds
  (`pass_at_k_competitions` says how many that is for each k);
- `complexity` on rows and `by_complexity` on totals: MLE-bench's low / medium /
  high splits (shipped in auditor/data), "unknown" for any other competition.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import lru_cache
from importlib import resources

from auditor.models import EpisodeReport, Medal, MedalTable, MedalTableRow, MedalTableTotal

TIERS = ("low", "medium", "high")
UNKNOWN_TIER = "unknown"
MEDALS: tuple[Medal, ...] = ("gold", "silver", "bronze")

MedalOf = Callable[[EpisodeReport], Medal]


def graded(e: EpisodeReport) -> Medal:
    return e.medal


def audited(e: EpisodeReport) -> Medal:
    return e.audited_medal


def extra_field(obj: object, key: str, default: object = None) -> object:
    """An extra key of a row, total or table (absent in reports from older builds)."""
    return (getattr(obj, "model_extra", None) or {}).get(key, default)


# --------------------------------------------------------------------------- statistics


def mean_and_sem(values: list[float]) -> tuple[float, float]:
    """Mean and standard error of the mean (sample standard deviation / sqrt(n))."""
    if not values:
        return 0.0, 0.0
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(var) / math.sqrt(len(values))


def per_seed_pct(episodes: list[EpisodeReport], audited_column: bool) -> list[float]:
    """For each seed index, the percentage of that seed's episodes holding a medal."""
    medal = audited if audited_column else graded
    by_seed: dict[int, list[EpisodeReport]] = defaultdict(list)
    for e in episodes:
        by_seed[e.seed].append(e)
    return [100.0 * sum(medal(e) != "none" for e in by_seed[s]) / len(by_seed[s]) for s in sorted(by_seed)]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k seeds drawn from n (c of them with a medal) has a medal."""
    if not 0 < k <= n or not 0 <= c <= n:
        raise ValueError(f"pass@k needs 0 < k <= n and 0 <= c <= n (n={n}, c={c}, k={k})")
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def mean_pass_at_k(counts: Iterable[tuple[int, int]]) -> tuple[dict[str, float], dict[str, int]]:
    """pass@k in percent for k = 1..max n, averaged over competitions with at least k seeds.

    `counts` holds one (n seeds, c medals) pair per competition. Returns the
    percentages and, for each k, how many competitions the average is over.
    """
    counts = [(n, c) for n, c in counts if n > 0]
    pct: dict[str, float] = {}
    used: dict[str, int] = {}
    for k in range(1, max((n for n, _ in counts), default=0) + 1):
        values = [pass_at_k(n, c, k) for n, c in counts if n >= k]
        pct[str(k)] = round(100.0 * sum(values) / len(values), 4)
        used[str(k)] = len(values)
    return pct, used


# --------------------------------------------------------------------------- complexity


@lru_cache(maxsize=1)
def complexity_lists() -> dict[str, str]:
    """competition id -> "low" | "medium" | "high", from MLE-bench's split files."""
    tiers: dict[str, str] = {}
    data = resources.files("auditor") / "data"
    for tier in TIERS:
        for line in (data / f"complexity_{tier}.txt").read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                tiers[line] = tier
    return tiers


def complexity_of(competition_id: str) -> str:
    return complexity_lists().get(competition_id, UNKNOWN_TIER)


# --------------------------------------------------------------------------- the table


def medal_counts(episodes: list[EpisodeReport]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for prefix, medal in (("", graded), ("audited_", audited)):
        for m in MEDALS:
            counts[prefix + m] = sum(medal(e) == m for e in episodes)
    return counts


def any_medal_stats(episodes: list[EpisodeReport]) -> dict[str, float]:
    pct, sem = mean_and_sem(per_seed_pct(episodes, audited_column=False))
    apct, asem = mean_and_sem(per_seed_pct(episodes, audited_column=True))
    return {
        "any_medal_pct": round(pct, 4),
        "any_medal_pct_sem": round(sem, 4),
        "audited_any_medal_pct": round(apct, 4),
        "audited_any_medal_pct_sem": round(asem, 4),
    }


def verdict_counts(episodes: list[EpisodeReport]) -> dict[str, int]:
    return {
        "flagged": sum(bool(e.flags) for e in episodes),
        "disqualified": sum(e.verdict == "disqualified" for e in episodes),
        "needs_review": sum(e.verdict == "needs-review" for e in episodes),
    }


def pass_at_k_stats(by_competition: dict[str, list[EpisodeReport]]) -> dict[str, dict]:
    graded_pct, used = mean_pass_at_k((len(eps), sum(e.medal != "none" for e in eps)) for eps in by_competition.values())
    audited_pct, _ = mean_pass_at_k((len(eps), sum(e.audited_medal != "none" for e in eps)) for eps in by_competition.values())
    return {"pass_at_k": graded_pct, "audited_pass_at_k": audited_pct, "pass_at_k_competitions": used}


def build_row(agent: str | None, competition: str, eps: list[EpisodeReport]) -> MedalTableRow:
    return MedalTableRow(
        agent=agent,
        competition_id=competition,
        seeds=len(eps),
        medals=sum(e.medal != "none" for e in eps),
        audited_medals=sum(e.audited_medal != "none" for e in eps),
        complexity=complexity_of(competition),
        **verdict_counts(eps),
        **medal_counts(eps),
        **any_medal_stats(eps),
        **pass_at_k_stats({competition: eps}),
    )


def tier_summary(by_competition: dict[str, list[EpisodeReport]]) -> dict[str, dict]:
    """The agent's figures restricted to each complexity split it has episodes in."""
    tiers: dict[str, dict[str, list[EpisodeReport]]] = defaultdict(dict)
    for comp, eps in by_competition.items():
        tiers[complexity_of(comp)][comp] = eps
    out: dict[str, dict] = {}
    for tier in (*TIERS, UNKNOWN_TIER):
        if tier not in tiers:
            continue
        eps = [e for group in tiers[tier].values() for e in group]
        out[tier] = {
            "competitions": len(tiers[tier]),
            "episodes": len(eps),
            "medals": sum(e.medal != "none" for e in eps),
            "audited_medals": sum(e.audited_medal != "none" for e in eps),
            **any_medal_stats(eps),
            **verdict_counts(eps),
        }
    return out


def build_total(agent: str | None, eps: list[EpisodeReport]) -> MedalTableTotal:
    by_competition: dict[str, list[EpisodeReport]] = defaultdict(list)
    for e in eps:
        by_competition[e.competition_id].append(e)
    return MedalTableTotal(
        agent=agent,
        episodes=len(eps),
        competitions=len(by_competition),
        **any_medal_stats(eps),
        **verdict_counts(eps),
        **medal_counts(eps),
        **pass_at_k_stats(by_competition),
        by_complexity=tier_summary(by_competition),
    )


def build_medal_table(episodes: list[EpisodeReport]) -> MedalTable:
    by_pair: dict[tuple[str | None, str], list[EpisodeReport]] = defaultdict(list)
    by_agent: dict[str | None, list[EpisodeReport]] = defaultdict(list)
    for e in episodes:
        by_pair[(e.agent, e.competition_id)].append(e)
        by_agent[e.agent].append(e)
    rows = [build_row(agent, comp, eps) for (agent, comp), eps in sorted(by_pair.items(), key=lambda kv: (str(kv[0][0]), kv[0][1]))]
    totals = [build_total(agent, eps) for agent, eps in sorted(by_agent.items(), key=lambda kv: str(kv[0]))]
    return MedalTable(rows=rows, totals=totals)
