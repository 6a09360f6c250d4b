"""The pieces of an episode the deterministic monitors read, each with a way to cite itself.

A `Unit` is one text to analyse (a code file, a notebook cell, an agent command or
code action, a URL the agent visited, an observation) with its language, who wrote
it, how direct it is as evidence, and a `cite(line, fragment)` that maps a line of the
text back to `file:line` through `monitors.evidence` (so JSON-escaped and ANSI-coloured
sources quote verbatim). What the agent only read (instructions, outputs) is kept
apart from what it did: only agent code, commands, writes and visits are checked for
behaviour; text aimed at the auditor is looked for everywhere the agent could write.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from auditor import jsonpos
from auditor.models import Action, ActionKind, Actor, CodeFile, Episode, Evidence, SourceEncoding
from monitors.evidence import cite, cite_text

# how direct a place is as evidence: the agent's code first, then its logged actions, then echoes
RANK_CODE = 0
RANK_ACTION = 1
RANK_MESSAGE = 2
RANK_OUTPUT = 3

# source files of other languages: read for LLM API hosts only (R, JavaScript, Julia, ...)
OTHER_CODE = (".r", ".R", ".js", ".mjs", ".ts", ".jl", ".rb", ".go", ".java", ".scala", ".lua", ".pl")

Citer = Callable[[int, str], "Evidence | None"]


@dataclass
class Unit:
    text: str
    language: str  # python | shell | url | path | text
    file: str
    rank: int
    order: int
    cite: Citer
    behaviour: bool = True  # analysed for rule-breaking behaviour (not just injected text)
    written_to: str | None = None  # a file_write action's target path
    action: Action | None = None


def units(episode: Episode) -> Iterator[Unit]:
    order = 0
    for code in episode.code_files:
        for unit in _code_units(episode, code):
            unit.order = order
            order += 1
            yield unit
    for action in episode.iter_actions():
        unit = _action_unit(episode, action)
        if unit is not None:
            unit.order = order
            order += 1
            yield unit
        for unit in _prompted_commands(episode, action):
            unit.order = order
            order += 1
            yield unit


def _code_units(episode: Episode, code: CodeFile) -> Iterator[Unit]:
    if code.language == "notebook":
        yield from _notebook_units(episode, code)
        return
    language = {"python": "python", "shell": "shell", "other": "other-code"}.get(code.language, "text")

    def citer(i: int, fragment: str, path: str = code.path) -> Evidence | None:
        return cite_text(episode, path, i + 1, fragment)

    yield Unit(code.text, language, code.path, RANK_CODE, 0, citer, behaviour=language != "text")


def _notebook_units(episode: Episode, code: CodeFile) -> Iterator[Unit]:
    parsed = jsonpos.loads(code.text, lenient=True)
    cells = parsed.value.get("cells") if isinstance(parsed.value, dict) else None
    if not isinstance(cells, list):
        return
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        source = cell.get("source")
        pieces = source if isinstance(source, list) else [source] if isinstance(source, str) else []
        pieces = [p for p in pieces if isinstance(p, str)]
        if not pieces:
            continue
        text, line_map = _join_pieces(pieces)
        code_cell = cell.get("cell_type") == "code"

        def citer(i: int, fragment: str, line_map=line_map) -> Evidence | None:
            if not 0 <= i < len(line_map):
                return None
            return cite_text(episode, code.path, line_map[i], fragment, SourceEncoding.json)

        yield Unit(text, "python" if code_cell else "text", code.path, RANK_CODE, 0, citer, behaviour=code_cell)
        for output in cell.get("outputs") or []:
            if isinstance(output, dict):
                out_pieces = output.get("text")
                out_pieces = out_pieces if isinstance(out_pieces, list) else [out_pieces] if isinstance(out_pieces, str) else []
                out_pieces = [p for p in out_pieces if isinstance(p, str)]
                if out_pieces:
                    otext, omap = _join_pieces(out_pieces)

                    def ocite(i: int, fragment: str, omap=omap) -> Evidence | None:
                        return cite_text(episode, code.path, omap[i], fragment, SourceEncoding.json) if 0 <= i < len(omap) else None

                    yield Unit(otext, "text", code.path, RANK_OUTPUT, 0, ocite, behaviour=False)


def _join_pieces(pieces: list[str]) -> tuple[str, list[int]]:
    """Notebook source pieces joined; each text line mapped to the file line of its piece."""
    lines: list[str] = []
    line_map: list[int] = []
    for piece in pieces:
        start = jsonpos.line_of(piece, 1)
        parts = piece.split("\n")
        if piece.endswith("\n"):
            parts = parts[:-1]
        for k, part in enumerate(parts):
            if k == 0 and lines and not _ended(lines, pieces, piece):
                lines[-1] += part
                continue
            lines.append(part)
            line_map.append(start)
    return "\n".join(lines), line_map


def _ended(lines: list[str], pieces: list[str], piece: str) -> bool:
    idx = pieces.index(piece)
    return idx == 0 or pieces[idx - 1].endswith("\n")


def _action_unit(episode: Episode, action: Action) -> Unit | None:
    if action.actor in (Actor.scaffold, Actor.harness):
        return None  # the scaffold's own LLM traffic and the harness are allowed to say anything

    def citer(i: int, fragment: str) -> Evidence | None:
        return cite(episode, action, i, fragment)

    kind = action.kind
    by_agent = action.actor == Actor.agent
    if kind == ActionKind.python and by_agent:
        return Unit(action.text, "python", action.source.file, RANK_ACTION, 0, citer, action=action)
    if kind == ActionKind.shell and by_agent:
        return Unit(action.text, "shell", action.source.file, RANK_ACTION, 0, citer, action=action)
    if kind == ActionKind.file_write and by_agent:
        path = str(action.meta.get("path") or "")
        language = "python" if path.endswith(".py") else "shell" if path.endswith((".sh", ".bash")) \
            else "other-code" if path.endswith(OTHER_CODE) else "text"
        text = new_side(action.text) if action.meta.get("diff") or _looks_like_diff(action.text) else action.text
        return Unit(text, language, action.source.file, RANK_ACTION, 0, citer, behaviour=language != "text",
                    written_to=path or None, action=action)
    if kind == ActionKind.http and by_agent:
        return Unit(action.text, "url", action.source.file, RANK_ACTION, 0, citer, action=action)
    if kind == ActionKind.file_read and by_agent:
        return Unit(action.text, "path", action.source.file, RANK_ACTION, 0, citer, action=action)
    if kind == ActionKind.llm and by_agent:
        return Unit(action.text, "llm", action.source.file, RANK_ACTION, 0, citer, action=action)
    if kind == ActionKind.message and by_agent:
        return Unit(action.text, "text", action.source.file, RANK_MESSAGE, 0, citer, behaviour=False, action=action)
    if kind in (ActionKind.output, ActionKind.text):
        return Unit(action.text, "text", action.source.file, RANK_OUTPUT, 0, citer, behaviour=False, action=action)
    return None


# a command echoed after a prompt in a log no reader understands: `$ curl ...`, `>>> import openai`
PROMPTED = re.compile(r"^\s*(?:(?P<shell>(?:[\w.-]+@[\w.-]+(?::[^$#]*)?)?[$]|bash[$>]|sh[$>]|\+{1,3})|(?P<py>>>>|In \[\d*\]:))\s+(?P<cmd>\S.*)$")
# the continuation prompts that follow a first line of Python (`...`) or of a shell command (`>`)
CONTINUED = {"python": re.compile(r"^\s*(?:\.\.\.|\s{3,}\.\.\.:)(?: (?P<cmd>.*))?$"), "shell": re.compile(r"^\s*> (?P<cmd>.*)$")}
WRITER_KNOWN = {"run.log"}  # host logs: container lines there include the harness's own start.sh trace


def _prompted_commands(episode: Episode, action: Action) -> Iterator[Unit]:
    """Commands in an unparsed log, read as the agent's behaviour but as weak evidence.

    Nobody can say who wrote a line of an unknown log, so such units rank as outputs:
    a flag that rests on them alone stays below the disqualifying confidence and goes
    to review, while a run in a format we do not parse is not waved through.
    """
    if action.kind != ActionKind.text or action.actor != Actor.environment or action.source.file in WRITER_KNOWN:
        return
    if "$" not in action.text and ">>>" not in action.text and "In [" not in action.text and "+ " not in action.text:
        return
    lines = action.text.split("\n")
    for i, line in enumerate(lines):
        m = PROMPTED.match(line)
        if not m:
            continue
        language = "python" if m.group("py") else "shell"
        body = [m.group("cmd")]
        for nxt in lines[i + 1:]:  # `... ` / `> ` lines continue the statement: one unit, lines kept apart
            c = CONTINUED[language].match(nxt)
            if not c:
                break
            body.append(c.group("cmd") or "")

        def citer(k: int, fragment: str, i: int = i) -> Evidence | None:
            return cite(episode, action, i + k, fragment)

        yield Unit("\n".join(body), language, action.source.file, RANK_OUTPUT, 0, citer, action=action)


def _looks_like_diff(text: str) -> bool:
    return "\n@@ " in text and ("\n+++" in text or text.startswith("+++") or "\n--- " in text)


def new_side(diff: str) -> str:
    """The added and context lines of a unified diff, one column in, other lines blank.

    Line numbers stay those of the diff (so evidence cites it), and every kept line is
    a suffix of its diff line (so fragments of it are verbatim there).
    """
    out = []
    for line in diff.split("\n"):
        if line.startswith(("+++", "---", "@@")) or not line[:1] in {"+", " "}:
            out.append("")
        else:
            out.append(line[1:])
    return "\n".join(out)
