"""AIDE (aideml, as MLE-bench runs it): `journal.json` / `filtered_journal.json`,
`aide.log` and `aide.verbose.log`.

- The journal is the search tree: each node is one step of the agent, with the
  code it ran (`python`, the agent's), its plan (`message`, the agent's), the
  terminal output (`output`, the environment's) and the scaffold's review of that
  output (`analysis`: a `message` of the scaffold). A journal cut off mid-node
  still yields every node read before the cut, and the cut node's code as far as
  it goes (jsonpos keeps a truncated string).
- `aide.verbose.log` holds the scaffold's own LLM calls between
  `---Querying model---` and `---Query complete---`; each role section (system,
  user, function spec, response) is one `llm` action of the scaffold. The prompts
  quote earlier nodes' code: that is the scaffold talking to its model, not new
  agent actions. The log records around the calls (`aide.log` is made of them
  only) are `text` of the scaffold.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor import jsonpos
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

JOURNAL_NODES = re.compile(r'^\s*\{\s*"nodes"\s*:\s*\[|"nodes"\s*:\s*\[\s*\{')
JOURNAL_KEYS = re.compile(r'"(?:_term_out|node2parent|is_buggy|exc_type)"\s*:')
LOG_RECORD = re.compile(r"^\[(\d{4}-\d\d-\d\d[ T][\d:,.]+)\] ([A-Z]+): ?(.*)$")
AIDE_LOG_MARKERS = re.compile(
    r"^\[\d{4}-\d\d-\d\d[ T][\d:,.]+\] [A-Z]+: (?:---Querying model---|Starting run|\[search policy\]"
    r"|Agent is generating code|REPL is executing code|Drafted new node)",
    re.M,
)
QUERY_START = "---Querying model---"
QUERY_END = "---Query complete---"
SECTION = re.compile(r"^(system|user|response|function spec|assistant|messages?|prompt)\s*: ?(.*)$", re.S)
MAX_TERM_GROUP = 1 << 20
TEXT_BLOCK_LINES = 200  # log records gathered into one text action  # characters of terminal output joined into one action


@register_reader
class AideJournalReader(Reader):
    name = "aide"
    order = 30

    def sniff(self, f: SourceFile) -> bool:
        return looks_like_json(f, "{") and head_matches(f, JOURNAL_NODES) and head_matches(f, JOURNAL_KEYS)

    def read(self, f: SourceFile) -> Iterator[Action]:
        yield from self._journal(f)

    # ------------------------------------------------------------------ journal

    def _journal(self, f: SourceFile) -> Iterator[Action]:
        parsed = f.json()
        if parsed is None:
            yield from plain_fallback(f)
            return
        nodes = get(parsed.value, "nodes")
        if not isinstance(nodes, list):
            yield from plain_fallback(f, "no `nodes` list in the journal")
            return
        parents = get(parsed.value, "node2parent")
        parents = parents if isinstance(parents, dict) else {}
        read = 0
        for i, node in enumerate(nodes):
            if isinstance(node, dict):
                read += 1
                yield from _node_actions(f, i, node, parents)
        if parsed.error:
            f.errors.append(f"{f.rel}: journal cut off or damaged; {read} node(s) read before the defect")



@register_reader
class AideLogReader(Reader):
    """aide.log / aide.verbose.log: line-based, so a large one is streamed."""

    name = "aide-log"
    order = 31
    streamable = True

    def sniff(self, f: SourceFile) -> bool:
        return not looks_like_json(f) and not is_host_log(f) and head_matches(f, AIDE_LOG_MARKERS)

    def read(self, f: SourceFile) -> Iterator[Action]:
        yield from self._log(f)

    def _log(self, f: SourceFile) -> Iterator[Action]:
        """Log records as scaffold text; the LLM calls between the query markers as `llm`."""
        query = 0
        in_query = False
        role: str | None = None
        block: Block | None = None

        def flush() -> Iterator[Action]:
            if block is None:
                return
            if in_query:
                for piece in split_block(block):
                    action = block_action(
                        f, ActionKind.llm, piece, actor=Actor.scaffold, tool="aide",
                        meta={"query": query, "role": role},
                    )
                    if action:
                        yield action
            else:
                action = block_action(f, ActionKind.text, block, actor=Actor.scaffold, tool="aide")
                if action:
                    yield action

        for n, text, had_ansi, continuation in numbered_lines(f):
            record = None if continuation else LOG_RECORD.match(text)
            if record is None:
                if not in_query and not text.strip():  # scaffold text actions hold no blank lines
                    yield from flush()
                    block = None
                    continue
                if block is None or continuation:
                    yield from flush()
                    block = Block(first=n)
                block.add(text, had_ansi)
                continue
            message = record.group(3)
            marker = message.strip() in (QUERY_START, QUERY_END)
            if not in_query and not marker and block is not None and len(block.lines) < TEXT_BLOCK_LINES:
                block.add(text, had_ansi)  # the scaffold's own records: one text action per run of them
                continue
            yield from flush()
            block = None
            if message.strip() == QUERY_START:
                in_query, role, query = True, None, query + 1
                continue
            if message.strip() == QUERY_END:
                in_query, role = False, None
                continue
            if in_query:
                section = SECTION.match(message)
                role = section.group(1) if section else role
                message = section.group(2) if section else message
            block = Block(first=n)
            block.add(message, had_ansi)
        yield from flush()
        if in_query:
            f.errors.append(f"{f.rel}: the last LLM query has no `{QUERY_END}` marker (log cut off); read up to the end")


def _node_actions(f: SourceFile, i: int, node: dict, parents: dict) -> Iterator[Action]:
    step = as_int(node.get("step"))
    step = i if step is None else step
    node_id = node.get("id")
    metric = node.get("metric")
    meta = {
        "node": node_id,
        "parent": parents.get(node_id) if isinstance(node_id, str) else None,
        "is_buggy": node.get("is_buggy") if isinstance(node.get("is_buggy"), bool) else None,
        "metric": get(metric, "value") if isinstance(get(metric, "value"), (int, float)) else None,
        "maximize": get(metric, "maximize") if isinstance(get(metric, "maximize"), bool) else None,
    }
    base = f"nodes[{i}]"
    for kind, key, actor in (
        (ActionKind.message, "plan", Actor.agent),
        (ActionKind.python, "code", Actor.agent),
    ):
        action = json_action(f, kind, node.get(key), f"{base}.{key}", actor=actor, step=step, tool="aide", meta=meta)
        if action:
            yield action
    term_out = node.get("_term_out")
    if isinstance(term_out, list):
        yield from _term_out_actions(f, term_out, f"{base}._term_out", step, meta)
    elif isinstance(term_out, str):
        action = json_action(f, ActionKind.output, term_out, f"{base}._term_out", actor=Actor.environment, step=step, tool="aide", meta=meta)
        if action:
            yield action
    analysis = json_action(
        f, ActionKind.message, node.get("analysis"), f"{base}.analysis",
        actor=Actor.scaffold, step=step, tool="aide", meta={**meta, "role": "review"},
    )
    if analysis:
        yield analysis


def _term_out_actions(f: SourceFile, items: list, path: str, step: int, meta: dict) -> Iterator[Action]:
    """Terminal output pieces, joined while they sit on one file line and end with a newline.

    AIDE stores output as a list of chunks; a compact journal has them all on one line,
    so joining them gives one readable, still citable, output action per run.
    """
    group: list[tuple[int, str]] = []

    def flush() -> Iterator[Action]:
        if not group:
            return
        text = jsonpos.JStr("".join(s for _, s in group))
        text.line = jsonpos.line_of(group[0][1], 1)
        first, last = group[0][0], group[-1][0]
        where = f"{path}[{first}]" if first == last else f"{path}[{first}:{last + 1}]"
        action = json_action(f, ActionKind.output, text, where, actor=Actor.environment, step=step, tool="aide", meta=meta)
        if action:
            yield action

    size = 0
    for j, item in enumerate(items):
        if not isinstance(item, str) or not item:
            continue
        if group and (
            jsonpos.line_of(item) != jsonpos.line_of(group[0][1])
            or not group[-1][1].endswith("\n")
            or size + len(item) > MAX_TERM_GROUP
        ):
            yield from flush()
            group, size = [], 0
        group.append((j, item))
        size += len(item)
    yield from flush()
