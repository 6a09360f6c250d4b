"""Benchmark: grade a 1,000,000-row submission; time as a multiple of pandas' read_csv of it.

    python benchmarks/bench_grading.py [--rows N] [--repeat R] [--only ID ...]

Four synthetic competitions, one per kind of grading:
- histopathologic-cancer-detection: ROC AUC, 40-character text ids;
- denoising-dirty-documents: RMSE, `<img>_<row>_<col>` ids (pairs in sorted-id order);
- tabular-playground-series-dec-2021: accuracy, integer ids (its real test set has 1M rows);
- spooky-author-identification: one-hot log loss over 3 classes, text ids.
Each is graded in the answers' row order (as agents usually write it, from the sample
submission) and shuffled. "grade" has the answers cached (a JSONL or a run grades many
submissions of a competition); "first grade" starts with empty caches, so it includes reading
the answers and indexing their ids. Every figure is the median of R runs, read and grade
interleaved so that load from other processes hits both alike. Goal: grade within 2x of read_csv.

The baseline is `pd.read_csv(path)` with default options. Under pandas 3 that is exact and is
what the grader does; under pandas 2.x the grader must read floats with
`float_precision="round_trip"` (MLE-bench's exact parsing), which alone takes up to 2x the
default read for files of many float columns.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from grading import grade_submission
from grading.align import forget_answers
from grading.registry import load_competition

SPOOKY = ["EAP", "HPL", "MWS"]


def frames(competition_id: str, rows: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(answers, submission) of a competition, the submission in the answers' row order."""
    if competition_id == "denoising-dirty-documents":
        width = 1000
        ids = [f"{1 + i // (width * width)}_{1 + (i // width) % width}_{1 + i % width}" for i in range(rows)]
        answers = pd.DataFrame({"id": ids, "value": rng.random(rows)})
        return answers, pd.DataFrame({"id": ids, "value": np.clip(answers["value"] + rng.normal(0, 0.05, rows), 0, 1)})
    if competition_id == "tabular-playground-series-dec-2021":
        ids = 4_000_000 + np.arange(rows)
        cover = rng.integers(1, 8, rows)
        answers = pd.DataFrame({"Id": ids, "Elevation": rng.integers(2000, 4000, rows), "Cover_Type": cover})
        return answers, pd.DataFrame({"Id": ids, "Cover_Type": np.where(rng.random(rows) < 0.9, cover, 2)})
    if competition_id == "spooky-author-identification":
        ids = [f"id{i:07d}" for i in rng.permutation(rows)]
        author = rng.integers(0, 3, rows)
        answers = pd.DataFrame({"id": ids, **{a: (author == k).astype(int) for k, a in enumerate(SPOOKY)}})
        p = rng.random((rows, 3)) + np.eye(3)[author]
        p /= p.sum(axis=1, keepdims=True)
        return answers, pd.DataFrame({"id": ids, **{a: p[:, k] for k, a in enumerate(SPOOKY)}})
    ids = [f"{i:040x}" for i in rng.permutation(rows)]
    answers = pd.DataFrame({"id": ids, "label": rng.integers(0, 2, rows)})
    return answers, pd.DataFrame({"id": ids, "label": rng.random(rows)})


def build(root: Path, competition_id: str, rows: int, rng: np.random.Generator) -> dict[str, Path]:
    answers, submission = frames(competition_id, rows, rng)
    answers_path = load_competition(competition_id).answers_path(root / "data")
    answers_path.parent.mkdir(parents=True, exist_ok=True)
    answers.to_csv(answers_path, index=False)
    paths = {"answers order": root / f"{competition_id}.csv", "shuffled": root / f"{competition_id}-shuffled.csv"}
    submission.to_csv(paths["answers order"], index=False)
    submission.sample(frac=1, random_state=0).to_csv(paths["shuffled"], index=False)
    return paths


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def measure(path: Path, grade: Callable[[], object], repeat: int) -> dict[str, float]:
    """Median seconds of read_csv, a first grade (empty caches) and a repeated grade."""
    reads, firsts, warms = [], [], []
    for _ in range(repeat):
        reads.append(timed(lambda: pd.read_csv(path)))
        forget_answers()
        firsts.append(timed(grade))
        warms.append(timed(grade))
    return {name: statistics.median(times) for name, times in (("read", reads), ("first", firsts), ("grade", warms))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--only",
        nargs="*",
        default=[
            "histopathologic-cancer-detection",
            "denoising-dirty-documents",
            "tabular-playground-series-dec-2021",
            "spooky-author-identification",
        ],
    )
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for competition_id in args.only:
            for order, path in build(root, competition_id, args.rows, rng).items():

                def grade(path=path, competition_id=competition_id):
                    return grade_submission(competition_id, path, None, root / "data")

                t = measure(path, grade, args.repeat)
                print(
                    f"{competition_id} ({order}): {args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB, "
                    f"score {grade().score}\n"
                    f"  pd.read_csv {t['read']:.2f}s | grade {t['grade']:.2f}s ({t['grade'] / t['read']:.2f}x) | "
                    f"first grade {t['first']:.2f}s ({t['first'] / t['read']:.2f}x)",
                    flush=True,
                )
                forget_answers()


if __name__ == "__main__":
    main()
