"""Inspect AI eval logs: `.json` (an EvalLog with `samples[]`) and `.eval` (a zip
with `samples/<id>_epoch_<n>.json` members, read through `archive.SafeZip`).

Per sample, the `events` are the source (the `messages` repeat them):

- `tool` events are what the agent had executed: `bash` (`arguments.cmd`, or
  `arguments.command` in newer Inspect) → shell, `python` (`arguments.code`) →
  python, `text_editor` → file_write (create / str_replace / insert) or file_read
  (view), browser and fetch tools → http, `submit`/`think` → message; the result
  (or error) is `output` of the environment.
- `model` events are the scaffold's LLM calls: one `llm` action of the scaffold
  naming the model, and the completion's text as the agent's `message`. The tool
  calls inside a completion are the agent's requests; the `tool` events that
  follow are their executions, and only those are read, so each command appears once.
- `sandbox` events (exec / read_file / write_file) are how Inspect carried out a
  tool call (scaffold) or the harness's own calls (setup, scoring: harness);
  their output repeats the tool result and is not read.
- The sample's system and user messages are the harness's task text. A sample
  without events (old logs) is read from its messages instead.

Long strings may be `attachment://<md5>` references into the sample's
`attachments`: they are resolved, and the action cites the attachment's own
string (its line and JSON path), where the text is verbatim. Actions from a
`.eval` member cite `<file>.eval!/<member>` with lines counted in the member.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from auditor import jsonpos
from auditor.models import Action, ActionKind, Actor
from auditor.readers._common import as_int, get, head_matches, json_action, looks_like_json, plain_fallback
from auditor.readers.archive import ArchiveRefused, SafeZip, is_zip, member_ref
from auditor.readers.base import Reader, SourceFile, register_reader
from auditor.safefs import UnsafePath

EVAL_LOG_KEYS = (re.compile(r'"eval"\s*:\s*\{'), re.compile(r'"(?:version|samples|status|plan)"\s*:'))
SAMPLE_KEYS = (re.compile(r'"epoch"\s*:'), re.compile(r'"(?:events|messages)"\s*:\s*\['))
EVAL_MEMBERS = (b"_journal/", b"header.json", b"samples/", b"start.json", b"summaries")
ATTACHMENT = "attachment://"
SAMPLE_MEMBER = re.compile(r"^samples/[^/]+\.json$")

SHELL_TOOLS = {"bash", "shell", "bash_session", "exec", "execute", "run", "terminal", "cmd"}
PYTHON_TOOLS = {"python", "ipython", "python_exec", "execute_python", "run_python"}
EDITOR_TOOLS = {"text_editor", "str_replace_editor", "str_replace_based_edit_tool", "editor", "edit_file"}
PROSE_TOOLS = {"submit": "answer", "think": "thought", "answer": "answer", "finish": "answer"}
HTTP_HINTS = ("browser", "browse", "fetch", "http", "url", "web", "search")


@dataclass
class Sample:
    """One sample being read: where its strings live and how to resolve its attachments."""

    f: SourceFile
    file: str  # the evidence file: f.rel, or `<zip>!/<member>`
    base: str  # JSON path of the sample in that file ("samples[0]" or "")
    attachments: dict
    meta: dict
    turn: int = 0
    tool_window: tuple[str, str] | None = None  # (start, end) timestamps of the last tool event
    missing: set[str] = field(default_factory=set)

    def path(self, rest: str) -> str:
        return f"{self.base}.{rest}" if self.base else rest

    def resolve(self, value: object, path: str) -> tuple[object, str]:
        """An `attachment://` reference replaced by the attachment's string and its path."""
        if isinstance(value, str) and value.startswith(ATTACHMENT):
            key = value[len(ATTACHMENT):]
            target = self.attachments.get(key)
            if isinstance(target, str):
                return target, self.path(f"attachments.{key}")
            self.missing.add(key)
        return value, path

    def action(self, kind: ActionKind, value: object, path: str, **kw) -> Action | None:
        value, path = self.resolve(value, path)
        kw["meta"] = {**self.meta, **(kw.get("meta") or {})}
        return json_action(self.f, kind, value, path, file=self.file, **kw)


@register_reader
class InspectReader(Reader):
    name = "inspect"
    order = 20

    def sniff(self, f: SourceFile) -> bool:
        if is_zip(f.head):
            return f.name.endswith(".eval") or any(m in f.head for m in EVAL_MEMBERS)
        if not looks_like_json(f, "{"):
            return False
        return head_matches(f, *EVAL_LOG_KEYS, need=2) or head_matches(f, *SAMPLE_KEYS, need=2)

    def read(self, f: SourceFile) -> Iterator[Action]:
        if is_zip(f.head):
            yield from _eval_zip(f)
        else:
            yield from _eval_json(f)


# --------------------------------------------------------------------------- files


def _eval_json(f: SourceFile) -> Iterator[Action]:
    parsed = f.json()
    if parsed is None or not isinstance(parsed.value, dict):
        yield from plain_fallback(f, None if parsed is None else "not readable as an Inspect log")
        return
    samples = parsed.value.get("samples")
    if isinstance(samples, list):
        for i, sample in enumerate(samples):
            if isinstance(sample, dict):
                yield from _sample_actions(f, f.rel, f"samples[{i}]", sample)
    elif "events" in parsed.value or "messages" in parsed.value:
        yield from _sample_actions(f, f.rel, "", parsed.value)
    if parsed.error:
        f.errors.append(f"{f.rel}: eval log cut off or damaged; the samples before the defect were read")


def _eval_zip(f: SourceFile) -> Iterator[Action]:
    try:
        with SafeZip(f.fs, f.path) as z:
            members = sorted(n for n in z.names() if SAMPLE_MEMBER.match(n))
            for member in members:
                yield from _zip_sample(f, z, member)
    except (ArchiveRefused, UnsafePath) as exc:
        f.errors.append(f"{exc}; nothing more read from the archive" if "!/" not in str(exc) else str(exc))


def _zip_sample(f: SourceFile, z: SafeZip, member: str) -> Iterator[Action]:
    ref = member_ref(f.rel, member)
    try:
        data = z.read(member)
    except ArchiveRefused as exc:
        f.errors.append(f"{exc}; the other samples were still read")
        return
    text = data.decode("utf-8", errors="replace")
    if "\ufffd" in text:
        f.errors.append(f"{ref}: not valid UTF-8; read with replacement characters")
    parsed = jsonpos.loads(text, lenient=True)
    if parsed.error:
        f.errors.append(f"{ref}: not valid JSON ({parsed.error}); {'read up to the defect' if parsed.value is not None else 'not read'}")
    if isinstance(parsed.value, dict):
        yield from _sample_actions(f, ref, "", parsed.value)


# --------------------------------------------------------------------------- samples


def _sample_actions(f: SourceFile, file: str, base: str, sample: dict) -> Iterator[Action]:
    attachments = sample.get("attachments") if isinstance(sample.get("attachments"), dict) else {}
    meta = {"sample": sample.get("id") if isinstance(sample.get("id"), (str, int)) else None, "epoch": as_int(sample.get("epoch"))}
    s = Sample(f=f, file=file, base=base, attachments=attachments, meta=meta)
    events = sample.get("events")
    messages = sample.get("messages") if isinstance(sample.get("messages"), list) else []
    if isinstance(events, list) and events:
        yield from _harness_messages(s, messages)
        yield from _events(s, events, s.path("events"), in_tool=False)
    else:
        yield from _messages(s, messages)
    if s.missing:
        f.errors.append(f"{file}: {len(s.missing)} attachment reference(s) with no attachment; the references were read as they are")


def _harness_messages(s: Sample, messages: list) -> Iterator[Action]:
    for i, msg in enumerate(messages):
        if isinstance(msg, dict) and msg.get("role") in ("system", "user"):
            yield from _content(s, ActionKind.message, msg.get("content"), s.path(f"messages[{i}].content"), actor=Actor.harness, meta={"role": msg.get("role")})


def _events(s: Sample, events: list, path: str, in_tool: bool) -> Iterator[Action]:
    for j, ev in enumerate(events):
        if not isinstance(ev, dict):
            continue
        where = f"{path}[{j}]"
        kind = ev.get("event")
        if kind == "model":
            yield from _model_event(s, ev, where)
        elif kind == "tool":
            yield from _tool_event(s, ev, where)
        elif kind == "sandbox":
            action = _sandbox_event(s, ev, where, in_tool)
            if action:
                yield action
        elif isinstance(ev.get("events"), list):  # subtasks and spans that nest their events
            yield from _events(s, ev["events"], f"{where}.events", in_tool)


def _model_event(s: Sample, ev: dict, where: str) -> Iterator[Action]:
    s.turn += 1
    usage = get(ev, "output", "usage")
    llm = s.action(
        ActionKind.llm, ev.get("model"), f"{where}.model", actor=Actor.scaffold, step=s.turn, tool="model",
        meta={"input_tokens": as_int(get(usage, "input_tokens")), "output_tokens": as_int(get(usage, "output_tokens"))},
    )
    if llm:
        yield llm
    content = get(ev, "output", "choices", 0, "message", "content")
    yield from _content(s, ActionKind.message, content, f"{where}.output.choices[0].message.content", step=s.turn, tool="model")


def _tool_event(s: Sample, ev: dict, where: str) -> Iterator[Action]:
    function = ev.get("function") if isinstance(ev.get("function"), str) else "?"
    args = ev.get("arguments") if isinstance(ev.get("arguments"), dict) else {}
    s.tool_window = (str(ev.get("timestamp") or ""), str(ev.get("completed") or ev.get("timestamp") or ""))
    meta = {"call_id": ev.get("id")}
    yield from _tool_call(s, function, args, f"{where}.arguments", meta)
    yield from _content(s, ActionKind.output, ev.get("result"), f"{where}.result", actor=Actor.environment, step=s.turn, tool=function, meta=meta)
    error = s.action(ActionKind.output, get(ev, "error", "message"), f"{where}.error.message", actor=Actor.environment, step=s.turn, tool=function, meta={**meta, "error": True})
    if error:
        yield error
    if isinstance(ev.get("events"), list):
        yield from _events(s, ev["events"], f"{where}.events", in_tool=True)


def _tool_call(s: Sample, function: str, args: dict, args_path: str, meta: dict) -> Iterator[Action]:
    kind, key, extra = classify_tool(function, args)
    if kind is None or key is None:
        return
    action = s.action(kind, args.get(key), f"{args_path}.{key}", step=s.turn, tool=function, meta={**meta, **extra})
    if action:
        yield action


def classify_tool(function: str, args: dict) -> tuple[ActionKind | None, str | None, dict]:
    """(kind, the argument holding the text, extra meta) for a tool call."""
    fn = function.lower().rsplit("/", 1)[-1]
    path = {"path": args["path"]} if isinstance(args.get("path"), str) else {}
    if fn in SHELL_TOOLS:
        return ActionKind.shell, _first_key(args, "cmd", "command", "input", "code"), {}
    if fn in PYTHON_TOOLS:
        return ActionKind.python, _first_key(args, "code", "source", "cmd"), {}
    if fn in EDITOR_TOOLS:
        command = args.get("command")
        if command == "view":
            return ActionKind.file_read, "path", path
        return ActionKind.file_write, _first_key(args, "file_text", "new_str", "content", "path"), {**path, "command": command}
    if fn in PROSE_TOOLS:
        return ActionKind.message, _first_key(args, PROSE_TOOLS[fn], "answer", "thought", "content"), {}
    if "read" in fn and "file" in fn:
        return ActionKind.file_read, _first_key(args, "path", "file", "filename"), path
    if "write" in fn or "create_file" in fn:
        return ActionKind.file_write, _first_key(args, "content", "text", "file_text", "path", "file"), path
    if any(h in fn for h in HTTP_HINTS):
        return ActionKind.http, _first_key(args, "url", "query", "href", "input"), {"url": args.get("url") if isinstance(args.get("url"), str) else None}
    return _classify_by_arguments(args)


def _classify_by_arguments(args: dict) -> tuple[ActionKind | None, str | None, dict]:
    for keys, kind in ((("cmd", "command"), ActionKind.shell), (("code",), ActionKind.python), (("url",), ActionKind.http)):
        key = _first_key(args, *keys)
        if key:
            return kind, key, {}
    key = _first_key(args, *args.keys())
    return (ActionKind.text, key, {}) if key else (None, None, {})


def _first_key(args: dict, *keys: str) -> str | None:
    return next((k for k in keys if isinstance(args.get(k), str) and args[k].strip()), None)


def _sandbox_event(s: Sample, ev: dict, where: str, in_tool: bool) -> Action | None:
    ts = str(ev.get("timestamp") or "")
    if not in_tool and s.tool_window is not None:
        start, end = s.tool_window
        in_tool = bool(ts) and start <= ts <= end
    actor = Actor.scaffold if in_tool else Actor.harness
    action = ev.get("action")
    common = {"actor": actor, "step": s.turn, "tool": f"sandbox.{action}", "meta": {"exit_code": as_int(ev.get("result"))}}
    if action == "exec":
        return s.action(ActionKind.shell, ev.get("cmd"), f"{where}.cmd", **common)
    if action == "read_file":
        return s.action(ActionKind.file_read, ev.get("file"), f"{where}.file", **common)
    if action == "write_file":
        common["meta"] = {"path": ev.get("file") if isinstance(ev.get("file"), str) else None}
        return s.action(ActionKind.file_write, ev.get("input"), f"{where}.input", **common) or s.action(
            ActionKind.file_write, ev.get("file"), f"{where}.file", **common
        )
    return None


def _messages(s: Sample, messages: list) -> Iterator[Action]:
    """A sample without events: its conversation, in order."""
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            continue
        role = msg.get("role")
        where = s.path(f"messages[{i}]")
        if role in ("system", "user"):
            yield from _content(s, ActionKind.message, msg.get("content"), f"{where}.content", actor=Actor.harness, meta={"role": role})
        elif role == "assistant":
            s.turn += 1
            yield from _content(s, ActionKind.message, msg.get("content"), f"{where}.content", step=s.turn, tool="model")
            calls = msg.get("tool_calls") if isinstance(msg.get("tool_calls"), list) else []
            for k, call in enumerate(calls):
                if isinstance(call, dict) and isinstance(call.get("arguments"), dict):
                    function = call.get("function") if isinstance(call.get("function"), str) else "?"
                    yield from _tool_call(s, function, call["arguments"], f"{where}.tool_calls[{k}].arguments", {"call_id": call.get("id")})
        elif role == "tool":
            yield from _content(s, ActionKind.output, msg.get("content"), f"{where}.content", actor=Actor.environment, step=s.turn, tool=msg.get("function"))


def _content(s: Sample, kind: ActionKind, content: object, path: str, **kw) -> Iterator[Action]:
    """Actions for a message content: a string, or a list of text / reasoning parts."""
    content, path = s.resolve(content, path)
    if isinstance(content, str):
        action = s.action(kind, content, path, **kw)
        if action:
            yield action
        return
    if not isinstance(content, list):
        return
    for k, part in enumerate(content):
        if not isinstance(part, dict):
            continue
        for key in ("text", "reasoning"):
            action = s.action(kind, part.get(key), f"{path}[{k}].{key}", **kw)
            if action:
                yield action
