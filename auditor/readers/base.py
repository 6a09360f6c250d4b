"""One reader per log format, behind one small interface (as Inspect AI keeps one
recorder per log format): `sniff` recognises a file by its content, `read` turns
it into normalised `Action`s with exact source locations.

Adding an agent format is one new module in this package that subclasses `Reader`
and decorates it with `@register_reader`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from auditor import jsonpos
from auditor.models import Action
from auditor.safefs import MAX_READ_WHOLE, RunFS, UnsafePath

ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def strip_ansi(text: str) -> str:
    return ANSI_RE.sub("", text)


@dataclass
class SourceFile:
    """A file of an episode as a reader sees it: bounded, safe accessors and an error sink."""

    fs: RunFS
    path: Path  # absolute, inside the episode directory
    rel: str  # relative to the episode directory (what evidence cites)
    size: int
    head: bytes  # the first 64 KiB, for sniffing
    errors: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, fs: RunFS, path: Path, rel: str, errors: list[str], head_bytes: int = 64 << 10) -> SourceFile:
        """The file at `path` (inside the run), with its size and first bytes for sniffing."""
        return cls(fs=fs, path=path, rel=rel, size=fs.size(path), head=fs.head(path, head_bytes), errors=errors)

    @property
    def name(self) -> str:
        return self.path.name

    def head_text(self) -> str:
        return self.head.decode("utf-8", errors="replace")

    def lines(self) -> Iterator[tuple[int, str]]:
        """(line number, text) streamed; notes once if the file is not UTF-8."""
        bad = 0
        for n, text in self.fs.iter_lines(self.path):
            if "\ufffd" in text:
                bad += 1
            yield n, text
        if bad:
            self.errors.append(f"{self.rel}: not valid UTF-8 on {bad} line(s); read with replacement characters")

    def json(self, limit: int = MAX_READ_WHOLE) -> jsonpos.Parsed | None:
        """The file parsed leniently with string positions; None (and an error) if it cannot be."""
        try:
            data = self.fs.read_bytes(self.path, limit=limit)
        except UnsafePath as exc:
            self.errors.append(f"{exc}; read as plain text instead")
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.errors.append(f"{self.rel}: not valid UTF-8 ({exc.reason} at byte {exc.start}); decoded with replacements")
            text = data.decode("utf-8", errors="replace")
        parsed = jsonpos.loads(text, lenient=True)
        if parsed.error:
            what = "read up to the defect" if parsed.value is not None else "nothing could be read"
            self.errors.append(f"{self.rel}: not valid JSON ({parsed.error}); {what}")
        return parsed


class Reader(ABC):
    """A log format. Subclasses set `name` and implement `sniff` and `read`."""

    name: ClassVar[str]
    #: readers are tried in increasing order; the plain-text fallback comes last
    order: ClassVar[int] = 50
    #: True for line-based formats that read a file front to back in bounded memory: a large
    #: file of theirs is streamed again on each pass instead of being held in memory
    streamable: ClassVar[bool] = False

    @abstractmethod
    def sniff(self, f: SourceFile) -> bool:
        """True when this reader understands `f` (decided by content, not by name alone)."""

    @abstractmethod
    def read(self, f: SourceFile) -> Iterator[Action]:
        """The actions in `f`; problems go to `f.errors`, never raised for bad content."""


_READERS: list[type[Reader]] = []


def register_reader(cls: type[Reader]) -> type[Reader]:
    _READERS.append(cls)
    _READERS.sort(key=lambda c: (c.order, c.name))
    return cls


def readers() -> list[Reader]:
    import auditor.readers  # noqa: F401  (imports every reader module)

    return [cls() for cls in _READERS]
