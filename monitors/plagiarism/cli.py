"""The edges: `audit notebooks index DIR --out INDEX`, and loading `--notebooks DIR|INDEX`.

A directory given to `--notebooks` is indexed on the fly and the index is cached
under `$XDG_CACHE_HOME/mle-auditor/` (default `~/.cache/mle-auditor/`), keyed by a
hash of the notebooks' paths and bytes, so the next audit with the same notebooks
loads it in milliseconds.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

from monitors.plagiarism.index import VERSION, IndexFormatError, NotebookIndex
from monitors.plagiarism.notebooks import iter_notebook_files, read_notebooks


def index_command(dir: str, out: str) -> int:
    """Build the index of the notebooks under `dir` into `out`; 0 on success, 2 on bad input."""
    root = Path(dir)
    if not root.is_dir():
        print(f"error: {dir}: not a directory", file=sys.stderr)
        return 2
    started = time.perf_counter()
    index = build_index(root)
    if len(index) == 0:
        print(f"error: {dir}: no notebooks (.py, .ipynb) in <id>/ or competitions/<id>/kernels/ folders", file=sys.stderr)
        return 2
    try:
        index.save(out)
    except OSError as exc:
        print(f"error: cannot write {out}: {exc}", file=sys.stderr)
        return 2
    took = time.perf_counter() - started
    print(f"indexed {len(index)} notebooks of {len(index.meta.competitions)} competitions into {out} in {took:.1f}s")
    return 0


def build_index(root: Path) -> NotebookIndex:
    return NotebookIndex.build(read_notebooks(root), content_hash=content_hash(root), workers=os.cpu_count() or 1)


def load_or_build_index(path: str | Path) -> NotebookIndex:
    """The index at `path` (an INDEX file), or of the notebooks DIR at `path` (cached)."""
    p = Path(path)
    if p.is_file():
        return NotebookIndex.load(p)
    if not p.is_dir():
        raise FileNotFoundError(f"{path}: no such notebooks directory or index file")
    cached = cache_dir() / f"plagiarism-v{VERSION}-{content_hash(p)[:24]}.npz"
    if cached.is_file():
        try:
            return NotebookIndex.load(cached)
        except IndexFormatError:
            pass  # a stale or damaged cache entry: rebuild it
    index = build_index(p)
    try:
        index.save(cached)
    except OSError:
        pass  # a read-only home still audits, only without the cache
    return index


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mle-auditor"


def content_hash(root: Path) -> str:
    """sha256 over the relative path and bytes of every notebook under `root`."""
    h = hashlib.sha256(f"v{VERSION}".encode())
    for competition, path in iter_notebook_files(root):
        h.update(competition.encode() + b"\0" + path.relative_to(root).as_posix().encode() + b"\0")
        try:
            h.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            h.update(b"unreadable")
    return h.hexdigest()
