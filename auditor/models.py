"""Typed models at the boundaries of the pipeline.

runner → run directory → (readers) Episode → grading → monitors (Flag) →
adjudication → AuditReport. Everything that crosses a package boundary is one of
these models; the JSON report (SPEC "Output: the audit report") is `AuditReport`
serialised with `model_dump(mode="json")`.
"""

from __future__ import annotations

from enum import Enum
from collections.abc import Callable, Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_serializer

SCHEMA_VERSION = 1


class Model(BaseModel):
    """Base of every model: in the report's JSON Schema, fields with defaults are still
    required, because the report always writes them."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


# --------------------------------------------------------------------------- reading


class ActionKind(str, Enum):
    """What an agent did, independent of the agent's log format."""

    shell = "shell"  # a shell command the agent ran
    python = "python"  # Python code the agent ran (a cell, a script body, a journal node)
    file_write = "file_write"  # the agent wrote or edited a file (text = new content or edit)
    file_read = "file_read"  # the agent read a file through its tools (text = path)
    http = "http"  # an HTTP request or page visit (text = URL, or the request line)
    message = "message"  # the agent's own prose: thoughts, plans, messages
    output = "output"  # what the environment returned (command output, observations)
    llm = "llm"  # a model call (by the scaffold unless who == agent)
    egress = "egress"  # an outbound connection recorded by the sandbox
    text = "text"  # a line of a log we do not understand (plain text fallback)


class Actor(str, Enum):
    """Who produced the text: this decides what it can violate.

    The agent's own commands and code can break rules; the scaffold's LLM traffic
    (AIDE's verbose log, OpenHands' model responses) is allowed; the environment's
    output and the task instructions are only read by the agent.
    """

    agent = "agent"
    scaffold = "scaffold"
    environment = "environment"
    harness = "harness"  # MLE-bench's own start.sh / entrypoint / grading server


class SourceEncoding(str, Enum):
    """How `Action.text` is stored in its file, so evidence can be re-found verbatim."""

    plain = "plain"  # text line i is file line `line + i`
    json = "json"  # a JSON string value starting at `line` (escaped; may span one raw line)
    ansi = "ansi"  # plain, but the file has ANSI colour codes that were stripped


class Location(Model):
    """Where a piece of text starts in the run: a file relative to the episode directory."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int = Field(ge=1, description="1-based line where the text starts")
    encoding: SourceEncoding = SourceEncoding.plain
    json_path: str | None = None  # e.g. nodes[3].code, for reviewers of JSON logs


class Action(Model):
    """One normalised step of an episode: what the monitors read.

    Readers make millions of these: they use `Action.of(...)`, which builds one from
    values they have already typed, without validation (pydantic's `model_construct`
    costs several microseconds an object).
    """

    kind: ActionKind
    text: str
    source: Location
    actor: Actor = Actor.agent
    step: int | None = None  # the agent's step / node / turn number, when known
    tool: str | None = None  # the tool or action name in the agent's log (run_ipython, bash, ...)
    meta: dict[str, str | int | float | bool | None] = Field(default_factory=dict)

    @classmethod
    def of(
        cls,
        kind: ActionKind,
        text: str,
        file: str,
        line: int,
        encoding: SourceEncoding = SourceEncoding.plain,
        actor: Actor = Actor.agent,
        step: int | None = None,
        tool: str | None = None,
        meta: dict | None = None,
        json_path: str | None = None,
    ) -> Action:
        source = _unvalidated(Location, file=file, line=line, encoding=encoding, json_path=json_path)
        return _unvalidated(cls, kind=kind, text=text, source=source, actor=actor, step=step, tool=tool, meta=meta or {})


def _unvalidated(cls, **values):
    """An instance of a pydantic model from every one of its fields, already typed."""
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


class CodeFile(Model):
    """A source file the agent left in code/ (or logs/best_solution.py)."""

    path: str  # relative to the episode directory
    text: str
    language: Literal["python", "shell", "notebook", "other"] = "python"


class Submission(Model):
    path: str  # relative to the episode directory
    size: int
    sha256: str
    rows: int | None = None  # data rows (without header), when counted
    header: list[str] = Field(default_factory=list)


class Grade(Model):
    """MLE-bench's CompetitionReport fields (SPEC), as the episode carries them."""

    score: float | None = None
    gold_threshold: float | None = None
    silver_threshold: float | None = None
    bronze_threshold: float | None = None
    median_threshold: float | None = None
    any_medal: bool = False
    gold_medal: bool = False
    silver_medal: bool = False
    bronze_medal: bool = False
    above_median: bool = False
    submission_exists: bool = False
    valid_submission: bool = False
    is_lower_better: bool = False


Medal = Literal["gold", "silver", "bronze", "none"]


def medal_of(grade: Grade | None) -> Medal:
    if grade is None:
        return "none"
    if grade.gold_medal:
        return "gold"
    if grade.silver_medal:
        return "silver"
    if grade.bronze_medal:
        return "bronze"
    return "none"


class Episode(Model):
    """Everything read from one episode directory; built by auditor.reading."""

    episode_id: str
    path: str  # relative to the audited PATH
    root: str  # absolute path of the episode directory (never serialised in the report)
    competition_id: str
    agent: str | None = None
    run_group: str | None = None
    seed: int = 0
    formats: list[str] = Field(default_factory=list)  # readers that recognised a file
    actions: list[Action] = Field(default_factory=list)
    code_files: list[CodeFile] = Field(default_factory=list)
    submission: Submission | None = None
    grade: Grade | None = None
    grade_source: str | None = None  # file:line of the grading-report entry
    errors: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)  # every readable file, relative
    #: logs too large to hold in memory: their actions are streamed again on each `iter_actions()`
    streamed: list[str] = Field(default_factory=list)
    _stream: Callable[[str], Iterator[Action]] | None = PrivateAttr(default=None)
    _readers: dict[str, str] = PrivateAttr(default_factory=dict)  # log file -> reader name

    def iter_actions(self) -> Iterator[Action]:
        """Every action: those held in memory, then those of streamed logs, read again.

        Monitors iterate this rather than `actions`, so that a 1 GB log is never held
        whole: memory stays bounded by one line, whatever the size of one log.
        """
        yield from self.actions
        if self._stream is not None:
            for file in self.streamed:
                yield from self._stream(file)

    def actions_of(self, *kinds: ActionKind, actor: Actor | None = Actor.agent) -> list[Action]:
        return [
            a for a in self.iter_actions() if (not kinds or a.kind in kinds) and (actor is None or a.actor == actor)
        ]


# --------------------------------------------------------------------------- flags


Severity = Literal["high", "medium", "low"]


class Match(Model):
    """The other side of a similarity match (a public notebook, another episode)."""

    source: str
    line: int
    similarity: float
    end_line: int | None = None
    excerpt: str | None = None


def _match_is_optional(schema: dict) -> None:
    schema["required"] = [k for k in schema.get("required", []) if k != "match"]


class Evidence(Model):
    """One place in the run. `match` (the other side of a similarity match) is written
    only when there is one, as in SPEC's example."""

    model_config = ConfigDict(json_schema_extra=_match_is_optional)

    file: str  # relative to the episode directory
    line: int = Field(ge=1)
    excerpt: str  # verbatim text of `file` at `line` (whitespace at the ends aside)
    match: Match | None = None

    @model_serializer(mode="wrap")
    def _drop_empty_match(self, handler):
        data = handler(self)
        if data.get("match") is None:
            data.pop("match", None)
        return data


class Review(Model):
    decision: Literal["confirmed", "dismissed"]
    reviewer: str
    note: str = ""
    at: str  # ISO-8601


class Flag(Model):
    id: str = ""  # stable within the episode; filled by the pipeline (auditor.flag_ids)
    rule: str
    severity: Severity
    monitor: str
    confidence: float = Field(ge=0.0, le=1.0)
    summary: str
    evidence: list[Evidence] = Field(min_length=1)
    review: Review | None = None


Verdict = Literal["clean", "needs-review", "disqualified"]


# --------------------------------------------------------------------------- report


class ToolInfo(Model):
    name: str = "mle-auditor"
    version: str


class RulebookInfo(Model):
    name: str
    version: str


class LLMUsage(Model):
    model: str
    requests: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated_cost_usd: float = 0.0
    dropped_quotes: int = 0


class EpisodeReport(Model):
    episode_id: str
    path: str
    competition_id: str
    agent: str | None
    run_group: str | None
    seed: int
    grade: Grade | None
    medal: Medal
    flags: list[Flag]
    verdict: Verdict
    audited_medal: Medal
    errors: list[str]


class MedalTableRow(Model):
    model_config = ConfigDict(extra="allow")  # richer tables add columns (pass@k, tiers)

    agent: str | None
    competition_id: str
    seeds: int
    medals: int
    audited_medals: int
    flagged: int
    disqualified: int


class MedalTableTotal(Model):
    model_config = ConfigDict(extra="allow")

    agent: str | None
    episodes: int
    any_medal_pct: float
    any_medal_pct_sem: float
    audited_any_medal_pct: float
    audited_any_medal_pct_sem: float
    disqualified: int
    needs_review: int


class MedalTable(Model):
    model_config = ConfigDict(extra="allow")

    rows: list[MedalTableRow] = Field(default_factory=list)
    totals: list[MedalTableTotal] = Field(default_factory=list)


class AuditReport(Model):
    schema_version: Literal[1] = SCHEMA_VERSION
    tool: ToolInfo
    run: str
    rulebook: RulebookInfo
    monitors: list[str]
    skipped_monitors: dict[str, str] = Field(default_factory=dict)
    llm: LLMUsage | None = None
    episodes: list[EpisodeReport]
    medal_table: MedalTable
