"""Speed of a full audit with the deterministic monitors: episodes/s and MB/s.

    python benchmarks/bench_audit.py [--corpus ../shared/corpus] [--episodes 200] [--monitors static,submission,egress]

Two measurements:
1. the development corpus (runs/ as one directory of run groups, and bad-input/);
2. a synthetic run of N episodes: the corpus's episodes (and the test fixtures) copied
   under fresh episode ids into one run group each per agent, written to a temporary
   directory, so that reading, monitoring and the cross-episode submission comparison
   scale as on a large run.
Each audit runs once to warm caches, then is timed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.pipeline import AuditOptions, run_audit  # noqa: E402
from auditor.reading import EPISODE_DIR  # noqa: E402


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def timed_audit(path: Path, monitors: list[str], workers: int) -> tuple[float, int, int]:
    options = AuditOptions(monitors=monitors, workers=workers)
    run_audit(str(path), options)  # warm-up: imports, regex compilation, page cache
    start = time.perf_counter()
    report = run_audit(str(path), options)
    elapsed = time.perf_counter() - start
    return elapsed, len(report.episodes), sum(len(e.flags) for e in report.episodes)


def synthetic_run(sources: list[Path], n: int, out: Path) -> Path:
    """`n` episodes copied from `sources` with fresh ids, grouped by their original run group."""
    episodes = [d for src in sources for d in sorted(src.rglob("*")) if d.is_dir() and EPISODE_DIR.match(d.name) and any(d.iterdir())]
    run = out / "synthetic"
    groups: dict[str, dict] = {}
    for i in range(n):
        src = episodes[i % len(episodes)]
        group = f"2025-02-01T00-00-00-GMT_run-group_{src.parent.name.rsplit('_', 1)[-1]}"
        comp = EPISODE_DIR.match(src.name).group("competition")
        name = f"{comp}_{uuid.uuid5(uuid.NAMESPACE_URL, f'bench/{i}')}"
        shutil.copytree(src, run / group / name, symlinks=True)
        groups.setdefault(group, {})[name] = {"success": True}
    for group, runs in groups.items():
        (run / group / "metadata.json").write_text(json.dumps({"run_group": group, "runs": runs}))
    return run


def report_line(label: str, elapsed: float, episodes: int, flags: int, mb: float) -> str:
    return (f"{label:34s} {episodes:4d} episodes {mb:8.1f} MB {elapsed:7.2f} s "
            f"{episodes / elapsed:7.1f} episodes/s {mb / elapsed:7.2f} MB/s  ({flags} flags)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT / ".." / "shared" / "corpus")
    ap.add_argument("--episodes", type=int, default=200)
    ap.add_argument("--monitors", default="static,submission,egress")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    monitors = args.monitors.split(",")
    corpus = args.corpus.resolve()
    sources = [corpus / "runs", ROOT / "tests" / "fixtures" / "episodes"]
    for label, path in [("corpus runs/", corpus / "runs"), ("corpus bad-input/", corpus / "bad-input")]:
        if path.is_dir():
            elapsed, eps, flags = timed_audit(path, monitors, args.workers)
            print(report_line(label, elapsed, eps, flags, size_mb(path)))
    with tempfile.TemporaryDirectory() as tmp:
        run = synthetic_run([s for s in sources if s.is_dir()], args.episodes, Path(tmp))
        elapsed, eps, flags = timed_audit(run, monitors, args.workers)
        print(report_line(f"synthetic ({args.episodes} episodes)", elapsed, eps, flags, size_mb(run)))


if __name__ == "__main__":
    main()
