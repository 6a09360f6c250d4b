"""One episode in Docker: the agent's container, its limits, and what it leaves behind.

The agent runs as uid 1000 with every capability dropped, no-new-privileges, a
read-only root with a tmpfs /tmp, memory/CPU/pids limits, the public data read-only
at /home/data, its own folder read-only at /home/agent, and only /home/submission,
/home/logs and /home/code writable (on a size-bounded work area). The private answers
are never mounted into it. The wall-clock limit waits, then kills; the episode is
written either way.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import docker
import docker.errors
import requests
from docker.types import LogConfig, Mount, Ulimit

from runner import artifacts
from runner.models import EpisodeSpec, SandboxRecord
from runner.network import setup_network
from runner.workarea import AGENT_GID, AGENT_UID, WorkArea

LOG_MAX = "50m"  # docker keeps at most this much of the agent's output per stream file


def agent_container_options(spec: EpisodeSpec, work: WorkArea, ctl_dir: Path) -> dict:
    lim = spec.limits
    mounts = [
        Mount("/home/data", str(spec.public_dir.resolve()), type="bind", read_only=True),
        Mount("/home/agent", str(spec.agent_dir.resolve()), type="bind", read_only=True),
        Mount("/run/mlea", str(ctl_dir), type="bind", read_only=True),
        Mount("/run/mlea-trace", str(work.path("trace")), type="bind", read_only=False),
    ]
    mounts += [Mount(f"/home/{name}", str(work.path(name)), type="bind", read_only=False)
               for name in ("submission", "logs", "code")]
    return dict(
        user=f"{AGENT_UID}:{AGENT_GID}", working_dir="/home", hostname="agent",
        read_only=True, tmpfs={"/tmp": f"rw,nosuid,nodev,size={lim.tmp_mb}m,mode=1777"},
        cap_drop=["ALL"], security_opt=["no-new-privileges"],
        mem_limit=f"{lim.memory_mb}m", memswap_limit=f"{lim.memory_mb}m",
        nano_cpus=int(lim.cpus * 1e9), pids_limit=lim.pids,
        ulimits=[Ulimit(name="nofile", soft=lim.nofile, hard=lim.nofile)],
        mounts=mounts, labels={"mle-auditor": "agent", "mle-auditor.competition": spec.competition_id},
        log_config=LogConfig(type="json-file", config={"max-size": LOG_MAX, "max-file": "2"}),
    )


def isolation_summary(spec: EpisodeSpec, work: WorkArea, network_notes: dict) -> dict:
    lim = spec.limits
    return {
        "user": f"{AGENT_UID}:{AGENT_GID}", "cap_drop": "ALL", "no_new_privileges": True,
        "read_only_root": True, "tmpfs": f"/tmp ({lim.tmp_mb} MB)",
        "read_only_mounts": ["/home/data", "/home/agent"],
        "writable_mounts": ["/home/submission", "/home/logs", "/home/code"],
        "private_answers_mounted": False, "writable_area": work.note, "disk_quota_enforced": work.quota_enforced,
        **network_notes,
    }


def wait_or_kill(container, time_limit: float) -> bool:
    """Wait for the agent; past the limit, kill it. True when it was killed for time."""
    try:
        container.wait(timeout=time_limit)
        return False
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
        try:
            container.kill()
        except docker.errors.APIError:
            pass  # it ended in the meantime
        container.wait(timeout=60)
        return True


def run_episode_docker(client: docker.DockerClient, spec: EpisodeSpec, image: str, episode: Path) -> SandboxRecord:
    started_at = datetime.now(timezone.utc).isoformat()
    errors: list[str] = []
    with WorkArea(spec.limits.disk_mb) as work, artifacts.control_dir() as ctl_dir, \
            artifacts.private_dir("mlea-egress-", owner=(AGENT_UID, AGENT_GID)) as proxy_logs:
        t0 = time.time()  # every "t" in the episode's records counts from here
        net = setup_network(client, spec, image, ctl_dir, proxy_logs, t0)
        env = {**spec.env, **net.agent_env, "MLEA_AGENT_CMD": spec.agent_cmd, "HOME": "/tmp",
               "COMPETITION_ID": spec.competition_id}
        container = None
        try:
            container = client.containers.create(image, ["bash", "/run/mlea/entry.sh"], environment=env,
                                                 **agent_container_options(spec, work, ctl_dir),
                                                 **net.agent_options())
            net.containers.append(container)
            start = time.time()
            container.start()
            timed_out = wait_or_kill(container, spec.limits.time_limit_s)
            duration = time.time() - start
            container.reload()
            state = container.attrs["State"]
            stdout = container.logs(stdout=True, stderr=False, timestamps=True).decode("utf-8", "replace")
            stderr = container.logs(stdout=False, stderr=True, timestamps=True).decode("utf-8", "replace")
        finally:
            errors += net.teardown()
        record = SandboxRecord(
            sandbox="docker", image=image, agent_cmd=spec.agent_cmd, network=spec.network, limits=spec.limits,
            isolation=isolation_summary(spec, work, net.notes), started_at=started_at,
            duration_s=round(duration, 3), exit_code=None if timed_out else state.get("ExitCode"),
            timed_out=timed_out, oom_killed=bool(state.get("OOMKilled")), errors=errors,
        )
        artifacts.collect(episode, work, t0, stdout, stderr, net.proxy_log_dir, record)
    return record
