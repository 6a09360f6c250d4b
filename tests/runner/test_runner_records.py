"""Turning the sandbox's raw records into events.jsonl, and the run group's layout on disk."""

from __future__ import annotations

import json
import os
import time

from runner import events as ev
from runner.layout import RunGroup, copy_out, write_atomic
from runner.run import denied_hosts_from_rulebook, normal_host

T0 = 1_700_000_000.0


def test_shell_trace_lines_become_commands_with_their_continuations():
    trace = (f"+mlea {T0 + 1.5:.6f} python3 -c 'import os\nprint(os.getcwd())'\n"
             f"++mlea {T0 + 2.25:.6f} curl -s https://api.openai.com/v1/models\n"
             "garbage the agent wrote\n")
    events = ev.shell_events(trace, T0)
    assert [(e.t, e.kind) for e in events] == [(1.5, "shell"), (2.25, "shell")]
    assert events[0].text == "python3 -c 'import os\nprint(os.getcwd())'"
    assert events[1].text.endswith("garbage the agent wrote")


def test_a_busy_loop_is_one_event_with_its_count_and_events_are_capped():
    trace = "".join(f"+mlea {T0 + i / 1000:.6f} :\n" for i in range(ev.MAX_EVENTS * 3))
    (loop,) = ev.shell_events(trace, T0)
    assert loop.text == ":" and loop.repeat == ev.MAX_EVENTS * 3
    varied = "".join(f"+mlea {T0 + i / 1000:.6f} echo {i}\n" for i in range(ev.MAX_EVENTS + 5))
    events = ev.shell_events(varied, T0)
    assert len(events) == ev.MAX_EVENTS + 1 and events[-1].text == "[5 more shell events not recorded]"


def test_python_hook_records_code_and_skips_broken_lines():
    lines = (json.dumps({"t": T0 + 3, "argv": ["python3", "train.py"], "code": "import sklearn\n"}) + "\n"
             "{not json\n" + json.dumps({"t": T0 + 4, "argv": ["python3", "-m", "pip"], "code": ""}) + "\n")
    events = ev.python_events(lines, T0)
    assert [(e.t, e.text) for e in events] == [(3.0, "import sklearn\n"), (4.0, "python3 -m pip")]


def test_docker_timestamps_with_nanoseconds_give_seconds_since_start():
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(T0 + 10)) + ".250000000Z"
    (event,) = ev.output_events(f"{stamp} hello world", "stdout", T0)
    assert (event.t, event.kind, event.text) == (10.25, "stdout", "hello world")
    (odd,) = ev.output_events("no stamp here", "stderr", T0)
    assert (odd.t, odd.text) == (0.0, "no stamp here")


def test_file_writes_carry_code_content_and_describe_binaries_and_submissions(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "submission.csv").write_text("id,label\n1,0\n")
    (tmp_path / "sub" / "model.bin").write_bytes(b"\x00\x01" * 100)
    events = {e.path: e for e in ev.file_write_events({"/home/code": tmp_path / "sub"}, 0.0)}
    assert events["/home/code/submission.csv"].text == "id,label\n1,0\n"
    assert events["/home/code/model.bin"].text == "<binary file, 200 bytes>"
    # a submission's rows are not shown: after the run, a model's rows and typed rows look alike
    (sub,) = [e for e in ev.file_write_events({"/home/submission": tmp_path / "sub"}, 0.0) if "csv" in e.path]
    assert sub.text == "/home/submission/submission.csv (13 bytes, seen after the run)"


def test_egress_records_become_http_events_and_bad_lines_are_dropped():
    raw = ('{"t": 1.0, "host": "api.openai.com", "port": 443, "allowed": false, "bytes_out": 0, "bytes_in": 0,'
           ' "reason": "denied host (api.openai.com)"}\n{"t": "x"}\n')
    records = ev.read_egress(raw)
    assert len(records) == 1
    (event,) = ev.egress_events(records)
    assert event.kind == "http" and event.text == "CONNECT api.openai.com:443 (refused: denied host (api.openai.com))"


def test_run_log_lines_are_prefixed_as_mle_bench_does():
    out = [ev.Event(t=1, kind="stdout", text="a\nb")]
    err = [ev.Event(t=0.5, kind="stderr", text="warn")]
    assert list(ev.run_log_lines(out, err)) == ["[Container] warn", "[Container] a", "[Container] b"]


def test_run_group_metadata_follows_mle_bench(tmp_path):
    group = RunGroup(tmp_path, "my agent/v2")
    assert group.name.endswith("_run-group_my-agent-v2")
    episode = group.new_episode("toy-sum")
    assert sorted(p.name for p in episode.iterdir()) == ["code", "logs", "submission"]
    group.record(episode, success=False)
    meta = json.loads((group.path / "metadata.json").read_text())
    assert meta["run_group"] == group.name and meta["runs"] == {episode.name: {"success": False}}
    assert episode.name.startswith("toy-sum_") and len(episode.name) == len("toy-sum_") + 36


def test_two_groups_of_one_agent_in_the_same_second_get_distinct_folders(tmp_path):
    first, second = RunGroup(tmp_path, "agent"), RunGroup(tmp_path, "agent")
    assert first.path != second.path and second.name.endswith("_run-group_agent")


def test_copy_out_skips_links_and_oversized_files(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "deep").mkdir(parents=True)
    (src / "deep" / "ok.txt").write_text("fine")
    (src / "big.bin").write_bytes(b"x" * 2048)
    os.symlink("/etc/passwd", src / "escape")
    skipped = copy_out(src, dst, max_bytes=1024)
    assert (dst / "deep" / "ok.txt").read_text() == "fine"
    assert not (dst / "big.bin").exists() and not (dst / "escape").exists()
    assert any("big.bin" in s for s in skipped) and any("escape" in s for s in skipped)


def test_write_atomic_leaves_no_temporary_files(tmp_path):
    write_atomic(tmp_path / "a.json", "{}")
    write_atomic(tmp_path / "a.json", "[]")
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"] and (tmp_path / "a.json").read_text() == "[]"


def test_the_shipped_rulebook_denies_llm_apis_but_not_package_hosts():
    hosts = denied_hosts_from_rulebook()
    assert "api.openai.com" in hosts and "api.anthropic.com" in hosts
    assert "pypi.org" not in hosts and "google.com" not in hosts


def test_rulebook_host_entries_are_normalised():
    assert normal_host("https://api.openai.com/") == "api.openai.com"
    assert normal_host("google.com/search") is None  # pages, not a whole host
    assert normal_host("*.kaggle.com") == "kaggle.com"
    assert normal_host(r"api\.openai\.com") is None  # a regular expression is not a host
