#!/usr/bin/env bash
# Installs what the tests need (on a fresh Debian 12 with Node 20), builds, and runs every test.
# Usage: scripts/test.sh [test path under test/ ...]   (default: all of test/)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --go-tools
# The integration suites run against containerd 1.6 (Debian) and the pinned 2.4 (scripts/lib/go-tools.sh).
LCOW_GO_TOOLS="$(bash scripts/lib/go-tools.sh --print)"; export LCOW_GO_TOOLS
npm run --silent build
dirs=()
if [ $# -eq 0 ]; then dirs=(dist/test); else for t in "$@"; do case "$t" in *.ts) dirs+=("dist/${t%.ts}.js") ;; *) dirs+=("dist/$t") ;; esac; done; fi
# Tests share machine-wide resources (runc, containerd, mounts): run files one at a time.
exec env -u NODE_EXTRA_CA_CERTS node --test --test-concurrency=1 --test-reporter=spec "${dirs[@]}"
