"""Building small real episodes on disk for monitor tests, and running monitors on them.

Actions are appended to real files and get `Location`s that point at the lines where
their text starts, so `monitors.evidence` can check every excerpt as it does on runs.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from auditor.models import Action, ActionKind, Actor, CodeFile, Episode, Flag, Grade, Location, SourceEncoding, Submission
from monitors.base import AuditContext, registered
from monitors.evidence import clear_cache, verify
from rules.load import load_rulebook

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "episodes"


@dataclass
class EpisodeBuilder:
    root: Path
    competition: str = "spaceship-titanic"
    agent: str | None = "test-agent"
    actions: list[Action] = field(default_factory=list)
    code: list[CodeFile] = field(default_factory=list)
    submission: Submission | None = None
    grade: Grade | None = None
    grade_source: str | None = None
    _lines: dict[str, int] = field(default_factory=dict)

    def action(self, kind: str, text: str, file: str = "logs/agent.log", actor: str = "agent",
               encoding: str = "plain", **meta) -> Action:
        """Append `text` to `file` (as a JSON string line when encoding is json) and record the action."""
        path = self.root / file
        path.parent.mkdir(parents=True, exist_ok=True)
        start = self._lines.get(file, 0) + 1
        if encoding == "json":
            raw = '  "text": ' + json.dumps(text) + ",\n"
        elif encoding == "ansi":
            raw = "\n".join(f"\x1b[92m{ln}\x1b[0m" if ln else ln for ln in text.split("\n")) + "\n"
        else:
            raw = text + "\n"
        with path.open("a", encoding="utf-8") as fh:
            fh.write(raw)
        self._lines[file] = start - 1 + raw.count("\n")
        act = Action(kind=ActionKind(kind), text=text, actor=Actor(actor), meta=meta,
                     source=Location(file=file, line=start, encoding=SourceEncoding(encoding)))
        self.actions.append(act)
        return act

    def code_file(self, rel: str, text: str, language: str = "python") -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.code.append(CodeFile(path=rel, text=text, language=language))

    def submission_csv(self, text: str) -> None:
        path = self.root / "submission" / "submission.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        rows = max(0, text.replace("\r", "").strip().count("\n"))
        header = [h.strip().strip('"') for h in text.split("\n", 1)[0].rstrip("\r").split(",")]
        self.submission = Submission(path="submission/submission.csv", size=len(text.encode()), sha256="0" * 64, rows=rows, header=header)

    def build(self) -> Episode:
        return Episode(episode_id=self.root.name, path=self.root.name, root=str(self.root), competition_id=self.competition,
                       agent=self.agent, actions=self.actions, code_files=self.code, submission=self.submission,
                       grade=self.grade, grade_source=self.grade_source)


def builder(tmp_path: Path, competition: str = "spaceship-titanic", name: str = "a", agent: str | None = "test-agent") -> EpisodeBuilder:
    root = tmp_path / f"{competition}_{uuid.uuid5(uuid.NAMESPACE_URL, name)}"
    root.mkdir(parents=True)
    return EpisodeBuilder(root=root, competition=competition, agent=agent)


def run_monitors(episodes: list[Episode], names: tuple[str, ...] = ("static", "submission", "egress"), rulebook=None,
                 competitions_dir: str | None = None) -> dict[str, list[Flag]]:
    """Flags per episode id, monitors in their order, each seeing the earlier ones' flags."""
    clear_cache()
    rb = rulebook or load_rulebook()
    ctx = AuditContext(rulebook=rb, episodes=episodes, competitions_dir=competitions_dir)
    monitors = sorted((registered()[n]() for n in names), key=lambda m: m.order)
    for m in monitors:
        m.prepare(ctx)
    out: dict[str, list[Flag]] = {}
    for ep in episodes:
        flags: list[Flag] = []
        for m in monitors:
            ctx.prior_flags[ep.episode_id] = list(flags)
            flags += m.check(ep, ctx)
        out[ep.episode_id] = flags
    return out


def unverified(episode: Episode, flags: list[Flag]) -> list[str]:
    return [f"{f.rule}: {e.file}:{e.line} {e.excerpt!r}" for f in flags for e in f.evidence if not verify(episode, e)]


def rules_of(flags: list[Flag]) -> set[str]:
    return {f.rule for f in flags}
