"""Choosing what of a log the model reads: windows around what points at trouble.

Never the whole log: MLE-bench's own detector sends every character once per
question; here a per-episode allowance of characters is filled, in this order, with

1. windows around the lines other monitors flagged (`ctx.prior_flags`);
2. windows around cheap signals in the agent's own lines: submission writes, network
   use, /private and the grader, LLM APIs, and reasoning words that go with cheating;
3. a sampled overview: the first line of the agent's actions, evenly spaced, and the
   end of the log.

Lines whose text was already chosen are not sent again (AIDE repeats its code in every
later node and prompt; OpenHands' run.log repeats agent.log), and long lines are cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from auditor.models import Actor
from monitors.llm.logview import LogLine, LogView

MAX_LINE_CHARS = 300  # a longer line is cut; quotes must come from the part that was sent
LINE_OVERHEAD = 10  # the "[L123] " label and newline, in characters
MIN_DEDUP_CHARS = 20  # shorter lines ("}", "") are kept even when repeated: they carry layout
PRIOR_CONTEXT = 5
SIGNAL_CONTEXT = 3
HOT_SHARE = 0.75  # of the allowance; the rest (and what the hot windows leave) is overview
TAIL_LINES = 8
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class SentLine:
    """A line as the model sees it: cut, control characters made visible, same positions."""

    line: LogLine
    shown: str


@dataclass(frozen=True)
class Hotspot:
    center: int
    context: int
    score: float


def shown_text(text: str) -> str:
    # one character for one, so a span found in `shown` is the same span of the line
    return _CONTROL.sub("\ufffd", text[:MAX_LINE_CHARS])


def line_cost(shown: str) -> int:
    return len(shown) + LINE_OVERHEAD


def signal_hotspots(view: LogView) -> list[Hotspot]:
    return [Hotspot(i, SIGNAL_CONTEXT, score) for i, score in view.signal_scores.items()]


def prior_hotspots(view: LogView) -> list[Hotspot]:
    return [Hotspot(i, PRIOR_CONTEXT, float("inf")) for i in sorted(view.cited)]


class _Selection:
    """Lines chosen so far, within an allowance of characters, without repeated text."""

    def __init__(self, view: LogView, allowance: int) -> None:
        self.view = view
        self.allowance = allowance
        self.used = 0
        self.lines: dict[int, SentLine] = {}
        self._texts: set[str] = set()

    def _repeat(self, line: LogLine | None) -> bool:
        if line is None:
            return False
        key = " ".join(line.text.split())
        return len(key) >= MIN_DEDUP_CHARS and key in self._texts

    def add(self, index: int, limit: int) -> bool:
        """Add one line if it is new and fits under `limit`; False when it was not added
        because it did not fit or the view does not hold it (a repeat counts as added)."""
        if index in self.lines:
            return True
        line = self.view.line(index)
        if line is None or self._repeat(line):
            return line is not None  # a line the view does not hold cannot be sent
        shown = shown_text(line.text)
        cost = line_cost(shown)
        if self.used + cost > limit:
            return False
        self.used += cost
        self.lines[index] = SentLine(line, shown)
        key = " ".join(line.text.split())
        if len(key) >= MIN_DEDUP_CHARS:
            self._texts.add(key)
        return True

    def add_window(self, spot: Hotspot, limit: int) -> None:
        if spot.center not in self.lines and self._repeat(self.view.line(spot.center)):
            return  # the same text was already sent with its own context
        if not self.add(spot.center, limit):
            return
        lo, hi = max(0, spot.center - spot.context), min(len(self.view), spot.center + spot.context + 1)
        for i in sorted(range(lo, hi), key=lambda i: abs(i - spot.center)):
            self.add(i, limit)


def overview_candidates(view: LogView) -> list[int]:
    """The first line of each of the agent's actions, then the end of the log."""
    heads = [view.start_of(si) for si, s in enumerate(view.sources) if s.actor == Actor.agent]
    tail = list(range(max(0, len(view) - TAIL_LINES), len(view)))
    return list(dict.fromkeys(heads + tail))


def evenly(items: list[int] | range, k: int) -> list[int]:
    if k >= len(items):
        return list(items)
    if k <= 0:
        return []
    step = len(items) / k
    return [items[int(i * step)] for i in range(k)]


def select_lines(view: LogView, allowance: int) -> list[SentLine]:
    """The lines to send, in log order, costing at most `allowance` characters."""
    sel = _Selection(view, allowance)
    hot_limit = int(allowance * HOT_SHARE)
    for spot in prior_hotspots(view):
        sel.add_window(spot, allowance)  # what other monitors found may use the whole allowance
    for spot in sorted(signal_hotspots(view), key=lambda s: (-s.score, s.center)):
        if sel.used >= hot_limit:
            break
        sel.add_window(spot, hot_limit)
    add_overview(sel, view, allowance)
    return [sel.lines[i] for i in sorted(sel.lines)]


def add_overview(sel: _Selection, view: LogView, allowance: int) -> None:
    """What the allowance leaves: the whole log when it fits; otherwise half for the heads
    of the agent's actions and the end of the log, half for lines evenly spaced over it."""
    remaining = allowance - sel.used
    if view.total_chars + len(view) * LINE_OVERHEAD <= remaining:
        for i in range(len(view)):
            sel.add(i, allowance)
        return
    average = min(MAX_LINE_CHARS, view.total_chars // max(1, len(view))) + LINE_OVERHEAD
    heads_limit = sel.used + remaining // 2
    for i in evenly(overview_candidates(view), (remaining // 2) // average):
        sel.add(i, heads_limit)
    for i in evenly(range(len(view)), (allowance - sel.used) // average):
        sel.add(i, allowance)


def batches(lines: list[SentLine], request_chars: int) -> list[list[SentLine]]:
    """Consecutive groups of lines, each costing at most `request_chars` (one request each)."""
    out: list[list[SentLine]] = []
    current: list[SentLine] = []
    used = 0
    for sl in lines:
        cost = line_cost(sl.shown)
        if current and used + cost > request_chars:
            out.append(current)
            current, used = [], 0
        current.append(sl)
        used += cost
    if current:
        out.append(current)
    return out
