"""Markdown: the medal table and the flags, to paste into a paper or a pull request."""

from __future__ import annotations

from auditor.models import AuditReport


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: AuditReport) -> str:
    out = [f"# Audit of `{report.run}`", "", f"Rulebook {report.rulebook.name} {report.rulebook.version}; monitors: {', '.join(report.monitors)}.", ""]
    out += ["| agent | episodes | any medal % | audited any medal % | disqualified | needs review |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for t in report.medal_table.totals:
        out.append(
            f"| {_cell(t.agent)} | {t.episodes} | {t.any_medal_pct:.1f} ± {t.any_medal_pct_sem:.1f} | "
            f"{t.audited_any_medal_pct:.1f} ± {t.audited_any_medal_pct_sem:.1f} | {t.disqualified} | {t.needs_review} |"
        )
    out += ["", "| agent | competition | seeds | medals | audited medals | flagged | disqualified |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in report.medal_table.rows:
        out.append(f"| {_cell(r.agent)} | {_cell(r.competition_id)} | {r.seeds} | {r.medals} | {r.audited_medals} | {r.flagged} | {r.disqualified} |")
    flagged = [e for e in report.episodes if e.flags]
    if flagged:
        out += ["", "## Flags", ""]
        for e in flagged:
            out.append(f"### {e.episode_id} ({_cell(e.agent)}, {e.verdict})")
            out.append("")
            for f in e.flags:
                ev = f.evidence[0]
                out.append(f"- `{f.id}` **{f.rule}** ({f.severity}, {f.monitor}, confidence {f.confidence:.2f}): {_cell(f.summary)}  ")
                out.append(f"  `{ev.file}:{ev.line}`: `{_cell(ev.excerpt[:200]).replace('`', chr(39))}`")
            out.append("")
    return "\n".join(out) + "\n"
