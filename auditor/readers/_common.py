"""Helpers shared by the format readers: building actions whose `Location` lets
`monitors.evidence.cite` find their text again, for JSON string values and for
blocks of plain (or ANSI-coloured) log lines.

Two rules make citing work:

- a JSON string value is cited at the line where the string starts (`JStr.line`),
  with encoding `json`; the action's text is the decoded string, unchanged;
- a block of log lines is cited at its first line, and line i of the action's text
  is file line `first + i` (encoding `plain`, or `ansi` when colour codes were
  stripped). A block therefore never joins the pieces of an over-long line that
  `SourceFile.lines()` delivers separately: each piece starts a block of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from auditor import jsonpos
from auditor.models import Action, ActionKind, Actor, SourceEncoding
from auditor.readers.base import ANSI_RE, SourceFile

Meta = dict[str, str | int | float | bool | None]

#: the most lines one output action holds; longer outputs are split so no action is unbounded
MAX_BLOCK_LINES = 2000


def scalar(value: object) -> str | int | float | bool | None:
    """A value fit for `Action.meta` (plain scalars; anything else as short text)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    return text if len(text) <= 500 else text[:500] + "…"


_SCALARS = (bool, int, float, str)


def clean_meta(meta: dict[str, object] | None) -> Meta:
    if not meta:
        return {}
    out: Meta = {}
    for k, v in meta.items():
        if v is None or v == "":
            continue
        # plain scalars pass as they are (the common case, kept cheap); JStr and others become short text
        out[k] = v if type(v) in _SCALARS and not (type(v) is str and len(v) > 500) else scalar(v)
    return out


def json_action(
    f: SourceFile,
    kind: ActionKind,
    value: object,
    json_path: str,
    *,
    actor: Actor = Actor.agent,
    step: int | None = None,
    tool: str | None = None,
    meta: dict[str, object] | None = None,
    file: str | None = None,
) -> Action | None:
    """An action for a JSON string value (None when the value is not a non-blank string)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return Action.of(
        kind,
        str(value),
        file or f.rel,
        max(jsonpos.line_of(value, 1), 1),
        SourceEncoding.json,
        actor,
        step,
        tool,
        clean_meta(meta),
        json_path,
    )


def as_int(value: object) -> int | None:
    """An int from a JSON number or numeric string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def get(obj: object, *keys: str | int) -> object:
    """obj[k1][k2]... or None when any step is missing or of the wrong type."""
    for k in keys:
        if isinstance(k, int):
            if not isinstance(obj, list) or not -len(obj) <= k < len(obj):
                return None
        elif not isinstance(obj, dict):
            return None
        elif k not in obj:
            return None
        obj = obj[k]
    return obj


# --------------------------------------------------------------------------- line blocks


@dataclass
class Block:
    """Consecutive file lines that become one action's text."""

    first: int  # file line of lines[0]
    lines: list[str] = field(default_factory=list)
    ansi: bool = False

    def add(self, text: str, had_ansi: bool) -> None:
        self.lines.append(text)
        self.ansi = self.ansi or had_ansi

    @property
    def last(self) -> int:
        return self.first + len(self.lines) - 1


def decolour(raw: str) -> tuple[str, bool]:
    """(text without ANSI codes, whether there were any)."""
    if "\x1b" not in raw:
        return raw, False
    return ANSI_RE.sub("", raw), True


def trim(block: Block) -> Block | None:
    """The block without its leading and trailing blank lines (None when all blank)."""
    lines = block.lines
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    if start == end:
        return None
    return Block(first=block.first + start, lines=lines[start:end], ansi=block.ansi)


def block_action(
    f: SourceFile,
    kind: ActionKind,
    block: Block | None,
    *,
    actor: Actor = Actor.agent,
    step: int | None = None,
    tool: str | None = None,
    meta: dict[str, object] | None = None,
) -> Action | None:
    """An action whose text is the block's lines (blank edges trimmed); None if empty."""
    block = trim(block) if block is not None else None
    if block is None:
        return None
    return Action.of(
        kind,
        "\n".join(block.lines),
        f.rel,
        block.first,
        SourceEncoding.ansi if block.ansi else SourceEncoding.plain,
        actor,
        step,
        tool,
        clean_meta(meta),
    )


def split_block(block: Block, max_lines: int = MAX_BLOCK_LINES) -> Iterator[Block]:
    """The block in pieces of at most `max_lines` lines (each still citable)."""
    for i in range(0, len(block.lines), max_lines):
        yield Block(first=block.first + i, lines=block.lines[i : i + max_lines], ansi=block.ansi)


def numbered_lines(f: SourceFile) -> Iterator[tuple[int, str, bool, bool]]:
    """(line number, text without colours, had colours, is a continuation piece).

    A continuation piece is the next part of a line longer than safefs's bound:
    it carries the same number, and must not be joined to the block before it.
    """
    prev = 0
    for n, raw in f.lines():
        text, had = decolour(raw)
        yield n, text, had, n == prev
        prev = n


# --------------------------------------------------------------------------- sniffing


def head_matches(f: SourceFile, *patterns: re.Pattern[str], need: int = 1) -> bool:
    """True when at least `need` of the patterns occur in the file's first 64 KiB."""
    text = f.head_text()
    return sum(1 for p in patterns if p.search(text)) >= need


JSON_START = re.compile(r'\A(?:\ufeff)?\s*(?:\{\s*(?:"|\})|\[\s*(?:[\{\["\]]|\Z))')


def looks_like_json(f: SourceFile, opener: str = "{[") -> bool:
    """True when the file starts like a JSON object or array (of objects, arrays or strings).

    `[` followed by anything else is a log line (`[2024-09-12 ...]`, `[Container]`), not JSON.
    """
    m = JSON_START.match(f.head_text()[:4096])
    return m is not None and m.group(0).lstrip("\ufeff \t\r\n")[:1] in opener


HOST_LOG_LINE = re.compile(r"^\[Container\] ", re.M)


def is_host_log(f: SourceFile) -> bool:
    """MLE-bench's host `run.log` (container output prefixed "[Container] "): it repeats the
    agent's console log, and the plain-text reader reads it with that prefix in mind."""
    return f.rel == "run.log" or HOST_LOG_LINE.search(f.head_text()) is not None


def first_string(values: Iterable[object]) -> object:
    for v in values:
        if isinstance(v, str) and v.strip():
            return v
    return None


def plain_fallback(f: SourceFile, why: str | None = None) -> Iterator[Action]:
    """Read `f` line by line when its structure cannot be: nothing in it is lost.

    `why` is noted in the errors unless the cause was already noted (SourceFile.json does).
    """
    from auditor.readers.plaintext import PlainTextReader

    if why:
        f.errors.append(f"{f.rel}: {why}; read as plain text")
    yield from PlainTextReader().read(f)
