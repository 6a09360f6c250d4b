#!/usr/bin/env bash
# Set up what the runner's tests need (idempotent; run as root by .ci/run before pytest):
# Debian's docker.io, bubblewrap and mmdebstrap; a dockerd when none answers; the
# default agent image, built once from Debian packages and then found in the cache.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "setup-docker: $*" >&2; }
started=$(date +%s)

need=()
for pair in dockerd:docker.io bwrap:bubblewrap mmdebstrap:mmdebstrap iptables:iptables prlimit:util-linux \
            mkfs.ext4:e2fsprogs; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if ((${#need[@]})); then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# A docker client in /usr/local/bin may be newer than Debian's engine; the SDK negotiates the API version.
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd (log: /var/log/mlea-dockerd.log)"
  nohup dockerd >/var/log/mlea-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    log "dockerd did not come up; last lines of its log:"
    tail -20 /var/log/mlea-dockerd.log >&2 || true
    exit 1
  fi
fi

log "building the default agent image if missing"
python3 -c 'from runner.cli import image_build_command; raise SystemExit(image_build_command(None))'
log "ready in $(( $(date +%s) - started )) s"
