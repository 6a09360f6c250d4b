"""The run group on disk, in MLE-bench's layout (SPEC "Input: a run")."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from pydantic import BaseModel

EPISODE_DIRS = ("submission", "logs", "code")


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write through a temporary file in the same folder, then rename over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path: Path, obj: object) -> None:
    if isinstance(obj, BaseModel):
        obj = obj.model_dump(mode="json")
    write_atomic(path, json.dumps(obj, indent=2) + "\n")


def write_jsonl(path: Path, records: Iterable[object]) -> None:
    lines = []
    for rec in records:
        if isinstance(rec, BaseModel):
            rec = rec.model_dump(mode="json", exclude_none=True)
        lines.append(json.dumps(rec, ensure_ascii=False))
    write_atomic(path, "".join(line + "\n" for line in lines))


def utc_stamp(now: datetime | None = None) -> str:
    """MLE-bench's timestamp: 2024-09-12T08-15-22-GMT."""
    return (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H-%M-%S-GMT")


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "agent"


class RunGroup:
    """`RUNS/<timestamp>_run-group_<agent>/` with its metadata.json kept current after every episode."""

    def __init__(self, runs_dir: Path, agent: str) -> None:
        Path(runs_dir).mkdir(parents=True, exist_ok=True)
        # Two groups of one agent started within a second would share a name: the second waits
        # for the next second rather than take a suffix that would change the agent's name.
        for _ in range(50):
            self.name = f"{utc_stamp()}_run-group_{safe_name(agent)}"
            self.path = Path(runs_dir) / self.name
            try:
                self.path.mkdir()
                break
            except FileExistsError:
                time.sleep(0.05)
        else:
            raise FileExistsError(f"{self.path} exists")
        self.created_at = datetime.now(timezone.utc).isoformat()
        self.runs: dict[str, dict[str, bool]] = {}
        self.save()

    def new_episode(self, competition_id: str) -> Path:
        episode = self.path / f"{competition_id}_{uuid.uuid4()}"
        episode.mkdir()
        for sub in EPISODE_DIRS:
            (episode / sub).mkdir()
        return episode

    def record(self, episode: Path, success: bool) -> None:
        self.runs[episode.name] = {"success": success}
        self.save()

    def save(self) -> None:
        write_json(self.path / "metadata.json",
                   {"run_group": self.name, "created_at": self.created_at, "runs": self.runs})


def copy_out(src: Path, dst: Path, max_bytes: int) -> list[str]:
    """Copy the agent's files into the run, never following links; returns what was skipped and why."""
    skipped: list[str] = []
    for root, dirs, files in os.walk(src, followlinks=False):
        rel_root = Path(root).relative_to(src)
        (dst / rel_root).mkdir(parents=True, exist_ok=True)
        for name in dirs:
            if (Path(root) / name).is_symlink():
                skipped.append(f"{rel_root / name}: a symlink")
        for name in files:
            s = Path(root) / name
            rel = rel_root / name
            if s.is_symlink() or not s.is_file():
                skipped.append(f"{rel}: not a regular file")
                continue
            size = s.stat().st_size
            if size > max_bytes:
                skipped.append(f"{rel}: {size} bytes, over the copy limit of {max_bytes}")
                continue
            shutil.copyfile(s, dst / rel, follow_symlinks=False)
    return skipped
