"""The monitor on the held-out set (tests/fixtures/plagiarism_redteam): recall, false
flags and time per episode, with every miss and false flag listed.

    python benchmarks/plagiarism/bench_redteam.py [--notebooks ../shared/notebooks] [-v]

A copy counts as found when the first flag names its source notebook.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from auditor.reading import read_run  # noqa: E402
from monitors.base import AuditContext  # noqa: E402
from monitors.evidence import verify  # noqa: E402
from monitors.plagiarism.index import NotebookIndex  # noqa: E402
from monitors.plagiarism.monitor import PlagiarismMonitor  # noqa: E402
from monitors.plagiarism.notebooks import read_notebooks  # noqa: E402
from rules.load import load_rulebook  # noqa: E402

FIXTURE = REPO / "tests" / "fixtures" / "plagiarism_redteam"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notebooks", default=str(REPO / ".." / "shared" / "notebooks"))
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per episode")
    ap.add_argument("--set", default=str(FIXTURE), help="a set made by make_redteam.py --out DIR [--seed N]")
    args = ap.parse_args()
    fixture = Path(args.set)
    labels = json.loads((fixture / "labels.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        NotebookIndex.build(read_notebooks(args.notebooks)).save(Path(tmp) / "nb.npz")
        ctx = AuditContext(rulebook=load_rulebook(), notebooks=str(Path(tmp) / "nb.npz"))
        monitor = PlagiarismMonitor()
        monitor.prepare(ctx)
        build_s = time.perf_counter() - t0
    found = missed = false_flags = honest = 0
    times = []
    for group in sorted(p for p in (fixture / "runs").iterdir() if p.is_dir()):
        for ep in read_run(group):
            lab = labels[f"{group.name}/{Path(ep.root).name}"]
            t = time.perf_counter()
            flags = monitor.check(ep, ctx)
            times.append(time.perf_counter() - t)
            source = flags[0].evidence[0].match.source if flags else None
            verified = all(verify(ep, ev) for f in flags for ev in f.evidence)
            ok = source == lab["source"] if lab["plagiarism"] else not flags
            if lab["plagiarism"]:
                found, missed = found + ok, missed + (not ok)
            else:
                honest, false_flags = honest + 1, false_flags + (not ok)
            if args.verbose or not ok or not verified:
                score = flags[0].summary.split("score ")[1][:4] if flags else "-"
                print(f"{'ok ' if ok else 'BAD'} {lab['agent']:9s} {lab['form']:32s} copy={lab['plagiarism']!s:5s} "
                      f"flags={len(flags)} score={score} evidence verbatim={verified} {source or ''}")
    print(f"copies found {found}/{found + missed} (recall {found / max(found + missed, 1):.3f}); "
          f"honest runs flagged {false_flags}/{honest}")
    print(f"index build {build_s:.1f}s; check per episode {1000 * statistics.median(times):.1f} ms median, "
          f"{1000 * max(times):.1f} ms max")


if __name__ == "__main__":
    main()
