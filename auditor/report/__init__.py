"""Rendering an AuditReport: json · table · markdown · html, and the pre-publication gate."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from auditor.models import AuditReport

SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3}


def render(report: AuditReport, fmt: str) -> str:
    if fmt == "json":
        from auditor.report.json_report import render_json

        return render_json(report)
    if fmt == "table":
        from auditor.report.table import render_table

        return render_table(report)
    if fmt == "markdown":
        from auditor.report.markdown import render_markdown

        return render_markdown(report)
    if fmt == "html":
        from auditor.report.html import render_html

        return render_html(report)
    raise ValueError(f"unknown format {fmt!r}")


def gate_exit_code(report: AuditReport, fail_on: str) -> int:
    """1 when an unreviewed or confirmed flag at or above `fail_on` remains, else 0."""
    if fail_on == "never":
        return 0
    floor = SEVERITY_RANK[fail_on]
    for episode in report.episodes:
        for flag in episode.flags:
            dismissed = flag.review is not None and flag.review.decision == "dismissed"
            if not dismissed and SEVERITY_RANK[flag.severity] >= floor:
                return 1
    return 0


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_atomically(path: str | Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would keep a shared report private
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
