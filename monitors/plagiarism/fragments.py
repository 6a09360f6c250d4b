"""Steps 4-5: one pair of token streams → matched fragments and the pair's metrics.

As in Dolos: every fingerprint the two sides share is a match at (agent position,
notebook position); matches on one diagonal that follow each other within a
winnowing window extend one fragment. A fragment is a run of code both sides hold
in the same order; its token span gives line ranges on both sides.

The metrics:
- `similarity`: Dolos's, tokens covered on both sides over tokens on both sides;
- `agent_coverage` / `notebook_coverage`: the share of each side in fragments;
- `containment`: coverage of the shorter side, so that a whole short notebook pasted
  into long agent code (or a short script cut from a long notebook) scores high;
- `longest`: the longest fragment, in tokens.
Fragments shorter than `min_tokens` are idioms (`df = pd.read_csv(...)`), not copies,
and count for nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from monitors.plagiarism.fingerprint import K, W, Fingerprints

MIN_FRAGMENT_TOKENS = 2 * K
_MAX_OCCURRENCES = 8  # a hash repeated more often than this within a file is repetitive code


@dataclass(frozen=True, slots=True)
class Fragment:
    """A shared run: token spans [agent_start, agent_end) and [nb_start, nb_end)."""

    agent_start: int
    agent_end: int
    nb_start: int
    nb_end: int

    @property
    def length(self) -> int:
        return self.agent_end - self.agent_start


@dataclass
class PairMetrics:
    similarity: float = 0.0
    agent_coverage: float = 0.0
    notebook_coverage: float = 0.0
    containment: float = 0.0
    longest: int = 0
    agent_tokens: int = 0
    notebook_tokens: int = 0
    fragments: list[Fragment] = field(default_factory=list)


def match_fragments(
    agent: Fingerprints, notebook: Fingerprints, k: int = K, w: int = W, min_tokens: int = 0
) -> list[Fragment]:
    """Fragments of shared fingerprints at least `min_tokens` long, longest first."""
    nb_positions: dict[int, list[int]] = defaultdict(list)
    for h, p in zip(notebook.hashes.tolist(), notebook.positions.tolist()):
        nb_positions[h].append(p)
    agent_counts: dict[int, int] = defaultdict(int)
    for h in agent.hashes.tolist():
        agent_counts[h] += 1
    # open fragments keyed by diagonal (nb - agent): [agent_start, last_agent, nb_start]
    open_runs: dict[int, list[int]] = {}
    done: list[Fragment | None] = []
    seen: dict[int, int] = defaultdict(int)
    for h, a in zip(agent.hashes.tolist(), agent.positions.tolist()):
        bs = nb_positions.get(h)
        if not bs:
            continue
        if len(bs) > _MAX_OCCURRENCES or agent_counts[h] > _MAX_OCCURRENCES:
            # repetitive code (`.replace(S, S)` forty times): pairing every repeat with
            # every other is quadratic noise. Such a hash carries on the runs it continues,
            # and otherwise pairs its n-th occurrence here with the n-th one there.
            rank = seen[h]
            seen[h] += 1
            extended = False
            for b in bs:
                run = open_runs.get(b - a)
                if run is not None and 0 < a - run[1] <= w:
                    run[1] = a
                    extended = True
            if not extended and rank < len(bs):
                _start_or_extend(open_runs, done, a, bs[rank], k, w)
            continue
        for b in bs:
            _start_or_extend(open_runs, done, a, b, k, w)
    done.extend(_close(run, diag, k) for diag, run in open_runs.items())
    frags = [f for f in done if f is not None and f.length >= min_tokens]
    frags.sort(key=lambda f: (-f.length, f.agent_start))
    return frags


def _start_or_extend(
    open_runs: dict[int, list[int]], done: list[Fragment | None], a: int, b: int, k: int, w: int
) -> None:
    """Extend the run on a's diagonal when a follows it closely; else close it and start anew."""
    diag = b - a
    run = open_runs.get(diag)
    if run is not None and 0 < a - run[1] <= w:
        run[1] = a
        return
    if run is not None:
        done.append(_close(run, diag, k))
    open_runs[diag] = [a, a, b]


def _close(run: list[int], diag: int, k: int) -> Fragment | None:
    a0, a1, b0 = run
    if a1 == a0:
        return None  # a single shared k-gram is shorter than any fragment worth keeping
    return Fragment(a0, a1 + k, b0, b0 + (a1 - a0) + k)


def pair_metrics(
    agent: Fingerprints,
    notebook: Fingerprints,
    agent_tokens: int,
    notebook_tokens: int,
    min_tokens: int = MIN_FRAGMENT_TOKENS,
) -> PairMetrics:
    frags = match_fragments(agent, notebook, min_tokens=min_tokens)
    if not frags or agent_tokens == 0 or notebook_tokens == 0:
        return PairMetrics(agent_tokens=agent_tokens, notebook_tokens=notebook_tokens)
    cov_a = _covered(agent_tokens, [(f.agent_start, f.agent_end) for f in frags])
    cov_b = _covered(notebook_tokens, [(f.nb_start, f.nb_end) for f in frags])
    smaller = min(agent_tokens, notebook_tokens)
    covered_smaller = cov_a if agent_tokens <= notebook_tokens else cov_b
    return PairMetrics(
        similarity=(cov_a + cov_b) / (agent_tokens + notebook_tokens),
        agent_coverage=cov_a / agent_tokens,
        notebook_coverage=cov_b / notebook_tokens,
        containment=covered_smaller / smaller,
        longest=frags[0].length,
        agent_tokens=agent_tokens,
        notebook_tokens=notebook_tokens,
        fragments=frags,
    )


def _covered(n: int, spans: list[tuple[int, int]]) -> int:
    mask = np.zeros(n + 1, dtype=np.int32)
    for s, e in spans:
        mask[max(s, 0)] += 1
        mask[min(e, n)] -= 1
    return int(np.count_nonzero(np.cumsum(mask)[:n]))
