"""What our own runner writes beside MLE-bench's layout (SPEC): `events.jsonl`,
`egress.jsonl` and `sandbox.json`.

- events.jsonl, one JSON object a line `{"t", "kind", "text", ...}`: `shell`,
  `python`, `file_write`, `http` are the agent's; `llm` is the scaffold's;
  `stdout` / `stderr` are output of the environment. The text is the JSON string
  on that line (encoding json); scalar extras (path, host, port, allowed, ...)
  go to meta.
- egress.jsonl, one outbound connection attempt a line `{"t", "host", "port",
  "allowed", "bytes_out", "bytes_in"}`: an `egress` action of the environment
  whose text is the host (the part of the line a reviewer can find verbatim;
  "host:port" is not in the file) and whose meta holds host, port, allowed and
  the byte counts.
- sandbox.json (image, limits, network policy, exit code): not something anyone
  did; one `text` action of the harness, so it is still searchable.

Each line is read on its own: a bad line is counted and skipped, the rest read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from auditor.models import Action, ActionKind, Actor, SourceEncoding
from auditor.readers._common import Block, block_action, clean_meta, looks_like_json
from auditor.readers.base import Reader, SourceFile, register_reader

EVENT_KINDS = {
    "shell": (ActionKind.shell, Actor.agent),
    "python": (ActionKind.python, Actor.agent),
    "file_write": (ActionKind.file_write, Actor.agent),
    "file_read": (ActionKind.file_read, Actor.agent),
    "http": (ActionKind.http, Actor.agent),
    "llm": (ActionKind.llm, Actor.scaffold),
    "stdout": (ActionKind.output, Actor.environment),
    "stderr": (ActionKind.output, Actor.environment),
    "message": (ActionKind.message, Actor.agent),
}
EVENT_LINE = re.compile(r'^\s*\{.*"kind"\s*:\s*"(?:' + "|".join(EVENT_KINDS) + r')".*"text"\s*:', re.M)
EGRESS_LINE = re.compile(r'^\s*\{(?=.*"host"\s*:)(?=.*"port"\s*:)(?=.*"allowed"\s*:)', re.M)
SANDBOX_KEYS = (re.compile(r'"sandbox"\s*:'), re.compile(r'"network"\s*:'), re.compile(r'"(?:agent_cmd|image|exit_code|timed_out)"\s*:'))
MAX_RECORD = 16 << 20  # a JSON line longer than this is not parsed
MAX_SANDBOX_LINES = 2000


@register_reader
class RunnerLogReader(Reader):
    name = "runner"
    order = 10
    streamable = True

    def sniff(self, f: SourceFile) -> bool:
        return self._kind(f) is not None

    def read(self, f: SourceFile) -> Iterator[Action]:
        kind = self._kind(f)
        if kind == "events":
            yield from self._records(f, _event_action)
        elif kind == "egress":
            yield from self._records(f, _egress_action)
        elif kind == "sandbox":
            yield from _sandbox(f)

    @staticmethod
    def _kind(f: SourceFile) -> str | None:
        head = f.head_text()
        if EVENT_LINE.search(head):
            return "events"
        if EGRESS_LINE.search(head):
            return "egress"
        if looks_like_json(f, "{") and all(p.search(head) for p in SANDBOX_KEYS):
            return "sandbox"
        return None

    def _records(self, f: SourceFile, build) -> Iterator[Action]:
        bad: list[int] = []
        for n, line in _joined_lines(f, bad):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                bad.append(n)
                continue
            action = build(f, n, record) if isinstance(record, dict) else None
            if action is not None:
                yield action
            elif not isinstance(record, dict):
                bad.append(n)
        if bad:
            f.errors.append(f"{f.rel}: {len(bad)} line(s) not readable as records (first at line {bad[0]}); the other lines were read")


def _joined_lines(f: SourceFile, bad: list[int]) -> Iterator[tuple[int, str]]:
    """Whole lines, the pieces of an over-long line joined again (up to MAX_RECORD)."""
    current, parts, size = 0, [], 0
    for n, text in f.lines():
        if n == current:
            size += len(text)
            if size <= MAX_RECORD:
                parts.append(text)
            continue
        if current:
            yield from _whole(current, parts, size, bad)
        current, parts, size = n, [text], len(text)
    if current:
        yield from _whole(current, parts, size, bad)


def _whole(n: int, parts: list[str], size: int, bad: list[int]) -> Iterator[tuple[int, str]]:
    if size > MAX_RECORD:
        bad.append(n)
        return
    yield n, "".join(parts)


def _record_action(f: SourceFile, n: int, kind: ActionKind, actor: Actor, text: object, tool: str, meta: dict) -> Action | None:
    if not isinstance(text, str) or not text.strip():
        return None
    return Action.of(kind, text, f.rel, n, SourceEncoding.json, actor, None, tool, clean_meta(meta))


def _event_action(f: SourceFile, n: int, record: dict) -> Action | None:
    kind, actor = EVENT_KINDS.get(str(record.get("kind")), (None, None))
    if kind is None:
        return None
    if record.get("actor") in Actor._value2member_map_:
        actor = Actor(record["actor"])
    meta = {k: v for k, v in record.items() if k not in ("kind", "text", "actor") and (v is None or isinstance(v, (str, int, float, bool)))}
    if kind == ActionKind.output:
        meta["stream"] = record.get("kind")
    return _record_action(f, n, kind, actor, record.get("text"), str(record.get("kind")), meta)


def _egress_action(f: SourceFile, n: int, record: dict) -> Action | None:
    host = record.get("host")
    meta = {k: record.get(k) for k in ("t", "host", "port", "allowed", "bytes_out", "bytes_in", "reason")}
    meta = {k: v for k, v in meta.items() if v is None or isinstance(v, (str, int, float, bool))}
    return _record_action(f, n, ActionKind.egress, Actor.environment, host, "egress", meta)


def _sandbox(f: SourceFile) -> Iterator[Action]:
    block: Block | None = None
    for n, text in f.lines():
        if block is None:
            block = Block(first=n)
        elif n == block.last or len(block.lines) >= MAX_SANDBOX_LINES:
            break  # the piece of an over-long line, or enough of a file that only describes the run
        block.add(text, False)
    action = block_action(f, ActionKind.text, block, actor=Actor.harness, tool="sandbox")
    if action:
        yield action
