"""The fallback: any text log read line by line (run.log, entrypoint.log, unknown logs).

Consecutive lines from the same writer become one `text` action (a chunk of at most
CHUNK_LINES lines): line i of the action's text is file line `source.line + i`, so
evidence stays exact while a 1 GB log does not become millions of objects.

Who wrote a line is decided by where it comes from: MLE-bench's host `run.log`
prefixes container output with "[Container] " (only on the first line of a multi-line
chunk) and otherwise holds the harness's own lines; `entrypoint.log` is the
container entrypoint (harness); anything else is the environment's output.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.models import Action, ActionKind, Actor, SourceEncoding
from auditor.readers.base import Reader, SourceFile, register_reader, strip_ansi

CONTAINER_PREFIX = "[Container] "
HARNESS_FILES = {"entrypoint.log"}
CHUNK_LINES = 64
CHUNK_CHARS = 64 << 10


@register_reader
class PlainTextReader(Reader):
    name = "text"
    order = 1000
    streamable = True

    def sniff(self, f: SourceFile) -> bool:
        return b"\x00" not in f.head[:8192] or f.rel.endswith(".log")

    def read(self, f: SourceFile) -> Iterator[Action]:
        chunk: list[str] = []
        start = 0
        chunk_actor = None
        chunk_chars = 0
        ansi = False
        for n, actor, text, coloured in _classified_lines(f):
            # a chunk holds consecutive whole lines: the pieces of an over-long line
            # (same number) and lines after a blank one start a new chunk
            contiguous = chunk and n == start + len(chunk)
            if chunk and (not contiguous or actor != chunk_actor or len(chunk) >= CHUNK_LINES or chunk_chars >= CHUNK_CHARS):
                yield _action(f.rel, start, chunk, chunk_actor, ansi)
                chunk = []
            if not chunk:
                start, chunk_actor, chunk_chars, ansi = n, actor, 0, False
            chunk.append(text)
            chunk_chars += len(text)
            ansi = ansi or coloured
        if chunk:
            yield _action(f.rel, start, chunk, chunk_actor, ansi)


def _classified_lines(f: SourceFile) -> Iterator[tuple[int, Actor, str, bool]]:
    """(line number, writer, text without colours, had colours) for each non-blank line."""
    in_container = False
    for n, raw in f.lines():
        if not raw.strip():
            continue
        text = strip_ansi(raw) if "\x1b" in raw else raw
        if not text.strip():
            continue
        coloured = text is not raw
        actor = Actor.environment
        if f.rel == "run.log":
            if CONTAINER_PREFIX in text:
                in_container = True
                text = text.split(CONTAINER_PREFIX, 1)[1]  # the container's own line
                if not text.strip():
                    continue
            elif text.startswith("[20") and "] [" in text[:40]:
                in_container = False  # a new host log record
            actor = Actor.environment if in_container else Actor.harness
        elif f.name in HARNESS_FILES:
            actor = Actor.harness
        yield n, actor, text, coloured


def _action(file: str, start: int, lines: list[str], actor: Actor, ansi: bool) -> Action:
    encoding = SourceEncoding.ansi if ansi else SourceEncoding.plain
    return Action.of(ActionKind.text, "\n".join(lines), file, start, encoding, actor)
