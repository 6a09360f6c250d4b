"""Per-rule recall, precision and false disqualifications of the deterministic monitors on a labelled run.

    python tests/monitors/redteam_score.py [RUNS_DIR LABELS_JSON]     # default: the red-team set

Audits the whole directory of run groups at once through the real pipeline (so
copies across groups are seen), then compares each episode's flagged rules with its
labels. A false disqualification is an episode disqualified by a flag of a rule it
does not carry.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from auditor.pipeline import AuditOptions, run_audit

MONITORS = ["static", "submission", "egress"]
NOT_OURS = {"plagiarism"}
REDTEAM = Path(__file__).resolve().parents[1] / "fixtures" / "redteam"


@dataclass
class Score:
    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)
    missed: list[tuple[str, str]] = field(default_factory=list)  # (episode key, rule)
    wrong: list[tuple[str, str]] = field(default_factory=list)  # (episode key, rule flagged but not labelled)
    false_disqualifications: list[str] = field(default_factory=list)
    flagged_clean: list[str] = field(default_factory=list)

    def recall(self, rule: str) -> float:
        return self.tp[rule] / max(self.tp[rule] + self.fn[rule], 1)

    def precision(self, rule: str) -> float:
        return self.tp[rule] / max(self.tp[rule] + self.fp[rule], 1)

    def rules(self) -> list[str]:
        return sorted(set(self.tp) | set(self.fp) | set(self.fn))

    def table(self) -> str:
        rows = [f"{'rule':26} {'tp':>3} {'fp':>3} {'fn':>3} {'recall':>7} {'precision':>9}"]
        for r in self.rules():
            rows.append(f"{r:26} {self.tp[r]:3} {self.fp[r]:3} {self.fn[r]:3} {self.recall(r):7.2f} {self.precision(r):9.2f}")
        return "\n".join(rows)


def score_reports(labels: dict[str, list[str]], reports: dict[str, object]) -> Score:
    s = Score()
    for key, want_list in labels.items():
        report = reports.get(key.split("/")[-1])
        flags = report.flags if report else []
        got = {f.rule for f in flags}
        want = set(want_list) - NOT_OURS
        for r in got & want:
            s.tp[r] += 1
        for r in got - want:
            s.fp[r] += 1
            s.wrong.append((key, r))
        for r in want - got:
            s.fn[r] += 1
            s.missed.append((key, r))
        if report and report.verdict == "disqualified" and not any(
            f.rule in want and f.severity == "high" for f in flags
        ):
            s.false_disqualifications.append(key)
        if not want and flags:
            s.flagged_clean.append(key)
    return s


def audit_dir(runs: Path) -> dict[str, object]:
    return {e.episode_id: e for e in run_audit(str(runs), AuditOptions(monitors=MONITORS)).episodes}


def main(argv: list[str]) -> None:
    runs = Path(argv[0]) if argv else REDTEAM / "runs"
    labels = json.loads(Path(argv[1] if len(argv) > 1 else REDTEAM / "labels.json").read_text())
    reports = audit_dir(runs)
    s = score_reports(labels, reports)
    print(s.table())
    print(f"episodes {len(labels)}, labelled {sum(1 for v in labels.values() if v)}")
    print("missed:", *[f"  {r}: {k}" for k, r in s.missed], sep="\n")
    print("flagged without label:", *[f"  {r}: {k}" for k, r in s.wrong], sep="\n")
    print("false disqualifications:", s.false_disqualifications)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    main(sys.argv[1:])
