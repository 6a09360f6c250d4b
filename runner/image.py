"""The default agent image, built from Debian packages without a registry.

mmdebstrap (or debootstrap) lays a Debian root with Python 3, pandas and
scikit-learn into a tarball that `docker import` turns into an image. The tag
carries a hash of the recipe, so a changed recipe builds a new image and an
unchanged one is built once and then found in the engine's cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import docker
import docker.errors

IMAGE_REPO = "mle-auditor-agent"

RECIPE = {
    "suite": os.environ.get("MLEA_DEBIAN_SUITE", "bookworm"),
    "mirror": os.environ.get("MLEA_DEBIAN_MIRROR", "http://deb.debian.org/debian"),
    "variant": "essential",
    "packages": ["python3", "python3-pandas", "python3-sklearn", "curl", "ca-certificates", "procps"],
    # Documentation and translations, never used. (Excluding the libraries' tests breaks numpy's postinst.)
    "exclude": ["/usr/share/doc/*", "/usr/share/man/*", "/usr/share/locale/*", "/usr/share/info/*"],
    # An unprivileged user and the MLE-bench folders; the runner mounts over them.
    "customize": [
        'echo "agent:x:1000:1000:agent:/home/agent:/bin/bash" >> "$1/etc/passwd"',
        'echo "agent:x:1000:" >> "$1/etc/group"',
        'mkdir -p "$1/home/agent" "$1/home/data" "$1/home/submission" "$1/home/logs" "$1/home/code"'
        ' "$1/run/mlea" "$1/run/mlea-trace" "$1/private"',
    ],
    "changes": ["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "ENV LANG=C.UTF-8", "WORKDIR /home"],
}


class ImageBuildError(RuntimeError):
    """The image could not be built; the message carries the tool's own error."""


def recipe_hash(recipe: dict = RECIPE) -> str:
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def default_tag() -> str:
    return f"{IMAGE_REPO}:{recipe_hash()}"


def image_exists(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def ensure_image(client: docker.DockerClient, tag: str | None = None, log=print) -> str:
    """The default image's tag, building it first when the engine does not have it."""
    wanted = default_tag()
    if not image_exists(client, wanted):
        build_image(client, log=log)
    if tag and tag != wanted:
        repo, _, t = tag.rpartition(":") if ":" in tag.split("/")[-1] else (tag, "", "latest")
        client.images.get(wanted).tag(repo, t or "latest")
        return tag
    return wanted


def build_image(client: docker.DockerClient, recipe: dict = RECIPE, log=print) -> str:
    tag = f"{IMAGE_REPO}:{recipe_hash(recipe)}"
    with tempfile.TemporaryDirectory(prefix="mlea-image-") as tmp:
        tarball = Path(tmp) / "rootfs.tar"
        started = time.monotonic()
        bootstrap(recipe, tarball, log)
        log(f"root filesystem {tarball.stat().st_size / 1e6:.0f} MB in {time.monotonic() - started:.0f} s; importing")
        client.api.import_image_from_file(str(tarball), repository=IMAGE_REPO, tag=recipe_hash(recipe),
                                          changes=recipe["changes"])
    client.images.get(tag)  # raises if the import did not produce it
    log(f"built {tag}")
    return tag


def bootstrap(recipe: dict, tarball: Path, log) -> None:
    if shutil.which("mmdebstrap"):
        cmd = mmdebstrap_command(recipe, tarball)
    elif shutil.which("debootstrap"):
        debootstrap_into_tar(recipe, tarball, log)
        return
    else:
        raise ImageBuildError("neither mmdebstrap nor debootstrap is installed (apt-get install mmdebstrap)")
    log("building the default agent image: " + " ".join(cmd[:3]) + " ...")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ImageBuildError(f"mmdebstrap failed ({proc.returncode}):\n{proc.stderr[-4000:]}")


def mmdebstrap_command(recipe: dict, tarball: Path) -> list[str]:
    cmd = ["mmdebstrap", f"--variant={recipe['variant']}", "--include=" + ",".join(recipe["packages"])]
    cmd += [f"--dpkgopt=path-exclude={p}" for p in recipe["exclude"]]
    cmd += [f"--customize-hook={hook}" for hook in recipe["customize"]]
    return cmd + [recipe["suite"], str(tarball), recipe["mirror"]]


def debootstrap_into_tar(recipe: dict, tarball: Path, log) -> None:
    """The fallback: debootstrap into a folder, apply the hooks, tar it."""
    root = tarball.parent / "root"
    cmd = ["debootstrap", "--variant=minbase", "--include=" + ",".join(recipe["packages"]),
           recipe["suite"], str(root), recipe["mirror"]]
    log("building the default agent image with debootstrap ...")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ImageBuildError(f"debootstrap failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    for hook in recipe["customize"]:
        subprocess.run(["sh", "-c", hook, "hook", str(root)], check=True)
    subprocess.run(["tar", "-C", str(root), "-cf", str(tarball), "."], check=True)
