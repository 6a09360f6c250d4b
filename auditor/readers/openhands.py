"""OpenHands / OpenDevin: the trajectory JSON and the `agent.log` console log.

Trajectory (a list of events, `{"history": [...]}`-like wrappers, or old
OpenDevin `[action, observation]` pairs): each event with `action` becomes the
agent's action by its type (`run` → shell, `run_ipython` → python, `write`/`edit`
→ file_write (`edit` with command `view` → file_read), `read` → file_read,
`browse`/`browse_interactive` → http, `message`/`finish`/`think` → message), plus
a `message` for its `thought`; a user message is the harness's task text. Each
observation's `content` is `output` of the environment, with the exit code from
`extras.exit_code` (old) or `extras.metadata.exit_code` (new). The model call
behind an action (`tool_call_metadata.model_response`) is the scaffold's: one
`llm` action naming the model; its content repeats the action and is not read.

agent.log: blocks `**CmdRunAction (source=...)**` / `THOUGHT:` / `COMMAND:`,
`**IPythonRunCellAction**` / `CODE:`, `**BrowseURLAction**` / `URL:`,
`**FileWriteAction**` / `Content:`, `**FileEditAction**`, `**MessageAction**`,
observations `**CmdOutputObservation (... exit code=N)**`. ANSI colours are
stripped (encoding ansi). A command or cell's text starts at the line after
`COMMAND:` / `CODE:`, so line i of the action is file line `first + i`. Console
lines outside blocks are text: the harness's start.sh trace before OpenHands
starts, the scaffold's log records after.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from auditor.models import Action, ActionKind, Actor
from auditor.readers._common import (
    Block,
    as_int,
    block_action,
    get,
    head_matches,
    is_host_log,
    json_action,
    looks_like_json,
    numbered_lines,
    plain_fallback,
    split_block,
)
from auditor.readers.base import Reader, SourceFile, register_reader

# --------------------------------------------------------------------------- sniffing

TRAJ_ACTION = re.compile(r'"(?:action|observation)"\s*:\s*"[a-z_]+"')
TRAJ_SHAPE = re.compile(r'"args"\s*:\s*\{|"observation"\s*:\s*"|"cause"\s*:')
LOG_BLOCK_START = re.compile(r"^\*\*\w+(?:Action|Observation)\b", re.M)
LOG_SCAFFOLD = re.compile(r"\b(?:opendevin|openhands):(?:INFO|DEBUG|WARNING|ERROR)\b")
LOG_ACTION_BLOCK = re.compile(r"^\*\*\w+Action\b", re.M)

# --------------------------------------------------------------------------- trajectory

WRAPPER_KEYS = ("history", "trajectory", "events", "log")
SKIP_OBSERVATIONS = {"agent_state_changed", "null", "", "agent_condensation", "recall"}
URL_IN_BROWSER_ACTION = re.compile(r"""goto\(\s*["']([^"']+)["']""")


@register_reader
class OpenHandsReader(Reader):
    """The trajectory JSON."""

    name = "openhands"
    order = 40

    def sniff(self, f: SourceFile) -> bool:
        return looks_like_json(f) and head_matches(f, TRAJ_ACTION) and head_matches(f, TRAJ_SHAPE)

    def read(self, f: SourceFile) -> Iterator[Action]:
        yield from self._trajectory(f)

    def _trajectory(self, f: SourceFile) -> Iterator[Action]:
        parsed = f.json()
        if parsed is None or parsed.value is None:
            yield from plain_fallback(f, None if parsed is None else "not readable as a trajectory")
            return
        events = list(_events(parsed.value, ""))
        if not events:
            yield from plain_fallback(f, "no OpenHands events found in the JSON")
            return
        for path, event in events:
            yield from _event_actions(f, path, event)
        if parsed.error:
            f.errors.append(f"{f.rel}: trajectory cut off or damaged; {len(events)} event(s) read before the defect")


def _events(value: object, path: str) -> Iterator[tuple[str, dict]]:
    """(json path, event) for the events of a trajectory, whatever its wrapper."""
    if isinstance(value, dict):
        if "action" in value or "observation" in value:
            yield path, value
            return
        for key in WRAPPER_KEYS:
            if isinstance(value.get(key), list):
                yield from _events(value[key], f"{path}.{key}" if path else key)
                return
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, (dict, list)):
                yield from _events(item, f"{path}[{i}]")


def _event_actions(f: SourceFile, path: str, ev: dict) -> Iterator[Action]:
    if isinstance(ev.get("action"), str):
        yield from _action_event(f, path, ev)
    elif isinstance(ev.get("observation"), str):
        action = _observation_event(f, path, ev)
        if action:
            yield action


def _action_event(f: SourceFile, path: str, ev: dict) -> Iterator[Action]:
    name = str(ev["action"])
    args = ev.get("args") if isinstance(ev.get("args"), dict) else {}
    step = as_int(ev.get("id"))
    common = {"step": step, "tool": name}
    meta = {"t": ev.get("timestamp"), "source": ev.get("source")}
    kind, key, extra = _classify(name, args)
    if key != "thought":  # the agent's reasoning comes before what it does
        thought = json_action(f, ActionKind.message, args.get("thought"), f"{path}.args.thought", meta=meta, **common)
        if thought:
            yield thought
    actor = Actor.agent
    if name == "system":
        actor = Actor.scaffold  # the scaffold's system prompt
    elif name == "message" and ev.get("source") in ("user", "environment"):
        actor = Actor.harness  # the task text MLE-bench sends as the user
    if kind is not None:
        value = args.get(key) if key else None
        where = f"{path}.args.{key}"
        if value is None and name in ("message", "finish"):
            value, where = ev.get("message"), f"{path}.message"
        action = json_action(f, kind, value, where, actor=actor, meta={**meta, **extra}, **common)
        if action is None and kind in (ActionKind.file_write, ActionKind.file_read):
            action = json_action(f, kind, args.get("path"), f"{path}.args.path", actor=actor, meta={**meta, **extra}, **common)
        if action:
            yield action
    model = get(ev, "tool_call_metadata", "model_response", "model")
    llm = json_action(
        f, ActionKind.llm, model, f"{path}.tool_call_metadata.model_response.model",
        actor=Actor.scaffold, meta={"t": ev.get("timestamp")}, **common,
    )
    if llm:
        yield llm


def _classify(name: str, args: dict) -> tuple[ActionKind | None, str | None, dict]:
    """(kind, the args key holding the text, extra meta) for an action event."""
    path = {"path": args.get("path")} if isinstance(args.get("path"), str) else {}
    if name == "run":
        return ActionKind.shell, "command", {}
    if name == "run_ipython":
        return ActionKind.python, "code", {}
    if name == "write":
        return ActionKind.file_write, "content", path
    if name == "edit":
        command = args.get("command")
        if command == "view":
            return ActionKind.file_read, "path", path
        for key in ("file_text", "new_str", "content"):
            if isinstance(args.get(key), str) and args[key]:
                return ActionKind.file_write, key, {**path, "command": command}
        return ActionKind.file_write, "path", {**path, "command": command}
    if name == "read":
        return ActionKind.file_read, "path", path
    if name == "browse":
        return ActionKind.http, "url", {"url": args.get("url")}
    if name == "browse_interactive":
        actions = args.get("browser_actions")
        m = URL_IN_BROWSER_ACTION.search(actions) if isinstance(actions, str) else None
        return ActionKind.http, "browser_actions", {"url": m.group(1) if m else None}
    if name in ("message", "system"):
        return ActionKind.message, "content", {}
    if name == "finish":
        for key in ("final_thought", "outputs", "thought"):
            if isinstance(args.get(key), str) and args[key].strip():
                return ActionKind.message, key, {}
        return ActionKind.message, None, {}
    if name == "think":
        return ActionKind.message, "thought", {}
    return _classify_unknown(args)


def _classify_unknown(args: dict) -> tuple[ActionKind | None, str | None, dict]:
    for key, kind in (("command", ActionKind.shell), ("code", ActionKind.python), ("url", ActionKind.http)):
        if isinstance(args.get(key), str):
            return kind, key, {}
    return None, None, {}


def _observation_event(f: SourceFile, path: str, ev: dict) -> Action | None:
    name = str(ev["observation"])
    if name in SKIP_OBSERVATIONS:
        return None
    extras = ev.get("extras") if isinstance(ev.get("extras"), dict) else {}
    exit_code = as_int(extras.get("exit_code"))
    if exit_code is None:
        exit_code = as_int(get(extras, "metadata", "exit_code"))
    step = as_int(ev.get("cause"))
    meta = {
        "t": ev.get("timestamp"),
        "exit_code": exit_code,
        "cause": step,
        "path": extras.get("path") if isinstance(extras.get("path"), str) else None,
        "url": extras.get("url") if isinstance(extras.get("url"), str) else None,
    }
    # an empty content means no output: the event's `message` only restates the command
    return json_action(
        f, ActionKind.output, ev.get("content"), f"{path}.content", actor=Actor.environment,
        step=step if step is not None else as_int(ev.get("id")), tool=name, meta=meta,
    )


# --------------------------------------------------------------------------- agent.log


@register_reader
class OpenHandsLogReader(Reader):
    """agent.log: line-based, so a large one is streamed."""

    name = "openhands-log"
    order = 41
    streamable = True

    def sniff(self, f: SourceFile) -> bool:
        return not looks_like_json(f) and not is_host_log(f) and head_matches(f, LOG_BLOCK_START) and head_matches(f, LOG_SCAFFOLD, LOG_ACTION_BLOCK)

    def read(self, f: SourceFile) -> Iterator[Action]:
        yield from AgentLogParser(f).actions()


LOG_RECORD = re.compile(r"^(?:\d{4}-\d\d-\d\d[ T])?\d\d:\d\d:\d\d(?:[.,]\d+)? - \S")
BLOCK_HEADER = re.compile(
    r"^\*\*(?P<name>\w+?(?:Action|Observation))(?:\s*\((?P<inner>[^)]*)\))?\*\*"
    r"(?:\s*\((?P<outer>[^)]*)\))?\s*(?P<rest>.*)$"
)
FIELD = re.compile(
    r"^(?P<marker>THOUGHT|Thought|COMMAND|CODE|URL|BROWSER_ACTIONS|CONTENT|Path|Range|Content|Command"
    r"|Created File with Text|Old String|New String|Insert Line):[ \t]?(?P<rest>.*)$"
)
#: after these markers everything to the end of the block is their body (code may look like a marker)
FINAL_FIELDS = {"COMMAND", "CODE", "CONTENT", "Content", "Created File with Text", "New String", "BROWSER_ACTIONS"}
FIELD_KINDS = {
    "THOUGHT": ActionKind.message,
    "Thought": ActionKind.message,
    "CONTENT": ActionKind.message,
    "COMMAND": ActionKind.shell,
    "CODE": ActionKind.python,
    "URL": ActionKind.http,
    "BROWSER_ACTIONS": ActionKind.http,
    "Content": ActionKind.file_write,
    "Created File with Text": ActionKind.file_write,
    "New String": ActionKind.file_write,
}
STEP_LINE = re.compile(r"^\[Agent Controller[^\]]*\].*?\bGLOBAL STEP (\d+)")
SEPARATOR = re.compile(r"^={5,}\s*$")
EXIT_CODE = re.compile(r"exit code=(-?\d+)")
FENCE = "```"
OUTSIDE_MAX_LINES = 200


@dataclass
class LogBlock:
    """One `**Name**` block of agent.log, split into its marked fields."""

    name: str
    header: str  # the text in parentheses: source, exit code, ...
    step: int | None = None  # the controller's step when the block began
    fields: list[tuple[str | None, list[Block]]] = field(default_factory=list)

    def feed(self, n: int, text: str, had_ansi: bool, continuation: bool) -> None:
        current = self.fields[-1][0] if self.fields else None
        m = None if continuation or current in FINAL_FIELDS or self.name.endswith("Observation") else FIELD.match(text)
        if m and self._known(m.group("marker")):
            block = Block(first=n)
            block.add(m.group("rest"), had_ansi)
            self.fields.append((m.group("marker"), [block]))
            return
        if not self.fields:
            self.fields.append((None, [Block(first=n)]))
        blocks = self.fields[-1][1]
        if continuation or not blocks:
            blocks.append(Block(first=n))
        blocks[-1].add(text, had_ansi)

    def _known(self, marker: str) -> bool:
        # a marker is only a marker for the actions that print it; "Command:" in a CmdRunAction's thought is prose
        if marker in ("Path", "Range", "Content", "Command", "Created File with Text", "Old String", "New String", "Insert Line", "Thought"):
            return self.name.startswith("File")
        return True

    def value(self, marker: str) -> str | None:
        for m, blocks in self.fields:
            if m == marker and blocks and blocks[0].lines:
                return blocks[0].lines[0].strip() or None
        return None


class AgentLogParser:
    def __init__(self, f: SourceFile) -> None:
        self.f = f
        self.step: int | None = None
        self.started = False  # OpenHands itself has logged something (before: start.sh's trace)
        self.loose: Block | None = None  # console lines outside blocks, not yet emitted

    def actions(self) -> Iterator[Action]:
        current: LogBlock | None = None
        for n, text, had_ansi, continuation in numbered_lines(self.f):
            header = None if continuation else BLOCK_HEADER.match(text)
            record = None if continuation or header else LOG_RECORD.match(text)
            if header:
                yield from self._flush_outside()
            if header or record:
                if current:
                    yield from self._finish(current)
                    current = None
            if header:
                details = " ".join(filter(None, (header.group("inner"), header.group("outer"))))
                current = LogBlock(name=header.group("name"), header=details, step=self.step)
                if header.group("rest").strip():
                    current.feed(n, header.group("rest"), had_ansi, False)
                continue
            if current is not None:
                current.feed(n, text, had_ansi, continuation)
                continue
            yield from self._outside(n, text, had_ansi, record is not None, continuation)
        yield from self._flush_outside()
        if current:
            yield from self._finish(current)

    def _outside(self, n: int, text: str, had_ansi: bool, is_record: bool, continuation: bool) -> Iterator[Action]:
        """Console lines between blocks, gathered into one text action per run of lines."""
        m = STEP_LINE.match(text)
        if m:
            self.step = int(m.group(1))
        started = self.started or is_record
        if self.loose and (continuation or started != self.started or len(self.loose.lines) >= OUTSIDE_MAX_LINES):
            yield from self._flush_outside()
        self.started = started
        if not text.strip():  # a blank line ends a run (text actions hold no blank lines)
            yield from self._flush_outside()
            return
        if self.loose is None:
            self.loose = Block(first=n)
        self.loose.add(text, had_ansi)

    def _flush_outside(self) -> Iterator[Action]:
        if self.loose is not None:
            actor = Actor.scaffold if self.started else Actor.harness
            action = block_action(self.f, ActionKind.text, self.loose, actor=actor, step=self.step)
            self.loose = None
            if action:
                yield action

    def _finish(self, block: LogBlock) -> Iterator[Action]:
        self._cut_step_trailer(block)
        if block.name.endswith("Observation"):
            m = EXIT_CODE.search(block.header)
            meta = {"exit_code": int(m.group(1)) if m else None}
            for _, pieces in block.fields:
                for piece in pieces:
                    for part in split_block(piece):
                        action = block_action(self.f, ActionKind.output, part, actor=Actor.environment, step=block.step, tool=block.name, meta=meta)
                        if action:
                            yield action
            return
        yield from self._action_fields(block)

    def _action_fields(self, block: LogBlock) -> Iterator[Action]:
        user = "USER" in block.header.upper() or "source=user" in block.header
        path = (block.value("Path") or "").strip("[]") or None
        meta = {"path": path, "command": block.value("Command")}
        for marker, pieces in block.fields:
            kind = FIELD_KINDS.get(marker) if marker else None
            if block.name == "FileReadAction" and marker == "Path":
                kind = ActionKind.file_read
            if kind is None:
                continue
            actor = Actor.harness if user and block.name == "MessageAction" else Actor.agent
            for piece in pieces:
                if kind == ActionKind.file_write:
                    piece = _unfence(piece)
                action = block_action(self.f, kind, piece, actor=actor, step=block.step, tool=block.name, meta=meta)
                if action:
                    yield action

    def _cut_step_trailer(self, block: LogBlock) -> None:
        """Drop the `=====` / `[Agent Controller ...] STEP n` lines that close a step from the last field."""
        if not block.fields or not block.fields[-1][1]:
            return
        last = block.fields[-1][1][-1]
        lines = last.lines
        end = len(lines)
        while end and not lines[end - 1].strip():
            end -= 1
        if end and STEP_LINE.match(lines[end - 1]):
            self.step = int(STEP_LINE.match(lines[end - 1]).group(1))
            end -= 1
            while end and not lines[end - 1].strip():
                end -= 1
            if end and SEPARATOR.match(lines[end - 1]):
                end -= 1
            del lines[end:]


def _unfence(block: Block) -> Block:
    """A file body without the ``` lines around it (FileWriteAction / FileEditAction print them)."""
    lines = list(block.lines)
    first = block.first
    while lines and not lines[0].strip():
        lines.pop(0)
        first += 1
    if lines and lines[0].strip() == FENCE:
        lines.pop(0)
        first += 1
    while lines and not lines[-1].strip():
        lines.pop()
    if lines and lines[-1].strip() == FENCE:
        lines.pop()
    return Block(first=first, lines=lines, ansi=block.ansi)

