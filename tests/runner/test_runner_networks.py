"""Docker network policies, end to end: the validation server, the host firewall, the recording proxy."""

from __future__ import annotations

import http.server
import ipaddress
import json
import threading

import pytest

from runner import Limits, run_agent
from runner_helpers import COMPETITION, TEST_ROWS, read_jsonl

pytestmark = pytest.mark.docker

# The agent: validate a submission, then try the host, an LLM API (through the proxy and around it),
# and, when given one, an allowed upstream.
NETWORK_AGENT = r"""
python3 - <<'PY'
ids = [line.split(",")[0] for line in open("/home/data/test.csv").read().splitlines()[1:]]
open("/home/submission/submission.csv", "w").write("id,label\n" + "".join(f"{i},1\n" for i in ids))
PY
echo "validation: $(bash /run/mlea/validate_submission.sh)"
curl -sS -m 5 -o /dev/null https://api.openai.com/v1/models; echo "curl exit $?"
python3 - <<'PY'
import json, os, socket, ssl
result = {}
routes = [l.split() for l in open("/proc/net/route").read().splitlines()[1:]]
gateway = next((socket.inet_ntoa(bytes.fromhex(f[2])[::-1]) for f in routes if f[1] == "00000000"), "")
port = int(os.environ["HOST_PORT"])
for name, host in (("gateway", gateway), ("docker0", os.environ["DOCKER0"])):
    try:
        if not host:
            raise OSError("no route")
        socket.create_connection((host, port), timeout=3).close()
        result[name] = "reached"
    except OSError as exc:
        result[name] = repr(exc)
try:  # around the proxy: the DNS sinkhole and the TLS catch-all still see the name
    with socket.create_connection(("api.anthropic.com", 443), timeout=5) as raw:
        ssl.create_default_context().wrap_socket(raw, server_hostname="api.anthropic.com")
    result["anthropic"] = "reached"
except OSError as exc:
    result["anthropic"] = repr(exc)
json.dump(result, open("/home/logs/net.json", "w"))
PY
if [ -n "$UPSTREAM" ]; then curl -sS -m 10 "$UPSTREAM/hello"; echo; fi
"""


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = b"hello from the allowed upstream"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def host_server():
    """A server on the host itself, on every address: what the agent must not reach (and the proxy may)."""
    server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def docker0_gateway(client) -> str:
    """The host's address on the engine's default bridge (the config names only the subnet at times)."""
    config = client.networks.get("bridge").attrs["IPAM"]["Config"][0]
    return config.get("Gateway") or str(next(ipaddress.ip_network(config["Subnet"]).hosts()))


@pytest.fixture
def network_run(docker_image, toy_data, agents, tmp_path, host_server):
    client, _ = docker_image

    def _run(policy: str, upstream: bool = False):
        gateway = docker0_gateway(client)
        env = {"HOST_PORT": str(host_server), "DOCKER0": gateway,
               "UPSTREAM": f"http://{gateway}:{host_server}" if upstream else ""}
        result = run_agent(COMPETITION, toy_data, agents(f"net-{policy}", NETWORK_AGENT),
                           agent_cmd="bash /home/agent/start.sh", image=None, seeds=1,
                           limits=Limits(time_limit_s=120), network=policy, sandbox="docker",
                           runs_dir=tmp_path / "runs", private_ok_hosts=[gateway] if upstream else [], env=env)
        return result.episodes[0]
    return _run


def test_grading_policy_validates_blocks_the_host_and_records_every_attempt(network_run):
    episode, record = network_run("grading")
    log = (episode / "run.log").read_text()
    assert '[Container] validation: {"valid": true, "reason": "the submission is valid"}' in log
    net = json.loads((episode / "logs" / "net.json").read_text())
    assert net["gateway"] != "reached" and net["docker0"] != "reached"  # the host is out of reach
    assert net["anthropic"] != "reached"
    egress = read_jsonl(episode / "egress.jsonl")
    hosts = {(e["host"], e["port"]) for e in egress}
    assert ("api.openai.com", 443) in hosts and ("api.anthropic.com", 443) in hosts
    assert not any(e["allowed"] for e in egress)
    events = read_jsonl(episode / "events.jsonl")
    assert any(e["kind"] == "http" and "api.openai.com:443" in e["text"] for e in events)
    assert record.isolation["host_firewall"].startswith("iptables -I INPUT")
    assert record.network == "grading" and record.exit_code == 0


def test_egress_policy_refuses_denied_hosts_and_lets_allowed_ones_through(network_run):
    episode, record = network_run("egress", upstream=True)
    log = (episode / "run.log").read_text()
    assert "[Container] hello from the allowed upstream" in log
    egress = read_jsonl(episode / "egress.jsonl")
    by_host = {e["host"]: e for e in egress}
    assert by_host["api.openai.com"]["allowed"] is False and by_host["api.openai.com"]["bytes_in"] == 0
    assert by_host["api.anthropic.com"]["allowed"] is False
    upstream = [e for e in egress if e["allowed"]]
    assert len(upstream) == 1 and upstream[0]["bytes_in"] > len("hello from the allowed upstream")
    net = json.loads((episode / "logs" / "net.json").read_text())
    assert net["gateway"] != "reached" and net["docker0"] != "reached"  # the proxy is the only way out
    assert record.exit_code == 0


def test_no_network_policy_has_nothing_to_reach(network_run):
    episode, record = network_run("none")
    assert "validation: " in (episode / "run.log").read_text()
    assert read_jsonl(episode / "egress.jsonl") == []
    net = json.loads((episode / "logs" / "net.json").read_text())
    assert all(v != "reached" for v in net.values())
    assert TEST_ROWS == len((episode / "submission" / "submission.csv").read_text().splitlines()) - 1
