"""Speed at scale: index N synthetic notebooks (all in ONE competition, the worst case for
the per-competition LSH), save and load the index, and query disguised copies.

    python benchmarks/plagiarism/bench_scale.py --n 100000
    python benchmarks/plagiarism/bench_scale.py --n 10000 --dolos   # Dolos on the same files, one query

Synthetic notebooks are random chains of pandas/sklearn calls (about 60 lines each), so
that they are as distinct as independent solutions; the queries are renamed, commented
copies of indexed notebooks inside other code, and each must find its source.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from monitors.plagiarism.index import NotebookIndex  # noqa: E402
from monitors.plagiarism.notebooks import CodeText, NotebookFile  # noqa: E402
from monitors.plagiarism.pairs import analyse, compare  # noqa: E402

METHODS = ("fillna dropna groupby agg merge pivot_table rolling mean std median clip apply map astype rename "
           "sort_values reset_index set_index describe corr shift diff cumsum rank quantile sample head tail "
           "drop_duplicates value_counts round fit transform fit_transform predict predict_proba score").split()
KWARGS = "axis method how on window ascending frac random_state n_jobs min_periods columns fill_value lower upper".split()
CALLS = ("pd.read_csv np.log1p np.sqrt StandardScaler RandomForestClassifier LGBMRegressor train_test_split "
         "cross_val_score KFold PCA TfidfVectorizer LogisticRegression XGBClassifier").split()
COMPETITION = "synthetic-competition"


def _args(rng: random.Random, names: list[str]) -> str:
    parts = [rng.choice(names[-4:])] if rng.random() < 0.5 else []
    parts += [f"{kw}={rng.randrange(1, 50)}" for kw in rng.sample(KWARGS, rng.randrange(0, 3))]
    return ", ".join(parts)


def synthetic_notebook(seed: int, steps: int = 60) -> str:
    rng = random.Random(seed)
    names, lines = ["df"], ["import numpy as np", "import pandas as pd"]
    for _ in range(steps):
        v = f"{rng.choice(['feat', 'tmp', 'res', 'x', 'part'])}{rng.randrange(100)}"
        head = rng.choice([rng.choice(names[-3:]), f"{rng.choice(CALLS)}({_args(rng, names)})"])
        lines.append(f"{v} = {head}" + "".join(f".{rng.choice(METHODS)}({_args(rng, names)})" for _ in range(rng.randrange(1, 4))))
        names.append(v)
    return "\n".join(lines) + "\n"


def disguised(text: str, seed: int) -> str:
    own = synthetic_notebook(10**9 + seed, steps=20)
    body = re.sub(r"\b(feat|tmp|res|x|part)(\d+)\b", lambda m: f"v_{m.group(1)}_{int(m.group(2)) * 3}", text)
    return own + "# copied part\n" + body + own


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--dolos", action="store_true", help="also time Dolos on the same notebooks plus one query")
    args = ap.parse_args()

    t = time.perf_counter()
    notebooks = [NotebookFile(COMPETITION, f"{COMPETITION}/nb{i}.py", CodeText(synthetic_notebook(i))) for i in range(args.n)]
    print(f"generated {args.n} notebooks in {time.perf_counter() - t:.1f}s")

    t = time.perf_counter()
    index = NotebookIndex.build(notebooks, calibrate=False, workers=args.workers)
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    index.meta.backgrounds[COMPETITION] = index.calibrate(COMPETITION, 0.6)
    calib_s = time.perf_counter() - t
    print(f"index: {build_s:.1f}s to tokenize, fingerprint and sign {args.n} notebooks with {args.workers} workers "
          f"({1000 * build_s / args.n:.2f} ms each); calibration {calib_s:.1f}s; {index.chunk_sigs.shape[0]} chunks")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.npz"
        t = time.perf_counter()
        index.save(path)
        print(f"save {time.perf_counter() - t:.1f}s, {path.stat().st_size / 1e6:.0f} MB")
        t = time.perf_counter()
        index = NotebookIndex.load(path)
        print(f"load {time.perf_counter() - t:.1f}s")

    rng = random.Random(1)
    targets = rng.sample(range(args.n), args.queries)
    t = time.perf_counter()
    index.candidates(COMPETITION, analyse(synthetic_notebook(targets[0])))
    print(f"first query (builds the competition's LSH tables from the signatures): {time.perf_counter() - t:.1f}s")

    times, found = [], 0
    for i, target in enumerate(targets):
        query_text = disguised(synthetic_notebook(target), i)
        t = time.perf_counter()
        doc = analyse(query_text)
        cands = index.candidates(COMPETITION, doc)
        scored = sorted(((compare(doc, index.doc(c.doc)).score, c.doc) for c in cands), reverse=True)
        times.append(time.perf_counter() - t)
        found += bool(scored) and scored[0][1] == target and scored[0][0] >= 0.6
    print(f"query at {args.n} notebooks: {1000 * statistics.median(times):.1f} ms median, "
          f"{1000 * max(times):.1f} ms max (analyse + LSH + exact pairs); source found and scored >= 0.6 "
          f"in {found}/{len(targets)}")
    print(f"peak RSS {rss_mb():.0f} MB")

    if args.dolos:
        time_dolos(notebooks, disguised(synthetic_notebook(targets[0]), 0))


def time_dolos(notebooks: list[NotebookFile], query: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = []
        for nb in notebooks:
            p = root / Path(nb.source).name
            p.write_text(nb.code.text)
            files.append(str(p))
        q = root / "query.py"
        q.write_text(query)
        req = root / "req.json"
        import json

        req.write_text(json.dumps({"files": files + [str(q)], "pairs": [[str(q), files[0]]]}))
        t = time.perf_counter()
        out = subprocess.run(["node", "--max-old-space-size=16000", str(HERE / "dolos_pairs.mjs"), str(req)],
                             capture_output=True, text=True)
        wall = time.perf_counter() - t
        if out.returncode != 0:
            print("dolos failed:", out.stderr[-500:])
            return
        res = json.loads(out.stdout)
        print(f"dolos, one query against {len(notebooks)} notebooks: {wall:.1f}s wall "
              f"(analysis {res['analyse_seconds']:.1f}s; Dolos keeps no index, so every query re-reads the corpus)")


if __name__ == "__main__":
    main()
