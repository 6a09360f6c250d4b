#!/usr/bin/env bash
# Headless Chromium for the HTML report tests (tests/report/test_html_in_chromium.py).
# Idempotent: does nothing when Debian's chromium is already installed.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "chromium present: $(chromium --version 2>/dev/null || echo unknown version)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "chromium installed: $(chromium --version 2>/dev/null || echo unknown version)"
