"""The terminal view: the medal table, then every flagged episode's flags (rich).

Text from the run goes into rich `Text` objects, never through rich markup, and
control characters are replaced, so a hostile log cannot restyle or rewrite the
terminal.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from auditor.medal_table import extra_field
from auditor.models import AuditReport, MedalTableTotal
from auditor.show import SEVERITY_STYLE, VERDICT_STYLE, terminal_safe


OTHER_COLUMNS_WIDTH = 110  # what the episodes table needs beside the episode ids


def _t(value: object, style: str = "") -> Text:
    return Text(terminal_safe(str(value)), style=style)



def render_table(report: AuditReport, width: int = 140) -> str:
    longest_id = max((len(e.episode_id) for e in report.episodes), default=0)
    width = max(width, longest_id + OTHER_COLUMNS_WIDTH)
    console = Console(file=io.StringIO(), record=True, width=width, force_terminal=False, color_system=None)
    console.print(_medal_totals(report))
    console.print(_tiers(report.medal_table.totals))
    console.print(_episodes(report))
    for part in _flag_lines(report):
        console.print(part, highlight=False)
    if report.skipped_monitors:
        console.print()
        console.print(_t("skipped monitors: " + "; ".join(f"{k}: {v}" for k, v in report.skipped_monitors.items())))
    return console.export_text()


def _pass_at_k(t: MedalTableTotal) -> str:
    graded, audited = extra_field(t, "pass_at_k", {}) or {}, extra_field(t, "audited_pass_at_k", {}) or {}
    return " ".join(f"@{k} {v:.0f}/{audited.get(k, 0.0):.0f}" for k, v in sorted(graded.items(), key=lambda kv: int(kv[0])))


def _medal_totals(report: AuditReport) -> Table:
    t = Table(title="Audited medal table", show_lines=False)
    cols = ("agent", "episodes", "any medal %", "audited any medal %", "gold", "silver", "bronze",
            "pass@k % (graded/audited)", "flagged", "needs review", "disqualified")
    for col in cols:
        t.add_column(col, justify="left" if col.startswith(("agent", "pass")) else "right")
    for row in report.medal_table.totals:
        audited_style = "bold red" if row.audited_any_medal_pct < row.any_medal_pct else ""
        t.add_row(
            _t(row.agent),
            str(row.episodes),
            f"{row.any_medal_pct:.1f} ± {row.any_medal_pct_sem:.1f}",
            Text(f"{row.audited_any_medal_pct:.1f} ± {row.audited_any_medal_pct_sem:.1f}", style=audited_style),
            *(str(extra_field(row, m, "")) for m in ("gold", "silver", "bronze")),
            _pass_at_k(row),
            str(extra_field(row, "flagged", "")),
            str(row.needs_review),
            str(row.disqualified),
        )
    return t


def _tiers(totals: list[MedalTableTotal]) -> Table:
    t = Table(title="By complexity (MLE-bench splits)")
    for col in ("agent", "complexity", "competitions", "episodes", "any medal %", "audited any medal %"):
        t.add_column(col, justify="left" if col in ("agent", "complexity") else "right")
    for row in totals:
        for tier, s in (extra_field(row, "by_complexity", {}) or {}).items():
            t.add_row(
                _t(row.agent), tier, str(s.get("competitions", "")), str(s.get("episodes", "")),
                f"{s.get('any_medal_pct', 0.0):.1f} ± {s.get('any_medal_pct_sem', 0.0):.1f}",
                f"{s.get('audited_any_medal_pct', 0.0):.1f} ± {s.get('audited_any_medal_pct_sem', 0.0):.1f}",
            )
    return t


def _episodes(report: AuditReport) -> Table:
    t = Table(title="Episodes")
    for col in ("agent", "episode", "seed", "score", "medal", "audited", "verdict", "flags", "errors"):
        t.add_column(col, no_wrap=col == "episode")  # whole ids on one line: `audit show` needs them
    for e in sorted(report.episodes, key=lambda e: (str(e.agent), e.competition_id, e.seed)):
        score = "-" if e.grade is None or e.grade.score is None else f"{e.grade.score:g}"
        rules = ", ".join(sorted({f.rule for f in e.flags})) or "-"
        t.add_row(
            _t(e.agent), _t(e.episode_id), str(e.seed), score, e.medal, e.audited_medal,
            Text(e.verdict, style=VERDICT_STYLE[e.verdict]), _t(rules), str(len(e.errors)) if e.errors else "",
        )
    return t


def _flag_lines(report: AuditReport) -> list[Text]:
    out: list[Text] = []
    for e in (e for e in report.episodes if e.flags):
        out.append(Text("\n") + _t(e.episode_id, "bold") + _t(f"  ({e.agent or '-'}, ") + Text(e.verdict, style=VERDICT_STYLE[e.verdict]) + Text(")"))
        for f in e.flags:
            ev = f.evidence[0]
            review = f" [{f.review.decision} by {f.review.reviewer}]" if f.review else ""
            out.append(
                Text("  ") + _t(f.id) + Text("  ") + Text(f"[{f.severity}]", style=SEVERITY_STYLE[f.severity])
                + _t(f" {f.rule} ({f.monitor}, {f.confidence:.2f}){review}: {f.summary}")
            )
            out.append(_t(f"      {ev.file}:{ev.line}  {ev.excerpt[:160]}"))
    return out
