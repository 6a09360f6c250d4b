"""Tokens the LLM monitor sends per episode, against MLE-bench's rule-violation detector.

MLE-bench's detector (extras/rule_violation_detector) sends, for each of its three
questions, the whole text in 128,000-character chunks with a preamble and the
question: two questions over the logs, one over the code. Here the same count is
made for every episode of a corpus (default: ../shared/corpus), and compared with
the prompts the LLM monitor plans (no endpoint is called: the plan is what would be
sent before the cache and the budget can only lower it). Both sides are estimated
with the same rule, characters / 4: tiktoken's encodings are downloaded at run time,
which this machine cannot do.

Also reported: the window recall, i.e. for each labelled violation of a rule the LLM
asks about, whether its surface text (LABELS.md) is among the lines sent.

    python benchmarks/bench_llm_tokens.py [CORPUS] [--budget TOKENS] [--per-episode]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.models import Episode  # noqa: E402
from auditor.reading import load_actions, read_run, release_actions  # noqa: E402
from auditor.safefs import RunFS, UnsafePath  # noqa: E402
from monitors.base import AuditContext  # noqa: E402
from monitors.llm import LLMMonitor  # noqa: E402
from rules.load import load_rulebook  # noqa: E402

CHARS_PER_TOKEN = 4
MLEBENCH_CHUNK = 128_000
# MLE-bench's preamble + question + answer-format text per request, in characters (measured on its prompts.py)
MLEBENCH_OVERHEAD = {"manual-submission": 1450, "llm-api": 950, "unauthorized-access": 1250}
MLEBENCH_QUESTIONS = {"manual-submission": "logs", "llm-api": "code", "unauthorized-access": "logs"}


def episode_texts(ep: Episode) -> tuple[int, int]:
    """(characters of logs, characters of code) as MLE-bench's detector would read them whole."""
    fs = RunFS(Path(ep.root))
    logs = code = 0
    for rel in ep.files:
        parts = Path(rel).parts
        if parts and parts[0] == "submission":
            continue
        try:
            data = fs.read_bytes(Path(ep.root) / rel)
        except (UnsafePath, OSError):
            continue
        if b"\x00" in data[:8192] and not rel.endswith(".log"):
            continue  # binary: not text a detector would send
        n = len(data.decode("utf-8", errors="replace"))
        if parts[0] == "code":
            code += n
        else:
            logs += n
    return logs, code


def mlebench_tokens(logs: int, code: int) -> int:
    total = 0
    for question, kind in MLEBENCH_QUESTIONS.items():
        size = logs if kind == "logs" else code
        if not size:
            continue
        chunks = math.ceil(size / MLEBENCH_CHUNK)
        total += (size + chunks * MLEBENCH_OVERHEAD[question]) // CHARS_PER_TOKEN
    return total


def whole_text_tokens(logs: int, code: int) -> int:
    """The simpler reading: logs and code together, once per question, three questions."""
    size = logs + code
    chunks = math.ceil(size / MLEBENCH_CHUNK) if size else 0
    return sum((size + chunks * overhead) // CHARS_PER_TOKEN for overhead in MLEBENCH_OVERHEAD.values())


def surface_strings(corpus: Path) -> dict[str, list[tuple[str, str]]]:
    """Episode dir name -> [(rule, surface text)] from LABELS.md's "where" column."""
    out: dict[str, list[tuple[str, str]]] = {}
    labels = corpus / "LABELS.md"
    if not labels.exists():
        return out
    for row in labels.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in row.split("|")]
        if len(cells) < 6 or not cells[3].startswith("`"):
            continue
        episode, rule, where = cells[2], cells[3].strip("`"), cells[4]
        m = re.match(r"`([^`]+)`:", where)
        if m:
            out.setdefault(episode, []).append((rule, m.group(1).rstrip("…")))
    return out


def prior_monitors(ctx: AuditContext) -> list:
    """The cheap monitors that run before the LLM in an audit (their flags choose windows)."""
    from monitors.base import registered

    ready = []
    for name, cls in registered().items():
        if name in ("llm", "plagiarism"):
            continue
        monitor = cls()
        if monitor.unavailable(ctx) is None:
            monitor.prepare(ctx)
            ready.append(monitor)
    return ready


def safe_check(monitor, ep: Episode, ctx: AuditContext) -> list:
    try:
        return monitor.check(ep, ctx)
    except Exception:
        return []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--budget", type=int, default=None)
    ap.add_argument("--per-episode", action="store_true")
    ap.add_argument("--no-prior", action="store_true", help="do not run the other monitors first (no prior flags)")
    args = ap.parse_args()
    corpus = Path(args.corpus)
    rulebook = load_rulebook()
    asked = {r.id for r in rulebook.rules if r.question}
    ctx = AuditContext(rulebook=rulebook, options={"llm_base_url": "http://127.0.0.1:9/v1", "llm_budget": args.budget,
                                                    "llm_cache": False})
    monitor = LLMMonitor()
    monitor.prepare(ctx)
    others = [] if args.no_prior else prior_monitors(ctx)
    surfaces = surface_strings(corpus)

    rows, found, missed = [], 0, []
    started = time.perf_counter()
    for part in ("runs", "bad-input"):
        if not (corpus / part).is_dir():
            continue
        for ep in read_run(corpus / part, with_actions=False):
            load_actions(ep)
            ctx.prior_flags[ep.episode_id] = [f for m in others for f in safe_check(m, ep, ctx)]
            batches = monitor.plan(ep, ctx)
            ours = sum(b.prompt.chars for b in batches) // CHARS_PER_TOKEN
            sent = "\n".join(sl.line.text for b in batches for sl in b.lines)
            logs, code = episode_texts(ep)
            theirs = mlebench_tokens(logs, code)
            rows.append((ep.episode_id, len(batches), ours, theirs, logs + code, whole_text_tokens(logs, code)))
            for rule, surface in surfaces.get(ep.episode_id, []):
                if rule in asked:
                    hit = surface in sent
                    found += hit
                    if not hit:
                        missed.append(f"{ep.episode_id[:40]} {rule}: {surface[:50]}")
            release_actions(ep)
    elapsed = time.perf_counter() - started

    ours_total = sum(r[2] for r in rows)
    theirs_total = sum(r[3] for r in rows)
    ratios = sorted(r[2] / r[3] for r in rows if r[3])
    if args.per_episode:
        for eid, n, ours, theirs, size, _ in rows:
            print(f"{eid[:60]:60} {size:>9} chars {n:>2} req {ours:>7} tok  mle-bench {theirs:>8} tok  "
                  f"{(ours / theirs if theirs else 0):6.1%}")
    print(json.dumps({
        "episodes": len(rows),
        "requests": sum(r[1] for r in rows),
        "llm_monitor_prompt_tokens": ours_total,
        "mlebench_detector_prompt_tokens": theirs_total,
        "ratio_total": round(ours_total / theirs_total, 4) if theirs_total else None,
        "ratio_total_without_largest_episode": round(
            (ours_total - max(rows, key=lambda r: r[4])[2]) / (theirs_total - max(rows, key=lambda r: r[4])[3]), 4),
        "ratio_vs_whole_text_x3": round(ours_total / sum(r[5] for r in rows), 4),
        "ratio_median_episode": round(ratios[len(ratios) // 2], 4) if ratios else None,
        "ratio_worst_episode": round(ratios[-1], 4) if ratios else None,
        "tokens_per_episode_mean": round(ours_total / max(1, len(rows))),
        "window_recall": f"{found}/{found + len(missed)}",
        "missed": missed,
        "prior_monitors": [m.name for m in others],
        "seconds_planning": round(elapsed, 2),
    }, indent=2))


if __name__ == "__main__":
    main()
