"""Synthetic notebooks for the plagiarism tests: distinct, realistic-looking scripts.

Each statement is a random chain of pandas/sklearn calls with random keyword
arguments, so that two notebooks drawn with different seeds share no more than
idioms, as independent solutions do.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

METHODS = [
    "fillna", "dropna", "groupby", "agg", "merge", "pivot_table", "rolling", "mean", "std", "median", "clip",
    "apply", "map", "astype", "rename", "sort_values", "reset_index", "set_index", "describe", "corr", "shift",
    "diff", "cumsum", "rank", "quantile", "sample", "head", "tail", "drop_duplicates", "value_counts", "round",
    "fit", "transform", "fit_transform", "predict", "predict_proba", "score", "split", "get_dummies", "explode",
]
KWARGS = ["axis", "method", "how", "on", "window", "ascending", "frac", "random_state", "n_jobs", "inplace",
          "min_periods", "columns", "index", "values", "fill_value", "lower", "upper", "normalize", "dropna", "keep"]
CALLS = ["pd.read_csv", "np.log1p", "np.sqrt", "StandardScaler", "RandomForestClassifier", "LGBMRegressor",
         "train_test_split", "cross_val_score", "KFold", "PCA", "TfidfVectorizer", "LogisticRegression"]
HEADER = "import numpy as np\nimport pandas as pd\nfrom sklearn.ensemble import RandomForestClassifier\n"


def _args(rng: random.Random, names: list[str]) -> str:
    parts = [rng.choice(names[-4:])] if rng.random() < 0.5 else []
    for kw in rng.sample(KWARGS, rng.randrange(0, 3)):
        parts.append(f"{kw}={rng.choice([str(rng.randrange(1, 50)), repr(rng.choice(['a', 'b', 'mean'])), 'True'])}")
    return ", ".join(parts)


def notebook_text(seed: int, steps: int = 40) -> str:
    rng = random.Random(seed)
    names = ["df"]
    lines = [HEADER]
    for _ in range(steps):
        v = f"{rng.choice(['feat', 'tmp', 'res', 'x', 'part'])}{rng.randrange(100)}"
        head = rng.choice([rng.choice(names[-3:]), f"{rng.choice(CALLS)}({_args(rng, names)})"])
        chain = "".join(f".{rng.choice(METHODS)}({_args(rng, names)})" for _ in range(rng.randrange(1, 4)))
        stmt = f"{v} = {head}{chain}"
        if rng.random() < 0.15:
            stmt = f"for {v} in range({rng.randrange(2, 9)}):\n    print({v}, {rng.choice(names[-3:])}{chain})"
        lines.append(stmt)
        names.append(v)
    lines.append("sub.to_csv('submission.csv', index=False)")
    return "\n".join(lines) + "\n"


def renamed(text: str) -> str:
    """A disguised copy: local names renamed, comments added."""
    out = re.sub(r"\b(feat|tmp|res|x|part)(\d+)\b", lambda m: f"var_{m.group(1)[0]}{int(m.group(2)) * 7}", text)
    return "\n".join(f"{ln}  # step" if i % 5 == 0 and ln and not ln.startswith(" ") else ln
                     for i, ln in enumerate(out.split("\n")))


def write_notebooks(root: Path, competition: str, count: int, seed0: int = 0) -> list[Path]:
    folder = root / competition
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        p = folder / f"user{i}_notebook-{i}.py"
        p.write_text(notebook_text(seed0 + i))
        paths.append(p)
    return paths
