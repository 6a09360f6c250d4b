"""The fallback: any text log read line by line (run.log, entrypoint.log, unknown logs).

Lines become `text` actions. Who wrote them is decided by where they come from:
MLE-bench's host `run.log` prefixes container output with "[Container] " (only on
the first line of a multi-line chunk) and otherwise holds the harness's own lines;
`entrypoint.log` is the container entrypoint (harness).
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.models import Action, ActionKind, Actor, Location, SourceEncoding
from auditor.readers.base import Reader, SourceFile, register_reader, strip_ansi

CONTAINER_PREFIX = "[Container] "
HARNESS_FILES = {"entrypoint.log"}


@register_reader
class PlainTextReader(Reader):
    name = "text"
    order = 1000
    streamable = True

    def sniff(self, f: SourceFile) -> bool:
        return b"\x00" not in f.head[:8192] or f.rel.endswith(".log")

    def read(self, f: SourceFile) -> Iterator[Action]:
        in_container = False
        for n, raw in f.lines():
            if not raw.strip():
                continue
            text = strip_ansi(raw)
            encoding = SourceEncoding.ansi if text != raw else SourceEncoding.plain
            actor = Actor.environment
            if f.rel == "run.log":
                if CONTAINER_PREFIX in text:
                    in_container = True
                    text = text.split(CONTAINER_PREFIX, 1)[1]
                elif text.startswith("[20") and "] [" in text[:40]:
                    in_container = False  # a new host log record
                actor = Actor.environment if in_container else Actor.harness
            elif f.name in HARNESS_FILES:
                actor = Actor.harness
            yield Action(
                kind=ActionKind.text,
                text=text,
                source=Location(file=f.rel, line=n, encoding=encoding),
                actor=actor,
                meta={"container": in_container} if f.rel == "run.log" else {},
            )
