#!/usr/bin/env bash
# Installs Dolos (npm @dodona/dolos-lib) for the plagiarism benchmark only, outside
# the repository (default ~/.cache/mle-auditor/dolos). Dolos is never a dependency of
# mle-auditor. Idempotent: does nothing when it is already installed.
# Needs node >= 18, npm, and a C/C++ toolchain (dolos-parsers builds tree-sitter
# grammars; the OCaml one takes several minutes on 2 cores).
set -euo pipefail
DOLOS_DIR="${DOLOS_DIR:-$HOME/.cache/mle-auditor/dolos}"
VERSION="${DOLOS_VERSION:-3.5.1}"
if [ -f "$DOLOS_DIR/node_modules/@dodona/dolos-lib/package.json" ] \
   && node -e "require('$DOLOS_DIR/node_modules/@dodona/dolos-parsers/package.json')" 2>/dev/null \
   && ls "$DOLOS_DIR"/node_modules/@dodona/dolos-parsers/build/Release/*python*.node >/dev/null 2>&1; then
  echo "dolos-lib already installed in $DOLOS_DIR"
  exit 0
fi
mkdir -p "$DOLOS_DIR"
cd "$DOLOS_DIR"
[ -f package.json ] || npm init -y >/dev/null
JOBS="${JOBS:-2}" npm install --no-audit --no-fund "@dodona/dolos-lib@$VERSION"
echo "dolos-lib $VERSION installed in $DOLOS_DIR"
