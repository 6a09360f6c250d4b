"""events.jsonl: what the sandbox saw the agent do, in time order (SPEC).

Pure functions from the raw records the sandbox collected (the bash xtrace, the
Python hook's lines, the container's output, the files left behind, the egress
and DNS logs) to `Event`s with `t` in seconds since the episode started. The raw
records were written by the adversary's own processes, so every parser here takes
malformed input in its stride: a line it cannot read is kept as text or skipped,
never an exception.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator

from runner.models import EgressRecord, Event

TRACE_LINE = re.compile(r"^\++mlea (\d+(?:[.,]\d+)?) (.*)$")
MAX_TEXT = 200_000
MAX_EVENTS = 20_000  # of one kind; a busy loop under xtrace writes millions of lines
MAX_RAW = 64 * 1024 * 1024  # read at most this much of any raw record


def read_capped(path: Path) -> str:
    if not path.is_file():
        return ""
    with open(path, "rb") as f:
        return f.read(MAX_RAW).decode("utf-8", errors="replace")


def clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + f"... [{len(text) - MAX_TEXT} characters cut]"


def shell_events(trace: str, t0: float) -> list[Event]:
    """Commands from the xtrace; lines without the marker continue the previous command (heredocs, -c code).

    A command repeated back to back (a loop's body) is one event with `repeat`: its count.
    Parsed into plain lists first: a busy loop leaves millions of lines.
    """
    commands: list[list] = []  # [t, text, repeat]
    for line in trace.splitlines():
        m = TRACE_LINE.match(line)
        if m:
            text = m.group(2)
            if commands and commands[-1][1] == text:
                commands[-1][2] += 1
            else:
                commands.append([float(m.group(1).replace(",", ".")) - t0, text, 1])
        elif commands:
            commands[-1][1] += "\n" + line
    events = []
    for t, text, repeat in commands[:MAX_EVENTS + 1]:
        extra = {"repeat": repeat} if repeat > 1 else {}
        events.append(Event(t=round(t, 3), kind="shell", text=clip(text), **extra))
    if len(commands) > MAX_EVENTS:
        events[-1] = Event(t=events[-1].t, kind="shell",
                           text=f"[{len(commands) - MAX_EVENTS} more shell events not recorded]")
    return events


def capped(events: list[Event]) -> list[Event]:
    """At most MAX_EVENTS, the last one saying how many more there were."""
    if len(events) <= MAX_EVENTS:
        return events
    kept = events[:MAX_EVENTS]
    kept.append(Event(t=events[-1].t, kind=events[-1].kind,
                      text=f"[{len(events) - MAX_EVENTS} more {events[-1].kind} events not recorded]"))
    return kept


def python_events(lines: str, t0: float) -> list[Event]:
    events = []
    for line in lines.splitlines():
        try:
            rec = json.loads(line)
            argv = [str(a) for a in rec.get("argv") or []]
            code = str(rec.get("code") or "")
            t = float(rec.get("t", t0)) - t0
        except (ValueError, TypeError, AttributeError):
            continue
        text = code if code else " ".join(argv)
        events.append(Event(t=round(t, 3), kind="python", text=clip(text), argv=argv[:50]))
    return capped(events)


def parse_docker_timestamp(stamp: str) -> float | None:
    """RFC 3339 with nanoseconds ("2024-01-02T03:04:05.123456789Z") as epoch seconds."""
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", stamp)
    if not m:
        return None
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    base = datetime.fromisoformat(m.group(1) + zone).timestamp()
    frac = float("0." + m.group(2)) if m.group(2) else 0.0
    return base + frac


def output_events(log: str, kind: str, t0: float) -> list[Event]:
    """Container output lines as docker gives them with timestamps=True."""
    events = []
    for line in log.splitlines():
        stamp, _, text = line.partition(" ")
        when = parse_docker_timestamp(stamp)
        if when is None:
            when, text = t0, line
        events.append(Event(t=round(max(0.0, when - t0), 3), kind=kind, text=clip(text)))
    return events  # all of it for run.log; events.jsonl caps it


def file_write_events(areas: dict[str, Path], t0: float, max_bytes: int = MAX_TEXT,
                      content_of: tuple[str, ...] = ("/home/code",)) -> list[Event]:
    """The files the agent left behind (seen after the run), with their content where it is the agent's code.

    A submission's content is not shown: seen after the run, rows a model wrote look
    exactly like rows typed in, and the submission itself is in submission/ anyway.
    """
    events = []
    for mount, root in areas.items():
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
            rel = path.relative_to(root).as_posix()
            st = path.stat()
            if mount in content_of:
                text = describe_file(path, st.st_size, max_bytes)
            else:
                text = f"{mount}/{rel} ({st.st_size} bytes, seen after the run)"
            events.append(Event(t=round(max(0.0, st.st_mtime - t0), 3), kind="file_write", text=text,
                                path=f"{mount}/{rel}", size=st.st_size))
    return events


def describe_file(path: Path, size: int, max_bytes: int) -> str:
    with open(path, "rb") as f:
        head = f.read(max_bytes)
    if b"\x00" in head[:8192]:
        return f"<binary file, {size} bytes>"
    text = head.decode("utf-8", errors="replace")
    return text if size <= max_bytes else text + f"\n... [{size - max_bytes} bytes not shown]"


def read_egress(text: str) -> list[EgressRecord]:
    records = []
    for line in text.splitlines():
        try:
            records.append(EgressRecord.model_validate_json(line))
        except ValueError:
            continue
    return records


def egress_events(records: Iterable[EgressRecord]) -> list[Event]:
    events = []
    for rec in records:
        extra = rec.model_extra or {}
        verdict = "allowed" if rec.allowed else "refused"
        reason = f": {extra['reason']}" if extra.get("reason") else ""
        events.append(Event(t=rec.t, kind="http", text=f"CONNECT {rec.host}:{rec.port} ({verdict}{reason})",
                            host=rec.host, port=rec.port, allowed=rec.allowed))
    return events


def dns_events(text: str) -> list[Event]:
    events = []
    for line in text.splitlines():
        try:
            rec = json.loads(line)
            events.append(Event(t=float(rec["t"]), kind="http", text=f"DNS lookup {rec['name']}",
                                host=str(rec["name"]), dns=True))
        except (ValueError, KeyError, TypeError):
            continue
    return events


def merge(*groups: Iterable[Event]) -> list[Event]:
    """All events in time order; equal times keep their source order."""
    return sorted((e for g in groups for e in g), key=lambda e: e.t)


def run_log_lines(stdout: list[Event], stderr: list[Event]) -> Iterator[str]:
    """The container's output for run.log, prefixed as MLE-bench's run_agent.py does."""
    for ev in merge(stdout, stderr):
        for line in ev.text.splitlines() or [""]:
            yield f"[Container] {line}"
