"""Reading zip archives of a run (Inspect AI `.eval` logs) without trusting them.

A zip in an audited run is the adversary's file: it may declare small sizes and
inflate to gigabytes, hold a million entries, be encrypted, or not be a zip at
all. `SafeZip` opens it through `RunFS` (never a symlink out of the run), never
extracts anything to disk, and reads a member only

- if the archive has at most `max_members` entries;
- if the member's declared size is within `max_member_bytes`;
- while the bytes it really inflates to stay within that bound and within the
  archive's total budget `max_total_bytes` (a lying header is caught while
  streaming: the member is refused, not inflated);
- never recursively: a member that is itself an archive is not opened.

Refusals raise `ArchiveRefused` with a sentence for the episode's `errors`.

Evidence inside a member is cited as `<zip path>!/<member>` (e.g.
`logs/x.eval!/samples/1_epoch_1.json`), with lines counted in the member's text:
the member is compressed, so its text is not verbatim in the zip file itself.
`read_member_text` reads such a reference back (bounded the same way), for
checking evidence.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from auditor.safefs import MAX_READ_WHOLE, RunFS, UnsafePath

MEMBER_SEP = "!/"
MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = MAX_READ_WHOLE
MAX_TOTAL_BYTES = 1 << 30
CHUNK = 1 << 20
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"


class ArchiveRefused(Exception):
    """The archive, or one member, is not read; the message says why."""


def member_ref(zip_rel: str, member: str) -> str:
    """The evidence file name of a member: `<zip path>!/<member>`."""
    return f"{zip_rel}{MEMBER_SEP}{member}"


def split_member_ref(ref: str) -> tuple[str, str] | None:
    """(zip path, member) of a `<zip>!/<member>` reference, or None for a plain path."""
    if MEMBER_SEP not in ref:
        return None
    zip_rel, member = ref.split(MEMBER_SEP, 1)
    return (zip_rel, member) if zip_rel and member else None


def is_zip(head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC) or head.startswith(EMPTY_ZIP_MAGIC)


@dataclass
class SafeZip:
    """A bounded, read-only view of a zip inside the run. Use as a context manager."""

    fs: RunFS
    path: Path | str
    max_members: int = MAX_MEMBERS
    max_member_bytes: int = MAX_MEMBER_BYTES
    max_total_bytes: int = MAX_TOTAL_BYTES
    inflated: int = 0  # bytes inflated so far, against max_total_bytes
    _zip: zipfile.ZipFile | None = field(default=None, repr=False)

    def __enter__(self) -> SafeZip:
        fh = self.fs.open_binary(self.path)
        try:
            self._zip = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            fh.close()
            raise ArchiveRefused(f"{self.fs.rel(self.path)}: not a readable zip archive ({exc})") from exc
        count = len(self._zip.infolist())
        if count > self.max_members:
            self.close()
            raise ArchiveRefused(f"{self.fs.rel(self.path)}: {count} entries, more than the {self.max_members} allowed; not read")
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._zip is not None:
            fp = self._zip.fp
            self._zip.close()
            if fp is not None:
                fp.close()
            self._zip = None

    @property
    def zip(self) -> zipfile.ZipFile:
        if self._zip is None:
            raise ArchiveRefused(f"{self.fs.rel(self.path)}: archive is not open")
        return self._zip

    def names(self) -> list[str]:
        """The file members (directories left out), in archive order."""
        return [i.filename for i in self.zip.infolist() if not i.is_dir()]

    def read(self, name: str, limit: int | None = None) -> bytes:
        """The member's bytes, or ArchiveRefused (too large declared or inflated, encrypted, damaged)."""
        limit = self.max_member_bytes if limit is None else min(limit, self.max_member_bytes)
        where = member_ref(self.fs.rel(self.path), name)
        try:
            info = self.zip.getinfo(name)
        except KeyError as exc:
            raise ArchiveRefused(f"{where}: no such member") from exc
        if info.flag_bits & 0x1:
            raise ArchiveRefused(f"{where}: encrypted member; not read")
        if info.file_size > limit:
            raise ArchiveRefused(f"{where}: declares {info.file_size} bytes, more than the {limit} allowed; not inflated")
        return b"".join(self._stream(info, limit, where))

    def _stream(self, info: zipfile.ZipInfo, limit: int, where: str) -> Iterator[bytes]:
        got = 0
        try:
            with self.zip.open(info) as member:
                while True:
                    chunk = member.read(CHUNK)
                    if not chunk:
                        return
                    got += len(chunk)
                    self.inflated += len(chunk)
                    if got > limit or got > max(info.file_size, 0) + CHUNK:
                        raise ArchiveRefused(f"{where}: inflates past its declared size or the {limit}-byte bound (zip bomb?); refused")
                    if self.inflated > self.max_total_bytes:
                        raise ArchiveRefused(f"{where}: the archive inflates to more than {self.max_total_bytes} bytes in all (zip bomb?); refused")
                    yield chunk
        except ArchiveRefused:
            raise
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError, ValueError) as exc:
            raise ArchiveRefused(f"{where}: damaged or unsupported member ({exc})") from exc


def read_member_text(root: Path | str, ref: str, limit: int = MAX_MEMBER_BYTES) -> str | None:
    """The text of `<zip>!/<member>` below `root` (bounded, UTF-8 with replacement), or None."""
    parts = split_member_ref(ref)
    if parts is None:
        return None
    zip_rel, member = parts
    fs = RunFS(Path(root))
    try:
        with SafeZip(fs, Path(root) / zip_rel) as z:
            return z.read(member, limit).decode("utf-8", errors="replace")
    except (ArchiveRefused, UnsafePath, OSError):
        return None
