"""The episode as one numbered list of lines, each mapped back to its file and line.

The model sees lines labelled `[L<n>]`, where n is the line's index in this view;
grounding maps a quote back through the same view to (file, line, encoding) so that
`monitors.evidence.cite_text` can check it against the file as it is. The view is
lazy: a 100 MB log is never split into a list of line objects, only the lines that
are sent are.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field
from functools import cached_property

from auditor.models import Action, Actor, Episode, Evidence, SourceEncoding


@dataclass(frozen=True)
class Source:
    """A block of text that starts at `file:line`: an action, or a code file."""

    text: str
    file: str
    line: int
    encoding: SourceEncoding
    actor: Actor
    kind: str

    @classmethod
    def of_action(cls, action: Action) -> Source:
        src = action.source
        return cls(action.text, src.file, src.line, src.encoding, action.actor, action.kind.value)

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
    first_of_source: bool


@dataclass
class LogView:
    sources: list[Source]
    _starts: list[int] = field(init=False)  # view index of each source's first line
    _split: dict[int, list[str]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._starts = []
        total = 0
        for s in self.sources:
            self._starts.append(total)
            total += s.text.count("\n") + 1
        self._total = total

    @classmethod
    def of_episode(cls, episode: Episode) -> LogView:
        """Actions in log order, then the code files the agent left (code/ is not in the actions)."""
        sources = [Source.of_action(a) for a in episode.actions if a.text]
        sources += [
            Source(c.text, c.path, 1, SourceEncoding.plain, Actor.agent, "code") for c in episode.code_files if c.text
        ]
        return cls(sources)

    def __len__(self) -> int:
        return self._total

    @cached_property
    def total_chars(self) -> int:
        return sum(len(s.text) + 1 for s in self.sources)

    def start_of(self, source_index: int) -> int:
        return self._starts[source_index]

    def line_count(self, source_index: int) -> int:
        end = self._starts[source_index + 1] if source_index + 1 < len(self._starts) else self._total
        return end - self._starts[source_index]

    def lines_of(self, source_index: int) -> list[str]:
        lines = self._split.get(source_index)
        if lines is None:
            lines = self.sources[source_index].text.split("\n")
            self._split[source_index] = lines
        return lines

    def line(self, index: int) -> LogLine:
        si = bisect.bisect_right(self._starts, index) - 1
        src = self.sources[si]
        offset = index - self._starts[si]
        return LogLine(
            index=index,
            text=self.lines_of(si)[offset],
            file=src.file,
            file_line=src.file_line(offset),
            encoding=src.encoding,
            actor=src.actor,
            kind=src.kind,
            first_of_source=offset == 0,
        )

    def indexes_of(self, evidence: Evidence) -> list[int]:
        """View lines that an evidence item (file, line, excerpt) points at."""
        found: list[int] = []
        needle = _decoded(evidence.excerpt)
        for si, src in enumerate(self.sources):
            if src.file != evidence.file:
                continue
            if src.encoding == SourceEncoding.json:
                if src.line == evidence.line:
                    found += [self._starts[si] + i for i, t in enumerate(self.lines_of(si)) if needle in t]
                continue
            offset = evidence.line - src.line
            if 0 <= offset < self.line_count(si):
                found.append(self._starts[si] + offset)
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
