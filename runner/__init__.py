"""The sandboxed runner: an agent runs in Docker (or bubblewrap) with the answers out of reach.

`run_agent` runs N seeds of an agent on a competition's prepared public data and
writes a run group in MLE-bench's layout, each episode with events.jsonl,
egress.jsonl and sandbox.json (SPEC "What the runner writes beside MLE-bench's
layout"). `runner.cli` holds what `audit run` calls.
"""

from runner.models import DEFAULT_AGENT_CMD, DEFAULT_DENIED_HOSTS, EpisodeSpec, Limits, SandboxRecord
from runner.run import RunError, RunResult, denied_hosts_from_rulebook, run_agent

__all__ = [
    "DEFAULT_AGENT_CMD", "DEFAULT_DENIED_HOSTS", "EpisodeSpec", "Limits", "RunError", "RunResult",
    "SandboxRecord", "denied_hosts_from_rulebook", "run_agent",
]
