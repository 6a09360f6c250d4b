"""One episode in bubblewrap, for machines without a Docker engine.

Same layout and records as the Docker sandbox. bwrap unshares every namespace (so
no network: only `--network none`), maps the agent to uid 1000, binds the system
read-only (the host's /usr and /etc, or the root filesystem folder given as
`image`), the public data and the agent's folder read-only, and only the work area
writable; the root is read-only and /tmp a bounded tmpfs. prlimit bounds address
space, processes, file size and open files. When started as root the sandbox runs
as the host's `nobody`, so the process limit applies and nothing runs as root.
Weaker than Docker: no cgroup, so memory is bounded per process, not in total.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from runner import artifacts
from runner.models import EpisodeSpec, SandboxRecord
from runner.workarea import WorkArea

NOBODY = (65534, 65534)
SYSTEM_DIRS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
OUTPUT_CAP = 50 * 1024 * 1024


class LocalSandboxError(RuntimeError):
    """The local sandbox cannot run this episode; the message says why."""


def host_identity() -> tuple[int, int]:
    return NOBODY if os.geteuid() == 0 else (os.getuid(), os.getgid())


def system_binds(root: Path) -> list[str]:
    """The system, read-only: /usr and /etc, with /bin, /lib... as links or binds as the root has them."""
    args = ["--ro-bind", str(root / "usr"), "/usr", "--ro-bind", str(root / "etc"), "/etc"]
    for name in SYSTEM_DIRS:
        p = root / name
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), f"/{name}"]
        elif p.is_dir():
            args += ["--ro-bind", str(p), f"/{name}"]
    return args


@contextlib.contextmanager
def reachable(sources: dict[str, Path], staging: Path) -> Iterator[dict[str, Path]]:
    """The same folders at paths the sandbox's unprivileged host uid can walk to.

    As root we drop to `nobody`, which may not traverse the folders above the data
    or the agent (a 0700 home, pytest's temp folders): bind-mount each into a
    world-traversable staging folder first. Otherwise the paths are used as given.
    """
    if os.geteuid() != 0:
        yield sources
        return
    staging.mkdir(mode=0o755, exist_ok=True)
    mounted: list[Path] = []
    try:
        out = {}
        for i, (dest, src) in enumerate(sources.items()):
            target = staging / str(i)
            target.mkdir(mode=0o755)
            subprocess.run(["mount", "--bind", str(src), str(target)], check=True, capture_output=True)
            mounted.append(target)
            out[dest] = target
        yield out
    finally:
        for target in reversed(mounted):
            subprocess.run(["umount", "-l", str(target)], capture_output=True)


def bind_sources(spec: EpisodeSpec, work: WorkArea, ctl: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    """(read-only, writable) bind sources by their destination in the sandbox."""
    read_only = {"/home/data": spec.public_dir.resolve(), "/home/agent": spec.agent_dir.resolve(), "/run/mlea": ctl}
    writable = {f"/home/{name}": work.path(name) for name in ("submission", "logs", "code")}
    writable["/run/mlea-trace"] = work.path("trace")
    return read_only, writable


def bwrap_command(spec: EpisodeSpec, read_only: dict[str, Path], writable: dict[str, Path],
                  env: dict[str, str]) -> list[str]:
    lim = spec.limits
    root = Path(spec.image) if spec.image else Path("/")
    cmd = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
           "--uid", "1000", "--gid", "1000", "--hostname", "agent"]
    cmd += system_binds(root)
    cmd += ["--proc", "/proc", "--dev", "/dev", "--size", str(lim.tmp_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    for dest, src in read_only.items():
        cmd += ["--ro-bind", str(src), dest]
    for dest, src in writable.items():
        cmd += ["--bind", str(src), dest]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    cmd += ["--remount-ro", "/", "--chdir", "/home", "bash", "/run/mlea/entry.sh"]
    return cmd


def limited(cmd: list[str], spec: EpisodeSpec) -> list[str]:
    lim = spec.limits
    prefix = ["prlimit", f"--as={lim.memory_mb * 1024 * 1024}", f"--nproc={lim.pids}",
              f"--fsize={lim.disk_mb * 1024 * 1024}", f"--nofile={lim.nofile}", "--"]
    if os.geteuid() == 0:
        uid, gid = NOBODY
        prefix = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *prefix]
    return prefix + cmd


def stamp_lines(stream, sink: list[str]) -> None:
    """Read a pipe line by line, time-stamped as Docker's logs are, keeping at most OUTPUT_CAP bytes."""
    kept = 0
    for raw in iter(stream.readline, b""):
        if kept < OUTPUT_CAP:
            when = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            text = raw.decode("utf-8", errors="replace").rstrip("\n")
            sink.append(f"{when} {text}")
            kept += len(raw)
    stream.close()


def run_episode_local(spec: EpisodeSpec, episode: Path) -> SandboxRecord:
    if spec.network != "none":
        raise LocalSandboxError(f"the local sandbox has no network policies; use --network none, not {spec.network}")
    for tool in ("bwrap", "prlimit"):
        if not shutil.which(tool):
            raise LocalSandboxError(f"{tool} is not installed (apt-get install bubblewrap util-linux)")
    started_at = datetime.now(timezone.utc).isoformat()
    env = {**spec.env, "MLEA_AGENT_CMD": spec.agent_cmd, "HOME": "/tmp", "COMPETITION_ID": spec.competition_id,
           "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    with WorkArea(spec.limits.disk_mb, owner=host_identity()) as work, artifacts.control_dir() as ctl:
        work.base.chmod(0o755)  # the unprivileged host uid must reach the binds' sources
        read_only, writable = bind_sources(spec, work, ctl)
        with reachable(read_only, work.base / "binds") as read_only:
            done = run_bwrap(spec, bwrap_command(spec, read_only, writable, env), work, started_at)
        artifacts.collect(episode, work, done.t0, "\n".join(done.out), "\n".join(done.err), None, done.record)
    return done.record


@dataclass
class Finished:
    record: SandboxRecord
    t0: float
    out: list[str]
    err: list[str]


def run_bwrap(spec: EpisodeSpec, cmd: list[str], work: WorkArea, started_at: str) -> Finished:
    cmd = limited(cmd, spec)
    t0 = time.time()
    out: list[str] = []
    err: list[str] = []
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    readers = [threading.Thread(target=stamp_lines, args=(proc.stdout, out), daemon=True),
               threading.Thread(target=stamp_lines, args=(proc.stderr, err), daemon=True)]
    for r in readers:
        r.start()
    timed_out = wait_or_kill(proc, spec.limits.time_limit_s)
    duration = time.time() - t0
    for r in readers:
        r.join(timeout=10)
    record = SandboxRecord(
        sandbox="local", image=spec.image or "host /usr", agent_cmd=spec.agent_cmd, network="none",
        limits=spec.limits, isolation=isolation_summary(spec, work), started_at=started_at,
        duration_s=round(duration, 3), exit_code=None if timed_out else proc.returncode, timed_out=timed_out,
    )
    return Finished(record, t0, out, err)


def wait_or_kill(proc: subprocess.Popen, time_limit: float) -> bool:
    try:
        proc.wait(timeout=time_limit)
        return False
    except subprocess.TimeoutExpired:
        # bwrap's pid namespace dies with its first process, taking every descendant with it
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        return True


def isolation_summary(spec: EpisodeSpec, work: WorkArea) -> dict:
    uid, gid = host_identity()
    return {
        "tool": "bubblewrap --unshare-all", "user": "1000:1000 inside", "host_user": f"{uid}:{gid}",
        "capabilities": "none", "read_only_root": True, "tmpfs": f"/tmp ({spec.limits.tmp_mb} MB)",
        "read_only_mounts": ["/home/data", "/home/agent", "/usr", "/etc"],
        "writable_mounts": ["/home/submission", "/home/logs", "/home/code"],
        "private_answers_mounted": False, "network": "none: no interface but loopback",
        "limits": "prlimit: address space, processes (per host uid), file size, open files",
        "writable_area": work.note, "disk_quota_enforced": work.quota_enforced,
    }
