"""Markdown: the medal table and the flags, to paste into a paper or a pull request.

Everything from the run is quoted so it cannot break the table or inject markup:
pipes are escaped, newlines flattened, and excerpts go into code spans whose
fence is longer than any run of backticks inside them.
"""

from __future__ import annotations

import re

from auditor.medal_table import extra_field
from auditor.models import AuditReport, MedalTableTotal

EXCERPT_CHARS = 200


def _cell(text: object) -> str:
    flat = " ".join(str(text).split())
    flat = "".join(ch if ch.isprintable() else "\ufffd" for ch in flat)
    return flat.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    """An inline code span holding `text` verbatim (pipes escaped for tables)."""
    flat = "".join(ch if ch.isprintable() else "\ufffd" for ch in " ".join(text.split()))
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    flat = flat.replace("|", "\\|")
    return f"{fence}{pad}{flat}{pad}{fence}"



def _pct(value: float, sem: float) -> str:
    return f"{value:.1f} ± {sem:.1f}"


def render_markdown(report: AuditReport) -> str:
    out = [f"# Audit of {_code(report.run)}", ""]
    out.append(f"Rulebook {_cell(report.rulebook.name)} {_cell(report.rulebook.version)}; monitors: {_cell(', '.join(report.monitors) or 'none')}.")
    if report.skipped_monitors:
        out.append("Skipped: " + "; ".join(f"{_cell(k)} ({_cell(v)})" for k, v in report.skipped_monitors.items()) + ".")
    out += ["", "## Audited medal table", ""]
    out += _totals(report.medal_table.totals)
    out += _pass_at_k(report.medal_table.totals)
    out += _by_complexity(report.medal_table.totals)
    out += _rows(report)
    out += _flags(report)
    return "\n".join(out) + "\n"


def _totals(totals: list[MedalTableTotal]) -> list[str]:
    out = [
        "| agent | episodes | any medal % | audited any medal % | gold | silver | bronze | flagged | needs review | disqualified |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for t in totals:
        out.append(
            f"| {_cell(t.agent)} | {t.episodes} | {_pct(t.any_medal_pct, t.any_medal_pct_sem)} | "
            f"{_pct(t.audited_any_medal_pct, t.audited_any_medal_pct_sem)} | {extra_field(t, 'gold', '')} | {extra_field(t, 'silver', '')} | "
            f"{extra_field(t, 'bronze', '')} | {extra_field(t, 'flagged', '')} | {t.needs_review} | {t.disqualified} |"
        )
    return out + ["", "Percentages: mean ± standard error over seeds, as in MLE-bench."]


def _pass_at_k(totals: list[MedalTableTotal]) -> list[str]:
    ks = sorted({int(k) for t in totals for k in (extra_field(t, "pass_at_k", {}) or {})})
    if not ks:
        return []
    out = ["", "| agent | " + " | ".join(f"pass@{k} (graded / audited)" for k in ks) + " |", "| --- |" + " ---: |" * len(ks)]
    for t in totals:
        graded, audited = extra_field(t, "pass_at_k", {}) or {}, extra_field(t, "audited_pass_at_k", {}) or {}
        cells = [f"{graded[str(k)]:.1f} / {audited.get(str(k), 0.0):.1f}" if str(k) in graded else "" for k in ks]
        out.append(f"| {_cell(t.agent)} | " + " | ".join(cells) + " |")
    return out


def _by_complexity(totals: list[MedalTableTotal]) -> list[str]:
    rows = [(t, tier, s) for t in totals for tier, s in (extra_field(t, "by_complexity", {}) or {}).items()]
    if not rows:
        return []
    out = ["", "| agent | complexity | competitions | episodes | any medal % | audited any medal % |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    for t, tier, s in rows:
        out.append(
            f"| {_cell(t.agent)} | {_cell(tier)} | {s.get('competitions', '')} | {s.get('episodes', '')} | "
            f"{_pct(s.get('any_medal_pct', 0.0), s.get('any_medal_pct_sem', 0.0))} | "
            f"{_pct(s.get('audited_any_medal_pct', 0.0), s.get('audited_any_medal_pct_sem', 0.0))} |"
        )
    return out


def _rows(report: AuditReport) -> list[str]:
    out = [
        "",
        "<details><summary>Per agent and competition</summary>",
        "",
        "| agent | competition | complexity | seeds | medals | audited medals | flagged | disqualified |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in report.medal_table.rows:
        out.append(
            f"| {_cell(r.agent)} | {_cell(r.competition_id)} | {_cell(extra_field(r, 'complexity', ''))} | {r.seeds} | {r.medals} | "
            f"{r.audited_medals} | {r.flagged} | {r.disqualified} |"
        )
    return out + ["", "</details>"]


def _flags(report: AuditReport) -> list[str]:
    flagged = [e for e in report.episodes if e.flags]
    if not flagged:
        return []
    out = ["", "## Flags", ""]
    for e in flagged:
        out += [f"### {_cell(e.episode_id)} ({_cell(e.agent)}, {e.verdict}; graded {e.medal}, audited {e.audited_medal})", ""]
        for f in e.flags:
            review = f"; {f.review.decision} by {_cell(f.review.reviewer)}" if f.review else ""
            out.append(f"- {_code(f.id)} **{_cell(f.rule)}** ({f.severity}, {_cell(f.monitor)}, confidence {f.confidence:.2f}{review}): {_cell(f.summary)}")
            for ev in f.evidence:
                excerpt = ev.excerpt if len(ev.excerpt) <= EXCERPT_CHARS else ev.excerpt[:EXCERPT_CHARS] + "…"
                match = f" ≈ {_code(ev.match.source)}:{ev.match.line} ({ev.match.similarity:.2f})" if ev.match else ""
                out.append(f"  - {_code(f'{ev.file}:{ev.line}')}: {_code(excerpt)}{match}")
        out.append("")
    return out
