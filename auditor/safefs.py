"""Reading an untrusted run directory without leaving it.

The audited agent is an adversary: its run may hold symlinks that point out of the
run (or loop), FIFOs that would block a reader, devices, giant files and lines.
Everything the auditor reads from a run goes through `RunFS`, which

- resolves every path and refuses one whose real location is outside the run root;
- opens regular files only (never a FIFO, socket or device);
- reads with bounded sizes and streams lines with a bounded line length.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MAX_LINE = 1 << 20  # a longer line is delivered in pieces of this many bytes
MAX_READ_WHOLE = 256 << 20  # the most we read into memory at once (JSON logs)


class UnsafePath(Exception):
    """A path we refuse to open; the message says why, for the episode's `errors`."""


@dataclass
class RunFS:
    """Safe access to the files below `root` (the audited PATH)."""

    root: Path
    _real_root: str = field(init=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self._real_root = os.path.realpath(self.root)

    # ------------------------------------------------------------------ resolving

    def resolve(self, path: Path | str) -> Path:
        """The real path of `path` if it stays inside the run; UnsafePath otherwise.

        `path` is a path as the caller holds it (absolute, or relative to the working
        directory, like the root itself), not a path relative to the root.
        """
        p = Path(path)
        try:
            real = os.path.realpath(p, strict=True)
        except OSError as exc:  # ELOOP for a symlink loop, ENOENT for a dangling link
            if os.path.islink(p):
                raise UnsafePath(f"{self.rel(p)}: symlink that loops or dangles ({exc.strerror}); not followed") from exc
            raise UnsafePath(f"{self.rel(p)}: {exc.strerror or exc}") from exc
        if real != self._real_root and not real.startswith(self._real_root + os.sep):
            raise UnsafePath(f"{self.rel(p)}: symlink pointing outside the run ({real}); not followed")
        return Path(real)

    def rel(self, path: Path | str) -> str:
        try:
            return str(Path(path).relative_to(self.root))
        except ValueError:
            return str(path)

    def regular_file(self, path: Path | str) -> Path:
        """Resolved path of a regular file inside the run; UnsafePath for anything else."""
        real = self.resolve(path)
        st = os.stat(real)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePath(f"{self.rel(path)}: not a regular file; not read")
        return real

    # ------------------------------------------------------------------ listing

    def walk_files(self, top: Path | str, errors: list[str], limit: int = 100_000) -> list[Path]:
        """Every regular file below `top` (as paths under `top`, not resolved), sorted.

        Symlinks are listed only when they resolve inside the run; others are
        reported in `errors`. Directory symlinks are never descended into, so a loop
        cannot trap the walk.
        """
        found: list[Path] = []
        for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
            dirnames.sort()
            for d in list(dirnames):
                full = Path(dirpath) / d
                if os.path.islink(full):
                    dirnames.remove(d)
                    try:
                        self.resolve(full)
                        errors.append(f"{self.rel(full)}: directory symlink inside the run; not descended into")
                    except UnsafePath as exc:
                        errors.append(str(exc))
            for name in sorted(filenames):
                full = Path(dirpath) / name
                try:
                    self.regular_file(full)
                except UnsafePath as exc:
                    errors.append(str(exc))
                    continue
                except OSError as exc:
                    errors.append(f"{self.rel(full)}: cannot stat ({exc.strerror})")
                    continue
                found.append(full)
                if len(found) >= limit:
                    errors.append(f"{self.rel(top)}: more than {limit} files; the rest were not read")
                    return found
        return found

    # ------------------------------------------------------------------ reading

    def open_binary(self, path: Path | str) -> io.BufferedReader:
        real = self.regular_file(path)
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        return os.fdopen(fd, "rb")

    def read_bytes(self, path: Path | str, limit: int = MAX_READ_WHOLE) -> bytes:
        """The whole file, or UnsafePath when it is larger than `limit`."""
        with self.open_binary(path) as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise UnsafePath(f"{self.rel(path)}: larger than {limit >> 20} MiB; not read whole")
        return data

    def head(self, path: Path | str, n: int = 4096) -> bytes:
        with self.open_binary(path) as fh:
            return fh.read(n)

    def size(self, path: Path | str) -> int:
        return os.stat(self.regular_file(path)).st_size

    def iter_lines(self, path: Path | str, max_line: int = MAX_LINE) -> Iterator[tuple[int, str]]:
        """(1-based line number, text) for each line, streamed; never loads the file.

        Bytes that are not UTF-8 are replaced (the caller notes it); a line longer
        than `max_line` bytes is delivered in pieces that all carry its number.
        """
        with self.open_binary(path) as fh:
            lineno = 0
            while True:
                raw = fh.readline(max_line)
                if not raw:
                    return
                lineno += 1
                yield lineno, raw.decode("utf-8", errors="replace").rstrip("\r\n")
                while not raw.endswith(b"\n"):
                    raw = fh.readline(max_line)
                    if not raw:
                        return
                    yield lineno, raw.decode("utf-8", errors="replace").rstrip("\r\n")

    def read_line(self, path: Path | str, line: int, max_len: int = 64 << 20) -> str | None:
        """The text of one line (1-based), for checking evidence; None if there is none."""
        for n, text in self.iter_lines(path, max_line=max_len):
            if n == line:
                return text
            if n > line:
                return None
        return None
