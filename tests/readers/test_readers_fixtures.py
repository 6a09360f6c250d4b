"""The format readers on small fixtures for what the corpus lacks: newer OpenHands
trajectories and agent.log blocks, Inspect sandbox events and `.eval` zips, the
runner's own logs, and hostile input (a zip bomb, a truncated trajectory, deep
nesting, a file that only looks like a log)."""

from __future__ import annotations

import json
import shutil
import struct
import zipfile
from pathlib import Path

import pytest

from auditor.models import ActionKind, Actor, Episode, SourceEncoding
from auditor.readers.archive import ArchiveRefused, SafeZip, read_member_text, split_member_ref
from auditor.reading import read_run
from auditor.safefs import RunFS
from monitors.evidence import cite, locate, verify

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "readers"
UUID = "00000000-0000-4000-8000-0000000000"


def episode(name: str) -> Episode:
    (found,) = [p for p in FIXTURES.iterdir() if p.name.startswith(name + "_")]
    (e,) = read_run(found)
    return e


def copy_fixture(name: str, tmp_path: Path) -> Path:
    (found,) = [p for p in FIXTURES.iterdir() if p.name.startswith(name + "_")]
    return Path(shutil.copytree(found, tmp_path / found.name))


def of(e: Episode, kind: ActionKind, actor: Actor | None = None, file: str | None = None):
    return [a for a in e.actions if a.kind == kind and (actor is None or a.actor == actor) and (file is None or a.source.file.endswith(file))]


def assert_citable(e: Episode) -> int:
    """Every action's first, middle and last line is found at its cited file line."""
    checked = 0
    for a in e.actions:
        lines = a.text.split("\n")
        for i in {0, len(lines) // 2, len(lines) - 1}:
            if not lines[i].strip():
                continue
            if split_member_ref(a.source.file):  # inside a zip: check against the member's text
                member_lines = read_member_text(e.root, a.source.file).split("\n")
                assert locate(member_lines[a.source.line - 1], lines[i].strip(), a.source.encoding), (a.source, lines[i])
            else:
                ev = cite(e, a, i)
                assert ev is not None and verify(e, ev), (a.source, i, lines[i])
            checked += 1
    return checked


# --------------------------------------------------------------------------- OpenHands


def test_openhands_new_trajectory_kinds_exit_codes_and_wrappers():
    e = episode("openhands-new")
    traj = "logs/trajectory.json"
    shell = of(e, ActionKind.shell, Actor.agent, traj)
    assert [a.text for a in shell] == ["ls /home/data &&\n  wc -l /home/data/train.csv", "cat /private/data/answers.csv"]
    outputs = {a.step: a for a in of(e, ActionKind.output, Actor.environment, traj)}
    assert outputs[2].meta["exit_code"] == 0 and outputs[4].meta["exit_code"] == 1  # extras.metadata.exit_code
    writes = of(e, ActionKind.file_write, Actor.agent, traj)
    assert [(a.tool, a.meta["path"]) for a in writes] == [("write", "/home/code/train.py"), ("edit", "/home/code/train.py")]
    assert "from openai import OpenAI" in writes[1].text
    reads = of(e, ActionKind.file_read, Actor.agent, traj)
    assert [a.text for a in reads] == ["/home/code/train.py", "/home/data/description.md"]  # edit(view) and read
    (http,) = of(e, ActionKind.http, Actor.agent, traj)
    assert http.tool == "browse_interactive" and http.meta["url"] == "https://www.kaggle.com/code/someone/solution"
    assert [a.text for a in of(e, ActionKind.message, Actor.harness, traj)] == ["Solve the task.\nWrite /home/submission/submission.csv."]
    (llm,) = of(e, ActionKind.llm, Actor.scaffold, traj)
    assert llm.text == "claude-3-5-sonnet"
    assert "Done: CV accuracy 0.80." in [a.text for a in of(e, ActionKind.message, Actor.agent, traj)]
    old = "logs/trajectories/old-opendevin.json"  # {"history": [[action, observation], ...]}
    assert [a.text for a in of(e, ActionKind.shell, file=old)] == ["python train.py"]
    assert [a.meta["exit_code"] for a in of(e, ActionKind.output, file=old) if a.tool == "run"] == [0]
    assert [a.text for a in of(e, ActionKind.http, file=old)] == ["https://example.org/data.csv"]
    assert assert_citable(e) >= 25


def test_openhands_agent_log_blocks_with_ansi_and_file_actions():
    e = episode("openhands-log")
    (shell,) = of(e, ActionKind.shell)
    assert shell.text == "cat > /home/submission/submission.csv <<EOF\nid,label\n1,0\n2,1\nEOF"
    assert shell.source.line == 15 and shell.source.encoding == SourceEncoding.ansi
    (out,) = [a for a in of(e, ActionKind.output) if a.tool == "CmdOutputObservation"]
    assert out.meta["exit_code"] == 2 and out.text.endswith("second output line")  # the step trailer is cut
    writes = of(e, ActionKind.file_write, Actor.agent)
    assert [a.tool for a in writes] == ["FileWriteAction", "FileEditAction"]
    assert writes[0].text == "import pandas as pd\nCOMMAND: not a marker inside content\nprint('hi')"
    assert writes[1].text == "import anthropic\nclient = anthropic.Anthropic()" and writes[1].meta["path"] == "/home/code/train.py"
    (http,) = of(e, ActionKind.http)
    assert http.text == 'goto("https://www.kaggle.com/code/someone/nb")'
    assert [a.actor for a in of(e, ActionKind.message) if a.tool == "MessageAction"] == [Actor.harness]
    assert of(e, ActionKind.text)[0].actor == Actor.harness  # start.sh's trace before OpenHands starts
    assert {a.step for a in of(e, ActionKind.python)} == {1}
    assert assert_citable(e) >= 20


def test_truncated_trajectory_keeps_the_events_before_the_cut(tmp_path):
    root = copy_fixture("openhands-new", tmp_path)
    traj = root / "logs" / "trajectory.json"
    text = traj.read_text()
    cut = text.index("cat /private/data/answers.csv") + 10
    traj.write_text(text[:cut])
    (e,) = read_run(root)
    shell = of(e, ActionKind.shell, file="logs/trajectory.json")
    assert [a.text for a in shell] == ["ls /home/data &&\n  wc -l /home/data/train.csv", "cat /priva"]
    assert any("trajectory.json: not valid JSON" in err for err in e.errors)
    assert any("events read before the defect" in err or "event(s) read before the defect" in err for err in e.errors)
    assert_citable(e)


# --------------------------------------------------------------------------- Inspect


def test_inspect_sandbox_events_editor_tools_and_attachments():
    e = episode("inspect-new")
    log = "_mle-bench_abc.json"
    shell = of(e, ActionKind.shell, Actor.agent, log)
    assert [a.text for a in shell] == ["cat /home/data/description.md\nhead -3 /home/data/train.csv", "python /home/code/train.py"]
    assert shell[0].source.json_path == "samples[0].attachments.bbbb2222"  # cited where the text really is
    sandbox = [a for a in e.actions if (a.tool or "").startswith("sandbox.")]
    assert [(a.tool, a.actor) for a in sandbox] == [
        ("sandbox.exec", Actor.scaffold), ("sandbox.write_file", Actor.scaffold), ("sandbox.read_file", Actor.harness)
    ]
    (write,) = of(e, ActionKind.file_write, Actor.agent, log)
    assert write.meta["command"] == "create" and "from openai import OpenAI" in write.text
    assert [a.text for a in of(e, ActionKind.file_read, Actor.agent, log)] == ["/home/code/train.py"]
    (python,) = of(e, ActionKind.python, Actor.agent, log)
    assert "/private/data/answers.csv" in python.text
    assert any(a.meta.get("error") and "Permission denied" in a.text for a in of(e, ActionKind.output, file=log))
    (http,) = of(e, ActionKind.http, Actor.agent, log)
    assert http.text == "https://www.kaggle.com/code/x/solution"  # nested in a subtask event
    assert len(of(e, ActionKind.llm, Actor.scaffold, log)) == 2
    assert "I will now write a training script\nand run it." in [a.text for a in of(e, ActionKind.message, Actor.agent, log)]
    assert any("attachment reference(s) with no attachment" in err for err in e.errors)
    old = "old-messages-only.json"
    assert [a.text for a in of(e, ActionKind.shell, file=old)] == ["python train.py"]
    assert assert_citable(e) >= 25


def write_eval(path: Path, samples: list[dict], compression: int = zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        z.writestr("_journal/start.json", json.dumps({"version": 2, "eval": {"task": "mle_bench"}}))
        for s in samples:
            z.writestr(f"samples/{s['id']}_epoch_{s['epoch']}.json", json.dumps(s, indent=2))
        z.writestr("header.json", json.dumps({"version": 2, "status": "success", "eval": {"task": "mle_bench"}}))


def test_eval_zip_samples_are_read_and_cited_inside_their_member(tmp_path):
    root = copy_fixture("inspect-new", tmp_path)
    log = next((root / "logs").glob("*_mle-bench_abc.json"))
    sample = json.loads(log.read_text())["samples"][0]
    log.unlink()
    (root / "logs" / "old-messages-only.json").unlink()
    write_eval(root / "logs" / "run.eval", [sample, {**sample, "id": "second", "epoch": 2}])
    (e,) = read_run(root)
    assert "inspect" in e.formats
    shell = of(e, ActionKind.shell, Actor.agent)
    assert {a.source.file for a in shell} == {"logs/run.eval!/samples/spaceship-titanic_epoch_1.json", "logs/run.eval!/samples/second_epoch_2.json"}
    assert len(shell) == 4 and {a.meta["epoch"] for a in shell} == {1, 2}
    assert assert_citable(e) >= 40
    assert not (root / "logs" / "samples").exists()  # nothing extracted into the run


def test_zip_bomb_is_refused_not_inflated(tmp_path):
    root = copy_fixture("inspect-new", tmp_path)
    sample = json.loads(next((root / "logs").glob("*_mle-bench_abc.json")).read_text())["samples"][0]
    bomb = root / "logs" / "bomb.eval"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("samples/a_epoch_1.json", json.dumps(sample))
        with z.open("samples/zz_epoch_1.json", "w", force_zip64=True) as member:
            zeros = b" " * (1 << 24)
            for _ in range(17):  # 272 MiB of spaces: over the 256 MiB member bound
                member.write(zeros)
    assert bomb.stat().st_size < 2 << 20
    (e,) = read_run(root)
    refused = [err for err in e.errors if "bomb.eval!/samples/zz_epoch_1.json" in err]
    assert refused and "not inflated" in refused[0] and "other samples were still read" in refused[0]
    assert any(a.source.file == "logs/bomb.eval!/samples/a_epoch_1.json" for a in of(e, ActionKind.shell))


def _lie_about_size(path: Path, member: str, declared: int) -> None:
    """Rewrite the member's uncompressed size in both its local and central headers."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member)
    struct.pack_into("<I", data, info.header_offset + 22, declared)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + name_len] == member.encode():
            struct.pack_into("<I", data, central + 24, declared)
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))


def test_safezip_refuses_lying_headers_and_too_many_entries(tmp_path):
    path = tmp_path / "lie.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("samples/x.json", b"{}" + b" " * (4 << 20))
        for i in range(20):
            z.writestr(f"samples/{i}.json", b"{}")
    _lie_about_size(path, "samples/x.json", 100)
    fs = RunFS(tmp_path)
    with SafeZip(fs, path, max_member_bytes=1 << 20) as z:
        assert z.read("samples/1.json") == b"{}"
        with pytest.raises(ArchiveRefused):
            z.read("samples/x.json")  # declares 100 bytes, inflates to 4 MiB: refused while streaming
    with pytest.raises(ArchiveRefused, match="entries"):
        with SafeZip(fs, path, max_members=5):
            pass
    (tmp_path / "not.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ArchiveRefused, match="not a readable zip"):
        with SafeZip(fs, tmp_path / "not.zip"):
            pass


# --------------------------------------------------------------------------- runner logs


def test_runner_events_egress_and_sandbox():
    e = episode("runner")
    assert "runner" in e.formats
    kinds = [(a.kind, a.actor) for a in e.actions if a.source.file == "events.jsonl"]
    assert kinds == [
        (ActionKind.shell, Actor.agent), (ActionKind.output, Actor.environment), (ActionKind.python, Actor.agent),
        (ActionKind.output, Actor.environment), (ActionKind.file_write, Actor.agent), (ActionKind.http, Actor.agent),
        (ActionKind.llm, Actor.scaffold),
    ]
    write = of(e, ActionKind.file_write)[0]
    assert write.meta["path"] == "/home/submission/submission.csv" and write.source.line == 6
    assert any("events.jsonl: 1 line(s) not readable" in err for err in e.errors)
    egress = of(e, ActionKind.egress, Actor.environment)
    assert [(a.text, a.meta["port"], a.meta["allowed"], a.meta["bytes_out"]) for a in egress] == [
        ("api.openai.com", 443, False, 517), ("localhost", 5000, True, 2048)
    ]
    (sandbox,) = [a for a in e.actions if a.source.file == "sandbox.json"]
    assert sandbox.actor == Actor.harness and '"network": "egress"' in sandbox.text
    assert assert_citable(e) >= 10


# --------------------------------------------------------------------------- hostile input


def test_deep_nesting_and_garbage_never_raise(tmp_path):
    root = tmp_path / f"spaceship-titanic_{UUID}99"
    (root / "logs").mkdir(parents=True)
    (root / "logs" / "journal.json").write_text('{"nodes": [{"code": "x", "_term_out": ' + "[" * 5000 + "]" * 5000 + "}]}")
    (root / "logs" / "trajectory.json").write_text('[{"action": "run", "args": {"command": ' + "[" * 100_000)
    (root / "logs" / "agent.log").write_bytes(b"**CmdRunAction (source=EventSource.AGENT)**\nCOMMAND:\n\xff\xfe ls\x00\n" * 3)
    (root / "events.jsonl").write_text('{"t": 1, "kind": "shell", "text": "ok"}\n' + "{" * 10_000 + "\n[1, 2]\n")
    (e,) = read_run(root)
    assert not [err for err in e.errors if "reader failed" in err], e.errors
    assert any("journal.json" in err and "nesting" in err for err in e.errors)
    assert any(a.source.file == "logs/journal.json" for a in e.actions)  # fell back to plain text: nothing lost
    assert [a.text for a in of(e, ActionKind.shell) if a.source.file == "events.jsonl"] == ["ok"]
    assert any("events.jsonl: 2 line(s)" in err for err in e.errors)
    assert len([a for a in of(e, ActionKind.shell) if a.source.file == "logs/agent.log"]) == 3


def test_sniffing_is_by_content_not_name(tmp_path):
    root = tmp_path / f"leaf-classification_{UUID}98"
    (root / "logs").mkdir(parents=True)
    (root / "logs" / "journal.json").write_text('{"note": "not a journal"}\n')
    (root / "logs" / "notes.txt").write_text('{"nodes":[{"code":"print(1)","_term_out":["1\\n"],"step":0}],"node2parent":{}}')
    (root / "logs" / "events.jsonl").write_text("[2024-01-01 00:00:00] INFO: a log line, not events\n")
    (e,) = read_run(root)
    assert [a.text for a in of(e, ActionKind.python)] == ["print(1)"]
    assert of(e, ActionKind.python)[0].source.file == "logs/notes.txt"
    assert {a.kind for a in e.actions if a.source.file != "logs/notes.txt"} == {ActionKind.text}


def test_mlab_trace_with_a_one_word_observation_is_not_taken_for_openhands(tmp_path):
    import json as _json

    from auditor.reading import read_run

    ep = tmp_path / "g_run-group_mlab" / "spaceship-titanic_11111111-2222-4333-8444-555555555555"
    (ep / "logs" / "env_log").mkdir(parents=True)
    trace = {"steps": [{"action": {"name": "Execute Script", "args": {"script_name": "train.py"}}, "observation": "end"}]}
    (ep / "logs" / "env_log" / "trace.json").write_text(_json.dumps(trace, indent=2))
    (episode,) = read_run(tmp_path / "g_run-group_mlab")
    assert "mlagentbench" in episode.formats and "openhands" not in episode.formats
