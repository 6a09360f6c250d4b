"""The episode as one numbered list of lines, each mapped back to its file and line.

The model sees lines labelled `[L<n>]`, where n is the line's index in this view;
grounding maps a quote back through the same view to (file, line, encoding) so that
`monitors.evidence.cite_text` can check it against the file as it is.

The view is built in one pass over `Episode.iter_actions()`, which also finds the
signals and the lines other monitors cited. Logs held in memory are referenced as
they are; a log too large to hold (`Episode.streamed`) keeps only what a window can
need: the first line of each action and the lines around signals and citations,
up to a bound. A line the view does not hold is simply never sent.
"""

from __future__ import annotations

import bisect
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from auditor.models import Action, Actor, Episode, Evidence, SourceEncoding
from monitors.llm.signals import Compiled, line_scores

log = logging.getLogger(__name__)

KEEP_AROUND = 5  # lines kept on each side of a signal or citation in a streamed log
MAX_STREAMED_KEPT = 8 << 20  # characters of streamed logs the view may hold


@dataclass(frozen=True)
class Source:
    """A block of text that starts at `file:line`: an action, or a code file.

    `text` holds every line; a source from a streamed log may instead hold only some
    lines in `sparse` (offset -> text)."""

    text: str | None
    file: str
    line: int
    encoding: SourceEncoding
    actor: Actor
    kind: str
    n_lines: int
    sparse: dict[int, str] | None = None

    def file_line(self, index: int) -> int:
        """The file line of text line `index` (a JSON string stays on its one raw line)."""
        return self.line if self.encoding == SourceEncoding.json else self.line + index


@dataclass(frozen=True)
class LogLine:
    index: int  # position in the view: the `L<n>` label
    text: str
    file: str
    file_line: int
    encoding: SourceEncoding
    actor: Actor
    kind: str


@dataclass
class LogView:
    sources: list[Source] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # view index of each source's first line
    total_lines: int = 0
    total_chars: int = 0
    signal_scores: dict[int, float] = field(default_factory=dict)
    cited: set[int] = field(default_factory=set)  # lines other monitors' evidence points at
    streamed_kept: int = 0
    _split: dict[int, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.total_lines

    # ------------------------------------------------------------------ building

    @classmethod
    def build(cls, episode: Episode, signals: Compiled, evidence: list[Evidence] = ()) -> LogView:
        """Actions in log order (streamed logs included), then the code files (code/ is not in the actions)."""
        view = cls()
        wanted = _Citations(evidence)
        streamed = set(episode.streamed)
        try:
            for action in episode.iter_actions():
                if action.text:
                    view._add(action.text, _meta(action), signals, wanted, streamed=action.source.file in streamed)
        except Exception as exc:  # a streamed log that fails half-way: what was read is still used
            log.warning("%s: reading actions for the LLM monitor stopped: %s", episode.episode_id, exc)
        for code in episode.code_files:
            if code.text:
                view._add(code.text, (code.path, 1, SourceEncoding.plain, Actor.agent, "code"), signals, wanted, False)
        return view

    def _add(self, text: str, meta: tuple, signals: Compiled, wanted: _Citations, streamed: bool) -> None:
        file, line, encoding, actor, kind = meta
        n_lines = text.count("\n") + 1
        start = self.total_lines
        scores = line_scores(text, actor, signals)
        for offset, score in scores.items():
            self.signal_scores[start + offset] = self.signal_scores.get(start + offset, 0.0) + score
        cited = wanted.offsets(text, file, line, encoding, n_lines)
        self.cited.update(start + o for o in cited)
        self.total_chars += len(text) + 1
        sparse = None
        if streamed:
            text, sparse = None, self._sparse(text, set(scores) | set(cited))
        self.sources.append(Source(text, file, line, encoding, actor, kind, n_lines, sparse))
        self.starts.append(start)
        self.total_lines += n_lines

    def _sparse(self, text: str, centres: set[int]) -> dict[int, str]:
        lines = text.split("\n")
        keep = {0}
        if self.streamed_kept < MAX_STREAMED_KEPT:
            for c in centres:
                keep.update(range(max(0, c - KEEP_AROUND), min(len(lines), c + KEEP_AROUND + 1)))
        kept = {i: lines[i] for i in sorted(keep)}
        self.streamed_kept += sum(len(t) for t in kept.values())
        return kept

    # ------------------------------------------------------------------ reading

    def start_of(self, source_index: int) -> int:
        return self.starts[source_index]

    def line(self, index: int) -> LogLine | None:
        """The line at view index `index`, or None when the view does not hold it."""
        if not 0 <= index < self.total_lines:
            return None
        si = bisect.bisect_right(self.starts, index) - 1
        src = self.sources[si]
        offset = index - self.starts[si]
        if src.sparse is not None:
            text = src.sparse.get(offset)
            if text is None:
                return None
        else:
            lines = self._split.get(si)
            if lines is None:
                lines = self._split[si] = src.text.split("\n")
            text = lines[offset]
        return LogLine(index, text, src.file, src.file_line(offset), src.encoding, src.actor, src.kind)


def _meta(action: Action) -> tuple:
    src = action.source
    return (src.file, src.line, src.encoding, action.actor, action.kind.value)


class _Citations:
    """Finds, in each source as it is read, the lines that evidence items point at."""

    def __init__(self, evidence: list[Evidence]) -> None:
        self.by_file: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for ev in evidence:
            self.by_file[ev.file].append((ev.line, _decoded(ev.excerpt)))

    def offsets(self, text: str, file: str, line: int, encoding: SourceEncoding, n_lines: int) -> list[int]:
        found: list[int] = []
        for ev_line, needle in self.by_file.get(file, ()):
            if encoding == SourceEncoding.json:
                if ev_line == line and needle and needle in text:
                    found += [i for i, t in enumerate(text.split("\n")) if needle in t]
            elif line <= ev_line < line + n_lines:
                found.append(ev_line - line)
        return found


def _decoded(excerpt: str) -> str:
    """An excerpt quoted from a JSON file is escaped; the view holds decoded text."""
    excerpt = excerpt.strip()
    if "\\" in excerpt:
        try:
            return json.loads(f'"{excerpt}"')
        except json.JSONDecodeError:
            pass
    return excerpt
