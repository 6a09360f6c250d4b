"""MLAgentBench (MLAB ResearchAgent): `agent_log/main_log`, the step logs
(`step_N_log.log` and other prompt/response logs) and `env_log/trace.json`.

main_log: the scaffold's prompt (everything before `Step 0:`: one `llm` action of
the scaffold), then per step the agent's response: `Reflection:`, `Research Plan
and Status:`, `Fact Check:`, `Thought:` (each a `message`), `Action:` (the tool
name) with its `Action Input:` block, and the `Observation:`. The Action Input
becomes the action, by tool:

| tool | kind | meta |
| --- | --- | --- |
| Execute Script | shell | command = `python <script_name>` (the text is the input block, as in the file) |
| Understand File, Inspect Script Lines, List Files, Read File | file_read | path |
| Copy File, Undo Edit Script, Write File, Append File | file_write | path |
| Edit Script (AI), Edit Script Segment (AI) | message (the agent's edit instruction) | path = save_name |
| Final Answer, Reflection, anything else | message | |

MLAB's editor is an LLM that rewrites the script on the agent's instruction and
shows the diff as the observation: that diff is the code the agent put in the
file, so the observation of an Edit Script action is a `file_write` of the agent;
every other observation is `output` of the environment. trace.json holds the same
steps as JSON (its `low_level_steps` repeat them at the file level and are not
read); its `task_description` is the harness's task text.

Step logs (`===prompt===` / `===<model> response (N)===` / `===tokens===`) are the
scaffold's own LLM calls: `llm` actions of the scaffold.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from auditor.models import Action, ActionKind, Actor
from auditor.readers._common import (
    Block,
    block_action,
    first_string,
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

STEP_LOG_MARKER = re.compile(r"^=+(?:prompt|tokens|.+ response \(\d+\))=+\s*$", re.M)
MAIN_LOG_MARKERS = (re.compile(r"^Action Input:", re.M), re.compile(r"Research Plan and Status"), re.compile(r"^Step \d+:\s*$", re.M))
TRACE_MARKERS = (re.compile(r'"steps"\s*:\s*\['), re.compile(r'"action"\s*:\s*\{\s*"name"\s*:'))

STEP = re.compile(r"^Step (\d+):\s*$")
SECTION = re.compile(r"^(Reflection|Research Plan and Status|Fact Check|Thought|Action Input|Action|Observation):[ \t]*(.*)$")
PROSE_SECTIONS = {"Reflection", "Research Plan and Status", "Fact Check", "Thought"}
EDIT_TOOLS = {"Edit Script (AI)", "Edit Script Segment (AI)"}
STRING_ARG = re.compile(r'"(\w+)"\s*:\s*"((?:[^"\\]|\\.)*)"')
SECTION_STEP_LOG = re.compile(r"^=+(prompt|tokens|(.+) response \((\d+)\))=+\s*$")


@dataclass(frozen=True)
class ToolKind:
    kind: ActionKind
    path_arg: str | None = None  # the argument naming the file the tool touches


TOOLS = {
    "Execute Script": ToolKind(ActionKind.shell, "script_name"),
    "Understand File": ToolKind(ActionKind.file_read, "file_name"),
    "Inspect Script Lines": ToolKind(ActionKind.file_read, "script_name"),
    "List Files": ToolKind(ActionKind.file_read, "dir_path"),
    "Read File": ToolKind(ActionKind.file_read, "file_name"),
    "Copy File": ToolKind(ActionKind.file_write, "destination"),
    "Undo Edit Script": ToolKind(ActionKind.file_write, "script_name"),
    "Write File": ToolKind(ActionKind.file_write, "file_name"),
    "Append File": ToolKind(ActionKind.file_write, "file_name"),
    "Edit Script (AI)": ToolKind(ActionKind.message, "save_name"),
    "Edit Script Segment (AI)": ToolKind(ActionKind.message, "save_name"),
}
#: the argument whose value is the action's text in trace.json
TRACE_TEXT_ARG = {
    "Execute Script": "script_name",
    "Edit Script (AI)": "edit_instruction",
    "Edit Script Segment (AI)": "edit_instruction",
    "Final Answer": "final_answer",
    "Understand File": "file_name",
    "Inspect Script Lines": "script_name",
    "List Files": "dir_path",
}


def tool_meta(tool: str, args: dict[str, str]) -> tuple[ActionKind, dict[str, object]]:
    spec = TOOLS.get(tool, ToolKind(ActionKind.message))
    meta: dict[str, object] = {"path": args.get(spec.path_arg) if spec.path_arg else None}
    if spec.kind == ActionKind.shell and args.get("script_name"):
        meta["command"] = f"python {args['script_name']}"
    if tool == "Copy File":
        meta["source_path"] = args.get("source")
    return spec.kind, meta


@register_reader
class MLAgentBenchReader(Reader):
    """env_log/trace.json."""

    name = "mlagentbench"
    # before OpenHands (40): a trace whose observation is one lowercase word ("end") looks
    # like a trajectory event to OpenHands' sniff, while this one's markers are specific
    order = 39

    def sniff(self, f: SourceFile) -> bool:
        return looks_like_json(f, "{") and head_matches(f, *TRACE_MARKERS, need=2)

    def read(self, f: SourceFile) -> Iterator[Action]:
        yield from _trace(f)


@register_reader
class MLAgentBenchLogReader(Reader):
    """main_log and the step logs: line-based, so a large one is streamed."""

    name = "mlagentbench-log"
    order = 46
    streamable = True

    def sniff(self, f: SourceFile) -> bool:
        return not looks_like_json(f) and not is_host_log(f) and (_is_step_log(f) or head_matches(f, *MAIN_LOG_MARKERS, need=2))

    def read(self, f: SourceFile) -> Iterator[Action]:
        yield from (_step_log(f) if _is_step_log(f) else MainLogParser(f).actions())


def _is_step_log(f: SourceFile) -> bool:
    return f.head_text().lstrip().startswith("=") and head_matches(f, STEP_LOG_MARKER)


# --------------------------------------------------------------------------- main_log


class MainLogParser:
    def __init__(self, f: SourceFile) -> None:
        self.f = f
        self.step: int | None = None
        self.section: str | None = "prompt"  # before `Step 0:`: the scaffold's prompt
        self.block: Block | None = Block(first=1)
        self.tool: str | None = None
        self.args: dict[str, str] = {}

    def actions(self) -> Iterator[Action]:
        for n, text, had_ansi, continuation in numbered_lines(self.f):
            step = None if continuation else STEP.match(text)
            if step:
                yield from self._end_section()
                self.step, self.section, self.block, self.tool = int(step.group(1)), None, None, None
                continue
            marker = None if continuation or self.section in ("Observation", "prompt") else SECTION.match(text)
            if marker:
                yield from self._end_section()
                self.section = marker.group(1)
                if self.section == "Action":
                    self.tool, self.args = marker.group(2).strip(), {}
                    self.block = None
                    continue
                self.block = Block(first=n)
                self.block.add(marker.group(2), had_ansi)
                continue
            if self.block is None or continuation:
                if self.block is not None:
                    yield from self._emit(self.block)
                self.block = Block(first=n)
            self.block.add(text, had_ansi)
        yield from self._end_section()

    def _end_section(self) -> Iterator[Action]:
        if self.block is not None:
            yield from self._emit(self.block)
        self.block = None

    def _emit(self, block: Block) -> Iterator[Action]:
        section = self.section
        if section == "prompt":
            for piece in split_block(block):
                action = block_action(self.f, ActionKind.llm, piece, actor=Actor.scaffold, meta={"role": "prompt"})
                if action:
                    yield action
            return
        if section == "Action Input":
            self.args = {k: v for k, v in STRING_ARG.findall("\n".join(block.lines))}
            kind, meta = tool_meta(self.tool or "", self.args)
            action = block_action(self.f, kind, block, step=self.step, tool=self.tool, meta=meta)
        elif section == "Observation":
            yield from self._observation(block)
            return
        elif section in PROSE_SECTIONS:
            action = block_action(self.f, ActionKind.message, block, step=self.step, meta={"section": section})
        else:  # text between sections (the "Assistant:" line, stray prose): the agent's response
            if [ln for ln in block.lines if ln.strip() and ln.strip() != "Assistant:"]:
                action = block_action(self.f, ActionKind.message, block, step=self.step)
            else:
                action = None
        if action:
            yield action

    def _observation(self, block: Block) -> Iterator[Action]:
        body = _unfence(block)
        if self.tool in EDIT_TOOLS:
            kind, actor = ActionKind.file_write, Actor.agent
            meta = {"path": self.args.get("save_name") or self.args.get("script_name"), "diff": True}
        else:
            kind, actor, meta = ActionKind.output, Actor.environment, {}
        for piece in split_block(body):
            action = block_action(self.f, kind, piece, actor=actor, step=self.step, tool=self.tool, meta=meta)
            if action:
                yield action


def _unfence(block: Block) -> Block:
    """The observation without the ``` lines MLAB wraps it in."""
    lines, first = list(block.lines), block.first
    while lines and not lines[0].strip():
        lines.pop(0)
        first += 1
    if lines and lines[0].strip() == "```":
        lines.pop(0)
        first += 1
    while lines and not lines[-1].strip():
        lines.pop()
    if lines and lines[-1].strip() == "```":
        lines.pop()
    return Block(first=first, lines=lines, ansi=block.ansi)


# --------------------------------------------------------------------------- step logs


def _step_log(f: SourceFile) -> Iterator[Action]:
    role: str | None = None
    model: str | None = None
    block: Block | None = None

    def flush() -> Iterator[Action]:
        if block is None or role in (None, "tokens"):
            return
        for piece in split_block(block):
            action = block_action(f, ActionKind.llm, piece, actor=Actor.scaffold, meta={"role": role, "model": model})
            if action:
                yield action

    for n, text, had_ansi, continuation in numbered_lines(f):
        m = None if continuation else SECTION_STEP_LOG.match(text)
        if m:
            yield from flush()
            block = None
            role = "response" if m.group(2) else m.group(1)
            model = m.group(2) or model
            continue
        if block is None or continuation:
            yield from flush()
            block = Block(first=n)
        block.add(text, had_ansi)
    yield from flush()


# --------------------------------------------------------------------------- trace.json


def _trace(f: SourceFile) -> Iterator[Action]:
    parsed = f.json()
    if parsed is None or parsed.value is None:
        yield from plain_fallback(f, None if parsed is None else "not readable as an MLAB trace")
        return
    steps = get(parsed.value, "steps")
    if not isinstance(steps, list):
        yield from plain_fallback(f, "no `steps` list in the trace")
        return
    task = json_action(f, ActionKind.message, get(parsed.value, "task_description"), "task_description", actor=Actor.harness)
    if task:
        yield task
    for i, step in enumerate(steps):
        if isinstance(step, dict):
            yield from _trace_step(f, i, step)
    if parsed.error:
        f.errors.append(f"{f.rel}: trace cut off or damaged; {len(steps)} step(s) read before the defect")


def _trace_step(f: SourceFile, i: int, step: dict) -> Iterator[Action]:
    tool = get(step, "action", "name")
    tool = str(tool) if isinstance(tool, str) else None
    args = get(step, "action", "args")
    args = args if isinstance(args, dict) else {}
    str_args = {k: str(v) for k, v in args.items() if isinstance(v, str)}
    kind, meta = tool_meta(tool or "", str_args)
    meta["t"] = step.get("timestamp")
    key = TRACE_TEXT_ARG.get(tool or "")
    value = args.get(key) if key else None
    if not isinstance(value, str) or not value.strip():
        key = next((k for k, v in args.items() if isinstance(v, str) and v.strip()), None)
        value = first_string(args.values())
    action = json_action(f, kind, value, f"steps[{i}].action.args.{key}", step=i, tool=tool, meta=meta)
    if action:
        yield action
    if tool in EDIT_TOOLS:
        obs_kind, actor, obs_meta = ActionKind.file_write, Actor.agent, {"path": meta.get("path"), "diff": True}
    else:
        obs_kind, actor, obs_meta = ActionKind.output, Actor.environment, {}
    obs = json_action(f, obs_kind, step.get("observation"), f"steps[{i}].observation", actor=actor, step=i, tool=tool, meta=obs_meta)
    if obs:
        yield obs
