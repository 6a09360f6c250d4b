"""Benchmark: grade a 1,000,000-row submission; time as a multiple of pandas' read_csv of it.

    python benchmarks/bench_grading.py [--rows N] [--repeat R]

Two synthetic competitions: an AUC one (histopathologic-cancer-detection: text ids, one
probability column) and an RMSE one (denoising-dirty-documents: `<img>_<row>_<col>` ids).
Each is graded in the answers' row order (as agents usually write it, from the sample
submission) and shuffled. "grade" has the answers cached (a JSONL or a run grades many
submissions of a competition); "first grade" includes reading the answers and indexing their
ids. Goal: grade within 2x of read_csv.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from grading import grade_submission
from grading.registry import load_competition
from grading.table import _ANSWERS_CACHE


def build(root: Path, competition_id: str, rows: int, rng: np.random.Generator) -> Path:
    if competition_id == "denoising-dirty-documents":
        width = 1000
        ids = [f"{1 + i // (width * width)}_{1 + (i // width) % width}_{1 + i % width}" for i in range(rows)]
        answers = pd.DataFrame({"id": ids, "value": rng.random(rows)})
        submission = pd.DataFrame({"id": ids, "value": np.clip(answers["value"] + rng.normal(0, 0.05, rows), 0, 1)})
    else:
        ids = [f"{i:040x}" for i in rng.permutation(rows)]
        answers = pd.DataFrame({"id": ids, "label": rng.integers(0, 2, rows)})
        submission = pd.DataFrame({"id": ids, "label": rng.random(rows)})
    answers_path = load_competition(competition_id).answers_path(root / "data")
    answers_path.parent.mkdir(parents=True, exist_ok=True)
    answers.to_csv(answers_path, index=False)
    path = root / f"{competition_id}.csv"
    submission.to_csv(path, index=False)
    submission.sample(frac=1, random_state=0).to_csv(root / f"{competition_id}-shuffled.csv", index=False)
    return path


def best_of(repeat: int, action) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for competition_id in ("histopathologic-cancer-detection", "denoising-dirty-documents"):
            build(root, competition_id, args.rows, rng)
            _ANSWERS_CACHE.clear()
            for order in ("", "-shuffled"):
                path = root / f"{competition_id}{order}.csv"

                def grade(path=path, competition_id=competition_id):
                    return grade_submission(competition_id, path, None, root / "data")

                read = best_of(args.repeat, lambda path=path: pd.read_csv(path))
                cold = best_of(1, grade)  # the first grade of a competition reads its answers
                warm = best_of(args.repeat, grade)
                report = grade()
                print(
                    f"{competition_id}{order or ' (answers order)'}: {args.rows:,} rows, "
                    f"{path.stat().st_size / 1e6:.0f} MB, score {report.score}\n"
                    f"  pd.read_csv {read:.2f}s | grade {warm:.2f}s ({warm / read:.2f}x) | "
                    f"first grade {cold:.2f}s ({cold / read:.2f}x)"
                )


if __name__ == "__main__":
    main()
