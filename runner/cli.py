"""What the lead's typer CLI calls for `audit run` and `audit run image build`; returns exit codes."""

from __future__ import annotations

import sys
from pathlib import Path

from runner.models import Limits


def _err(msg: str) -> None:
    print(f"audit run: {msg}", file=sys.stderr, flush=True)


def run_command(competition: str, data: str, agent_dir: str, agent_cmd: str, image: str | None, seeds: int,
                time_limit: float, network: str, sandbox: str, out: str) -> int:
    """Run the agent; prints the run group's path on stdout. 0 when it was written, 2 when it could not start."""
    from runner.engine import EngineUnavailable
    from runner.image import ImageBuildError
    from runner.local_sandbox import LocalSandboxError
    from runner.run import RunError, run_agent

    try:
        result = run_agent(competition, Path(data), Path(agent_dir), agent_cmd=agent_cmd, image=image,
                           seeds=seeds, limits=Limits(time_limit_s=float(time_limit)), network=network,
                           sandbox=sandbox, runs_dir=Path(out))
    except (RunError, EngineUnavailable, LocalSandboxError, ImageBuildError, ValueError) as exc:
        _err(str(exc))
        return 2
    print(result.path)
    return 0


def image_build_command(tag: str | None) -> int:
    from runner.engine import EngineUnavailable, docker_client
    from runner.image import ImageBuildError, ensure_image

    try:
        built = ensure_image(docker_client(), tag=tag, log=lambda m: print(m, file=sys.stderr, flush=True))
    except (EngineUnavailable, ImageBuildError) as exc:
        _err(str(exc))
        return 2
    print(built)
    return 0
