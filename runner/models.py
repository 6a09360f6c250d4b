"""Typed records the runner reads and writes (SPEC "What the runner writes beside MLE-bench's layout")."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

NetworkPolicy = Literal["none", "grading", "egress"]
SandboxKind = Literal["docker", "local"]
EventKind = Literal["shell", "python", "file_write", "http", "llm", "stdout", "stderr"]

DEFAULT_AGENT_CMD = "bash /home/agent/start.sh"

# LLM APIs and solution sites refused by the egress proxy when the rulebook names none.
DEFAULT_DENIED_HOSTS = [
    "api.openai.com", "openai.azure.com", "api.anthropic.com", "generativelanguage.googleapis.com",
    "aiplatform.googleapis.com", "api.mistral.ai", "api.cohere.ai", "api.cohere.com", "api.groq.com",
    "api.together.xyz", "api.together.ai", "openrouter.ai", "api-inference.huggingface.co",
    "router.huggingface.co", "api.deepseek.com", "api.fireworks.ai", "api.perplexity.ai", "api.x.ai",
    "kaggle.com", "kaggleusercontent.com", "kaggle.io", "github.com", "raw.githubusercontent.com",
    "gist.github.com", "paperswithcode.com",
]


class Limits(BaseModel):
    """Resources one episode may use; every one is enforced by the sandbox."""

    model_config = ConfigDict(extra="forbid")

    time_limit_s: float = Field(3600.0, gt=0)
    memory_mb: int = Field(4096, ge=64)
    cpus: float = Field(2.0, gt=0)
    pids: int = Field(512, ge=16)
    disk_mb: int = Field(4096, ge=16, description="size of the writable /home/{submission,logs,code}")
    tmp_mb: int = Field(512, ge=16, description="size of the tmpfs /tmp (counts towards memory)")
    nofile: int = Field(4096, ge=64)
    copy_file_mb: int = Field(512, ge=1, description="files larger than this are not copied into the run")


class EpisodeSpec(BaseModel):
    """Everything one sandboxed episode needs."""

    model_config = ConfigDict(extra="forbid")

    competition_id: str
    public_dir: Path
    private_dir: Path | None = None
    agent_dir: Path
    agent_cmd: str = DEFAULT_AGENT_CMD
    image: str | None = None
    network: NetworkPolicy = "none"
    limits: Limits = Field(default_factory=Limits)
    denied_hosts: list[str] = Field(default_factory=lambda: list(DEFAULT_DENIED_HOSTS))
    private_ok_hosts: list[str] = Field(default_factory=list, description="allowed upstreams on private addresses")
    env: dict[str, str] = Field(default_factory=dict)


class EgressRecord(BaseModel):
    model_config = ConfigDict(extra="allow")

    t: float
    host: str
    port: int
    allowed: bool
    bytes_out: int = 0
    bytes_in: int = 0


class Event(BaseModel):
    model_config = ConfigDict(extra="allow")

    t: float
    kind: EventKind
    text: str


class SandboxRecord(BaseModel):
    """sandbox.json: how the episode was run and how it ended."""

    model_config = ConfigDict(extra="allow")

    sandbox: SandboxKind
    image: str | None
    agent_cmd: str
    network: NetworkPolicy
    limits: Limits
    isolation: dict[str, object] = Field(default_factory=dict)
    started_at: str
    duration_s: float
    exit_code: int | None
    timed_out: bool
    oom_killed: bool = False
    skipped_files: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
