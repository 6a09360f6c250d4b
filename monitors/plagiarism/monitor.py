"""The registered monitor: the agent's code against public notebooks of its competition.

What is checked: the episode's code files (`code/`, `best_solution.py`; notebooks
by their code cells) and the agent's own code in its actions (IPython cells, AIDE
journal nodes, Python tool calls, Python files it wrote, the new side of MLAB's Edit
Script diffs, Python handed to an interpreter in a shell command), each as one unit,
and all of them together as one agent document (`analyse_parts`: in order, each
statement once), so that a notebook pasted over many cells, nodes or edits is seen
whole. Identical units (AIDE repeats the best node in three places) are compared
once; the first place they occur in is cited, code files before logs.

A pair is a copy when its score reaches the threshold, or when it holds a large
enough part of the notebook (`partial_share` of its tokens, at least
`partial_min_tokens`): 40 % of a short notebook pasted into long own code scores low
on similarity yet is a copy.

Where the notebooks come from: `--notebooks DIR|INDEX`, else the environment variable
`MLE_AUDITOR_NOTEBOOKS`. Without either the monitor reports itself unavailable:
a plagiarism check against nothing would read as "no plagiarism".

Settings (`[rules.settings]` of the `plagiarism` rule): `threshold` (default 0.6, as
MLE-bench), `margin` over the competition's background, `min_copied_tokens`,
`partial_share`, `partial_min_tokens`, `max_flags` per episode.
"""

from __future__ import annotations

import bisect
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz

from auditor.models import Action, ActionKind, Episode, Evidence, Flag, Match, SourceEncoding
from monitors.base import AuditContext, Monitor, register
from monitors.evidence import cite, cite_text
from monitors.plagiarism.calibrate import DEFAULT_MARGIN
from monitors.plagiarism.cli import load_or_build_index
from monitors.plagiarism.fragments import Fragment
from monitors.plagiarism.index import NotebookIndex
from monitors.plagiarism.notebooks import CodeText, code_of_file
from monitors.plagiarism.pairs import Doc, PairResult, analyse, analyse_parts, capped_containment, compare
from monitors.plagiarism.tokenize import Bindings, import_bindings
from monitors.static.shell import parse as parse_shell
from monitors.static.units import new_side

RULE = "plagiarism"
ENV_NOTEBOOKS = "MLE_AUDITOR_NOTEBOOKS"
DEFAULT_THRESHOLD = 0.6
DEFAULT_MIN_COPIED_TOKENS = 80  # about 8 lines: less is an idiom, whatever the share
DEFAULT_PARTIAL_SHARE = 0.35
DEFAULT_PARTIAL_MIN_TOKENS = 100  # about 10 lines of the notebook
DEFAULT_MAX_FLAGS = 3
EVIDENCE_FRAGMENTS = 3
PREFER_MARGIN = 0.05
PREFER_COVERAGE_MARGIN = 0.1  # a piece that holds much less of the notebook than the whole document is not cited alone


@dataclass(frozen=True)
class CopyRule:
    """When a pair is a copy: the rulebook's settings, calibrated for the competition."""

    threshold: float = DEFAULT_THRESHOLD
    min_tokens: int = DEFAULT_MIN_COPIED_TOKENS
    partial_share: float = DEFAULT_PARTIAL_SHARE
    partial_min_tokens: int = DEFAULT_PARTIAL_MIN_TOKENS

    def whole(self, result: PairResult) -> bool:
        """The pair scores as a copy (most of the agent's code, or most of the notebook)."""
        m = result.metrics
        return result.score >= self.threshold and m.agent_coverage * m.agent_tokens >= self.min_tokens

    def partial(self, result: PairResult) -> bool:
        """A large part of the notebook is in the agent's code, however much else it holds
        (API channel: names the copier keeps, so shared shapes alone do not count)."""
        m = result.api
        copied = m.notebook_coverage * m.notebook_tokens
        return m.notebook_coverage >= self.partial_share and copied >= max(self.partial_min_tokens, self.min_tokens)

    def is_copy(self, result: PairResult) -> bool:
        return self.whole(result) or self.partial(result)


@dataclass
class Unit:
    """One piece of agent code and how to cite a line of it."""

    code: CodeText
    file: str
    action: Action | None = None  # cite through the action when the code came from a log
    encoding: SourceEncoding = SourceEncoding.plain

    def label(self, first: int, last: int) -> str:
        if self.action is None:
            return f"{self.file}:{self.code.file_line(first)}-{self.code.file_line(last)}"
        step = f" (step {self.action.step})" if self.action.step is not None else ""
        return f"{self.file}:{self.action.source.line}{step}, lines {first}-{last} of the code"


@dataclass
class Query:
    """Agent code compared with the notebooks: one unit, or the agent document of several.
    Doc line n is line `n - offsets[i]` of units[i]."""

    units: list[Unit]
    offsets: list[int]
    doc: Doc

    def locate(self, line: int) -> tuple[int, int]:
        """(unit index, 1-based line in that unit) of document line `line`."""
        i = max(bisect.bisect_right(self.offsets, line - 1) - 1, 0)
        return i, line - self.offsets[i]

    def text_line(self, line: int) -> str:
        i, n = self.locate(line)
        lines = self.units[i].code.text.split("\n")
        return lines[n - 1] if 1 <= n <= len(lines) else ""

    def unit_end(self, line: int) -> int:
        """The document line of the last line of the unit holding `line`."""
        i, _ = self.locate(line)
        return self.offsets[i] + self.units[i].code.text.count("\n") + 1

    def label(self, fragments: list[Fragment]) -> str:
        """Where the fragments are: one range of one piece, or the pieces of the document."""
        first, last = agent_span(self.doc, fragments)
        i, a = self.locate(first)
        j, b = self.locate(last)
        if i == j:
            return self.units[i].label(a, b)
        pieces = {self.locate(_agent_lines(self.doc, f)[0])[0] for f in fragments}
        files = {self.units[k].file for k in pieces}
        return (f"the agent's code from {self.units[i].label(a, a)} to {self.units[j].label(b, b)} "
                f"({len(pieces)} pieces in {len(files)} file(s), read as one document)")

    def spread(self) -> bool:
        return len(self.units) > 1

    def piece_of(self, frag: Fragment) -> int:
        return self.locate(_agent_lines(self.doc, frag)[0])[0]

    def split_at_pieces(self, frag: Fragment) -> list[Fragment]:
        """The fragment cut where it passes from one piece to the next (a notebook pasted
        over consecutive cells is one fragment of the document)."""
        lines = self.doc.tokens.lines
        out, start = [], frag.agent_start
        for i in range(frag.agent_start + 1, frag.agent_end + 1):
            if i == frag.agent_end or self.locate(lines[i])[0] != self.locate(lines[start])[0]:
                shift = start - frag.agent_start
                out.append(Fragment(start, i, frag.nb_start + shift, frag.nb_start + shift + (i - start)))
                start = i
        return out


@dataclass
class Hit:
    query: Query
    notebook: int
    result: PairResult


@register
class PlagiarismMonitor(Monitor):
    name = "plagiarism"
    order = 30

    def __init__(self) -> None:
        self.index: NotebookIndex | None = None

    def unavailable(self, ctx: AuditContext) -> str | None:
        source = notebooks_source(ctx)
        if source is None:
            return f"no public notebooks: pass --notebooks DIR|INDEX (or set {ENV_NOTEBOOKS})"
        if not Path(source).exists():
            return f"notebooks not found: {source}"
        return None

    def prepare(self, ctx: AuditContext) -> None:
        source = notebooks_source(ctx)
        if source is not None:
            self.index = load_or_build_index(source)

    def check(self, episode: Episode, ctx: AuditContext) -> list[Flag]:
        if self.index is None or not self.index.docs_of(episode.competition_id):
            return []
        settings = ctx.rulebook.settings(RULE)
        max_flags = int(settings.get("max_flags", DEFAULT_MAX_FLAGS))
        rule = copy_rule(settings, self.index, episode.competition_id)
        hits = best_hits(self.index, episode, rule)
        flags = []
        for hit in sorted(hits, key=lambda h: -h.result.score)[:max_flags]:
            flag = self._flag(episode, hit, rule)
            if flag is not None:
                flags.append(flag)
        return flags

    def _flag(self, episode: Episode, hit: Hit, rule: CopyRule) -> Flag | None:
        assert self.index is not None
        source = self.index.source(hit.notebook)
        nb_code = self.index.code(hit.notebook)
        nb_doc = self.index.doc(hit.notebook)
        score = hit.result.score
        match_base = Match(source=source, line=1, similarity=round(score, 3))
        evidence = fragment_evidence(episode, hit, nb_code, nb_doc, match_base)
        if not evidence:
            return None
        m = hit.result.metrics
        frags = m.fragments
        background = self.index.background(episode.competition_id)
        why = "" if rule.whole(hit.result) else (
            f"; a partial copy: {hit.result.api.notebook_coverage:.0%} of the notebook "
            f"({hit.result.api.notebook_coverage * hit.result.api.notebook_tokens:.0f} tokens) is in the agent's code"
        )
        summary = (
            f"{hit.query.label(frags)} is copied from public notebook {source}: "
            f"score {score:.2f} (similarity {m.similarity:.2f}, {capped_containment(m):.0%} of the shorter side) in "
            f"{len(frags)} shared fragment(s), the longest {frags[0].length} tokens ({_line_count(hit.query.doc, frags[0])} lines), "
            f"{m.agent_coverage:.0%} of the agent's code covered; threshold {rule.threshold:.2f}{why}; {background.describe(score)}"
        )
        return Flag(
            rule=RULE,
            severity="high",
            monitor=self.name,
            confidence=confidence(max(score, rule.threshold if rule.partial(hit.result) else score), rule.threshold),
            summary=summary,
            evidence=evidence,
        )


def notebooks_source(ctx: AuditContext) -> str | None:
    return ctx.notebooks or os.environ.get(ENV_NOTEBOOKS) or None


def copy_rule(settings: dict, index: NotebookIndex, competition: str) -> CopyRule:
    default = float(settings.get("threshold", DEFAULT_THRESHOLD))
    margin = float(settings.get("margin", DEFAULT_MARGIN))
    return CopyRule(
        threshold=index.background(competition).threshold(default, margin),
        min_tokens=int(settings.get("min_copied_tokens", DEFAULT_MIN_COPIED_TOKENS)),
        partial_share=float(settings.get("partial_share", DEFAULT_PARTIAL_SHARE)),
        partial_min_tokens=int(settings.get("partial_min_tokens", DEFAULT_PARTIAL_MIN_TOKENS)),
    )


def confidence(score: float, threshold: float) -> float:
    """0.6 at the threshold, rising to 0.99 for a verbatim copy."""
    if threshold >= 1.0:
        return 0.99
    return round(min(0.99, 0.6 + 0.4 * max(0.0, score - threshold) / (1.0 - threshold)), 3)


# --------------------------------------------------------------------------- units


def agent_units(episode: Episode) -> list[Unit]:
    """Code files first, then the agent's code in its actions; identical code only once."""
    units: list[Unit] = []
    for cf in sorted(episode.code_files, key=lambda c: (c.language != "python", c.path)):
        if cf.language == "python":
            units.append(Unit(code_of_file(cf.path, cf.text), cf.path))
        elif cf.language == "notebook":
            units.append(Unit(code_of_file(".ipynb", cf.text), cf.path, encoding=SourceEncoding.json))
    for action in episode.actions_of(ActionKind.python, ActionKind.file_write, ActionKind.shell):
        for text in action_code(action):
            units.append(Unit(CodeText(text), action.source.file, action=action, encoding=action.source.encoding))
    seen: set[str] = set()
    unique = []
    for u in units:
        key = hashlib.sha256(u.code.text.strip().encode("utf-8", errors="replace")).hexdigest()
        if key not in seen and u.code.text.strip():
            seen.add(key)
            unique.append(u)
    return unique


def action_code(action: Action) -> list[str]:
    """The Python an action holds, line for line with its text (other lines blank), so
    that line i of the code is line i of the action and cites there."""
    if action.kind == ActionKind.python:
        return [action.text]
    if action.kind == ActionKind.file_write:
        if not str(action.meta.get("path") or "").endswith(".py"):
            return []
        return [new_side(action.text) if action.meta.get("diff") else action.text]
    if "python" not in action.text and ".py" not in action.text:
        return []  # a shell command that hands no code to Python (the common case, kept cheap)
    out = []
    for embedded in parse_shell(action.text).code:
        if embedded.language == "python":
            out.append("\n" * embedded.line + embedded.code)
    return out


def episode_bindings(units: list[Unit]) -> Bindings:
    """Every import of the agent's code: a cell uses what an earlier cell imported."""
    bound = Bindings()
    for u in units:
        bound = bound.merged(import_bindings(u.code.text))
    return bound


def queries(units: list[Unit]) -> list[Query]:
    """Each unit alone, then (when there are several) all of them as one document."""
    bound = episode_bindings(units)
    out = [Query([u], [0], analyse(u.code.text, bound)) for u in units]
    if len(units) > 1:
        doc, offsets = analyse_parts([u.code.text for u in units], bound)
        out.append(Query(units, offsets, doc))
    return out


def best_hits(index: NotebookIndex, episode: Episode, rule: CopyRule) -> list[Hit]:
    """For each notebook the agent's code copies, the query to cite: the first (code files
    first, the whole document last) whose score is within `PREFER_MARGIN` of the best
    copy and that holds about as much of the notebook as the best, so a copy in
    code/solution.py is cited there rather than in the twelfth journal node, and a copy
    spread over many cells is cited across them."""
    by_notebook: dict[int, list[Hit]] = {}
    for query in queries(agent_units(episode)):
        if len(query.doc) == 0:
            continue
        for cand in index.candidates(episode.competition_id, query.doc):
            result = compare(query.doc, index.doc(cand.doc))
            if result.score > 0 and rule.is_copy(result):
                by_notebook.setdefault(cand.doc, []).append(Hit(query, cand.doc, result))
    chosen = []
    for hits in by_notebook.values():
        top = max(h.result.score for h in hits)
        most = max(h.result.api.notebook_coverage for h in hits)
        eligible = [h for h in hits if h.result.score >= top - PREFER_MARGIN or h.result.api.notebook_coverage == most]
        chosen.append(next(h for h in eligible if h.result.api.notebook_coverage >= most - PREFER_COVERAGE_MARGIN))
    return chosen


# --------------------------------------------------------------------------- evidence


def _agent_lines(doc: Doc, frag: Fragment) -> tuple[int, int]:
    lines = doc.tokens.lines
    return lines[frag.agent_start], lines[min(frag.agent_end, len(lines)) - 1]


def _line_count(doc: Doc, frag: Fragment) -> int:
    first, last = _agent_lines(doc, frag)
    return last - first + 1


def _nb_lines(doc: Doc, frag: Fragment) -> tuple[int, int]:
    lines = doc.tokens.lines
    return lines[frag.nb_start], lines[min(frag.nb_end, len(lines)) - 1]


def fragment_evidence(episode: Episode, hit: Hit, nb_code: CodeText, nb_doc: Doc, base: Match) -> list[Evidence]:
    """For the longest fragments: the agent's first whole line of each, aligned to the
    notebook line it was copied from (rapidfuzz), with the notebook's line range."""
    query = hit.query
    nb_lines = nb_code.text.split("\n")
    out: list[Evidence] = []
    for frag in evidence_fragments(hit.result.metrics.fragments, query):
        a0, a1 = _agent_lines(query.doc, frag)
        b0, b1 = _nb_lines(nb_doc, frag)
        if frag.agent_start > 0 and query.doc.tokens.lines[frag.agent_start - 1] == a0:
            a0 += 1  # the fragment starts inside a statement: cite the first whole line
        anchor = _first_code_line(query, a0, min(a1, query.unit_end(a0)))
        if anchor is None:
            continue
        text = query.text_line(anchor)
        guess = _mapped_line(query.doc, nb_doc, frag, anchor)
        nb_line = align_line(text, nb_lines, max(b0, guess - 2), min(b1, guess + 2))
        match = base.model_copy(
            update={
                "line": nb_code.file_line(nb_line),
                "end_line": nb_code.file_line(b1),
                "excerpt": nb_lines[nb_line - 1].strip()[:300] or None,
            }
        )
        i, local = query.locate(anchor)
        ev = _cite_unit(episode, query.units[i], local, text, match)
        if ev is not None:
            out.append(ev)
    return out


def evidence_fragments(fragments: list[Fragment], query: Query | None = None) -> list[Fragment]:
    """The longest fragment and the next longest ones that are not slivers, in code order;
    for a document of several pieces, the longest fragment of each of the pieces that
    hold the most, so that the evidence shows the copy spread over them."""
    if not fragments:
        return []
    if query is not None and query.spread():
        chosen, pieces = [], set()
        split = [p for f in fragments for p in query.split_at_pieces(f)]
        for f in sorted(split, key=lambda f: (-f.length, f.agent_start)):
            piece = query.piece_of(f)
            if piece not in pieces:
                pieces.add(piece)
                chosen.append(f)
            if len(chosen) == EVIDENCE_FRAGMENTS:
                break
        return sorted(chosen, key=lambda f: f.agent_start)
    longest = fragments[0].length
    chosen = [f for f in fragments[:EVIDENCE_FRAGMENTS] if f is fragments[0] or f.length >= max(40, longest // 4)]
    return sorted(chosen, key=lambda f: f.agent_start)


def agent_span(doc: Doc, fragments: list[Fragment]) -> tuple[int, int]:
    """First and last line of the agent's code that the fragments cover."""
    spans = [_agent_lines(doc, f) for f in fragments]
    return min(s[0] for s in spans), max(s[1] for s in spans)


def _first_code_line(query: Query, first: int, last: int) -> int | None:
    for n in range(first, last + 1):
        if query.text_line(n).strip():
            return n
    return None


def _mapped_line(agent: Doc, notebook: Doc, frag: Fragment, agent_line: int) -> int:
    """The notebook line of the first token of `agent_line` inside the fragment (tokens
    of a fragment pair one to one)."""
    lines = agent.tokens.lines
    for i in range(frag.agent_start, frag.agent_end):
        if lines[i] >= agent_line:
            j = min(frag.nb_start + (i - frag.agent_start), len(notebook.tokens.lines) - 1)
            return notebook.tokens.lines[j]
    return notebook.tokens.lines[min(frag.nb_start, len(notebook.tokens.lines) - 1)]


def align_line(agent_line: str, nb_lines: list[str], first: int, last: int) -> int:
    """The notebook line in [first, last] most like `agent_line` (1-based, comments aside)."""
    target = strip_comment(agent_line)
    best, best_score = first, -1.0
    for n in range(first, min(last, len(nb_lines)) + 1):
        s = fuzz.ratio(target, strip_comment(nb_lines[n - 1]))
        if s > best_score:
            best, best_score = n, s
    return best


def strip_comment(line: str) -> str:
    code = line.split("#", 1)[0] if "#" in line and line.count("'") + line.count('"') == 0 else line
    return code.strip()


def _cite_unit(episode: Episode, unit: Unit, code_line: int, text: str, match: Match) -> Evidence | None:
    if unit.action is not None:
        return cite(episode, unit.action, code_line - 1, text.strip(), match=match)
    return cite_text(episode, unit.file, unit.code.file_line(code_line), text.strip(), unit.encoding, match)
