#!/usr/bin/env bash
# A/B of whole builds through ONE private containerd (debug log level, as scripts/bench.sh): containerd finds
# `containerd-shim-lcow-v1` through a symlink that is switched between the builds, so every pair runs under
# the same load. For each round and build: `ctr run --rm … /bin/true` wall time (and runc-v2's, once per
# round), then the shim daemon's VmRSS with one running `sleep` container 1 s and 12 s after `ctr run -d`
# (bench.sh reads it at 1 s; V8's memory reducer shrinks the heap after ~8 s idle), as total(anon/file). Prints one line per sample.
# Usage: scripts/bench/ab.sh [-n ROUNDS] BUILD_DIR...   (each a `node scripts/build.mjs --out DIR` tree)
set -euo pipefail
rounds=5
if [ "${1:-}" = -n ]; then rounds=$2; shift 2; fi
[ $# -ge 1 ] || { echo "usage: scripts/bench/ab.sh [-n ROUNDS] BUILD_DIR..." >&2; exit 2; }
source "$(dirname "$0")/../lib/ab-builds.sh"
ab_builds "$@" # before the cd: the paths may be relative to the caller
cd "$(dirname "$0")/../.."
source scripts/lib/private-containerd.sh
link=$(mktemp -d /tmp/lcow-ab.XXXXXX)
trap 'pc_stop || true; rm -rf "$link"' EXIT
ab_containerd "$link"
pc_make_rootfs "$PC_TMP/rootfs"
ms() {
  local t0 t1
  t0=$(date +%s%N)
  pc_ctr run --rm --runtime "$1" --rootfs "$PC_TMP/rootfs" "$2" /bin/true >/dev/null
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}
# VmRSS (RssAnon/RssFile) in MB: anonymous memory (V8's heap, malloc) is what our code changes; the file part
# is mostly the mapped node binary.
rss() { awk '/^(VmRSS|RssAnon|RssFile)/ {v[$1] = sprintf("%.1f", $2 / 1024)} END {printf "%s(%s/%s)", v["VmRSS:"], v["RssAnon:"], v["RssFile:"]}' "/proc/$1/status"; }
for r in $(seq 1 "$rounds"); do
  echo "round $r runc-v2 run_ms=$(ms io.containerd.runc.v2 ab-runc-$r)"
  for i in "${!builds[@]}"; do
    ab_use "${builds[$i]}"
    run=$(ms io.containerd.lcow.v1 "ab-run-$r-$i")
    id=ab-rss-$r-$i
    pc_ctr run -d --runtime io.containerd.lcow.v1 --rootfs "$PC_TMP/rootfs" "$id" /bin/sleep 60 >/dev/null
    sleep 1
    pid=$(cat "$PC_TMP/state/io.containerd.runtime.v2.task/default/$id/shim.pid")
    r1=$(rss "$pid")
    sleep 11
    echo "round $r ${builds[$i]} run_ms=$run rss1s_mb=$r1 rss12s_mb=$(rss "$pid")"
    pc_ctr task kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    for _ in $(seq 1 50); do pc_ctr task ls | grep -q "^$id .*RUNNING" || break; sleep 0.1; done
    pc_ctr task delete "$id" >/dev/null 2>&1 || true
    pc_ctr container rm "$id" >/dev/null 2>&1 || true
  done
done
