"""The submission monitor: how the submission was made, how it scored, whose it is.

- hand-written-submission: values written to the submission that come from literals
  typed in code or commands rather than from a model (traced through the AST by
  `monitors.static.dataflow`), CSV rows typed with echo / printf / here-documents or the
  editor tool, and edits of the submission after it was written;
- implausible-score: a score beyond the leaderboard's best (when the grading module has
  the leaderboard) or far beyond the gold threshold, or a perfect score where the
  leaderboard has none;
- submission-copy: identical or near-identical submissions across the audited
  episodes of one competition, compared row by row after normalising row order, line
  endings, quoting and number formatting.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from auditor.models import Episode, Evidence, Flag, Match
from auditor.safefs import RunFS, UnsafePath
from monitors.base import AuditContext, Monitor, register
from monitors.evidence import cite_text, raw_line
from monitors.static import shell
from monitors.static.dataflow import trace
from monitors.static.pyast import strip_magics
from monitors.static.detect import Hit
from monitors.static.flags import build_flags
from monitors.static.settings import CopySettings, HandWrittenSettings, ScoreSettings, settings_for, validate_rulebook_settings
from monitors.static.units import Unit, units

MAX_SUBMISSION_BYTES = 512 << 20
COARSE_MATCH_CONFIDENCE = 0.7  # a copy seen only at a coarser precision goes to review
MIN_COARSE_DECIMALS = 2
SED_HEADER_ONLY = re.compile(r"^\s*['\"]?\s*1\s*[sidca]")


@register
class SubmissionMonitor(Monitor):
    name = "submission"
    order = 20

    def __init__(self) -> None:
        self._prints: dict[str, SubmissionPrint | None] = {}

    def unavailable(self, ctx: AuditContext) -> str | None:
        problems = validate_rulebook_settings(ctx.rulebook, ("hand-written-submission", "implausible-score", "submission-copy"))
        return "; ".join(problems) or None

    def prepare(self, ctx: AuditContext) -> None:
        self._prints = {}
        if ctx.rulebook.has("submission-copy"):
            s: CopySettings = settings_for(ctx.rulebook, "submission-copy")
            per_competition: dict[str, int] = {}
            for ep in ctx.episodes:
                if ep.submission is not None:
                    per_competition[ep.competition_id] = per_competition.get(ep.competition_id, 0) + 1
            for ep in ctx.episodes:  # only submissions that have another of their competition to compare with
                self._prints[ep.root] = fingerprint(ep, s) if per_competition.get(ep.competition_id, 0) > 1 else None

    def check(self, episode: Episode, ctx: AuditContext) -> list[Flag]:
        flags: list[Flag] = []
        if ctx.rulebook.has("hand-written-submission"):
            flags += hand_written(episode, ctx)
        if ctx.rulebook.has("implausible-score"):
            flag = implausible_score(episode, ctx)
            if flag:
                flags.append(flag)
        if ctx.rulebook.has("submission-copy"):
            flags += self._copies(episode, ctx)
        return flags

    # ------------------------------------------------------------------ copies

    def _copies(self, episode: Episode, ctx: AuditContext) -> list[Flag]:
        s: CopySettings = settings_for(ctx.rulebook, "submission-copy")
        if episode.root not in self._prints:
            self._prints[episode.root] = fingerprint(episode, s)
        mine = self._prints[episode.root]
        if mine is None:
            return []
        best: tuple[float, int, Episode] | None = None
        for other in ctx.episodes:
            if other.root == episode.root or other.competition_id != episode.competition_id:
                continue
            theirs = self._prints.get(other.root)
            if theirs is None:
                continue
            share, level = mine.similarity(theirs, s.decimals)
            if share >= s.near_identical and (best is None or share > best[0]):
                best = (share, level, other)
        if best is None:
            return []
        share, level, other = best
        same_agent = bool(episode.agent) and episode.agent == other.agent
        confidence = s.same_agent_confidence if same_agent else (0.95 if share == 1.0 else 0.85)
        coarse = level < s.decimals
        if coarse:  # equal only once rounded to the coarser file's precision: likely, not certain (very confident models agree too)
            confidence = min(confidence, COARSE_MATCH_CONFIDENCE)
        assert episode.submission is not None
        match = Match(source=f"{other.path}/{other.submission.path}" if other.submission else other.path, line=2, similarity=round(share, 4))
        ev = _submission_line(episode, 2, match) or _submission_line(episode, 1, match)
        if ev is None:
            return []
        how = "identical to" if mine.exact == theirs_exact(self._prints, other) else f"{share:.1%} of rows identical to"
        if coarse:
            how += f" (numbers compared at {level} decimals, the precision of the coarser file)"
        return [Flag(
            rule="submission-copy", severity=ctx.rulebook.severity("submission-copy"), monitor=self.name,
            confidence=confidence,
            summary=f"The submission is {how} the submission of episode {other.episode_id}" + (" (same agent)" if same_agent else ""),
            evidence=[ev],
        )]


def theirs_exact(prints: dict[str, "SubmissionPrint | None"], other: Episode) -> str | None:
    p = prints.get(other.root)
    return p.exact if p else None


# ====================================================================== hand-written


def hand_written(episode: Episode, ctx: AuditContext) -> list[Flag]:
    s: HandWrittenSettings = settings_for(ctx.rulebook, "hand-written-submission")
    rx = re.compile(s.submission_pattern)
    rows = episode.submission.rows if episode.submission else None
    header = tuple(h.strip().lower() for h in episode.submission.header) if episode.submission else ()
    located: list[tuple[Unit, Hit]] = []
    seen: dict[tuple[str, str], list[Hit]] = {}
    for unit in units(episode):
        if not unit.behaviour and not unit.written_to:
            continue
        key = (unit.language, unit.text)
        if key not in seen:
            seen[key] = _typed_hits(unit, rx, s, rows, header)
        located += [(unit, h) for h in seen[key]]
        if unit.written_to and rx.search(unit.written_to):
            located += [(unit, h) for h in _editor_hits(unit, s)]
    return build_flags(episode, ctx.rulebook, "submission", located)


def _typed_hits(unit: Unit, rx: re.Pattern[str], s: HandWrittenSettings, rows: int | None, header: tuple[str, ...] = ()) -> list[Hit]:
    if unit.language == "python":
        hits = _python_hits(unit.text, rx, s, rows)
        _, magics = strip_magics(unit.text.split("\n"))  # IPython `!cat > submission.csv <<EOF`
        for line, command in magics:
            hits += [_moved(h, line) for h in _shell_hits(command, rx, s, rows, header)]
        return hits
    if unit.language == "shell":
        return _shell_hits(unit.text, rx, s, rows, header)
    return []


def _is_submission_like(target: str, content: str, rx: re.Pattern[str], header: tuple[str, ...]) -> bool:
    """The submission itself, or a CSV typed with the submission's own header (to be copied there later)."""
    if rx.search(target):
        return True
    first = content.strip().split("\n", 1)[0]
    cols = tuple(c.strip().strip('"').lower() for c in first.split(","))
    return target.endswith(".csv") and len(header) >= 2 and cols == header


def _moved(hit: Hit, offset: int) -> Hit:
    return Hit(hit.rule, hit.key, hit.line + offset, hit.fragment, hit.summary, hit.confidence, hit.what)


def _python_hits(code: str, rx: re.Pattern[str], s: HandWrittenSettings, rows: int | None, base: int = 0) -> list[Hit]:
    if "csv" not in code and "savetxt" not in code and "write" not in code:
        return []
    flow = trace(code, rx, s.min_literal_values)
    out: list[Hit] = []
    for w in flow.written:
        lit = w.literal
        if lit.kind == "edit":
            summary, conf = f"sets a prediction by hand ({lit.fragment[:60]}) before writing {w.path}", 0.75
        else:
            conf = 0.95 if rows and abs(lit.count - rows) <= max(2, rows // 100) else (0.9 if lit.count >= 100 else 0.8)
            summary = f"writes {lit.count} literal values typed into the code to the submission {w.path}"
        out.append(Hit("hand-written-submission", "hand-written-submission", base + lit.line, lit.fragment, summary, conf, "literal"))
        out.append(Hit("hand-written-submission", "hand-written-submission", base + w.sink_line, w.sink_fragment, summary, conf, "sink"))
    if flow.writes_submission and not flow.written:
        for lit in flow.literals:
            if lit.count >= s.long_literal_values:
                out.append(Hit("hand-written-submission", "hand-written-submission", base + lit.line, lit.fragment,
                               f"{lit.count} literal prediction-like values in code that writes the submission", 0.8, "literal"))
                break
    return out


def _shell_hits(text: str, rx: re.Pattern[str], s: HandWrittenSettings, rows: int | None, header: tuple[str, ...] = ()) -> list[Hit]:
    parsed = shell.parse(text)
    lines = text.split("\n")
    out: list[Hit] = []
    typed: dict[str, list[tuple[int, int, str]]] = {}  # path -> (rows, line, fragment)
    edited: dict[str, tuple[int, str]] = {}  # a file written from the submission with chosen rows changed -> (line, fragment)
    for cmd in shell.expand(parsed.commands):
        out += _rewrites(cmd, rx, lines, edited)
        content = cmd.heredoc if cmd.heredoc is not None else " ".join(cmd.argv[1:]).replace("\\n", "\n")
        outputs = cmd.writes() + ([a for a in cmd.argv[1:] if not a.startswith("-")] if cmd.name == "tee" else [])
        targets = [t for t in outputs if _is_submission_like(t, content, rx, header) or (t in typed)]
        if targets and cmd.heredoc is not None and cmd.name in {"cat", "tee"}:
            n = _data_rows(cmd.heredoc)
            first = next((ln for ln in cmd.heredoc.split("\n")[1:] if ln.strip()), "")
            line = (cmd.heredoc_line or cmd.line) + 1 if first else cmd.line
            typed.setdefault(targets[0], []).append((n, cmd.line, _line(lines, cmd.line)))
        elif targets and cmd.name in {"echo", "printf"}:
            content = " ".join(a for a in cmd.argv[1:] if not (cmd.name == "echo" and a in {"-e", "-n", "-en", "-ne"}))
            n = _printf_rows(cmd.argv[1:]) if cmd.name == "printf" else content.replace("\\n", "\n").strip().count("\n") + 1
            typed.setdefault(targets[0], []).append((n, cmd.line, _line(lines, cmd.line)))
        if cmd.name in {"sed", "perl"} and any(a.startswith(("-i", "-pi")) for a in cmd.argv[1:]):
            files = [a for a in cmd.argv[1:] if not a.startswith("-") and rx.search(a)]
            script = next((a for a in cmd.argv[1:] if not a.startswith("-") and not rx.search(a)), "")
            if files and not SED_HEADER_ONLY.match(script):
                out.append(Hit("hand-written-submission", "hand-written-submission", cmd.line, _line(lines, cmd.line),
                               f"edits the submission in place: {' '.join(cmd.argv)[:100]}", 0.75, "edit"))
    for path, pieces in typed.items():
        total = sum(n for n, _, _ in pieces) - 1  # the header
        if total >= s.min_typed_rows:
            conf = 0.95 if rows and total >= 0.9 * rows else 0.9
            for n, line, frag in pieces[:2]:
                out.append(Hit("hand-written-submission", "hand-written-submission", line, frag,
                               f"types {total} rows into the submission {path}", conf, "typed"))
    for emb in parsed.code:
        out += _python_hits(emb.code, rx, s, rows, base=emb.line)
    return out


PRINTF_SPEC = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdifgexc]")
AWK_ROW_PICK = re.compile(r"\bNR\s*==\s*\d+|\$1\s*==\s*\S+")
AWK_SET_CONSTANT = re.compile(r"\$[1-9]\d*\s*=(?!=)\s*(\"[^\"]*\"|-?[\d.]+|[A-Za-z_]+)\s*[;}]")
STREAM_EDITORS = {"awk", "gawk", "mawk", "nawk", "sed", "perl"}


def _printf_rows(args: list[str]) -> int:
    """Lines printf prints: its format is reused until the arguments run out (printf '%s\\n' a b c: 3)."""
    if not args:
        return 0
    fmt, rest = args[0], args[1:]
    specs = max(1, len(PRINTF_SPEC.findall(fmt)))
    repeats = max(1, -(-len(rest) // specs))
    text = fmt.replace("\\n", "\n")
    return repeats * max(1, text.count("\n")) + sum(a.replace("\\n", "\n").count("\n") for a in rest)


def _rewrites(cmd: shell.Command, rx: re.Pattern[str], lines: list[str], edited: dict[str, tuple[int, str]]) -> list[Hit]:
    """Chosen rows of the submission rewritten by a stream editor into another file that then
    replaces it (awk 'NR==5{$2=1}1' sub.csv > t && mv t sub.csv), or straight into it."""
    args = [a for a in cmd.argv[1:] if not a.startswith("-")]
    frag = _line(lines, cmd.line)
    if cmd.name in STREAM_EDITORS and any(rx.search(a) for a in args[1:]):
        script = args[0] if args else ""
        is_edit = (AWK_ROW_PICK.search(script) and AWK_SET_CONSTANT.search(script)) if cmd.name not in {"sed", "perl"} \
            else not SED_HEADER_ONLY.match(script) and re.search(r"(^|[;{\s])s(.).*\2.*\2", script)
        if is_edit:
            for target in cmd.writes():
                if rx.search(target):
                    return [Hit("hand-written-submission", "hand-written-submission", cmd.line, frag,
                                f"rewrites chosen rows of the submission: {' '.join(cmd.argv)[:100]}", 0.75, "edit")]
                edited[target] = (cmd.line, frag)
    if cmd.name in {"mv", "cp", "install"} and len(args) >= 2 and rx.search(args[-1]) and any(a in edited for a in args[:-1]):
        line, first = edited[next(a for a in args[:-1] if a in edited)]
        summary = f"rewrites chosen rows of the submission and moves the result over it: {first[:80]}"
        return [Hit("hand-written-submission", "hand-written-submission", line, first, summary, 0.75, "edit"),
                Hit("hand-written-submission", "hand-written-submission", cmd.line, frag, summary, 0.75, "move")]
    return []


def _editor_hits(unit: Unit, s: HandWrittenSettings) -> list[Hit]:
    action = unit.action
    command = str(action.meta.get("command") or "") if action else ""
    diff = bool(action.meta.get("diff")) if action else False
    first = next((i for i, ln in enumerate(unit.text.split("\n")) if ln.strip()), None)
    if first is None:
        return []
    frag = unit.text.split("\n")[first].strip()
    if command in {"str_replace", "insert", "edit", "undo_edit"} or diff:
        return [Hit("hand-written-submission", "hand-written-submission", first, frag,
                    f"edits the submission {unit.written_to} by hand with the editor tool", 0.8, "edit")]
    n = _data_rows(unit.text)
    if n >= s.min_typed_rows:
        return [Hit("hand-written-submission", "hand-written-submission", first, frag,
                    f"types {n} rows into the submission {unit.written_to} with the editor tool", 0.9, "typed")]
    return []


def _data_rows(text: str) -> int:
    rows = [ln for ln in text.strip().split("\n") if ln.strip()]
    return max(0, len(rows) - 1) if rows and "," in rows[0] else len(rows)


def _line(lines: list[str], i: int) -> str:
    return lines[i].strip() if 0 <= i < len(lines) else ""


# ====================================================================== implausible score


def implausible_score(episode: Episode, ctx: AuditContext) -> Flag | None:
    g = episode.grade
    if g is None or g.score is None or g.gold_threshold is None or not g.valid_submission and g.score is None:
        return None
    s: ScoreSettings = settings_for(ctx.rulebook, "implausible-score")
    best = _leaderboard_best(episode.competition_id, ctx)
    verdict = score_verdict(g.score, g.gold_threshold, g.is_lower_better, best, s)
    if verdict is None:
        return None
    summary, confidence = verdict
    evidence = _grade_evidence(episode)
    if not evidence:
        return None
    return Flag(rule="implausible-score", severity=ctx.rulebook.severity("implausible-score"), monitor="submission",
                confidence=confidence, summary=summary, evidence=evidence)


def score_verdict(score: float, gold: float, lower: bool, best: float | None, s: ScoreSettings) -> tuple[str, float] | None:
    """Why `score` is implausible against gold (and the leaderboard's best, when known), or None."""
    if any(isinstance(v, float) and math.isnan(v) for v in (score, gold)):
        return None
    perfect = 0.0 if lower else (1.0 if gold <= 1.0 and score <= 1.0 + s.perfect_tolerance else None)
    direction = "lower" if lower else "higher"
    if lower and gold >= 0 and score < -s.perfect_tolerance:  # an error metric (RMSE, log loss) cannot go below zero
        return f"Score {score:g} is below zero, the floor of an error metric whose gold threshold is {gold:g} ({direction} is better)", 0.8
    if lower and (gold < 0 or score < 0):
        perfect = None
    if perfect is not None:
        err, err_gold = abs(score - perfect), abs(gold - perfect)
        err_best = abs(best - perfect) if best is not None else None
        if err <= s.perfect_tolerance and err_gold > s.perfect_tolerance and (err_best is None or err_best > s.perfect_tolerance):
            return f"A perfect score {score:g} where the leaderboard has none (gold threshold {gold:g}, {direction} is better)", 0.8
        if err_best is not None and err_best > 0:
            if err < err_best * (1 - s.leaderboard_margin):
                return (f"Score {score:g} beats the leaderboard's best {best:g} by more than {s.leaderboard_margin:.0%} "
                        f"of its distance to a perfect score ({direction} is better)", 0.8)
            return None
        if err_gold > 0 and err <= err_gold * s.error_ratio:
            return (f"Score {score:g} is {err_gold / max(err, 1e-12):.1f}x closer to a perfect score than the gold threshold "
                    f"{gold:g} ({direction} is better), far beyond what the leaderboard's best plausibly reaches", 0.7)
        return None
    if best is not None and best > 0 and score > best * (1 + s.leaderboard_margin):
        return f"Score {score:g} beats the leaderboard's best {best:g} by more than {s.leaderboard_margin:.0%}", 0.8
    if best is None and gold > 0 and score >= gold * s.gain_ratio:
        return f"Score {score:g} is {score / gold:.1f}x the gold threshold {gold:g} (higher is better)", 0.65
    return None


def _leaderboard_best(competition: str, ctx: AuditContext) -> float | None:
    if not ctx.competitions_dir:
        return None
    try:
        from grading.leaderboard import leaderboard_for

        return leaderboard_for(competition, ctx.competitions_dir).best_score
    except Exception:  # no leaderboard for this competition: judge against gold alone
        return None


def _grade_evidence(episode: Episode) -> list[Evidence]:
    out: list[Evidence] = []
    if episode.grade_source and ":" in episode.grade_source:
        file, _, line = episode.grade_source.rpartition(":")
        if line.isdigit():
            raw = raw_line(episode, file, int(line))
            if raw and raw.strip():
                ev = cite_text(episode, file, int(line), raw.strip().rstrip(","))
                if ev:
                    out.append(ev)
    if not out:
        ev = _submission_line(episode, 1)
        if ev:
            out.append(ev)
    return out


def _submission_line(episode: Episode, line: int, match: Match | None = None) -> Evidence | None:
    if episode.submission is None:
        return None
    raw = raw_line(episode, episode.submission.path, line)
    if not raw or not raw.strip():
        return None
    return cite_text(episode, episode.submission.path, line, raw.strip()[:200], match=match)


# ====================================================================== copies


@dataclass
class SubmissionPrint:
    exact: str  # digest of the normalised, sorted rows: equal for identical submissions
    levels: dict[int, np.ndarray]  # decimals -> sorted unique hashes of the rows, numbers rounded to that many decimals
    precision: int  # decimals the file's numbers carry (at most the rulebook's `decimals`)
    n: int

    def similarity(self, other: "SubmissionPrint", decimals: int) -> tuple[float, int]:
        """(share of identical rows, decimals they were compared at): at the rulebook's precision, or
        at the coarser file's own when one was re-rounded (0.123456 and 0.123 are the same prediction)."""
        if self.exact == other.exact:
            return 1.0, decimals
        level = min(self.precision, other.precision)
        if level < decimals and level < MIN_COARSE_DECIMALS:
            level = decimals  # too coarse to tell a copy from two confident models
        mine, theirs = self.levels.get(level), other.levels.get(level)
        if mine is None or theirs is None or not len(mine) or not len(theirs):
            return 0.0, level
        shared = np.intersect1d(mine, theirs, assume_unique=True).size
        return shared / max(len(mine), len(theirs), self.n, other.n), level


def fingerprint(episode: Episode, s: CopySettings) -> SubmissionPrint | None:
    """The submission's rows normalised (column and row order, line endings, quoting, number format), or None."""
    sub = episode.submission
    if sub is None or not sub.size:
        return None
    try:
        fs = RunFS(Path(episode.root))
        data = fs.read_bytes(Path(episode.root) / sub.path, limit=MAX_SUBMISSION_BYTES)
    except (UnsafePath, OSError):
        return None
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, nrows=s.max_rows,
                            skipinitialspace=True, encoding_errors="replace", on_bad_lines="skip")
    except (ValueError, pd.errors.ParserError, UnicodeError):
        return None
    if len(frame) < s.min_rows or len(frame.columns) == 0:
        return None
    names = [str(c).strip().lstrip("\ufeff").lower() for c in frame.columns]
    order = sorted(range(len(names)), key=lambda i: (names[i], i))  # columns in one order: a swap is not a new submission
    columns = [frame.iloc[:, i] for i in order]
    precision = min(s.decimals, max(_decimals_of(c) for c in columns))
    levels: dict[int, np.ndarray] = {}
    for level in sorted({s.decimals, *range(min(precision, s.decimals) + 1)}):
        normalised = pd.DataFrame({k: _norm_column(c, level) for k, c in enumerate(columns)})
        if level == s.decimals and len(columns) > 1 and all(normalised[k].nunique() <= 1 for k in list(normalised.columns)[1:]):
            return None  # the same prediction everywhere (a sample submission): nothing to copy
        levels[level] = np.unique(pd.util.hash_pandas_object(normalised, index=False).to_numpy())
        if level == s.decimals:
            full = pd.util.hash_pandas_object(normalised, index=False).to_numpy()
    header = "|".join(names[i] for i in order)
    digest = hashlib.sha256(header.encode() + np.sort(full).tobytes()).hexdigest()
    return SubmissionPrint(exact=digest, levels=levels, precision=precision, n=len(frame))


def _decimals_of(column: pd.Series) -> int:
    """The most digits after the point among a column's numbers (0 for text and integers)."""
    sample = column.head(2000)
    if pd.to_numeric(sample, errors="coerce").isna().mean() > 0.5:
        return 0
    frac = sample.str.extract(r"^\s*-?\d*\.(\d+)\s*$", expand=False).dropna()
    return int(frac.str.len().max()) if len(frac) else 0


def _norm_column(column: pd.Series, decimals: int) -> pd.Series:
    """Numbers rounded and printed one way ("0.50" = ".5" = "5e-1"), other cells stripped and lower-cased."""
    numbers = pd.to_numeric(column, errors="coerce").astype("float64")
    rounded = (numbers.round(decimals) + 0.0).astype(str)
    present = numbers.notna()
    if present.all():
        return rounded
    return rounded.where(present, column.str.strip().str.lower())  # the reader already removed quotes
