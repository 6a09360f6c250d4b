"""Quality and speed of the plagiarism monitor side by side with Dolos, on the labelled pair set.

    bash benchmarks/plagiarism/setup-dolos.sh          # once; Dolos is never a package dependency
    python benchmarks/plagiarism/bench_quality.py [--notebooks ../shared/notebooks] [--no-dolos]

For each tool: precision, recall and F1 at its best threshold over all pairs, recall
per disguise at that threshold, and the time per query. Ours is scored the way the
monitor runs: LSH candidates first, so a target the LSH misses scores 0 (the
exhaustive score, without LSH, is shown too). Ours is also shown at its deployed
operating point: the rulebook threshold as calibrated per competition.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from monitors.plagiarism.index import NotebookIndex  # noqa: E402
from monitors.plagiarism.monitor import DEFAULT_THRESHOLD, CopyRule  # noqa: E402
from monitors.plagiarism.notebooks import read_notebooks  # noqa: E402
from monitors.plagiarism.pairs import analyse, compare  # noqa: E402
from pairset import Pair, build, query_path  # noqa: E402


def best_f1(scores: list[float], labels: list[int]) -> dict:
    """Precision, recall, F1 at the threshold (one of the scores) that maximises F1."""
    best = {"f1": 0.0, "threshold": None, "precision": 0.0, "recall": 0.0}
    positives = sum(labels)
    for t in sorted(set(scores)):
        pred = [s >= t for s in scores]
        tp = sum(1 for p, y in zip(pred, labels) if p and y)
        fp = sum(1 for p, y in zip(pred, labels) if p and not y)
        if tp == 0:
            continue
        precision, recall = tp / (tp + fp), tp / positives
        f1 = 2 * precision * recall / (precision + recall)
        if f1 > best["f1"]:
            best = {"f1": f1, "threshold": t, "precision": precision, "recall": recall}
    return best


def at_threshold(flags: list[bool], labels: list[int]) -> dict:
    tp = sum(1 for p, y in zip(flags, labels) if p and y)
    fp = sum(1 for p, y in zip(flags, labels) if p and not y)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / max(sum(labels), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "fp": fp}


def recall_by_kind(pairs: list[Pair], flags: list[bool]) -> dict[str, str]:
    hit, total = defaultdict(int), defaultdict(int)
    for p, f in zip(pairs, flags):
        total[p.kind] += 1
        hit[p.kind] += int(f)
    return {k: f"{hit[k]}/{total[k]}" for k in sorted(total)}


def score_ours(pairs: list[Pair], work: Path, notebooks: Path) -> dict:
    t0 = time.perf_counter()
    index = NotebookIndex.build(read_notebooks(notebooks))
    build_s = time.perf_counter() - t0
    ids = {index.source(i): i for i in range(len(index))}
    lsh_scores, full_scores, deployed, query_times = [], [], [], []
    analysed: dict[str, object] = {}
    for p in pairs:
        path = query_path(p, work, notebooks)
        t = time.perf_counter()
        doc = analysed.get(p.query) or analyse(path.read_text(errors="replace"))
        cands = index.candidates(p.competition, doc)
        results = {c.doc: compare(doc, index.doc(c.doc)) for c in cands}
        query_times.append(time.perf_counter() - t)
        analysed[p.query] = doc
        target = ids[p.target]
        r = results.get(target)
        lsh_scores.append(r.score if r else 0.0)
        full = compare(doc, index.doc(target))
        full_scores.append(full.score)
        rule = CopyRule(threshold=index.background(p.competition).threshold(DEFAULT_THRESHOLD))
        deployed.append(bool(r) and rule.is_copy(r))
    return {"build_s": build_s, "lsh": lsh_scores, "full": full_scores, "deployed": deployed,
            "query_ms_median": 1000 * statistics.median(query_times), "query_ms_mean": 1000 * statistics.mean(query_times)}


def run_dolos(request: dict) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(request, fh)
    try:
        out = subprocess.run(["node", str(HERE / "dolos_pairs.mjs"), fh.name], capture_output=True, text=True, check=True)
    finally:
        os.unlink(fh.name)
    return json.loads(out.stdout)


def score_dolos(pairs: list[Pair], work: Path, notebooks: Path) -> dict:
    by_comp: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(pairs):
        by_comp[p.competition].append(i)
    scores = [0.0] * len(pairs)
    for comp, idx in by_comp.items():
        nb_files = sorted(str(f) for f in (notebooks / comp).rglob("*.py"))
        queries = sorted({str(query_path(pairs[i], work, notebooks)) for i in idx})
        files = sorted(set(nb_files) | set(queries))
        req_pairs = [[str(query_path(pairs[i], work, notebooks)), str(notebooks / pairs[i].target)] for i in idx]
        result = run_dolos({"files": files, "pairs": req_pairs})
        for i, r in zip(idx, result["pairs"]):
            scores[i] = float(r["similarity"])
    # time per query: Dolos keeps no index, so one query is one analysis of the
    # competition's notebooks plus the query (node start-up included)
    comp = max(by_comp, key=lambda c: len(list((notebooks / c).rglob("*.py"))))
    nb_files = sorted(str(f) for f in (notebooks / comp).rglob("*.py"))
    times = []
    for i in by_comp[comp][:3]:
        q = str(query_path(pairs[i], work, notebooks))
        t = time.perf_counter()
        run_dolos({"files": sorted(set(nb_files) | {q}), "pairs": [[q, nb_files[0]]]})
        times.append(time.perf_counter() - t)
    return {"scores": scores, "query_ms_median": 1000 * statistics.median(times), "timing_competition": comp,
            "timing_notebooks": len(nb_files)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notebooks", default=str(REPO / ".." / "shared" / "notebooks"))
    ap.add_argument("--corpus", default=str(REPO / ".." / "shared" / "corpus"))
    ap.add_argument("--work", default=str(REPO / "benchmarks" / ".work" / "plagiarism"))
    ap.add_argument("--no-dolos", action="store_true")
    args = ap.parse_args()
    notebooks, work = Path(args.notebooks).resolve(), Path(args.work).resolve()
    pairs = build(notebooks, work, Path(args.corpus) if Path(args.corpus).is_dir() else None)
    labels = [p.label for p in pairs]
    print(f"pairs: {len(pairs)} ({sum(labels)} copies, {len(pairs) - sum(labels)} independent)")

    ours = score_ours(pairs, work, notebooks)
    for name in ("lsh", "full"):
        b = best_f1(ours[name], labels)
        flags = [s >= b["threshold"] for s in ours[name]]
        print(f"ours ({name}): best threshold {b['threshold']:.3f}  P {b['precision']:.3f}  R {b['recall']:.3f}  F1 {b['f1']:.3f}")
        print("   recall by kind:", recall_by_kind(pairs, flags))
    d = at_threshold(ours["deployed"], labels)
    print(f"ours (deployed: rulebook settings, calibrated, LSH; a copy by score or as a partial copy): P {d['precision']:.3f}  R {d['recall']:.3f}  "
          f"F1 {d['f1']:.3f}  false positives {d['fp']}")
    print("   recall by kind:", recall_by_kind(pairs, ours["deployed"]))
    print(f"ours: index build {ours['build_s']:.1f}s; per query {ours['query_ms_median']:.1f} ms median, "
          f"{ours['query_ms_mean']:.1f} ms mean (analyse + LSH + exact pairs)")
    if args.no_dolos:
        return
    dolos = score_dolos(pairs, work, notebooks)
    b = best_f1(dolos["scores"], labels)
    flags = [s >= b["threshold"] for s in dolos["scores"]]
    print(f"dolos: best threshold {b['threshold']:.3f}  P {b['precision']:.3f}  R {b['recall']:.3f}  F1 {b['f1']:.3f}")
    print("   recall by kind:", recall_by_kind(pairs, flags))
    m = at_threshold([s >= 0.6 for s in dolos["scores"]], labels)
    print(f"dolos at 0.6 (MLE-bench's rule): P {m['precision']:.3f}  R {m['recall']:.3f}  F1 {m['f1']:.3f}")
    print(f"dolos: per query {dolos['query_ms_median']:.0f} ms median ({dolos['timing_notebooks']} notebooks of "
          f"{dolos['timing_competition']}, node start-up included)")


if __name__ == "__main__":
    main()
