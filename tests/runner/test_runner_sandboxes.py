"""Both sandboxes, for real: isolation facts seen from inside, bombs contained, the run always written.

Docker tests need an engine (marked `docker`), the local ones bubblewrap; both are
skipped outside CI when missing and must run in CI.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from runner import Limits, run_agent
from runner_helpers import COMPETITION, read_jsonl

PROBE = r"""
python3 - <<'PY'
import json, os, socket
def status(key):
    return next(l.split()[1] for l in open("/proc/self/status") if l.startswith(key))
def writable(path):
    try:
        open(path, "w").close(); os.unlink(path); return True
    except OSError:
        return False
found = []
for root, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if os.path.join(root, d) not in ("/proc", "/sys", "/dev")]
    found += [os.path.join(root, f) for f in files if f == "answers.csv"]
facts = {
    "uid": os.getuid(), "cap_eff": status("CapEff"), "no_new_privs": status("NoNewPrivs"),
    "root_writable": writable("/probe"), "data_writable": writable("/home/data/probe"),
    "agent_writable": writable("/home/agent/probe"), "tmp_writable": writable("/tmp/probe"),
    "code_writable": writable("/home/code/probe"), "answers_found": found,
    "data_files": sorted(os.listdir("/home/data")), "interfaces": sorted(n for _, n in socket.if_nameindex()),
}
json.dump(facts, open("/home/logs/probe.json", "w"))
PY
echo probe done
echo probe-stderr >&2
"""

BOMBS = {
    "fork": ":(){ :|:& };:\nsleep 60",
    "memory": "python3 -c 'x = bytearray(2 * 1024**3); print(len(x))'",
    "loop": "while :; do :; done",
    "disk": "dd if=/dev/zero of=/home/submission/big bs=1M count=10240 2>&1 | tail -1; "
            "dd if=/dev/zero of=/tmp/big bs=1M count=10240 2>&1 | tail -1; echo still here",
}
BOMB_LIMITS = Limits(time_limit_s=8, memory_mb=256, pids=64, disk_mb=128, tmp_mb=32, copy_file_mb=4)


def one_episode(sandbox: str, data: Path, agent: Path, out: Path, network: str = "none",
                limits: Limits | None = None, **kw) -> tuple[Path, dict]:
    result = run_agent(COMPETITION, data, agent, agent_cmd="bash /home/agent/start.sh", image=None, seeds=1,
                       limits=limits or Limits(time_limit_s=120), network=network, sandbox=sandbox,
                       runs_dir=out, **kw)
    episode, _ = result.episodes[0]
    return episode, json.loads((episode / "sandbox.json").read_text())


def assert_episode_written(episode: Path) -> None:
    for name in ("run.log", "events.jsonl", "egress.jsonl", "sandbox.json"):
        assert (episode / name).is_file(), name
    for name in ("submission", "logs", "code"):
        assert (episode / name).is_dir(), name
    meta = json.loads((episode.parent / "metadata.json").read_text())
    assert episode.name in meta["runs"]


@pytest.fixture(params=["docker", "local"])
def sandbox(request):
    if request.param == "docker":
        request.node.add_marker(pytest.mark.docker)
        request.getfixturevalue("docker_image")
    else:
        request.getfixturevalue("bwrap_ok")
    return request.param


def test_isolation_as_seen_from_inside(sandbox, toy_data, agents, tmp_path):
    episode, record = one_episode(sandbox, toy_data, agents("probe", PROBE), tmp_path / "runs")
    assert_episode_written(episode)
    facts = json.loads((episode / "logs" / "probe.json").read_text())
    assert facts["uid"] == 1000
    assert int(facts["cap_eff"], 16) == 0 and facts["no_new_privs"] == "1"
    assert not facts["root_writable"] and not facts["data_writable"] and not facts["agent_writable"]
    assert facts["tmp_writable"] and facts["code_writable"]
    assert facts["answers_found"] == []  # the private answers are nowhere in the sandbox
    assert facts["data_files"] == ["sample_submission.csv", "test.csv", "train.csv"]
    assert facts["interfaces"] == ["lo"]
    assert record["exit_code"] == 0 and record["timed_out"] is False
    assert record["isolation"]["private_answers_mounted"] is False
    assert "[Container] probe done" in (episode / "run.log").read_text()
    events = read_jsonl(episode / "events.jsonl")
    shell = [e["text"] for e in events if e["kind"] == "shell"]
    assert any(t.startswith("python3 -") for t in shell) and "echo probe done" in shell
    assert {"kind": "stderr", "text": "probe-stderr"}.items() <= next(
        e for e in events if e["kind"] == "stderr").items()
    assert "[Container] probe-stderr" in (episode / "run.log").read_text()


@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_bombs_are_contained_and_the_run_is_still_written(sandbox, bomb, toy_data, agents, tmp_path):
    started = time.monotonic()
    episode, record = one_episode(sandbox, toy_data, agents(bomb, BOMBS[bomb]), tmp_path / "runs",
                                  limits=BOMB_LIMITS)
    elapsed = time.monotonic() - started
    assert_episode_written(episode)
    assert elapsed < BOMB_LIMITS.time_limit_s + 60
    if bomb in ("fork", "loop"):
        assert record["timed_out"] is True and record["exit_code"] is None
    if bomb == "memory":
        assert record["exit_code"] != 0 and record["timed_out"] is False
        if sandbox == "docker":
            assert record["oom_killed"] is True
    if bomb == "disk":
        assert record["timed_out"] is False
        assert "[Container] still here" in (episode / "run.log").read_text()
        assert not (episode / "submission" / "big").exists()  # over the copy limit: named, not copied
        assert any(s.startswith("submission/big") for s in record["skipped_files"])
        assert record["isolation"]["disk_quota_enforced"] is (shutil.which("mkfs.ext4") is not None)
