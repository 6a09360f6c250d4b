"""Read speed of the format readers (run by hand: `python benchmarks/readers_speed.py [CORPUS]`).

Builds ~10 MB logs of each format by repeating real corpus files (in a temporary
episode), reads each with its reader, and prints MB/s; then times reading the
whole corpus.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from auditor.readers.base import SourceFile, readers
from auditor.reading import read_run
from auditor.safefs import RunFS

TARGET = 10 << 20


def grow_lines(src: Path) -> bytes:
    data = src.read_bytes()
    return data * max(1, TARGET // len(data))


def grow_json_list(src: Path, key: str | None) -> bytes:
    doc = json.loads(src.read_text())
    items = doc[key] if key else doc
    size = len(src.read_bytes())
    items = items * max(1, TARGET // size)
    if key:
        doc[key] = items
    return json.dumps(doc if key else items, indent=2 if key is None else None).encode()


def main(corpus: Path) -> None:
    runs = corpus / "runs"
    pick = lambda pattern: next(runs.glob(pattern))  # noqa: E731
    cases = {
        "aide journal.json": ("logs/journal.json", grow_json_list(pick("*aide/spaceship*/logs/journal.json"), "nodes")),
        "aide.verbose.log": ("logs/aide.verbose.log", grow_lines(pick("*aide/spaceship*/logs/aide.verbose.log"))),
        "openhands agent.log": ("logs/agent.log", grow_lines(pick("*opendevin/leaf*/logs/agent.log"))),
        "openhands trajectory": ("logs/trajectory.json", grow_json_list(pick("*opendevin/*/logs/trajectory.json"), None)),
        "mlab main_log": ("logs/agent_log/main_log", grow_lines(pick("*mlagentbench/random*/logs/agent_log/main_log"))),
        "inspect .json": ("logs/x.json", grow_inspect(pick("*inspect-react/jigsaw*/logs/*.json"))),
        "runner events.jsonl": ("events.jsonl", b"".join(
            json.dumps({"t": i * 0.1, "kind": "shell" if i % 2 else "stdout", "text": f"python train.py --fold {i}\nline two"}).encode() + b"\n"
            for i in range(150_000))),
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        fs = RunFS(root)
        for label, (rel, data) in cases.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            f = SourceFile(fs=fs, path=path, rel=rel, size=len(data), head=data[: 64 << 10])
            reader = next(r for r in readers() if r.sniff(f))
            t = time.perf_counter()
            actions = list(reader.read(f))
            dt = time.perf_counter() - t
            kinds = Counter(a.kind.value for a in actions)
            print(f"{label:22s} {reader.name:17s} {len(data) / 1e6:6.1f} MB {dt:6.2f} s {len(data) / 1e6 / dt:7.1f} MB/s  {len(actions)} actions {dict(kinds)}")
    t = time.perf_counter()
    episodes = read_run(runs) + read_run(corpus / "bad-input")
    dt = time.perf_counter() - t
    print(f"whole corpus: {len(episodes)} episodes, {sum(len(e.actions) for e in episodes)} actions in {dt:.2f} s")


def grow_inspect(src: Path) -> bytes:
    doc = json.loads(src.read_text())
    sample = doc["samples"][0]
    n = max(1, TARGET // len(src.read_bytes()))
    doc["samples"] = [{**sample, "id": f"s{i}"} for i in range(n)]
    return json.dumps(doc, indent=2).encode()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "corpus")
