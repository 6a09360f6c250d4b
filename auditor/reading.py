"""Reading a run (SPEC "Input: a run") into typed episodes.

A run is a run group (metadata.json + `<competition_id>_<uuid>/` episodes), one
episode directory, or a directory of run groups. Each episode's files are read by
the format readers (`auditor.readers`) into normalised actions; its code files,
submission and grading-report entry are attached; every problem is recorded in
the episode's `errors`, and nothing ever stops the whole audit.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from auditor import jsonpos
from auditor.models import CodeFile, Episode, Grade, Submission
from auditor.readers.base import Reader, SourceFile, readers
from auditor.safefs import RunFS, UnsafePath

EPISODE_DIR = re.compile(
    r"^(?P<competition>[A-Za-z0-9][A-Za-z0-9._-]*?)_"
    r"(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
EPISODE_IN_TEXT = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._-]*?_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)
GROUP_DIR = re.compile(r"_run-group_(?P<agent>.+)$")
EPISODE_MARKERS = ("run.log", "submission", "logs", "code", "events.jsonl")
CODE_SUFFIXES = {".py": "python", ".ipynb": "notebook", ".sh": "shell", ".bash": "shell", ".r": "other", ".R": "other"}
MAX_CODE_FILE = 16 << 20
HEAD_BYTES = 64 << 10
STREAM_THRESHOLD = 8 << 20  # a plain-text log larger than this is streamed, never held
GENERIC_FORMATS = {"text", "runner"}  # formats that say nothing about which agent ran


class RunNotReadable(Exception):
    """The PATH given is not a run at all (exit status 2)."""


@dataclass
class GroupInfo:
    """What a run group tells its episodes: identity, order, grades, and its own defects."""

    dir: Path | None
    name: str | None
    agent: str | None
    order: list[str] = field(default_factory=list)  # episode ids in metadata order
    grades: dict[str, tuple[Grade, str]] = field(default_factory=dict)  # episode id -> (grade, source)
    errors: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- discovery


def is_episode_dir(path: Path) -> bool:
    if EPISODE_DIR.match(path.name):
        return True
    return any((path / m).exists() for m in EPISODE_MARKERS) and not (path / "metadata.json").exists()


def discover(root: Path, fs: RunFS) -> list[tuple[Path | None, list[Path]]]:
    """[(group dir or None, [episode dirs])] found under `root`, in a stable order."""
    if not root.is_dir():
        raise RunNotReadable(f"{root}: not a directory")
    if is_episode_dir(root) and not _child_episodes(root, fs):
        group = root.parent if (root.parent / "metadata.json").exists() or GROUP_DIR.search(root.parent.name) else None
        return [(group, [root])]
    found: dict[Path, list[Path]] = defaultdict(list)
    for group, episode in _walk_episodes(root, fs, depth=3):
        found[group].append(episode)
    if not found:
        raise RunNotReadable(f"{root}: no episodes found (expected a run group, an episode directory or a directory of run groups)")
    return [(g, sorted(eps)) for g, eps in sorted(found.items(), key=lambda kv: str(kv[0]))]


def _child_episodes(path: Path, fs: RunFS) -> list[Path]:
    return [c for c in _subdirs(path, fs) if EPISODE_DIR.match(c.name)]


def _subdirs(path: Path, fs: RunFS) -> list[Path]:
    out = []
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError:
        return out
    for e in entries:
        if e.is_dir(follow_symlinks=False):
            out.append(Path(e.path))
    return out


def _walk_episodes(path: Path, fs: RunFS, depth: int) -> Iterator[tuple[Path, Path]]:
    children = _subdirs(path, fs)
    episodes = [c for c in children if EPISODE_DIR.match(c.name)]
    if not episodes and ((path / "metadata.json").exists() or GROUP_DIR.search(path.name)):
        episodes = [c for c in children if is_episode_dir(c)]
    for e in episodes:
        yield path, e
    if depth > 0:
        for c in children:
            if c not in episodes:
                yield from _walk_episodes(c, fs, depth - 1)


# --------------------------------------------------------------------------- groups


def read_group(group: Path | None, fs: RunFS) -> GroupInfo:
    """The group's identity; its files are read only when they are inside the audited PATH
    (auditing one episode directory never opens anything beside it)."""
    if group is None:
        return GroupInfo(dir=None, name=None, agent=None)
    m = GROUP_DIR.search(group.name)
    info = GroupInfo(dir=group, name=group.name, agent=m.group("agent") if m else None)
    if not _inside(group, fs.root):
        return info
    _read_metadata(info, fs)
    for report in sorted(group.glob("*grading_report*.json")):
        _read_grading_report(info, report, fs)
    return info


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _read_metadata(info: GroupInfo, fs: RunFS) -> None:
    meta = info.dir / "metadata.json"
    if not meta.exists():
        return
    try:
        text = fs.read_bytes(meta, limit=64 << 20).decode("utf-8", errors="replace")
    except (UnsafePath, OSError) as exc:
        info.errors.append(f"run group metadata.json: {exc}")
        return
    parsed = jsonpos.loads(text, lenient=True)
    if parsed.error or not isinstance(parsed.value, dict):
        info.errors.append(f"run group metadata.json: not valid JSON ({parsed.error or 'not an object'}); identity taken from directory names")
    data = parsed.value if isinstance(parsed.value, dict) else {}
    if not data:  # salvage the episode list from whatever text is there (a Python repr, a cut-off file)
        info.order = list(dict.fromkeys(m.group(0) for m in EPISODE_IN_TEXT.finditer(text)))
    if isinstance(data.get("run_group"), str):
        info.name = str(data["run_group"])
    if isinstance(data.get("runs"), dict):
        info.order = [str(k) for k in data["runs"]]
    if isinstance(data.get("agent"), str):
        info.agent = str(data["agent"])


def _read_grading_report(info: GroupInfo, report: Path, fs: RunFS) -> None:
    """Join a grading report's entries to episodes by the episode directory in `submission_path`."""
    try:
        text = fs.read_bytes(report, limit=256 << 20).decode("utf-8", errors="replace")
    except (UnsafePath, OSError) as exc:
        info.errors.append(f"grading report {report.name}: {exc}")
        return
    parsed = jsonpos.loads(text, lenient=True)
    if parsed.error:
        info.errors.append(f"grading report {report.name}: not valid JSON ({parsed.error})")
    reports = parsed.value.get("competition_reports") if isinstance(parsed.value, dict) else None
    if not isinstance(reports, list):
        return
    lines = text.split("\n")
    for entry in reports:
        if not isinstance(entry, dict):
            continue
        sub = entry.get("submission_path")
        episode_id = _episode_in_path(str(sub)) if sub else None
        if episode_id is None:
            continue
        try:
            grade = Grade.model_validate({k: v for k, v in entry.items() if k in Grade.model_fields})
        except ValueError as exc:
            info.errors.append(f"grading report {report.name}: entry for {episode_id} is malformed ({exc.errors()[0]['msg']})")
            continue
        line = _score_line(lines, jsonpos.line_of(sub, 0))
        info.grades[episode_id] = (grade, f"../{report.name}:{line}")


def _episode_in_path(path: str) -> str | None:
    for part in reversed(re.split(r"[\\/]", path)):
        if EPISODE_DIR.match(part):
            return part
    return None


def _score_line(lines: list[str], near: int) -> int:
    """The line of the entry's `"score"` key: searched backwards from its submission_path."""
    for i in range(min(near, len(lines)) - 1, max(near - 40, 0) - 1, -1):
        if lines[i].lstrip().startswith('"score"'):
            return i + 1
        if lines[i].strip() == "{":
            break
    return max(near, 1)


# --------------------------------------------------------------------------- episodes


def read_episode(
    episode_dir: Path, run_root: Path, fs: RunFS, group: GroupInfo, seed: int, with_actions: bool = True
) -> Episode:
    """One episode: identity, grade, files, code, submission, and (with_actions) its logs' actions.

    Without actions the episode is light (what cross-episode checks need); the
    pipeline loads each episode's actions in turn with `load_actions` and releases
    them after monitoring, so memory is bounded by one episode, not the whole run.
    """
    m = EPISODE_DIR.match(episode_dir.name)
    competition = m.group("competition") if m else episode_dir.name
    episode = Episode(
        episode_id=episode_dir.name,
        path=_relpath(episode_dir, run_root),
        root=str(episode_dir),
        competition_id=competition,
        agent=group.agent,
        run_group=group.name,
        seed=seed,
        errors=list(group.errors),
    )
    if episode_dir.name in group.grades:
        episode.grade, episode.grade_source = group.grades[episode_dir.name]
    if not episode_dir.is_dir():
        episode.errors.append("episode listed in the run group's metadata.json but its directory is missing")
        return episode
    files = fs.walk_files(episode_dir, episode.errors)
    if not files:
        episode.errors.append("episode directory is empty: nothing to read")
        return episode
    episode.files = [str(p.relative_to(episode_dir)) for p in files]
    for path in files:
        rel = str(path.relative_to(episode_dir))
        try:
            _read_static_file(episode, fs, path, rel)
        except (UnsafePath, OSError) as exc:
            episode.errors.append(f"{rel}: {exc}")
    if episode.submission is None:
        episode.errors.append("no submission/submission.csv")
    _sniff_logs(episode, fs)
    if episode.agent is None:  # a group without an agent name: name the agent by its log format
        episode.agent = next((f.removesuffix("-log") for f in episode.formats if f not in GENERIC_FORMATS), None)
    if with_actions:
        load_actions(episode)
    return episode


def _read_static_file(episode: Episode, fs: RunFS, path: Path, rel: str) -> None:
    """The submission and the code files: read whole (bounded), whatever the pass."""
    parts = Path(rel).parts
    if parts[0] == "submission":
        if path.name == "submission.csv" and len(parts) == 2:
            episode.submission = _submission(fs, path, rel)
        return
    if parts[0] == "code" or path.name == "best_solution.py":
        code = _code_file(fs, path, rel, episode.errors)
        if code is not None:
            episode.code_files.append(code)


def _log_files(episode: Episode) -> list[str]:
    """Files read as logs: not the submission, and not code (read as code files)."""
    return [
        rel for rel in episode.files
        if Path(rel).parts[0] not in ("submission", "code") and Path(rel).name != "best_solution.py"
    ]


def _sniff_logs(episode: Episode, fs: RunFS) -> None:
    """Decide each log's reader by its content (cheap: the first 64 KiB)."""
    available = readers()
    chosen: dict[str, str] = {}
    for rel in _log_files(episode):
        path = Path(episode.root) / rel
        try:
            f = SourceFile.open(fs, path, rel, episode.errors, HEAD_BYTES)
        except (UnsafePath, OSError) as exc:
            episode.errors.append(f"{rel}: {exc}")
            continue
        if f.size == 0:
            continue
        reader = next((r for r in available if r.sniff(f)), None)
        if reader is None:
            continue
        chosen[rel] = reader.name
        if reader.name not in episode.formats and reader.name != "text":
            episode.formats.append(reader.name)
    episode._readers = chosen


def load_actions(episode: Episode) -> Episode:
    """Read the episode's logs into actions (plain-text logs above STREAM_THRESHOLD are streamed)."""
    fs = RunFS(run_root_of(episode))
    by_name = {r.name: r for r in readers()}
    episode.actions = []
    episode.streamed = []
    for rel, reader_name in episode._readers.items():
        reader = by_name[reader_name]
        path = Path(episode.root) / rel
        try:
            f = SourceFile.open(fs, path, rel, episode.errors, HEAD_BYTES)
            if reader.streamable and f.size > STREAM_THRESHOLD:
                episode.streamed.append(rel)  # read on each pass of iter_actions(), never held
                continue
            episode.actions.extend(reader.read(f))
        except (UnsafePath, OSError) as exc:
            episode.errors.append(f"{rel}: {exc}")
        except Exception as exc:  # a reader bug must not lose the episode
            episode.errors.append(f"{rel}: reader failed ({type(exc).__name__}: {exc})")
    if "text" in episode._readers.values() and "text" not in episode.formats and episode.actions:
        episode.formats.append("text")
    episode._stream = _streamer(episode, fs, {rel: by_name[name] for rel, name in episode._readers.items()})
    return episode


def release_actions(episode: Episode) -> None:
    """Drop what `load_actions` read, once the episode has been monitored."""
    episode.actions = []


def _streamer(episode: Episode, fs: RunFS, by_file: dict[str, Reader]):
    """Reads a streamed log again on each pass; its defects are noted on the first pass only."""
    passes: dict[str, int] = {}

    def stream(rel: str):
        path = Path(episode.root) / rel
        first = passes.get(rel, 0) == 0
        passes[rel] = passes.get(rel, 0) + 1
        errors = episode.errors if first else []
        f = SourceFile.open(fs, path, rel, errors, HEAD_BYTES)
        yield from by_file[rel].read(f)

    return stream


def run_root_of(episode: Episode) -> Path:
    """The audited PATH an episode was read from (its root less its relative path)."""
    root = Path(episode.root)
    depth = 0 if episode.path in ("", ".") else len(Path(episode.path).parts)
    return root.parents[depth - 1] if depth else root


def _code_file(fs: RunFS, path: Path, rel: str, errors: list[str]) -> CodeFile | None:
    language = CODE_SUFFIXES.get(path.suffix)
    if language is None:
        return None
    try:
        data = fs.read_bytes(path, limit=MAX_CODE_FILE)
    except UnsafePath as exc:
        errors.append(str(exc))
        return None
    if b"\x00" in data[:8192]:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        errors.append(f"{rel}: not valid UTF-8; read with replacement characters")
        text = data.decode("utf-8", errors="replace")
    return CodeFile(path=rel, text=text, language=language)


def _submission(fs: RunFS, path: Path, rel: str) -> Submission:
    digest = hashlib.sha256()
    rows = -1
    header: list[str] = []
    size = 0
    with fs.open_binary(path) as fh:
        first = True
        for raw in iter(lambda: fh.readline(1 << 20), b""):
            size += len(raw)
            digest.update(raw)
            if first:
                header = [h.strip().strip('"') for h in raw.decode("utf-8", errors="replace").rstrip("\r\n").split(",")]
                first = False
            if raw.endswith(b"\n") or raw.strip():
                rows += 1
    return Submission(path=rel, size=size, sha256=digest.hexdigest(), rows=max(rows, 0), header=header)


def _relpath(path: Path, root: Path) -> str:
    rel = os.path.relpath(path, root)
    return "." if rel == "." else rel


# --------------------------------------------------------------------------- the run


def read_run(path: str | Path, with_actions: bool = True) -> list[Episode]:
    """Every episode under `path`, read; RunNotReadable if `path` is not a run at all."""
    root = Path(path).absolute()
    fs = RunFS(root)
    episodes: list[Episode] = []
    for group_dir, episode_dirs in discover(root, fs):
        group = read_group(group_dir, fs)
        listed_only = [group_dir / name for name in group.order if not (group_dir / name).exists()]
        all_dirs = episode_dirs + listed_only
        for episode_dir, seed in zip(all_dirs, assign_seeds(all_dirs, group.order)):
            episodes.append(read_episode(episode_dir, root, fs, group, seed, with_actions))
    return episodes


def assign_seeds(episode_dirs: list[Path], order: list[str]) -> list[int]:
    """Seed = index among the group's episodes of the same competition, in metadata order
    (the order MLE-bench launched them), falling back to directory-name order."""
    rank = {name: i for i, name in enumerate(order)}
    ordered = sorted(episode_dirs, key=lambda p: (rank.get(p.name, len(rank)), p.name))
    counters: dict[str, int] = defaultdict(int)
    seeds: dict[Path, int] = {}
    for p in ordered:
        m = EPISODE_DIR.match(p.name)
        comp = m.group("competition") if m else p.name
        seeds[p] = counters[comp]
        counters[comp] += 1
    return [seeds[p] for p in episode_dirs]
