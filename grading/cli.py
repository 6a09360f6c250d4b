"""`audit grade PATH [--competitions DIR] [--data DIR] [--out DIR]`, as a function the CLI calls."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console
from rich.table import Table

from grading.grade import GradingInputError, episode_dirs, grade_path, write_grading_report
from grading.models import CompetitionReport, GradingReport


def grade_command(path: str, competitions: str | None, data: str | None, out: str | None) -> int:
    """Grade submissions and write MLE-bench's grading report; return the exit status.

    PATH is MLE-bench's JSONL (one `{"competition_id", "submission_path"}` a line, paths relative
    to the working directory; blank, `#` and `//` lines skipped) or a run directory (an episode,
    a run group, or a directory of run groups: every `<competition_id>_<uuid>/submission/submission.csv`).
    `--competitions DIR` holds `<id>/leaderboard.csv` (thresholds, medals) and optionally
    `<id>/config.yaml`; `--data DIR` holds the prepared answers (`<id>/prepared/private/...`).
    Without the first there are no medals, without the second no scores; each report's `error`
    says so. The report goes to `--out DIR` (default: the working directory) as
    `<UTC YYYY-MM-DDTHH-MM-SS-GMT>_grading_report.json`; a short summary goes to stderr.

    Exit status: 0 when the report was written (invalid submissions included: they are results);
    2 when PATH does not exist, is not a readable JSONL, or is a directory with no episodes.
    """
    console = Console(stderr=True)
    if not os.path.exists(path):
        console.print(f"[red]error:[/red] {path} does not exist")
        return 2
    if Path(path).is_dir() and next(episode_dirs(path), None) is None:
        console.print(f"[red]error:[/red] no episode directories (<competition_id>_<uuid>) under {path}")
        return 2
    try:
        reports = grade_path(path, competitions, data)
    except (GradingInputError, OSError, UnicodeDecodeError) as exc:
        console.print(f"[red]error:[/red] cannot read {path}: {exc}")
        return 2
    target = write_grading_report(reports, out or os.getcwd())
    _print_summary(console, reports, target)
    return 0


def _print_summary(console: Console, reports: list[CompetitionReport], target: Path) -> None:
    table = Table(title="Grading", show_lines=False)
    for column in ("competition", "score", "medal", "note"):
        table.add_column(column, overflow="fold")
    for report in reports:
        table.add_row(report.competition_id, _score_text(report), _medal_text(report), (report.error or "")[:120])
    console.print(table)
    totals = GradingReport.of(reports)
    console.print(
        f"{totals.total_runs} submissions, {totals.total_valid_submissions} valid, "
        f"{totals.total_medals} medals ({totals.total_gold_medals} gold, {totals.total_silver_medals} silver, "
        f"{totals.total_bronze_medals} bronze), {totals.total_above_median} above median"
    )
    console.print(f"report: {target}")


def _score_text(report: CompetitionReport) -> str:
    if report.score is not None:
        return f"{report.score:g}"
    return "missing" if not report.submission_exists else "invalid"


def _medal_text(report: CompetitionReport) -> str:
    for medal in ("gold", "silver", "bronze"):
        if getattr(report, f"{medal}_medal"):
            return medal
    return "above median" if report.above_median else "-"
