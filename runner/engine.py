"""Reaching the Docker engine, with an error that says what to do when it is not there."""

from __future__ import annotations

import docker
import docker.errors


class EngineUnavailable(RuntimeError):
    """No Docker engine answers; the message says how to start one or use the local sandbox."""


def docker_client(timeout: int = 120) -> docker.DockerClient:
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
        return client
    except docker.errors.DockerException as exc:
        raise EngineUnavailable(
            f"no Docker engine answers ({exc}); start dockerd (see .ci/setup-docker.sh) or use --sandbox local"
        ) from exc


def engine_available() -> bool:
    try:
        docker_client(timeout=10)
        return True
    except EngineUnavailable:
        return False
