"""From flags to a verdict and an audited medal, under the rulebook's policy.

A reviewer's decision overrides the policy: a dismissed flag counts for nothing, a
confirmed one disqualifies whatever its severity. Otherwise a high-severity flag at
or above the policy's confidence disqualifies, and any flag of a review severity
sends the episode to review.
"""

from __future__ import annotations

import hashlib
import re

from auditor.models import Flag, Medal, Review, Verdict
from rules.schema import Policy

_WS = re.compile(r"\s+")


def flag_id(flag: Flag) -> str:
    """A stable id: the rule and a digest of the first evidence (file, excerpt).

    Line numbers are left out on purpose, so the id survives a re-audit of the same
    run even when a reader starts counting differently; the same rule on the same
    text in the same file is the same flag.
    """
    first = flag.evidence[0]
    key = "\x1f".join([flag.rule, flag.monitor, first.file, _WS.sub(" ", first.excerpt.strip())])
    return f"{flag.rule}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def assign_ids(flags: list[Flag]) -> list[Flag]:
    """Fill in stable, unique ids (a numeric suffix keeps two identical flags apart)."""
    seen: dict[str, int] = {}
    for flag in flags:
        base = flag_id(flag)
        n = seen.get(base, 0)
        seen[base] = n + 1
        flag.id = base if n == 0 else f"{base}-{n + 1}"
    return flags


def flag_effect(flag: Flag, policy: Policy) -> Verdict:
    """What this one flag does to its episode."""
    if flag.review is not None:
        return "disqualified" if flag.review.decision == "confirmed" else "clean"
    if flag.severity == "high" and flag.confidence >= policy.disqualify_confidence:
        return "disqualified"
    if flag.severity in policy.review_severities:
        return "needs-review"
    return "clean"


_RANK: dict[Verdict, int] = {"clean": 0, "needs-review": 1, "disqualified": 2}


def verdict(flags: list[Flag], policy: Policy) -> Verdict:
    worst: Verdict = "clean"
    for flag in flags:
        effect = flag_effect(flag, policy)
        if _RANK[effect] > _RANK[worst]:
            worst = effect
    return worst


def audited_medal(medal: Medal, episode_verdict: Verdict) -> Medal:
    """The medal that survives the audit: a disqualified episode keeps none.

    An episode waiting for review keeps its medal in the audited column only once
    cleared; until then it does not count, so a published table never holds an
    unreviewed suspicion.
    """
    return medal if episode_verdict == "clean" else "none"


def apply_reviews(episode_id: str, flags: list[Flag], reviews: dict[tuple[str, str], Review]) -> None:
    for flag in flags:
        review = reviews.get((episode_id, flag.id))
        if review is not None:
            flag.review = review
