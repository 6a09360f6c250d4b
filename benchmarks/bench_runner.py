"""How long the sandbox itself takes: a trivial agent, per sandbox and network policy (run by hand).

    python benchmarks/bench_runner.py [--repeat 3]

Prints the wall time of whole episodes (setup, run, teardown, writing the records)
for an agent that only writes a submission, so the figure is the runner's overhead.
Needs a Docker engine with the default image built, and bubblewrap.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runner import Limits, run_agent  # noqa: E402

AGENT = "echo 'id,label' > /home/submission/submission.csv\npython3 -c 'print(42)'\n"


def make_inputs(base: Path) -> tuple[Path, Path]:
    public = base / "data" / "bench" / "prepared" / "public"
    private = base / "data" / "bench" / "prepared" / "private"
    public.mkdir(parents=True)
    private.mkdir(parents=True)
    (public / "sample_submission.csv").write_text("id,label\n1,0\n")
    (private / "answers.csv").write_text("id,label\n1,1\n")
    agent = base / "agent"
    agent.mkdir()
    (agent / "start.sh").write_text(AGENT)
    for p in [base, *base.rglob("*")]:
        p.chmod(0o755)
    return base / "data", agent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data, agent = make_inputs(Path(tmp))
        cases = [("docker", "none"), ("docker", "grading"), ("docker", "egress"), ("local", "none")]
        for sandbox, network in cases:
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                run_agent("bench", data, agent, agent_cmd="bash /home/agent/start.sh", image=None, seeds=1,
                          limits=Limits(time_limit_s=60), network=network, sandbox=sandbox,
                          runs_dir=Path(tmp) / "runs", log=lambda _m: None)
                times.append(time.perf_counter() - started)
            print(f"{sandbox:7s} {network:8s} median {statistics.median(times):5.2f} s  "
                  f"min {min(times):5.2f} s  max {max(times):5.2f} s  (n={len(times)})")


if __name__ == "__main__":
    main()
