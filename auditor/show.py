"""`audit show PATH EPISODE`: one episode's flags with their evidence in context.

Also the pieces that the reviewers' views share (the terminal here, the HTML page
in auditor.report.html): re-auditing a run for one command, reading the lines
around a piece of evidence safely from the (hostile) run, and the exact
`audit review` command line for a flag.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.text import Text

from auditor.models import AuditReport, EpisodeReport, Evidence, Flag
from auditor.readers.archive import read_member_text, split_member_ref
from auditor.safefs import RunFS, UnsafePath

EXIT_OK, EXIT_BAD = 0, 2
LINE_WIDTH = 240  # characters of a context line shown; longer lines are clipped around the excerpt
MAX_LINE_READ = 8 << 20  # bytes of one line kept in memory (AIDE journals are one huge line)
MAX_SPAN = 60  # most lines highlighted for one matched fragment


class AuditFailed(Exception):
    """The run could not be audited (bad PATH, rulebook or monitor list)."""


# --------------------------------------------------------------------------- auditing


def audit_for(path: Path | str, rules: Path | None, notebooks: Path | None, monitors: str | None) -> AuditReport:
    """A fresh audit of `path`, so `show` and `review` see the flag ids the next audit will."""
    from auditor.pipeline import AuditOptions, UnknownMonitor, run_audit
    from auditor.reading import RunNotReadable
    from rules import RulebookError

    if not Path(path).exists():
        raise AuditFailed(f"{path}: no such file or directory")
    options = AuditOptions(
        rules=str(rules) if rules else None,
        notebooks=str(notebooks) if notebooks else None,
        monitors=[m.strip() for m in monitors.split(",") if m.strip()] if monitors else None,
    )
    try:
        return run_audit(str(path), options)
    except (RunNotReadable, RulebookError, UnknownMonitor) as exc:
        raise AuditFailed(str(exc)) from exc


def review_command_line(run: str, episode_id: str, flag_id: str, decision: str) -> str:
    """The exact shell command that records `decision` ("confirm" or "dismiss") on a flag."""
    return " ".join(["audit", "review", *(shlex.quote(a) for a in (run, episode_id, flag_id)), f"--{decision}"])


# --------------------------------------------------------------------------- evidence in context


@dataclass
class ContextLine:
    """One line around a piece of evidence, clipped to LINE_WIDTH around what matters.

    `marked` is the excerpt itself on the evidence line ("" elsewhere); `highlighted`
    is true for every line of the evidence (or of a matched fragment).
    """

    number: int
    before: str
    marked: str = ""
    after: str = ""
    clipped_left: bool = False
    clipped_right: bool = False
    highlighted: bool = False


@dataclass
class EvidenceContext:
    file: str
    line: int
    lines: list[ContextLine] = field(default_factory=list)
    error: str | None = None  # why the file could not be read (then only the excerpt is shown)


class ContextReader:
    """Reads the lines around evidence from the run, through RunFS (never leaving it).

    One reader serves one rendering: files are read once (a report often cites the
    same log many times) and kept while they are small; larger ones are streamed.
    """

    CACHE_BYTES = 64 << 20

    def __init__(self, run: str | Path) -> None:
        self.run = Path(run)
        self.fs = RunFS(self.run)
        self._files: dict[Path, list[str]] = {}
        self._cached_bytes = 0

    def context(self, episode: EpisodeReport, ev: Evidence, context: int = 3) -> EvidenceContext:
        out = EvidenceContext(file=ev.file, line=ev.line)
        span = _highlight_span(ev)
        first, last = max(1, ev.line - context), ev.line + span + context
        try:
            if split_member_ref(ev.file):  # evidence inside an Inspect .eval archive
                raw = self._member_window(self.run / episode.path, ev.file, first, last)
            else:
                raw = self._window(self.run / episode.path / ev.file, first, last)
        except (UnsafePath, OSError) as exc:
            out.error = f"cannot read {ev.file}: {getattr(exc, 'strerror', None) or exc}"
            return out
        if ev.line not in raw:
            out.error = f"{ev.file} has no line {ev.line} any more"
            return out
        for number in sorted(raw):
            if number == ev.line:
                out.lines.append(clip_around(number, raw[number], ev.excerpt.strip()))
            else:
                out.lines.append(clip_plain(number, raw[number], ev.line <= number <= ev.line + span))
        return out

    def _member_window(self, episode_dir: Path, ref: str, first: int, last: int) -> dict[int, str]:
        text = read_member_text(episode_dir, ref)
        if text is None:
            raise UnsafePath(f"{ref}: archive member not readable")
        lines = text.split("\n")
        return {n: lines[n - 1].rstrip("\r") for n in range(first, min(last, len(lines)) + 1)}

    def _window(self, path: Path, first: int, last: int) -> dict[int, str]:
        lines = self._whole(path)
        if lines is not None:
            return {n: lines[n - 1] for n in range(first, min(last, len(lines)) + 1)}
        return _stream_window(self.fs, path, first, last)

    def _whole(self, path: Path) -> list[str] | None:
        """All lines of a small file, read once; None for a file too large to keep."""
        if path in self._files:
            return self._files[path]
        size = self.fs.size(path)
        if size > MAX_LINE_READ or self._cached_bytes + size > self.CACHE_BYTES:
            return None
        text = self.fs.read_bytes(path, limit=MAX_LINE_READ).decode("utf-8", errors="replace")
        # split on \n only, as the readers number lines
        self._files[path] = [ln.rstrip("\r") for ln in text.split("\n")]
        self._cached_bytes += size
        return self._files[path]


def evidence_context(run: str | Path, episode: EpisodeReport, ev: Evidence, context: int = 3) -> EvidenceContext:
    """The lines around one piece of evidence (a one-off ContextReader)."""
    return ContextReader(run).context(episode, ev, context)


def _highlight_span(ev: Evidence) -> int:
    """Extra lines to highlight after ev.line: a plagiarism fragment is as long on both sides."""
    if ev.match is None or ev.match.end_line is None:
        return 0
    return max(0, min(ev.match.end_line - ev.match.line, MAX_SPAN))


def _stream_window(fs: RunFS, path: Path, first: int, last: int) -> dict[int, str]:
    lines: dict[int, str] = {}
    for number, piece in fs.iter_lines(path, max_line=MAX_LINE_READ):
        if number > last:
            break
        if number >= first and len(lines.get(number, "")) < 2 * MAX_LINE_READ:
            # a line longer than MAX_LINE_READ arrives in pieces; keep the first two
            lines[number] = lines.get(number, "") + piece
    return lines


def clip_plain(number: int, text: str, highlighted: bool = False) -> ContextLine:
    return ContextLine(number, text[:LINE_WIDTH], clipped_right=len(text) > LINE_WIDTH, highlighted=highlighted)


def clip_around(number: int, text: str, excerpt: str) -> ContextLine:
    """The evidence line, clipped to show the whole excerpt with some text either side."""
    start = text.find(excerpt) if excerpt else -1
    if start < 0:
        return clip_plain(number, text, highlighted=True)
    end = start + len(excerpt)
    room = max(LINE_WIDTH - len(excerpt), 40) // 2
    left, right = max(0, start - room), min(len(text), end + room)
    return ContextLine(
        number,
        before=text[left:start],
        marked=text[start:end],
        after=text[end:right],
        clipped_left=left > 0,
        clipped_right=right < len(text),
        highlighted=True,
    )


# --------------------------------------------------------------------------- the terminal view


def terminal_safe(text: str) -> str:
    """Text safe for a terminal: no escape sequences or other control characters."""
    return "".join(ch if ch.isprintable() or ch == "\t" else "\ufffd" for ch in text)


def show_command(
    path: Path,
    episode: str,
    rules: Path | None,
    notebooks: Path | None,
    monitors: str | None,
    context: int,
) -> int:
    """Print one episode's flags with their evidence in context; exit status."""
    from auditor.reviews import ReviewError, find_episode

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        report = audit_for(path, rules, notebooks, monitors)
        target = find_episode(report, episode)
    except (AuditFailed, ReviewError) as exc:
        err.print(Text("error: ", style="red") + Text(terminal_safe(str(exc))))
        return EXIT_BAD
    console = Console(highlight=False, soft_wrap=True)
    for renderable in episode_view(report, target, max(context, 0)):
        console.print(renderable)
    return EXIT_OK


def episode_view(report: AuditReport, e: EpisodeReport, context: int) -> list[Text]:
    """The episode's header, then each flag with its evidence (Text objects: no markup from the run)."""
    score = "-" if e.grade is None or e.grade.score is None else f"{e.grade.score:g}"
    out = [
        Text(terminal_safe(e.episode_id), style="bold"),
        Text(f"agent {terminal_safe(str(e.agent or '-'))} · competition {terminal_safe(e.competition_id)} · seed {e.seed}"),
        Text(f"graded {e.medal} (score {score}) · verdict ") + Text(e.verdict, style=VERDICT_STYLE[e.verdict]) + Text(f" · audited {e.audited_medal}"),
    ]
    out += [Text(f"error: {terminal_safe(msg)}", style="dim") for msg in e.errors]
    reader = ContextReader(report.run)
    if not e.flags:
        out.append(Text("\nno flags", style="green"))
    for i, flag in enumerate(e.flags, 1):
        out.append(Text(""))
        out += flag_view(reader, report.run, e, flag, i, context)
    return out


VERDICT_STYLE = {"clean": "green", "needs-review": "yellow", "disqualified": "bold red"}
SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan"}


def flag_view(reader: ContextReader, run: str, e: EpisodeReport, flag: Flag, index: int, context: int) -> list[Text]:
    head = Text(f"[{index}] ") + Text(flag.id, style="bold") + Text("  ")
    head += Text(flag.severity, style=SEVERITY_STYLE[flag.severity])
    head += Text(f" · {flag.rule} · {flag.monitor} · confidence {flag.confidence:.2f}")
    out = [head, Text("    " + terminal_safe(flag.summary))]
    if flag.review is not None:
        r = flag.review
        out.append(Text(f"    review: {r.decision} by {terminal_safe(r.reviewer)} at {r.at}" + (f": {terminal_safe(r.note)}" if r.note else ""), style="magenta"))
    for ev in flag.evidence:
        out += evidence_view(reader, e, ev, context)
    for decision in ("confirm", "dismiss"):
        out.append(Text(f"    {decision}: ", style="dim") + Text(terminal_safe(review_command_line(run, e.episode_id, flag.id, decision))))
    return out


def evidence_view(reader: ContextReader, e: EpisodeReport, ev: Evidence, context: int) -> list[Text]:
    out = [Text(f"    {terminal_safe(ev.file)}:{ev.line}", style="underline")]
    ctx = reader.context(e, ev, context)
    if ctx.error:
        out.append(Text(f"      ({terminal_safe(ctx.error)}; excerpt as reported:)", style="dim"))
        out.append(Text("      ") + Text(terminal_safe(ev.excerpt), style="reverse"))
    width = len(str(max((cl.number for cl in ctx.lines), default=ev.line)))
    for cl in ctx.lines:
        out.append(context_line_view(cl, width))
    if ev.match is not None:
        out += match_view(ev)
    return out


def context_line_view(cl: ContextLine, width: int) -> Text:
    gutter = Text(f"    {'▶' if cl.highlighted else ' '} {cl.number:>{width}} │ ", style="bold" if cl.highlighted else "dim")
    body = Text("…" if cl.clipped_left else "") + Text(terminal_safe(cl.before), style="yellow" if cl.highlighted and not cl.marked else "")
    body += Text(terminal_safe(cl.marked), style="reverse bold") + Text(terminal_safe(cl.after)) + Text("…" if cl.clipped_right else "")
    return gutter + body


def match_view(ev: Evidence) -> list[Text]:
    m = ev.match
    assert m is not None
    lines = f"line {m.line}" if not m.end_line or m.end_line == m.line else f"lines {m.line}-{m.end_line}"
    out = [Text(f"    matches {terminal_safe(m.source)} {lines}, similarity {m.similarity:.2f}", style="magenta")]
    if m.excerpt:
        for offset, text in enumerate(m.excerpt.split("\n")[: MAX_SPAN + 1]):
            out.append(Text(f"      {m.line + offset:>5} │ ", style="dim") + Text(terminal_safe(text[:LINE_WIDTH])))
    else:
        out.append(Text("      (the notebook's text is not in the report)", style="dim"))
    return out
