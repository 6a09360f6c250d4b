"""One pair (agent code, notebook) → the score the decision uses.

The score of a channel is the mean of two shares:
- Dolos's similarity: tokens in shared fragments over tokens on both sides;
- containment: the share of the shorter side (at most `CONTAINMENT_CAP` tokens, about
  40 lines) in shared fragments.
Similarity alone misses a notebook pasted among much of the agent's own code (or a
script cut from a long notebook); containment alone calls every shared 40-line block
a copy, which public notebooks, borrowing from each other, often share. Their mean
is high for whole copies and for substantial partial ones (a 40-line block that is
most of the agent's script), and stays low for a few shared blocks in two long files.

The API channel decides; the structure channel (every name normalised) is a second
opinion, discounted because it matches more by chance, for copies whose API names
were aliased too.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitors.plagiarism.fingerprint import Fingerprints, fingerprint
from monitors.plagiarism.fragments import PairMetrics, pair_metrics
from monitors.plagiarism.notebooks import clean_code
from monitors.plagiarism.tokenize import Tokens, tokenize

CONTAINMENT_CAP = 400
#: the structure channel matches more by chance (every name is `N`); its score is
#: discounted so that it only wins when the API channel was disguised
STRUCTURE_WEIGHT = 0.8


@dataclass(frozen=True)
class Doc:
    """A source text analysed once: token streams and fingerprints of both channels."""

    tokens: Tokens
    api: Fingerprints
    structure: Fingerprints

    def __len__(self) -> int:
        return len(self.tokens)


def analyse(code: str) -> Doc:
    """Clean (boilerplate, magics, data paths) and analyse; line numbers stay those of `code`."""
    tokens = tokenize(clean_code(code))
    return Doc(tokens, fingerprint(tokens.api), fingerprint(tokens.structure))


@dataclass
class PairResult:
    score: float
    channel: str  # the channel whose metrics gave the score
    metrics: PairMetrics  # of that channel


def compare(agent: Doc, notebook: Doc) -> PairResult:
    n_a, n_b = len(agent), len(notebook)
    api = pair_metrics(agent.api, notebook.api, n_a, n_b)
    structure = pair_metrics(agent.structure, notebook.structure, n_a, n_b)
    s_api = channel_score(api)
    s_struct = STRUCTURE_WEIGHT * channel_score(structure)
    if s_struct > s_api:
        return PairResult(s_struct, "structure", structure)
    return PairResult(s_api, "api", api)


def channel_score(m: PairMetrics) -> float:
    return (m.similarity + capped_containment(m)) / 2


def capped_containment(m: PairMetrics) -> float:
    smaller = min(m.agent_tokens, m.notebook_tokens, CONTAINMENT_CAP)
    if smaller <= 0 or not m.fragments:
        return 0.0
    covered_smaller = (
        m.agent_coverage * m.agent_tokens
        if m.agent_tokens <= m.notebook_tokens
        else m.notebook_coverage * m.notebook_tokens
    )
    return min(1.0, covered_smaller / smaller)
