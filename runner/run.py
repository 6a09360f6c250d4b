"""`audit run`: N seeds of one agent on one competition, each in a fresh sandbox, as one run group."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from runner.layout import RunGroup
from runner.models import DEFAULT_DENIED_HOSTS, EpisodeSpec, Limits, NetworkPolicy, SandboxKind, SandboxRecord

HOST_SETTING_KEYS = re.compile(r"host|domain", re.IGNORECASE)
HOST_RULES = ("external-llm-call", "solution-lookup", "external-data")
PLAIN_HOST = re.compile(r"^[a-z0-9.-]+\.[a-z]{2,}$")


class RunError(ValueError):
    """Bad arguments or a missing facility: the run cannot start."""


@dataclass
class RunResult:
    path: Path
    episodes: list[tuple[Path, SandboxRecord]] = field(default_factory=list)


def competition_dirs(data_dir: Path, competition: str) -> tuple[Path, Path | None]:
    """MLE-bench's prepared data: DIR/<competition>/prepared/{public,private}."""
    prepared = Path(data_dir) / competition / "prepared"
    public = prepared / "public"
    if not public.is_dir():
        raise RunError(f"no prepared public data at {public}")
    private = prepared / "private"
    return public, private if private.is_dir() else None


def denied_hosts_from_rulebook(path: str | Path | None = None) -> list[str]:
    """The hosts the rulebook names for LLM APIs, solution sites and outside data; the defaults when it names none."""
    try:
        from rules import load_rulebook
        book = load_rulebook(path)
    except Exception:  # a rulebook that cannot be read must not stop a run: the defaults still refuse LLM APIs
        return list(DEFAULT_DENIED_HOSTS)
    hosts: list[str] = []
    for rule_id in HOST_RULES:
        for key, value in book.settings(rule_id).items():
            if HOST_SETTING_KEYS.search(key) and "allow" not in key and isinstance(value, list):
                hosts += [h for h in (normal_host(str(v)) for v in value) if h]
    return sorted(set(hosts)) or list(DEFAULT_DENIED_HOSTS)


def normal_host(entry: str) -> str | None:
    """`*.openai.com`, `https://api.openai.com` and `api.openai.com` name a domain the proxy can refuse.

    An entry with a path (`google.com/search`) names pages, not a host: refusing its whole
    host would refuse far more than the rulebook asks, so it is left to the monitors.
    """
    host = re.sub(r"^[a-z]+://", "", entry.strip().lower())
    if "/" in host.rstrip("/"):
        return None
    host = host.rstrip("/").split(":")[0]
    host = host.removeprefix("*.").removeprefix(".")
    return host if PLAIN_HOST.match(host) else None


def run_agent(competition: str, data_dir: Path, agent_dir: Path, *, agent_cmd: str, image: str | None,
              seeds: int, limits: Limits, network: NetworkPolicy, sandbox: SandboxKind, runs_dir: Path,
              denied_hosts: list[str] | None = None, private_ok_hosts: list[str] | None = None,
              env: dict[str, str] | None = None, log: Callable[[str], None] | None = None) -> RunResult:
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    if seeds < 1:
        raise RunError("--seeds must be at least 1")
    agent_dir = Path(agent_dir)
    if not agent_dir.is_dir():
        raise RunError(f"the agent folder {agent_dir} does not exist")
    public, private = competition_dirs(Path(data_dir), competition)
    spec = EpisodeSpec(competition_id=competition, public_dir=public, private_dir=private, agent_dir=agent_dir,
                       agent_cmd=agent_cmd, image=image, network=network, limits=limits,
                       denied_hosts=denied_hosts if denied_hosts is not None else denied_hosts_from_rulebook(),
                       private_ok_hosts=private_ok_hosts or [], env=env or {})
    run_one = episode_runner(spec, sandbox, log)
    group = RunGroup(Path(runs_dir), agent_dir.resolve().name)
    result = RunResult(group.path)
    for seed in range(seeds):
        episode = group.new_episode(competition)
        log(f"seed {seed}: {episode.name} ({sandbox}, network {network})")
        record = run_one(spec.model_copy(update={"env": {**spec.env, "MLEA_SEED": str(seed)}}), episode)
        group.record(episode, success=record.exit_code == 0 and not record.timed_out)
        result.episodes.append((episode, record))
        ended = "timed out" if record.timed_out else f"exit {record.exit_code}"
        log(f"seed {seed}: {ended} after {record.duration_s:.1f} s")
    return result


def episode_runner(spec: EpisodeSpec, sandbox: SandboxKind, log) -> Callable[[EpisodeSpec, Path], SandboxRecord]:
    """A function that runs one episode in the chosen sandbox, after checking that the sandbox is there."""
    if sandbox == "local":
        from runner.local_sandbox import run_episode_local
        return run_episode_local
    from runner.docker_sandbox import run_episode_docker
    from runner.engine import docker_client
    from runner.image import ensure_image

    client = docker_client()
    image = spec.image or ensure_image(client, log=log)
    return lambda s, episode: run_episode_docker(client, s, image, episode)
