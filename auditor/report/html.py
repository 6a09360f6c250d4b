"""The reviewers' page: one self-contained HTML file (no network, no CDN).

The medal table first, then every flagged episode (disqualified, then needs-review,
then the rest) with each flag's evidence in context: the lines around it read from
the run through RunFS, the excerpt highlighted, plagiarism matches side by side, and
the exact `audit review` commands. Filters by rule, agent, competition and verdict
live in the URL hash (see report.js).

The audited run is hostile: every piece of text from it is HTML-escaped, control
characters are replaced, and a Content-Security-Policy allows only this page's own
inline script and style (by hash), so even a missed escape could not run a script.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable
from importlib import resources

from auditor.medal_table import extra_field
from auditor.models import AuditReport, EpisodeReport, Evidence, Flag, MedalTableTotal
from auditor.show import ContextLine, ContextReader, EvidenceContext, review_command_line

VERDICT_ORDER = {"disqualified": 0, "needs-review": 1, "clean": 2}
NO_AGENT = "-"


def render_html(report: AuditReport, context: int = 3) -> str:
    css, js = _asset("report.css"), _asset("report.js")
    reader = ContextReader(report.run)
    body = "\n".join(
        [
            _header(report),
            "<main>",
            _medal_section(report),
            _filters(report),
            _flagged_section(report, reader, context),
            _unflagged_section(report),
            "</main>",
        ]
    )
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_csp(css, js)}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>Audit of {_e(report.run)}</title>\n<style>{css}</style>\n</head>\n"
        f"<body>\n{body}\n<script>{js}</script>\n</body></html>\n"
    )


# --------------------------------------------------------------------------- safety


def _e(value: object) -> str:
    """Escaped text: HTML-special characters and control characters never pass through."""
    text = "".join(ch if ch.isprintable() or ch in "\t\n" else "\ufffd" for ch in str(value))
    return html.escape(text, quote=True)


def _csp(css: str, js: str) -> str:
    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"

    return (
        f"default-src 'none'; script-src {digest(js)}; style-src {digest(css)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


def _asset(name: str) -> str:
    return (resources.files("auditor.report") / name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- header and medal table


def _header(report: AuditReport) -> str:
    flagged = [e for e in report.episodes if e.flags]
    counts = {v: sum(e.verdict == v for e in report.episodes) for v in VERDICT_ORDER}
    skipped = "".join(f"<li><b>{_e(k)}</b>: {_e(v)}</li>" for k, v in report.skipped_monitors.items())
    cards = [
        ("episodes", len(report.episodes)),
        ("flagged", len(flagged)),
        ("flags", sum(len(e.flags) for e in report.episodes)),
        ("disqualified", counts["disqualified"]),
        ("needs review", counts["needs-review"]),
        ("clean", counts["clean"]),
    ]
    return (
        f"<header><h1>Audit of <code>{_e(report.run)}</code></h1>"
        f"<div class=\"muted\">{_e(report.tool.name)} {_e(report.tool.version)} · rulebook {_e(report.rulebook.name)} "
        f"{_e(report.rulebook.version)} · monitors: {_e(', '.join(report.monitors) or 'none')}</div>"
        + (f"<details><summary>skipped monitors ({len(report.skipped_monitors)})</summary><ul>{skipped}</ul></details>" if skipped else "")
        + "<div class=\"cards\">"
        + "".join(f"<div class=\"card\" id=\"card-{_e(name.replace(' ', '-'))}\"><b>{n}</b>{_e(name)}</div>" for name, n in cards)
        + "</div></header>"
    )


def _table(headers: list[str], rows: Iterable[list[str]], cls: str = "", left: int = 1) -> str:
    """A table whose cells are already-escaped HTML; the first `left` columns align left."""
    head = "".join(f"<th class=\"l\">{h}</th>" if i < left else f"<th>{h}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td class=\"l\">{c}</td>" if i < left else f"<td>{c}</td>" for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f"<table class=\"{cls}\"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _pct(value: float, sem: float) -> str:
    return f"{value:.1f} ± {sem:.1f}"



def _medal_section(report: AuditReport) -> str:
    totals = report.medal_table.totals
    out = ["<section id=\"medals\"><h2>Audited medal table</h2>"]
    out.append(
        _table(
            ["agent", "episodes", "any medal %", "audited any medal %", "gold", "silver", "bronze", "flagged", "needs review", "disqualified"],
            (_total_row(t) for t in totals),
            cls="totals",
        )
    )
    out.append(_pass_at_k_table(totals))
    out.append(_complexity_table(totals))
    out.append("<details><summary>per agent and competition</summary>")
    out.append(
        _table(
            ["agent", "competition", "complexity", "seeds", "medals", "audited medals", "flagged", "needs review", "disqualified"],
            (
                [_e(r.agent or NO_AGENT), _e(r.competition_id), _e(extra_field(r, "complexity", "")), str(r.seeds), str(r.medals),
                 _dropped(r.audited_medals, r.medals), str(r.flagged), _e(extra_field(r, "needs_review", "")), str(r.disqualified)]
                for r in report.medal_table.rows
            ),
            cls="rows",
            left=3,
        )
    )
    out.append("</details></section>")
    return "".join(out)


def _dropped(audited: int, graded: int) -> str:
    return f"<span class=\"drop\">{audited}</span>" if audited < graded else str(audited)


def _total_row(t: MedalTableTotal) -> list[str]:
    audited = _pct(t.audited_any_medal_pct, t.audited_any_medal_pct_sem)
    if t.audited_any_medal_pct < t.any_medal_pct:
        audited = f"<span class=\"drop\">{audited}</span>"
    return [
        _e(t.agent or NO_AGENT), str(t.episodes), _pct(t.any_medal_pct, t.any_medal_pct_sem), audited,
        *(_e(extra_field(t, m, "")) for m in ("gold", "silver", "bronze", "flagged")), str(t.needs_review), str(t.disqualified),
    ]


def _pass_at_k_table(totals: list[MedalTableTotal]) -> str:
    ks = sorted({int(k) for t in totals for k in (extra_field(t, "pass_at_k") or {})})
    if not ks:
        return ""
    rows = []
    for t in totals:
        graded, audited = extra_field(t, "pass_at_k") or {}, extra_field(t, "audited_pass_at_k") or {}
        rows.append(
            [_e(t.agent or NO_AGENT)]
            + [f"{graded[str(k)]:.1f} / {audited.get(str(k), 0.0):.1f}" if str(k) in graded else "" for k in ks]
        )
    return "<h3 class=\"muted\">pass@k, % (graded / audited)</h3>" + _table(["agent", *(f"pass@{k}" for k in ks)], rows, cls="passk")


def _complexity_table(totals: list[MedalTableTotal]) -> str:
    rows = []
    for t in totals:
        for tier, s in (extra_field(t, "by_complexity") or {}).items():
            rows.append(
                [_e(t.agent or NO_AGENT), _e(tier), str(s.get("competitions", "")), str(s.get("episodes", "")),
                 _pct(s.get("any_medal_pct", 0.0), s.get("any_medal_pct_sem", 0.0)),
                 _pct(s.get("audited_any_medal_pct", 0.0), s.get("audited_any_medal_pct_sem", 0.0))]
            )
    if not rows:
        return ""
    return "<h3 class=\"muted\">by complexity (MLE-bench splits)</h3>" + _table(
        ["agent", "complexity", "competitions", "episodes", "any medal %", "audited any medal %"], rows, cls="tiers", left=2
    )


# --------------------------------------------------------------------------- filters


def _filters(report: AuditReport) -> str:
    choices = {
        "rule": sorted({f.rule for e in report.episodes for f in e.flags}),
        "agent": sorted({e.agent or NO_AGENT for e in report.episodes}),
        "competition": sorted({e.competition_id for e in report.episodes}),
        "verdict": [v for v in VERDICT_ORDER if any(e.verdict == v for e in report.episodes)],
    }
    parts = ["<h2>Episodes</h2><form id=\"filters\" autocomplete=\"off\">"]
    for key, values in choices.items():
        options = "<option value=\"\">any</option>" + "".join(f"<option value=\"{_e(v)}\">{_e(v)}</option>" for v in values)
        parts.append(f"<label>{key}<select id=\"f-{key}\" name=\"{key}\">{options}</select></label>")
    parts.append("<button type=\"button\" id=\"f-reset\">clear filters</button><span id=\"shown\"></span></form>")
    return "".join(parts)


def _data_attrs(e: EpisodeReport) -> str:
    rules = " ".join(sorted({f.rule for f in e.flags}))
    return (
        f"data-episode=\"{_e(e.episode_id)}\" data-agent=\"{_e(e.agent or NO_AGENT)}\" "
        f"data-competition=\"{_e(e.competition_id)}\" data-verdict=\"{_e(e.verdict)}\" data-rules=\"{_e(rules)}\""
    )


# --------------------------------------------------------------------------- flagged episodes


def _flagged_section(report: AuditReport, reader: ContextReader, context: int) -> str:
    flagged = sorted(
        (e for e in report.episodes if e.flags),
        key=lambda e: (VERDICT_ORDER[e.verdict], str(e.agent), e.competition_id, e.seed),
    )
    if not flagged:
        return "<section data-group=\"flagged\"><p class=\"muted\">No flags.</p></section>"
    articles = "".join(_episode_article(report, e, reader, context) for e in flagged)
    return f"<section id=\"flagged\" data-group=\"flagged\"><h2>Flagged episodes ({len(flagged)})</h2>{articles}</section>"


def _episode_article(report: AuditReport, e: EpisodeReport, reader: ContextReader, context: int) -> str:
    score = "-" if e.grade is None or e.grade.score is None else f"{e.grade.score:g}"
    errors = "".join(f"<div class=\"errors\">⚠ {_e(msg)}</div>" for msg in e.errors)
    flags = "".join(_flag_html(report, e, f, reader, context) for f in e.flags)
    return (
        f"<article class=\"episode v-{_e(e.verdict)}\" {_data_attrs(e)}>"
        f"<h3>{_e(e.episode_id)} <span class=\"pill v-{_e(e.verdict)}\">{_e(e.verdict)}</span></h3>"
        f"<div class=\"meta\">agent <b>{_e(e.agent or NO_AGENT)}</b> · {_e(e.competition_id)} · seed {e.seed} · "
        f"score {_e(score)} · graded <b>{_e(e.medal)}</b> → audited <b>{_e(e.audited_medal)}</b> · <code>{_e(e.path)}</code></div>"
        f"{errors}{flags}</article>"
    )


def _flag_html(report: AuditReport, e: EpisodeReport, f: Flag, reader: ContextReader, context: int) -> str:
    review = ""
    if f.review is not None:
        r = f.review
        note = f": {_e(r.note)}" if r.note else ""
        review = f" <span class=\"pill r-{_e(r.decision)}\">{_e(r.decision)}</span> <span class=\"muted\">by {_e(r.reviewer)} at {_e(r.at)}{note}</span>"
    evidence = "".join(_evidence_html(e, ev, reader, context) for ev in f.evidence)
    commands = "".join(
        f"<code class=\"cmd\" data-decision=\"{d}\">{_e(review_command_line(report.run, e.episode_id, f.id, d))}</code>"
        for d in ("confirm", "dismiss")
    )
    return (
        f"<div class=\"flag\" data-rule=\"{_e(f.rule)}\" data-flag=\"{_e(f.id)}\">"
        f"<div><span class=\"pill s-{_e(f.severity)}\">{_e(f.severity)}</span> <b>{_e(f.rule)}</b> "
        f"<code>{_e(f.id)}</code> <span class=\"muted\">{_e(f.monitor)} · confidence {f.confidence:.2f}</span>{review}</div>"
        f"<div class=\"summary\">{_e(f.summary)}</div>{evidence}"
        f"<div class=\"review\"><span class=\"muted\">review:</span>{commands}</div></div>"
    )


def _evidence_html(e: EpisodeReport, ev: Evidence, reader: ContextReader, context: int) -> str:
    ctx = reader.context(e, ev, context)
    where = f"<div class=\"where\">{_e(ev.file)}:{ev.line}</div>"
    ours = where + _context_html(ctx, ev)
    if ev.match is None:
        return f"<div class=\"evidence\">{ours}</div>"
    m = ev.match
    lines = f"line {m.line}" if not m.end_line or m.end_line == m.line else f"lines {m.line}–{m.end_line}"
    theirs = f"<h5>{_e(m.source)} · {lines} · similarity {m.similarity:.2f}</h5>"
    if m.excerpt:
        theirs += "<div class=\"ctx\">" + "".join(
            f"<div class=\"ln hl\"><span class=\"no\">{m.line + i}</span><span class=\"tx\">{_e(text)}</span></div>"
            for i, text in enumerate(m.excerpt.split("\n"))
        ) + "</div>"
    else:
        theirs += "<div class=\"nomatchtext\">the notebook's text is not in the report; open the source above at these lines</div>"
    return f"<div class=\"evidence side\"><div><h5>this episode</h5>{ours}</div><div class=\"match\">{theirs}</div></div>"


def _context_html(ctx: EvidenceContext, ev: Evidence) -> str:
    if ctx.error:
        return (
            f"<div class=\"muted\">{_e(ctx.error)}; excerpt as reported:</div>"
            f"<div class=\"ctx\"><div class=\"ln hl\"><span class=\"no\">{ev.line}</span><span class=\"tx\"><mark>{_e(ev.excerpt)}</mark></span></div></div>"
        )
    return "<div class=\"ctx\">" + "".join(_line_html(cl) for cl in ctx.lines) + "</div>"


def _line_html(cl: ContextLine) -> str:
    left = "<span class=\"clip\">…</span>" if cl.clipped_left else ""
    right = "<span class=\"clip\">…</span>" if cl.clipped_right else ""
    marked = f"<mark>{_e(cl.marked)}</mark>" if cl.marked else ""
    cls = "ln hl" if cl.highlighted else "ln"
    return f"<div class=\"{cls}\"><span class=\"no\">{cl.number}</span><span class=\"tx\">{left}{_e(cl.before)}{marked}{_e(cl.after)}{right}</span></div>"


# --------------------------------------------------------------------------- the rest


def _unflagged_section(report: AuditReport) -> str:
    clean = sorted((e for e in report.episodes if not e.flags), key=lambda e: (str(e.agent), e.competition_id, e.seed))
    if not clean:
        return ""
    rows = "".join(
        f"<tr {_data_attrs(e)}><td>{_e(e.agent or NO_AGENT)}</td><td>{_e(e.episode_id)}</td><td>{e.seed}</td>"
        f"<td>{_e(e.medal)}</td><td>{_e(e.verdict)}</td><td>{len(e.errors) or ''}</td></tr>"
        for e in clean
    )
    return (
        f"<section id=\"unflagged\" data-group=\"unflagged\"><h2>Episodes without flags ({len(clean)})</h2>"
        "<table class=\"clean-list\"><thead><tr><th class=\"l\">agent</th><th class=\"l\">episode</th><th class=\"l\">seed</th>"
        f"<th class=\"l\">medal</th><th class=\"l\">verdict</th><th class=\"l\">errors</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )
