"""Evidence is checked at the boundary: one place turns "I saw this text in that
action" into an `Evidence` whose excerpt is verbatim in the file at that line.

Monitors work on decoded text (JSON strings unescaped, ANSI colours stripped); the
report must quote the file as it is. `cite` maps a decoded fragment back to the raw
line (JSON-escaped forms, ANSI codes interleaved) and returns None when the text is
not there, so a flag without real evidence can never be built.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from auditor.models import Action, Episode, Evidence, Match, SourceEncoding
from auditor.readers.archive import read_member_text, split_member_ref
from auditor.safefs import RunFS, UnsafePath

MAX_EXCERPT = 300
_ANSI_BETWEEN = r"(?:\x1b\[[0-9;?]*[ -/]*[@-~])*"
_CACHE_MAX_FILE = 64 << 20


def cite(
    episode: Episode,
    action: Action,
    line_index: int = 0,
    fragment: str | None = None,
    match: Match | None = None,
) -> Evidence | None:
    """Evidence for `fragment` (default: the whole line) of line `line_index` of `action.text`."""
    lines = action.text.split("\n")
    if not 0 <= line_index < len(lines):
        return None
    text_line = lines[line_index]
    fragment = (fragment if fragment is not None else text_line).strip()
    if not fragment:
        return None
    src = action.source
    file_line = src.line if src.encoding == SourceEncoding.json else src.line + line_index
    return cite_text(episode, src.file, file_line, fragment, src.encoding, match)


def cite_text(
    episode: Episode,
    file: str,
    line: int,
    fragment: str,
    encoding: SourceEncoding = SourceEncoding.plain,
    match: Match | None = None,
) -> Evidence | None:
    """Evidence for decoded `fragment` at `file:line`, or None if it is not there."""
    raw = raw_line(episode, file, line)
    if raw is None:
        return None
    fragment = _shorten(fragment.strip())
    span = locate(raw, fragment, encoding)
    if span is None:
        return None
    return Evidence(file=file, line=line, excerpt=span, match=match)


def find_line(episode: Episode, file: str, needle: str, start: int = 1) -> Evidence | None:
    """Evidence for the first line at or after `start` of `file` that contains `needle`."""
    text = _file_lines(episode.root, _run_root(episode), file)
    if text is None:
        return None
    for i in range(max(start, 1) - 1, len(text)):
        span = locate(text[i], needle, SourceEncoding.plain) or locate(text[i], needle, SourceEncoding.json)
        if span is not None:
            return Evidence(file=file, line=i + 1, excerpt=span)
    return None


def locate(raw: str, fragment: str, encoding: SourceEncoding) -> str | None:
    """The verbatim span of `raw` that decodes to `fragment`, or None."""
    if not fragment:
        return None
    if fragment in raw:
        return fragment
    if encoding == SourceEncoding.json or "\\" in raw:
        for candidate in _json_forms(fragment):
            if candidate in raw:
                return candidate
    if "\x1b" in raw:
        pattern = _ANSI_BETWEEN.join(re.escape(ch) for ch in fragment)
        m = re.search(pattern, raw)
        if m:
            return m.group(0)
    return None


def verify(episode: Episode, evidence: Evidence) -> bool:
    """True when the excerpt is in the file at that line (SPEC: whitespace at the ends aside)."""
    raw = raw_line(episode, evidence.file, evidence.line)
    return raw is not None and evidence.excerpt.strip() in raw


def raw_line(episode: Episode, file: str, line: int) -> str | None:
    """Line `line` of `file` (relative to the episode; it may reach into the run, e.g. ../report.json)."""
    run_root = _run_root(episode)
    lines = _file_lines(episode.root, run_root, file)
    if lines is not None:
        return lines[line - 1] if 1 <= line <= len(lines) else None
    if split_member_ref(file):
        return None
    try:  # too large to cache: stream to the line
        return RunFS(Path(run_root)).read_line(Path(episode.root) / file, line)
    except (UnsafePath, OSError):
        return None


def _run_root(episode: Episode) -> str:
    """The audited PATH: files outside it are never read, whatever `file` says."""
    from auditor.reading import run_root_of

    return str(run_root_of(episode))


def clear_cache() -> None:
    _file_lines.cache_clear()


@lru_cache(maxsize=64)
def _file_lines(episode_root: str, run_root: str, file: str) -> tuple[str, ...] | None:
    if split_member_ref(file):  # `<log>.eval!/<member>`: lines of the member inside the archive
        text = read_member_text(episode_root, file)
        return None if text is None else tuple(ln.rstrip("\r") for ln in text.split("\n"))
    fs = RunFS(Path(run_root))
    target = Path(episode_root) / file
    try:
        if fs.size(target) > _CACHE_MAX_FILE:
            return None
        data = fs.read_bytes(target, limit=_CACHE_MAX_FILE)
    except (UnsafePath, OSError):
        return None
    text = data.decode("utf-8", errors="replace")
    # split on \n only, as the readers number lines (not str.splitlines' \x0b, \u2028, ...)
    return tuple(ln.rstrip("\r") for ln in text.split("\n"))


def _json_forms(fragment: str) -> list[str]:
    ascii_form = json.dumps(fragment)[1:-1]
    utf8_form = json.dumps(fragment, ensure_ascii=False)[1:-1]
    forms = [ascii_form, utf8_form, ascii_form.replace("/", "\\/"), utf8_form.replace("/", "\\/")]
    return list(dict.fromkeys(forms))


def _shorten(fragment: str) -> str:
    if len(fragment) <= MAX_EXCERPT:
        return fragment
    return fragment[:MAX_EXCERPT].rstrip()
