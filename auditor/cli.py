"""The `audit` command line (SPEC "Command line").

`audit PATH ...` audits a run; `audit show|review|grade|notebooks|run ...` are
subcommands. Exit status: 0 when the audit ran and nothing reached --fail-on, 1 when
an unreviewed or confirmed flag at or above --fail-on remains, 2 for bad arguments
or a run that cannot be read at all.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from auditor import __version__

EXIT_OK, EXIT_FLAGGED, EXIT_BAD = 0, 1, 2
SUBCOMMANDS = {"show", "review", "grade", "notebooks", "run", "--help", "-h", "--version"}

err = Console(stderr=True)


class Format(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


class FailOn(str, Enum):
    high = "high"
    medium = "medium"
    low = "low"
    never = "never"


# --------------------------------------------------------------------------- audit PATH

audit_app = typer.Typer(add_completion=False, help="Audit a run of ML agents for rule violations.")


@audit_app.command()
def audit(
    path: Annotated[Path, typer.Argument(help="a run group, an episode directory, or a directory of run groups")],
    rules: Annotated[Optional[Path], typer.Option("--rules", help="a rulebook (TOML); default: the MLE-bench rulebook")] = None,
    monitors: Annotated[Optional[str], typer.Option("--monitors", help="comma-separated monitors to run")] = None,
    notebooks: Annotated[Optional[Path], typer.Option("--notebooks", help="public notebooks: a DIR or an INDEX file")] = None,
    competitions: Annotated[Optional[Path], typer.Option("--competitions", help="competition registry (config.yaml, leaderboard.csv)")] = None,
    data: Annotated[Optional[Path], typer.Option("--data", help="prepared data (answers) for grading")] = None,
    llm_model: Annotated[str, typer.Option("--llm-model", help="model of the LLM log monitor")] = "gpt-4o",
    llm_base_url: Annotated[Optional[str], typer.Option("--llm-base-url", help="OpenAI-compatible endpoint")] = None,
    llm_budget: Annotated[Optional[int], typer.Option("--llm-budget", help="LLM tokens per episode")] = None,
    fmt: Annotated[Optional[Format], typer.Option("--format", help="table (default on a terminal), json, markdown, html")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="write the report to FILE (atomically)")] = None,
    fail_on: Annotated[FailOn, typer.Option("--fail-on", help="exit 1 when a flag at or above this severity remains")] = FailOn.never,
    workers: Annotated[int, typer.Option("--workers", min=1, help="episodes monitored in parallel")] = 1,
) -> None:
    from auditor.pipeline import AuditOptions, UnknownMonitor, run_audit
    from auditor.reading import RunNotReadable
    from auditor.report import gate_exit_code, render, write_atomically
    from rules import RulebookError

    if not path.exists():
        _fail(f"{path}: no such file or directory")
    fmt = fmt or _default_format(out)
    options = AuditOptions(
        rules=str(rules) if rules else None,
        monitors=[m.strip() for m in monitors.split(",") if m.strip()] if monitors else None,
        notebooks=str(notebooks) if notebooks else None,
        competitions=str(competitions) if competitions else None,
        data=str(data) if data else None,
        llm_model=llm_model,
        llm_base_url=llm_base_url,
        llm_budget=llm_budget,
        workers=workers,
    )
    try:
        with _progress(enabled=fmt != Format.json and err.is_terminal) as progress:
            report = run_audit(str(path), options, progress=progress)
    except (RunNotReadable, RulebookError, UnknownMonitor) as exc:
        _fail(str(exc))
    text = render(report, fmt.value)
    if out:
        write_atomically(out, text)
        err.print(f"report written to {out} ({len(report.episodes)} episodes)")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    raise typer.Exit(gate_exit_code(report, fail_on.value))


def _default_format(out: Path | None) -> Format:
    if out is not None:
        return {".md": Format.markdown, ".html": Format.html, ".htm": Format.html, ".txt": Format.table}.get(
            out.suffix.lower(), Format.json
        )
    return Format.table if sys.stdout.isatty() else Format.json


def _progress(enabled: bool):
    from auditor.report.progress import progress_bar

    return progress_bar(enabled)


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(EXIT_BAD)


# --------------------------------------------------------------------------- subcommands

app = typer.Typer(add_completion=False, help="mle-auditor: integrity auditor for ML agent runs.", no_args_is_help=True)


@app.command()
def show(
    path: Annotated[Path, typer.Argument(help="the audited run")],
    episode: Annotated[str, typer.Argument(help="episode id (directory name)")],
    rules: Annotated[Optional[Path], typer.Option("--rules")] = None,
    notebooks: Annotated[Optional[Path], typer.Option("--notebooks")] = None,
    monitors: Annotated[Optional[str], typer.Option("--monitors")] = None,
    context: Annotated[int, typer.Option("--context", help="lines of context around each excerpt")] = 3,
) -> None:
    """One episode's flags with their evidence in context."""
    from auditor.show import show_command

    raise typer.Exit(show_command(path, episode, rules, notebooks, monitors, context))


@app.command()
def review(
    path: Annotated[Path, typer.Argument(help="the audited run")],
    episode: Annotated[str, typer.Argument(help="episode id")],
    flag: Annotated[str, typer.Argument(help="flag id")],
    confirm: Annotated[bool, typer.Option("--confirm", help="the flag is a real violation")] = False,
    dismiss: Annotated[bool, typer.Option("--dismiss", help="the flag is a false alarm")] = False,
    note: Annotated[str, typer.Option("--note")] = "",
    reviewer: Annotated[Optional[str], typer.Option("--reviewer")] = None,
    rules: Annotated[Optional[Path], typer.Option("--rules")] = None,
    notebooks: Annotated[Optional[Path], typer.Option("--notebooks")] = None,
) -> None:
    """Record a reviewer's decision in PATH/reviews.jsonl (append-only)."""
    from auditor.reviews import review_command

    if confirm == dismiss:
        _fail("give exactly one of --confirm or --dismiss")
    reviewer = reviewer or os.environ.get("USER") or "unknown"
    raise typer.Exit(review_command(path, episode, flag, "confirmed" if confirm else "dismissed", note, reviewer, rules, notebooks))


@app.command()
def grade(
    path: Annotated[Path, typer.Argument(help="MLE-bench JSONL of submissions, or a run directory")],
    competitions: Annotated[Optional[Path], typer.Option("--competitions")] = None,
    data: Annotated[Optional[Path], typer.Option("--data")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="directory for the grading report")] = None,
) -> None:
    """Grade submissions and write an MLE-bench grading report."""
    from grading.cli import grade_command

    raise typer.Exit(grade_command(str(path), _s(competitions), _s(data), _s(out)))


notebooks_app = typer.Typer(add_completion=False, help="Public notebooks for the plagiarism monitor.")
app.add_typer(notebooks_app, name="notebooks")


@notebooks_app.command("index")
def notebooks_index(
    directory: Annotated[Path, typer.Argument(help="notebooks: competitions/<id>/kernels/ or <id>/ folders")],
    out: Annotated[Path, typer.Option("--out", help="the index file to write")],
) -> None:
    """Build the plagiarism index from public notebooks."""
    from monitors.plagiarism.cli import index_command

    raise typer.Exit(index_command(str(directory), str(out)))


run_app = typer.Typer(add_completion=False, help="Run an agent in the sandbox.", invoke_without_command=True)
app.add_typer(run_app, name="run")


@run_app.callback()
def run(
    ctx: typer.Context,
    competition: Annotated[Optional[str], typer.Option("--competition")] = None,
    data: Annotated[Optional[Path], typer.Option("--data", help="prepared data dir (<data>/<id>/prepared/...)")] = None,
    agent_dir: Annotated[Optional[Path], typer.Option("--agent-dir")] = None,
    agent_cmd: Annotated[str, typer.Option("--agent-cmd")] = "bash /home/agent/start.sh",
    image: Annotated[Optional[str], typer.Option("--image")] = None,
    seeds: Annotated[int, typer.Option("--seeds", min=1)] = 1,
    time_limit: Annotated[int, typer.Option("--time-limit", min=1, help="seconds")] = 3600,
    network: Annotated[str, typer.Option("--network", help="none | grading | egress")] = "none",
    sandbox: Annotated[str, typer.Option("--sandbox", help="docker | local")] = "docker",
    out: Annotated[Path, typer.Option("--out")] = Path("runs"),
) -> None:
    """Run an agent on a competition in the sandbox (or `audit run image build`)."""
    if ctx.invoked_subcommand is not None:
        return
    if not (competition and data and agent_dir):
        _fail("audit run needs --competition, --data and --agent-dir")
    if network not in ("none", "grading", "egress") or sandbox not in ("docker", "local"):
        _fail("--network is none|grading|egress and --sandbox is docker|local")
    from runner.cli import run_command

    raise typer.Exit(
        run_command(competition, str(data), str(agent_dir), agent_cmd, image, seeds, time_limit, network, sandbox, str(out))
    )


image_app = typer.Typer(add_completion=False, help="The default agent image.")
run_app.add_typer(image_app, name="image")


@image_app.command("build")
def image_build(tag: Annotated[Optional[str], typer.Option("--tag")] = None) -> None:
    """Build the default agent image (Python 3, pandas, scikit-learn) without a registry."""
    from runner.cli import image_build_command

    raise typer.Exit(image_build_command(tag))


def _s(p: Path | None) -> str | None:
    return str(p) if p is not None else None


# --------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> None:
    """`audit PATH ...` or `audit <subcommand> ...`: the first word decides."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--version":
        print(f"mle-auditor {__version__}")
        raise SystemExit(0)
    target, prog_args = (app, argv) if argv and argv[0] in SUBCOMMANDS else (audit_app, argv)
    # click reports usage errors with status 2, as SPEC asks for bad arguments
    target(args=prog_args, prog_name="audit", standalone_mode=True)


if __name__ == "__main__":
    main()
