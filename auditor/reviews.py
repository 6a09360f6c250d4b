"""Reviewers' decisions, kept in `PATH/reviews.jsonl` (append-only, one line a decision).

Each decision is one JSON line written with a single `write()` on a descriptor
opened with O_APPEND, under an exclusive `flock`, then fsync'd: two reviewers who
record at the same moment each get a whole line, and a crash loses at most the
line being written (a torn last line is skipped on reading and fenced off by a
newline before the next append). The latest line for an (episode, flag) wins, so
a reviewer changes their mind by recording again; nothing is ever rewritten.
"""

from __future__ import annotations

import difflib
import fcntl
import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from auditor.models import AuditReport, EpisodeReport, Flag, Review

REVIEWS_FILE = "reviews.jsonl"
log = logging.getLogger(__name__)
EXIT_OK, EXIT_BAD = 0, 2
_OPEN_FLAGS = os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)


class ReviewRecord(BaseModel):
    """One line of reviews.jsonl."""

    episode: str
    flag: str
    decision: Literal["confirmed", "dismissed"]
    reviewer: str
    note: str = ""
    at: str
    rule: str | None = None  # for people reading the file; the key is (episode, flag)

    def review(self) -> Review:
        return Review(decision=self.decision, reviewer=self.reviewer, note=self.note, at=self.at)


class ReviewError(Exception):
    """A decision that cannot be recorded; the message says why (exit status 2)."""


def reviews_path(run: str | Path) -> Path:
    run = Path(run)
    return (run if run.is_dir() else run.parent) / REVIEWS_FILE


# --------------------------------------------------------------------------- reading


def load_reviews(run: str | Path) -> dict[tuple[str, str], Review]:
    """The latest decision per (episode, flag); unreadable lines are skipped."""
    out: dict[tuple[str, str], Review] = {}
    try:
        records = read_records(run)
    except ReviewError as exc:  # an audit without the decisions is stricter, never laxer
        log.warning("%s", exc)
        return out
    for record in records:
        out[(record.episode, record.flag)] = record.review()
    return out


def read_records(run: str | Path) -> list[ReviewRecord]:
    """Every well-formed decision, in the order they were recorded."""
    path = reviews_path(run)
    try:
        fd = os.open(path, os.O_RDONLY | _OPEN_FLAGS)
    except FileNotFoundError:
        return []
    except OSError as exc:  # a symlink (ELOOP) or unreadable file: no decisions, but say so
        raise ReviewError(f"{path}: cannot read reviews ({exc.strerror})") from exc
    with os.fdopen(fd, "rb") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_SH)  # never read half of a line being appended
        data = fh.read()
    records = []
    for raw in data.split(b"\n"):
        try:
            records.append(ReviewRecord.model_validate_json(raw))
        except ValidationError:
            continue  # a torn or hand-mangled line loses only itself
    return records


# --------------------------------------------------------------------------- writing


def append_review(run: str | Path, record: ReviewRecord) -> Path:
    """Append one decision as one fsync'd line; safe against concurrent writers."""
    path = reviews_path(run)
    line = (record.model_dump_json() + "\n").encode("utf-8")
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | _OPEN_FLAGS, 0o644)
    except OSError as exc:
        raise ReviewError(f"{path}: cannot open for appending ({exc.strerror})") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _ends_without_newline(fd):
            line = b"\n" + line  # fence off a line torn by an earlier crash
        _write_all(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)  # closing releases the lock
    return path


def _ends_without_newline(fd: int) -> bool:
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


def _write_all(fd: int, data: bytes) -> None:
    # one write() in practice; the loop only matters for a short write (full disk,
    # signal), and the exclusive lock keeps even that line whole for other writers
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


# --------------------------------------------------------------------------- `audit review`


def review_command(
    path: Path,
    episode: str,
    flag: str,
    decision: str,
    note: str,
    reviewer: str,
    rules: Path | None,
    notebooks: Path | None,
) -> int:
    """Record a reviewer's decision on a flag of a fresh audit of `path`; exit status."""
    from rich.console import Console
    from rich.text import Text

    from auditor.show import AuditFailed, audit_for, terminal_safe

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        report = audit_for(path, rules, notebooks, monitors=None)
        target = find_flag(report, episode, flag)
        record = ReviewRecord(
            episode=episode,
            flag=flag,
            decision=decision,  # type: ignore[arg-type]
            reviewer=reviewer,
            note=note,
            at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            rule=target.rule,
        )
        written = append_review(path, record)
    except (AuditFailed, ReviewError) as exc:
        err.print(Text("error: ", style="red") + Text(terminal_safe(str(exc))))
        return EXIT_BAD
    before, after = verdict_change(find_episode(report, episode), flag, record.review(), rules)
    err.print(Text(terminal_safe(f"recorded in {written}: {flag} on {episode} {decision} by {reviewer}")))
    err.print(Text(f"the next audit applies it: episode {before} -> {after}"))
    return EXIT_OK


def verdict_change(episode: EpisodeReport, flag_id: str, review: Review, rules: Path | None) -> tuple[str, str]:
    """The episode's verdict before and after `review` of one of its flags."""
    from auditor.adjudication import verdict
    from rules import load_rulebook

    policy = load_rulebook(str(rules) if rules else None).policy
    after = [f.model_copy(update={"review": review}) if f.id == flag_id else f for f in episode.flags]
    return episode.verdict, verdict(after, policy)


def find_flag(report: AuditReport, episode_id: str, flag_id: str) -> Flag:
    """The flag `flag_id` of episode `episode_id`, or ReviewError naming what exists."""
    episode = find_episode(report, episode_id)
    for f in episode.flags:
        if f.id == flag_id:
            return f
    known = [f.id for f in episode.flags]
    if not known:
        raise ReviewError(f"episode {episode_id} has no flags in this audit; nothing to review")
    raise ReviewError(f"unknown flag {flag_id!r} for episode {episode_id}{_did_you_mean(flag_id, known)}; its flags: {', '.join(known)}")


def find_episode(report: AuditReport, episode_id: str) -> EpisodeReport:
    for e in report.episodes:
        if e.episode_id == episode_id:
            return e
    known = [e.episode_id for e in report.episodes]
    raise ReviewError(f"unknown episode {episode_id!r} in {report.run}{_did_you_mean(episode_id, known)}")


def _did_you_mean(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""


