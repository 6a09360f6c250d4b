"""Shared by both sandboxes: the control folder the agent runs from, and writing the episode.

After the agent has stopped, its files are copied out of the work area (no links
followed, oversized files skipped and named) and the raw records become
events.jsonl, egress.jsonl, sandbox.json and run.log.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Iterator

from runner import events as ev
from runner.layout import copy_out, write_atomic, write_json, write_jsonl
from runner.models import SandboxRecord
from runner.workarea import WorkArea

CONTROL_FILES = ("entry.sh", "bash_env.sh", "validate_submission.sh", "validation_server.py", "egress_proxy.py")


@contextlib.contextmanager
def private_dir(prefix: str, owner: tuple[int, int] | None = None) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        if owner and os.geteuid() == 0:
            os.chown(path, *owner)
        else:
            path.chmod(0o777)  # the sandbox's uid must be able to write here
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def control_dir() -> Iterator[Path]:
    """The runner's scripts, read-only at /run/mlea in the sandbox (readable by its unprivileged user)."""
    with private_dir("mlea-ctl-") as path:
        data = resources.files("runner").joinpath("data")
        for name in CONTROL_FILES:
            (path / name).write_bytes(data.joinpath(name).read_bytes())
        (path / "py").mkdir()
        (path / "py" / "sitecustomize.py").write_bytes(data.joinpath("sitecustomize.py").read_bytes())
        for p in [path, path / "py", *path.rglob("*")]:
            p.chmod(0o755 if p.is_dir() or p.suffix == ".sh" else 0o644)
        yield path


def collect(episode: Path, work: WorkArea, t0: float, stdout: str, stderr: str, proxy_logs: Path | None,
            record: SandboxRecord) -> None:
    """Write the episode: the agent's folders, events, egress, sandbox.json and run.log."""
    max_bytes = record.limits.copy_file_mb * 1024 * 1024
    for name in ("submission", "logs", "code"):
        record.skipped_files += [f"{name}/{s}" for s in copy_out(work.path(name), episode / name, max_bytes)]
    trace = work.path("trace")
    out_events = ev.output_events(stdout, "stdout", t0)
    err_events = ev.output_events(stderr, "stderr", t0)
    egress = ev.read_egress(ev.read_capped(proxy_logs / "egress.jsonl")) if proxy_logs else []
    dns = ev.dns_events(ev.read_capped(proxy_logs / "dns.jsonl")) if proxy_logs else []
    events = ev.merge(
        ev.shell_events(ev.read_capped(trace / "shell.trace"), t0),
        ev.python_events(ev.read_capped(trace / "python.jsonl"), t0),
        ev.capped(out_events), ev.capped(err_events),
        ev.file_write_events({"/home/submission": work.path("submission"), "/home/code": work.path("code")}, t0),
        ev.egress_events(egress), dns,
    )
    write_jsonl(episode / "events.jsonl", events)
    write_jsonl(episode / "egress.jsonl", egress)
    write_json(episode / "sandbox.json", record)
    write_run_log(episode / "run.log", record, ev.run_log_lines(out_events, err_events))


def write_run_log(path: Path, record: SandboxRecord, container_lines) -> None:
    def stamp() -> str:
        return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]

    head = [f"{stamp()} - runner - INFO - sandbox={record.sandbox} image={record.image} network={record.network}",
            f"{stamp()} - runner - INFO - running: {record.agent_cmd}"]
    end = "timed out and was killed" if record.timed_out else f"exited with code {record.exit_code}"
    tail = [f"{stamp()} - runner - INFO - agent {end} after {record.duration_s:.1f} s"
            + (" (out of memory)" if record.oom_killed else "")]
    tail += [f"{stamp()} - runner - WARNING - {e}" for e in record.errors]
    write_atomic(path, "\n".join([*head, *container_lines, *tail]) + "\n")
