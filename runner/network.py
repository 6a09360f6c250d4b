"""Network policies for a Docker episode (none · grading · egress).

* `none`: the agent's container has no network at all.
* `grading`: an internal bridge (no route out) holding the agent and the validation
  server; a firewall rule drops everything the bridge sends to the host itself,
  since Docker leaves the host's own addresses reachable from an internal network.
* `egress`: as `grading`, but the recording proxy also sits on an outbound network
  and lets through every host the rulebook does not deny.

Under both `grading` and `egress` the agent's HTTP(S)_PROXY point at the recording
proxy, and its DNS answers every name with the proxy's address, so direct
connections on 80/443 are caught too; under `grading` the proxy refuses everything
but the validation server, so every attempt out is still written to egress.jsonl.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors
from docker.types import LogConfig, Mount

from runner.models import EpisodeSpec
from runner.workarea import AGENT_GID, AGENT_UID

VALIDATION_ALIAS = "grading-server"
PROXY_ALIAS = "egress-proxy"
PROXY_PORT = 3128
READY_TIMEOUT = 30.0


def hardened(limits_mb: int = 256) -> dict:
    """Container options shared by the helper containers (validation server, proxy)."""
    return dict(
        user=f"{AGENT_UID}:{AGENT_GID}", read_only=True, cap_drop=["ALL"], security_opt=["no-new-privileges"],
        mem_limit=f"{limits_mb}m", memswap_limit=f"{limits_mb}m", pids_limit=128,
        tmpfs={"/tmp": "rw,nosuid,nodev,size=64m"}, labels={"mle-auditor": "helper"},
        log_config=LogConfig(type="json-file", config={"max-size": "10m", "max-file": "1"}),
    )


@dataclass
class NetworkSetup:
    """What the agent's container must be created with, and what to tear down afterwards."""

    policy: str
    network: str | None = None  # the agent's network name (None: network_mode none)
    bridge: str | None = None
    firewall: list[list[str]] = field(default_factory=list)
    containers: list = field(default_factory=list)
    networks: list = field(default_factory=list)
    agent_env: dict[str, str] = field(default_factory=dict)
    dns: list[str] = field(default_factory=list)
    proxy_log_dir: Path | None = None
    notes: dict[str, object] = field(default_factory=dict)

    def agent_options(self) -> dict:
        if self.network is None:
            return {"network_mode": "none"}
        opts: dict = {"network": self.network}
        if self.dns:
            opts["dns"] = self.dns
        return opts

    def teardown(self) -> list[str]:
        """Remove everything made for the episode; returns what could not be removed."""
        errors = []
        for c in reversed(self.containers):
            try:
                c.remove(force=True)
            except docker.errors.APIError as exc:
                errors.append(f"removing container {c.name}: {exc}")
        for rule in self.firewall:
            proc = subprocess.run(["iptables", "-D", *rule], capture_output=True, text=True)
            if proc.returncode != 0:
                errors.append(f"removing firewall rule {rule}: {proc.stderr.strip()}")
        for net in reversed(self.networks):
            try:
                net.remove()
            except docker.errors.APIError as exc:
                errors.append(f"removing network {net.name}: {exc}")
        return errors


def setup_network(client: docker.DockerClient, spec: EpisodeSpec, image: str, ctl_dir: Path,
                  proxy_log_dir: Path, t0: float) -> NetworkSetup:
    setup = NetworkSetup(policy=spec.network)
    if spec.network == "none":
        setup.notes = {"network": "none: no interface but loopback"}
        return setup
    try:
        internal_network(client, setup)
        start_validation_server(client, spec, image, ctl_dir, setup)
        # under `grading` the proxy lets nothing out but still records every attempt
        start_proxy(client, spec, image, ctl_dir, proxy_log_dir, setup, t0, outbound=spec.network == "egress")
    except BaseException:
        setup.teardown()
        raise
    return setup


def internal_network(client: docker.DockerClient, setup: NetworkSetup) -> None:
    token = secrets.token_hex(4)
    setup.bridge = f"mlea{token}"
    net = client.networks.create(
        f"mlea-{token}", driver="bridge", internal=True, labels={"mle-auditor": "episode"},
        options={"com.docker.network.bridge.name": setup.bridge},
    )
    setup.networks.append(net)
    setup.network = net.name
    block_host(setup)


def block_host(setup: NetworkSetup) -> None:
    """Drop what the internal bridge sends to the host's own addresses (INPUT), first in the chain."""
    if not shutil.which("iptables"):
        setup.notes["host_firewall"] = "iptables not installed: the host is reachable from the bridge"
        return
    rule = ["INPUT", "-i", setup.bridge, "-j", "DROP"]
    proc = subprocess.run(["iptables", "-I", *rule], capture_output=True, text=True)
    if proc.returncode == 0:
        setup.firewall.append(rule)
        setup.notes["host_firewall"] = f"iptables -I {' '.join(rule)}"
    else:
        setup.notes["host_firewall"] = f"iptables failed: {proc.stderr.strip()}"


def start_validation_server(client: docker.DockerClient, spec: EpisodeSpec, image: str, ctl_dir: Path,
                            setup: NetworkSetup) -> None:
    if spec.private_dir is None or not Path(spec.private_dir).is_dir():
        setup.notes["validation_server"] = "no private answers given: no validation server"
        return
    mounts = [Mount("/private", str(Path(spec.private_dir).resolve()), type="bind", read_only=True),
              Mount("/home/data", str(Path(spec.public_dir).resolve()), type="bind", read_only=True),
              Mount("/run/mlea", str(ctl_dir), type="bind", read_only=True)]
    cmd = ["python3", "/run/mlea/validation_server.py", "--private", "/private",
           "--sample", "/home/data/sample_submission.csv"]
    endpoint = client.api.create_endpoint_config(aliases=[VALIDATION_ALIAS])
    container = client.containers.create(image, cmd, name=f"{setup.network}-grader", mounts=mounts,
                                         network=setup.network, networking_config={setup.network: endpoint},
                                         hostname=VALIDATION_ALIAS, **hardened())
    setup.containers.append(container)
    container.start()
    wait_ready(container, "validation server ready")
    setup.agent_env["MLEA_VALIDATE_URL"] = f"http://{VALIDATION_ALIAS}:5000/validate"
    setup.notes["validation_server"] = f"http://{VALIDATION_ALIAS}:5000/validate (answers only in its container)"


def start_proxy(client: docker.DockerClient, spec: EpisodeSpec, image: str, ctl_dir: Path, log_dir: Path,
                setup: NetworkSetup, t0: float, outbound: bool) -> None:
    denied = spec.denied_hosts if outbound else ["*"]
    (ctl_dir / "denied_hosts.txt").write_text("\n".join(denied) + "\n", encoding="utf-8")
    mounts = [Mount("/run/mlea", str(ctl_dir), type="bind", read_only=True),
              Mount("/var/log/egress", str(log_dir), type="bind", read_only=False)]
    cmd = ["python3", "/run/mlea/egress_proxy.py", "--log", "/var/log/egress/egress.jsonl",
           "--dns-log", "/var/log/egress/dns.jsonl", "--deny-file", "/run/mlea/denied_hosts.txt",
           "--private-ok", ",".join([VALIDATION_ALIAS, *spec.private_ok_hosts]), "--answer-ip", "auto",
           "--port", str(PROXY_PORT), "--t0", repr(t0)]
    container = client.containers.create(
        image, cmd, name=f"{setup.network}-proxy", mounts=mounts, network=setup.network,
        sysctls={"net.ipv4.ip_unprivileged_port_start": "0"}, **hardened())
    setup.containers.append(container)
    if outbound:  # the one way out: the engine's default bridge (refused hosts never get this far)
        client.networks.get("bridge").connect(container)
    container.start()
    wait_ready(container, "egress proxy ready")
    container.reload()
    ip = container.attrs["NetworkSettings"]["Networks"][setup.network]["IPAddress"]
    proxy_url = f"http://{ip}:{PROXY_PORT}"
    no_proxy = f"{VALIDATION_ALIAS},localhost,127.0.0.1"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        setup.agent_env[name] = proxy_url
    setup.agent_env["NO_PROXY"] = setup.agent_env["no_proxy"] = no_proxy
    setup.dns = [ip]
    setup.proxy_log_dir = log_dir
    refuses = f"{len(denied)} denied hosts" if outbound else "everything but the validation server"
    setup.notes["egress_proxy"] = f"{proxy_url}; DNS sinkhole at {ip}; refuses {refuses}"


def wait_ready(container, marker: str, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        container.reload()
        logs = container.logs().decode("utf-8", errors="replace")
        if marker in logs:
            return
        if container.status in ("exited", "dead"):
            raise RuntimeError(f"{container.name} exited before it was ready:\n{logs[-2000:]}")
        time.sleep(0.1)
    raise RuntimeError(f"{container.name} not ready after {timeout:.0f} s")
