"""The labelled pair set: (query code, public notebook, is it a copy?).

Positives: notebooks of /work/shared/notebooks disguised by each transform of
`transforms.py`, and a part of a notebook embedded in an independent solution.
Negatives: other notebooks of the same competition, except declared copies (same
author, same title, "copied"/"fork" in the title: Kaggle forks, copies by their own
account), and independent
solutions (ours in `independent/`, and the clean corpus episodes' code when the corpus
is there).

Writes WORK/queries/<competition>/<name>.py and WORK/pairs.json.
"""

from __future__ import annotations

import json
import random
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from monitors.plagiarism.notebooks import read_notebooks  # noqa: E402
from monitors.plagiarism.pairs import analyse  # noqa: E402
from transforms import TRANSFORMS, embed, part  # noqa: E402

HERE = Path(__file__).resolve().parent
MIN_TOKENS = 250  # notebooks too short to be worth copying are not used as sources
SOURCES_PER_COMPETITION = 6
NEGATIVE_NOTEBOOKS_PER_SOURCE = 5


@dataclass
class Pair:
    competition: str
    query: str  # path relative to WORK, or "notebooks:<source>" for a notebook
    target: str  # notebook source, relative to the notebooks dir
    label: int
    kind: str


def author(source: str) -> str:
    return source.split("/", 1)[1].split("_", 1)[0]


def title(source: str) -> str:
    """The notebook's slug without author and Kaggle's fork suffix (`-fba294`, `-1`)."""
    slug = Path(source).stem.split("_", 1)[-1]
    return re.sub(r"-([0-9a-f]{6}|\d{1,2})$", "", slug)


def declared_copy(a: str, b: str) -> bool:
    """Kaggle forks: one author, the same title, or a title that says it was copied.
    These are copies by their own account, not independent work."""
    ta, tb = title(a), title(b)
    return author(a) == author(b) or ta == tb or "copied" in ta or "copied" in tb or "fork" in ta or "fork" in tb


def independent_solutions(competition: str, corpus: Path | None) -> list[tuple[str, str]]:
    out = []
    mine = HERE / "independent" / f"{competition}.py"
    if mine.is_file():
        out.append((f"independent-{competition}", mine.read_text()))
    if corpus is not None and corpus.is_dir():
        labels = json.loads((corpus / "labels.json").read_text())
        for key, rules in sorted(labels.items()):
            if rules:
                continue
            group, episode = key.split("/")
            if not episode.startswith(competition + "_"):
                continue
            for base in ("runs", "bad-input"):
                code = corpus / base / group / episode / "code"
                for f in sorted(code.rglob("*.py")) if code.is_dir() else []:
                    if "backup" not in f.parts and f.name != "validate.py":
                        out.append((f"corpus-{group.rsplit('_', 1)[-1]}-{episode[-8:]}-{f.stem}", f.read_text(errors="replace")))
    return out


def build(notebooks: Path, work: Path, corpus: Path | None, seed: int = 0) -> list[Pair]:
    rng = random.Random(seed)
    by_comp: dict[str, list] = {}
    for nb in read_notebooks(notebooks):
        by_comp.setdefault(nb.competition, []).append(nb)
    pairs: list[Pair] = []
    for comp, nbs in sorted(by_comp.items()):
        qdir = work / "queries" / comp
        qdir.mkdir(parents=True, exist_ok=True)
        long_enough = [nb for nb in nbs if len(analyse(nb.code.text)) >= MIN_TOKENS]
        sources = rng.sample(long_enough, min(SOURCES_PER_COMPETITION, len(long_enough)))
        own = independent_solutions(comp, corpus)
        for src in sources:
            lines = src.code.text.split("\n")
            stem = Path(src.source).stem
            for name, transform in TRANSFORMS.items():
                q = qdir / f"pos-{name}-{stem}.py"
                q.write_text("\n".join(transform(lines, rng)))
                pairs.append(Pair(comp, q.relative_to(work).as_posix(), src.source, 1, name))
            if own:
                own_lines = own[0][1].split("\n")
                q = qdir / f"pos-partial-{stem}.py"
                q.write_text("\n".join(embed(own_lines, part(lines, rng), rng)))
                pairs.append(Pair(comp, q.relative_to(work).as_posix(), src.source, 1, "partial"))
            others = [nb for nb in nbs if not declared_copy(nb.source, src.source)]
            for other in rng.sample(others, min(NEGATIVE_NOTEBOOKS_PER_SOURCE, len(others))):
                pairs.append(Pair(comp, "notebooks:" + other.source, src.source, 0, "other-notebook"))
            for name, text in own:
                q = qdir / f"neg-{name}.py"
                if not q.exists():
                    q.write_text(text)
                pairs.append(Pair(comp, q.relative_to(work).as_posix(), src.source, 0, "independent"))
    (work / "pairs.json").write_text(json.dumps([asdict(p) for p in pairs], indent=1))
    return pairs


def load_pairs(work: Path) -> list[Pair]:
    return [Pair(**p) for p in json.loads((work / "pairs.json").read_text())]


def query_path(pair: Pair, work: Path, notebooks: Path) -> Path:
    if pair.query.startswith("notebooks:"):
        return notebooks / pair.query.split(":", 1)[1]
    return work / pair.query
