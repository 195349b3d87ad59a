#!/usr/bin/env bash
# Pod benchmark (issue 14): extra shim daemon RSS per additional container in one pod, ours next to
# containerd-shim-runc-v2, through containerd's CRI (scripts/bench-pod.ts). Writes results/bench-pod.{json,md}.
# Usage: scripts/bench-pod.sh [-k CONTAINERS]   (default 10; env BENCH_POD_CONTAINERS)
set -euo pipefail
cd "$(dirname "$0")/.."
k=${BENCH_POD_CONTAINERS:-10}
while [ $# -gt 0 ]; do
  case $1 in
    -k) k=$2; shift 2 ;;
    *) echo "usage: scripts/bench-pod.sh [-k CONTAINERS]" >&2; exit 2 ;;
  esac
done
bash scripts/setup.sh
npm run --silent build >&2
exec env -u NODE_EXTRA_CA_CERTS -u NODE_OPTIONS BENCH_POD_CONTAINERS="$k" node dist/scripts/bench-pod.js
