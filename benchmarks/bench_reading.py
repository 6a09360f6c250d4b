"""Reading speed and memory (issue 2, point 6). Run by hand:

    python benchmarks/bench_reading.py [--episodes 200] [--mb 10] [--keep]

1. Reads all of ../shared/corpus (runs/ and bad-input/): MB/s.
2. Writes a synthetic run group of N episodes with M MB of logs each (an OpenHands-style
   agent.log, an AIDE journal, a run.log) under benchmarks/.work/, reads every episode the
   way the pipeline does (light pass, then each episode's actions loaded and released),
   and reports MB/s and the peak RSS.
3. Peak RSS of reading one episode whose plain log is 1, 10, 100 and 1000 MB, each in a
   fresh process: it must not grow with the size of one log.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
WORK = HERE / ".work" / "reading"
SHARED = REPO.parent / "shared"


def tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def peak_rss_mb() -> float:
    """The process's peak resident memory (VmHWM), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> None:
    """Forget the peak so far (Linux): a fresh process inherits its parent's from before exec."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def read_like_the_pipeline(path: Path) -> int:
    from auditor.reading import load_actions, read_run, release_actions

    actions = 0
    for e in read_run(path, with_actions=False):
        load_actions(e)
        actions += sum(1 for _ in e.iter_actions())
        release_actions(e)
    return actions


AGENT_BLOCK = (
    "\x1b[92m12:00:{s:02d} - ACTION\x1b[0m\n**CmdRunAction (source=EventSource.AGENT)**\nTHOUGHT: step {i}: train a model\n"
    "COMMAND:\npython train.py --fold {i} --lr 0.05\n\x1b[92m12:00:{s:02d} - OBSERVATION\x1b[0m\n"
    "**CmdOutputObservation (source=EventSource.AGENT, exit code=0)**\nfold {i}: auc 0.8{i:03d}\n{output}"
)
# what a training command prints: OUTPUT_LINES lines of progress (0 for the densest possible log)
OUTPUT_LINES = 40
EPOCH_LINE = "[{e:03d}/300] train_loss=0.4{e:03d} valid_loss=0.41{e:02d} valid_auc=0.87{e:02d} lr=1.0e-03 time=12.4s\n"
CODE = "import pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n" + "x = 1\n" * 40


def write_episode(group: Path, competition: str, mb: float) -> None:
    ep = group / f"{competition}_{uuid.uuid4()}"
    (ep / "logs").mkdir(parents=True)
    (ep / "submission").mkdir()
    (ep / "code").mkdir()
    target = int(mb * (1 << 20))
    with open(ep / "logs" / "agent.log", "w") as fh:
        written, i = 0, 0
        while written < target * 0.8:
            output = "".join(EPOCH_LINE.format(e=e) for e in range(OUTPUT_LINES))
            block = AGENT_BLOCK.format(i=i % 1000, s=i % 60, output=output)
            fh.write(block)
            written += len(block)
            i += 1
    nodes = [{"id": str(k), "step": k, "plan": "improve", "code": CODE, "_term_out": ["ok\n"], "is_buggy": False,
              "metric": {"value": 0.8, "maximize": True}} for k in range(max(1, int(target * 0.2) // 4000))]
    (ep / "logs" / "journal.json").write_text(json.dumps({"nodes": nodes, "node2parent": {}}))
    (ep / "run.log").write_text("[2024-01-01 00:00:00,000] [run.py:63] [Container] + cd /home/agent\n" * 100)
    (ep / "code" / "solution.py").write_text(CODE)
    (ep / "submission" / "submission.csv").write_text("id,target\n" + "".join(f"{k},0.5\n" for k in range(1000)))


def synthetic_group(n: int, mb: float) -> Path:
    group = WORK / f"synthetic-{n}x{mb:g}MB-{OUTPUT_LINES}" / "2024-01-01T00-00-00-GMT_run-group_synthetic"
    if group.exists() and len(list(group.iterdir())) >= n:
        return group
    shutil.rmtree(group, ignore_errors=True)
    group.mkdir(parents=True)
    comps = ["spaceship-titanic", "leaf-classification", "random-acts-of-pizza", "nomad2018-predict-transparent-conductors"]
    for k in range(n):
        write_episode(group, comps[k % len(comps)], mb)
    return group


def measure(label: str, path: Path) -> dict:
    size = tree_bytes(path)
    t0 = time.perf_counter()
    actions = read_like_the_pipeline(path)
    dt = time.perf_counter() - t0
    row = {"what": label, "MB": round(size / 1e6, 1), "seconds": round(dt, 2), "MB/s": round(size / 1e6 / dt, 1),
           "actions": actions, "peak_rss_MB": round(peak_rss_mb(), 1)}
    print(json.dumps(row))
    return row


def one_log_group(mb: float) -> Path:
    group = WORK / f"one-log-{mb:g}MB-{OUTPUT_LINES}" / "2024-01-01T00-00-00-GMT_run-group_one"
    if not group.exists():
        group.mkdir(parents=True)
        write_episode(group, "spaceship-titanic", mb)
        # keep the JSON part small: this measures the size of one (plain, line-based) log
        for j in group.rglob("journal.json"):
            j.write_text(json.dumps({"nodes": [], "node2parent": {}}))
    return group


def one_log_child(mb: float) -> None:
    """In a fresh process: read one episode whose agent.log is `mb` MB; print peak RSS."""
    group = one_log_group(mb)  # written by the parent: this process only reads
    from auditor import reading  # noqa: F401  (imports are not part of what is measured)

    reset_peak_rss()
    base = peak_rss_mb()
    t0 = time.perf_counter()
    actions = read_like_the_pipeline(group)
    print(json.dumps({"log_MB": mb, "actions": actions, "seconds": round(time.perf_counter() - t0, 2),
                      "rss_before_MB": round(base, 1), "peak_rss_MB": round(peak_rss_mb(), 1)}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=200)
    ap.add_argument("--mb", type=float, default=10)
    ap.add_argument("--one-log", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--sizes", default="1,10,100,1000")
    ap.add_argument("--keep", action="store_true", help="keep benchmarks/.work for the next run")
    ap.add_argument("--output-lines", type=int, default=OUTPUT_LINES, help="lines a command prints (0: densest log)")
    args = ap.parse_args()
    globals()["OUTPUT_LINES"] = args.output_lines
    if args.one_log is not None:
        one_log_child(args.one_log)
        return
    WORK.mkdir(parents=True, exist_ok=True)
    if (SHARED / "corpus").is_dir():
        measure("corpus runs/ + bad-input/ (read)", SHARED / "corpus")
    measure(f"synthetic {args.episodes} episodes x {args.mb:g} MB", synthetic_group(args.episodes, args.mb))
    for mb in [float(x) for x in args.sizes.split(",")]:
        one_log_group(mb)
        subprocess.run([sys.executable, __file__, "--one-log", str(mb), "--output-lines", str(OUTPUT_LINES)], check=True)
    if not args.keep:
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
