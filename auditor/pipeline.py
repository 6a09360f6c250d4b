"""The audit pipeline: run directory → episodes → grades → monitors → adjudication → report.

Pure core, thin shell: this module does no printing and parses no arguments; the
CLI (auditor.cli) calls `run_audit` and renders the `AuditReport` it returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from auditor import __version__
from auditor.adjudication import apply_reviews, assign_ids, audited_medal, verdict
from auditor.medal_table import build_medal_table
from auditor.models import (
    AuditReport,
    Episode,
    EpisodeReport,
    Flag,
    LLMUsage,
    RulebookInfo,
    ToolInfo,
    medal_of,
)
from auditor.reading import load_actions, read_run, release_actions
from auditor.reviews import load_reviews
from monitors import evidence
from monitors.base import AuditContext, Monitor, registered
from rules import Rulebook, RulebookError, load_rulebook

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total)


class UnknownMonitor(ValueError):
    pass


@dataclass
class AuditOptions:
    rules: str | None = None
    monitors: list[str] | None = None  # None: every default monitor
    notebooks: str | None = None
    competitions: str | None = None
    data: str | None = None
    llm_model: str = "gpt-4o"
    llm_base_url: str | None = None
    llm_budget: int | None = None
    workers: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


def run_audit(path: str, options: AuditOptions | None = None, progress: Progress | None = None) -> AuditReport:
    """Audit the run at `path`; raises RunNotReadable / RulebookError / UnknownMonitor for bad arguments."""
    options = options or AuditOptions()
    rulebook = load_rulebook(options.rules)
    check_monitor_settings(rulebook, options.rules)
    monitors_wanted = select_monitors(options.monitors)
    episodes = read_run(path, with_actions=False)  # light: actions are loaded one episode at a time
    evidence.clear_cache()
    grade_episodes(episodes, options)

    ctx = AuditContext(
        rulebook=rulebook,
        episodes=episodes,
        run_path=str(path),
        notebooks=options.notebooks,
        competitions_dir=options.competitions,
        data_dir=options.data,
        options={
            "llm_model": options.llm_model,
            "llm_base_url": options.llm_base_url,
            "llm_budget": options.llm_budget,
            "workers": options.workers,
            **options.extra,
        },
    )
    active, skipped = prepare_monitors(monitors_wanted, ctx, explicit=options.monitors is not None)

    flags_by_episode = monitor_episodes(episodes, active, ctx, options.workers, progress)
    reviews = load_reviews(path)
    reports = [
        adjudicate(e, flags_by_episode[e.episode_id], rulebook, reviews) for e in episodes
    ]
    usage = collect_usage(active, ctx)
    return AuditReport(
        tool=ToolInfo(version=__version__),
        run=str(path),
        rulebook=RulebookInfo(name=rulebook.name, version=rulebook.version),
        monitors=[m.name for m in active],
        skipped_monitors=skipped,
        llm=usage,
        episodes=reports,
        medal_table=build_medal_table(reports),
    )


# --------------------------------------------------------------------------- stages


def check_monitor_settings(rulebook: Rulebook, source: str | None) -> None:
    """A user's rulebook whose monitor settings are wrong is a bad argument, not a silent skip."""
    from monitors.static.settings import validate_rulebook_settings

    problems = validate_rulebook_settings(rulebook)
    if problems:
        raise RulebookError(f"{source or 'rulebook'}: invalid monitor settings:\n  " + "\n  ".join(problems))


def select_monitors(names: list[str] | None) -> list[type[Monitor]]:
    known = registered()
    if names is None:
        chosen = [cls for cls in known.values() if cls.default]
    else:
        unknown = [n for n in names if n not in known]
        if unknown:
            raise UnknownMonitor(f"unknown monitor(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        chosen = [known[n] for n in names]
    return sorted(chosen, key=lambda cls: (cls.order, cls.name))


def prepare_monitors(
    classes: list[type[Monitor]], ctx: AuditContext, explicit: bool
) -> tuple[list[Monitor], dict[str, str]]:
    active: list[Monitor] = []
    skipped: dict[str, str] = {}
    for cls in classes:
        monitor = cls()
        reason = monitor.unavailable(ctx)
        if reason is None:
            try:
                monitor.prepare(ctx)
            except Exception as exc:  # a monitor that cannot start is reported, not fatal
                reason = f"failed to start: {type(exc).__name__}: {exc}"
        if reason is not None:
            skipped[cls.name] = reason
            continue
        active.append(monitor)
    return active, skipped


def grade_episodes(episodes: list[Episode], options: AuditOptions) -> None:
    """Grade here when competitions and data are given; otherwise keep the run's report."""
    if not (options.competitions and options.data):
        return
    from grading import grade_for_episode

    for e in episodes:
        try:
            report = grade_for_episode(e.competition_id, e.root, options.competitions, options.data)
        except Exception as exc:  # a competition we cannot grade keeps the run's own grade
            e.errors.append(f"grading: {exc}")
            continue
        e.grade, e.grade_source = report.to_grade(), None
        if report.error:
            e.errors.append(f"grading: {report.error}")


def monitor_episodes(
    episodes: list[Episode], monitors: list[Monitor], ctx: AuditContext, workers: int, progress: Progress | None
) -> dict[str, list[Flag]]:
    results: dict[str, list[Flag]] = {}
    total = len(episodes)

    def one(e: Episode) -> tuple[str, list[Flag]]:
        load_actions(e)
        try:
            return e.episode_id, monitor_episode(e, monitors, ctx)
        finally:
            release_actions(e)

    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for i, (eid, flags) in enumerate(pool.map(one, episodes), 1):
                results[eid] = flags
                if progress:
                    progress("monitoring", i, total)
    else:
        for i, e in enumerate(episodes, 1):
            eid, flags = one(e)
            results[eid] = flags
            if progress:
                progress("monitoring", i, total)
    return results


def monitor_episode(episode: Episode, monitors: list[Monitor], ctx: AuditContext) -> list[Flag]:
    flags: list[Flag] = []
    for monitor in monitors:
        ctx.prior_flags[episode.episode_id] = list(flags)
        try:
            raised = monitor.check(episode, ctx)
        except Exception as exc:  # one monitor failing on one episode loses nothing else
            episode.errors.append(f"monitor {monitor.name}: {exc}" if str(exc) else f"monitor {monitor.name}: {type(exc).__name__}")
            log.debug("monitor %s failed on %s", monitor.name, episode.episode_id, exc_info=True)
            # a monitor may still hand over what it found before failing (the LLM's answered requests)
            flags.extend(checked_flags(episode, list(getattr(exc, "flags", None) or []), ctx.rulebook))
            continue
        flags.extend(checked_flags(episode, raised, ctx.rulebook))
    ctx.prior_flags[episode.episode_id] = list(flags)
    return assign_ids(flags)


def checked_flags(episode: Episode, flags: list[Flag], rulebook: Rulebook) -> list[Flag]:
    """Only flags for rules of this rulebook, with evidence that really is in the run."""
    kept = []
    for flag in flags:
        if not rulebook.has(flag.rule):
            continue
        flag.severity = rulebook.severity(flag.rule)
        flag.evidence = [ev for ev in flag.evidence if evidence.verify(episode, ev)]
        if flag.evidence:
            kept.append(flag)
        else:
            log.warning("dropped a %s flag on %s: no evidence found in the run", flag.rule, episode.episode_id)
    return kept


def adjudicate(episode: Episode, flags: list[Flag], rulebook: Rulebook, reviews: dict) -> EpisodeReport:
    apply_reviews(episode.episode_id, flags, reviews)
    medal = medal_of(episode.grade)
    v = verdict(flags, rulebook.policy)
    return EpisodeReport(
        episode_id=episode.episode_id,
        path=episode.path,
        competition_id=episode.competition_id,
        agent=episode.agent,
        run_group=episode.run_group,
        seed=episode.seed,
        grade=episode.grade,
        medal=medal,
        flags=flags,
        verdict=v,
        audited_medal=audited_medal(medal, v),
        errors=episode.errors,
    )


def collect_usage(monitors: list[Monitor], ctx: AuditContext) -> LLMUsage | None:
    for monitor in monitors:
        figures = monitor.finish(ctx)
        if monitor.name == "llm" and figures:
            return LLMUsage.model_validate(figures)
    return None
