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
from monitors.plagiarism.tokenize import Bindings, Tokens, tokenize

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


def analyse(code: str, bindings: Bindings | None = None) -> Doc:
    """Clean (boilerplate, magics, data paths) and analyse; line numbers stay those of `code`."""
    return _doc(tokenize(clean_code(code), bindings))


def _doc(tokens: Tokens) -> Doc:
    return Doc(tokens, fingerprint(tokens.api), fingerprint(tokens.structure))


def analyse_parts(parts: list[str], bindings: Bindings | None = None, max_tokens: int = 200_000) -> tuple[Doc, list[int]]:
    """Several pieces of code (an agent's cells, nodes, edits, files) as one document.

    Each part is tokenized on its own (a part that ends inside a bracket does not swallow
    the next), and a statement already seen in an earlier part is left out: a debug
    node or an edit repeats most of the code before it, and the document is the union
    of the code, in the order it first appeared. Lines are numbered through the
    document: part i's line n is `offsets[i] + n`.
    """
    seen: set[tuple[str, ...]] = set()
    structure: list[str] = []
    api: list[str] = []
    lines: list[int] = []
    offsets: list[int] = []
    offset = 0
    for part in parts:
        offsets.append(offset)
        tokens = tokenize(clean_code(part), bindings)
        kept_here: set[tuple[str, ...]] = set()
        for a, b in _statements(tokens.api):
            key = tuple(tokens.api[a:b])
            if key in seen or len(api) >= max_tokens:
                continue
            kept_here.add(key)
            structure.extend(tokens.structure[a:b])
            api.extend(tokens.api[a:b])
            lines.extend(n + offset for n in tokens.lines[a:b])
        seen |= kept_here  # repeats inside one part are the code's own, and stay
        offset += part.count("\n") + 2
    return _doc(Tokens(structure, api, lines)), offsets


def _statements(api: list[str]) -> list[tuple[int, int]]:
    """Token spans [a, b) of the statements, each with its closing `;`."""
    spans, start = [], 0
    for i, tok in enumerate(api):
        if tok == ";":
            spans.append((start, i + 1))
            start = i + 1
    if start < len(api):
        spans.append((start, len(api)))
    return spans


@dataclass
class PairResult:
    score: float
    channel: str  # the channel whose metrics gave the score
    metrics: PairMetrics  # of that channel
    api: PairMetrics  # of the API channel, whichever gave the score


def compare(agent: Doc, notebook: Doc) -> PairResult:
    n_a, n_b = len(agent), len(notebook)
    api = pair_metrics(agent.api, notebook.api, n_a, n_b)
    structure = pair_metrics(agent.structure, notebook.structure, n_a, n_b)
    s_api = channel_score(api)
    s_struct = STRUCTURE_WEIGHT * channel_score(structure)
    if s_struct > s_api:
        return PairResult(s_struct, "structure", structure, api)
    return PairResult(s_api, "api", api, api)


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
