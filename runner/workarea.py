"""The agent's writable area, bounded in size.

/home/submission, /home/logs and /home/code (and the runner's trace folder) live on
a loop-mounted ext4 image of `disk_mb`, so a runaway write fills that image and not
the host's disk. Loop devices need root; without them the area is a plain folder
and `quota_enforced` says so (sandbox.json records it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

AGENT_UID = 1000
AGENT_GID = 1000
AREAS = ("submission", "logs", "code", "trace")


class WorkArea:
    def __init__(self, disk_mb: int, owner: tuple[int, int] = (AGENT_UID, AGENT_GID)) -> None:
        self.disk_mb = disk_mb
        self.owner = owner
        self.base = Path(tempfile.mkdtemp(prefix="mlea-work-"))
        self.root = self.base / "mnt"
        self.image = self.base / "disk.img"
        self.quota_enforced = False
        self.note = ""

    def __enter__(self) -> "WorkArea":
        self.root.mkdir()
        self.quota_enforced, self.note = self._mount_loop()
        for name in AREAS:
            d = self.root / name
            d.mkdir(exist_ok=True)
            self._chown(d)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def path(self, name: str) -> Path:
        return self.root / name

    def close(self) -> None:
        if self.quota_enforced:
            subprocess.run(["umount", "-l", str(self.root)], capture_output=True)
            self.quota_enforced = False
        shutil.rmtree(self.base, ignore_errors=True)

    def _mount_loop(self) -> tuple[bool, str]:
        if os.geteuid() != 0 or not shutil.which("mkfs.ext4"):
            return False, "not root or no mkfs.ext4: the writable area has no size limit"
        try:
            with open(self.image, "wb") as f:
                f.truncate(self.disk_mb * 1024 * 1024)
            subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", "-O", "^has_journal", str(self.image)],
                           check=True, capture_output=True, timeout=60)
            subprocess.run(["mount", "-o", "loop,nosuid,nodev", str(self.image), str(self.root)],
                           check=True, capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            self.image.unlink(missing_ok=True)
            return False, f"loop mount failed ({exc} {detail.decode(errors='replace').strip()}): no size limit"
        lost = self.root / "lost+found"
        if lost.exists():
            lost.rmdir()
        return True, f"ext4 loop image of {self.disk_mb} MB"

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            os.chown(path, *self.owner)
