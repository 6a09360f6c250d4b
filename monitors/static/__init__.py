"""The static monitor: the agent's code and commands read without running them.

Python is analysed with the `ast` module (imports, resolved calls, folded strings,
subprocess arguments), shell commands are parsed (pipes, `&&`, here-documents,
`bash -c`), URLs, paths and text are classified by the rulebook's settings. Rules:
external-llm-call, private-data-access, grader-tampering, solution-lookup,
external-data, known-leak-exploit, monitor-manipulation.
"""

from __future__ import annotations

from auditor.models import Episode, Flag
from monitors.base import AuditContext, Monitor, register
from monitors.evidence import find_line
from monitors.static.classify import Classifier, as_url, urls_in
from monitors.static.detect import Detector, Hit
from monitors.static.flags import build_flags
from monitors.static.settings import validate_rulebook_settings
from monitors.static.units import Unit, units

RULES = ("external-llm-call", "private-data-access", "grader-tampering", "solution-lookup",
         "external-data", "known-leak-exploit", "monitor-manipulation")
MAX_ANALYSED = 8 << 20  # characters of one text analysed as code
MAX_LINE_SCANNED = 200_000  # characters of one line scanned for injected text


@register
class StaticMonitor(Monitor):
    name = "static"
    order = 10

    def unavailable(self, ctx: AuditContext) -> str | None:
        problems = validate_rulebook_settings(ctx.rulebook, RULES)
        return "; ".join(problems) or None

    def check(self, episode: Episode, ctx: AuditContext) -> list[Flag]:
        detector = Detector(Classifier(ctx.rulebook, episode.competition_id))
        enabled = {r for r in RULES if ctx.rulebook.has(r)}
        located: list[tuple[Unit, Hit]] = []
        cache: dict[tuple[str, bool, str], list[Hit]] = {}
        for unit in units(episode):
            key = (unit.language, unit.behaviour, unit.text)
            hits = cache.get(key)
            if hits is None:
                hits = cache[key] = analyse_unit(unit, detector)
            located += [(unit, h) for h in hits if h.rule in enabled]
            if unit.written_to:
                located += [(unit, h) for h in _write_target(episode, unit, detector) if h.rule in enabled]
        return build_flags(episode, ctx.rulebook, self.name, located)


def analyse_unit(unit: Unit, detector: Detector) -> list[Hit]:
    text = unit.text
    hits: list[Hit] = []
    if unit.behaviour and len(text) <= MAX_ANALYSED:
        if unit.language == "python":
            hits += detector.python(text)
        elif unit.language == "shell":
            hits += detector.shell(text)
        elif unit.language == "other-code":
            hits += detector.llm_hosts(text)
        elif unit.language == "url":
            for url in urls_in(text) or ([as_url(text)] if as_url(text) else []):
                hits += detector.url(url)
        elif unit.language == "path":
            path = text.strip().split("\n")[0]
            hits += [Hit(v.rule, v.key, 0, path, v.why, v.confidence, "read") for v in detector.c.path(path, "read")]
        elif unit.language == "llm":
            first = next((ln for ln in text.split("\n") if ln.strip()), "")
            hits.append(Hit("external-llm-call", "agent llm call", 0, first.strip()[:120], "the agent itself called a language model", 0.8, "call"))
    scanned = text if len(text) <= MAX_ANALYSED else text[:MAX_ANALYSED]
    if max((len(ln) for ln in scanned.split("\n")), default=0) > MAX_LINE_SCANNED:
        scanned = "\n".join(ln[:MAX_LINE_SCANNED] for ln in scanned.split("\n"))
    hits += detector.injections(scanned)
    return hits


def _write_target(episode: Episode, unit: Unit, detector: Detector) -> list[Hit]:
    """A file the agent wrote through its tools: grading files are off limits."""
    path = unit.written_to or ""
    verdicts = [v for v in detector.c.path(path, "write") if v.rule == "grader-tampering"]
    if not verdicts or unit.action is None:
        return []
    ev = find_line(episode, unit.action.source.file, path, start=max(1, unit.action.source.line - 20))
    if ev is None:
        return []
    return [Hit(v.rule, v.key, 0, ev.excerpt, v.why, v.confidence, "write", evidence=ev) for v in verdicts]
