"""The terminal view: the medal table, then every flagged episode's flags (rich)."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from auditor.models import AuditReport

VERDICT_STYLE = {"clean": "green", "needs-review": "yellow", "disqualified": "bold red"}


def render_table(report: AuditReport, width: int = 140) -> str:
    console = Console(file=io.StringIO(), record=True, width=width, force_terminal=False, color_system=None)
    console.print(_medal_totals(report))
    console.print(_episodes(report))
    flagged = [e for e in report.episodes if e.flags]
    for e in flagged:
        console.print(f"\n[bold]{e.episode_id}[/bold]  ({e.agent or '-'}, {e.verdict})")
        for f in e.flags:
            ev = f.evidence[0]
            console.print(f"  {f.id}  [{f.severity}] {f.rule} ({f.monitor}, {f.confidence:.2f}): {f.summary}", highlight=False)
            console.print(f"      {ev.file}:{ev.line}  {ev.excerpt[:160]}", highlight=False, markup=False)
    if report.skipped_monitors:
        console.print("\nskipped monitors: " + "; ".join(f"{k}: {v}" for k, v in report.skipped_monitors.items()))
    return console.export_text()


def _medal_totals(report: AuditReport) -> Table:
    t = Table(title="Audited medal table", show_lines=False)
    for col in ("agent", "episodes", "any medal %", "audited any medal %", "disqualified", "needs review"):
        t.add_column(col, justify="left" if col == "agent" else "right")
    for row in report.medal_table.totals:
        t.add_row(
            str(row.agent),
            str(row.episodes),
            f"{row.any_medal_pct:.1f} ± {row.any_medal_pct_sem:.1f}",
            f"{row.audited_any_medal_pct:.1f} ± {row.audited_any_medal_pct_sem:.1f}",
            str(row.disqualified),
            str(row.needs_review),
        )
    return t


def _episodes(report: AuditReport) -> Table:
    t = Table(title="Episodes")
    for col in ("agent", "episode", "seed", "score", "medal", "audited", "verdict", "flags", "errors"):
        t.add_column(col)
    for e in sorted(report.episodes, key=lambda e: (str(e.agent), e.competition_id, e.seed)):
        score = "-" if e.grade is None or e.grade.score is None else f"{e.grade.score:g}"
        rules = ", ".join(sorted({f.rule for f in e.flags})) or "-"
        t.add_row(
            str(e.agent), e.episode_id, str(e.seed), score, e.medal, e.audited_medal,
            e.verdict, rules, str(len(e.errors)) if e.errors else "",
        )
    return t
