#!/usr/bin/env bash
# A/B of whole builds by CPU time per container: ONE private containerd (debug log level, as scripts/bench.sh) is
# moved into a cgroup of its own, so everything it starts (the shim's start/serve/delete, the emulated VM's guest
# agent, runc; containerd-shim-runc-v2 and its runc) is counted there. For each round: `ctr run --rm … /bin/true`
# through runc-v2 once, then through each build (a symlink switched between them, as ab.sh), K at once (-k, default
# 1); per run the wall time and the cgroup's CPU time (user + system) in ms. Then the medians per runtime/build.
# CPU per container is what 50 containers at once on 2 cores are bound by, and it is steadier than wall time
# on a loaded machine. Needs root and cgroup v1 cpuacct or cgroup v2.
# Usage: scripts/bench/ab-cpu.sh [-n ROUNDS] [-k CONCURRENT] BUILD_DIR...   (each a `node scripts/build.mjs --out DIR` tree)
set -euo pipefail
rounds=10; k=1
while [ $# -gt 0 ]; do
  case $1 in
    -n) rounds=$2; shift 2 ;;
    -k) k=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: scripts/bench/ab-cpu.sh [-n ROUNDS] [-k CONCURRENT] BUILD_DIR..." >&2; exit 2; }
source "$(dirname "$0")/../lib/ab-builds.sh"
ab_builds "$@" # before the cd: the paths may be relative to the caller
cd "$(dirname "$0")/../.."
if [ -d /sys/fs/cgroup/cpuacct ]; then
  cg=/sys/fs/cgroup/cpuacct/lcow-ab-cpu-$$
  usage_ms() { echo $(($(cat "$cg/cpuacct.usage") / 1000000)); }
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  cg=/sys/fs/cgroup/lcow-ab-cpu-$$
  usage_ms() { awk '/^usage_usec/ {printf "%d", $2 / 1000}' "$cg/cpu.stat"; }
else
  echo "ab-cpu: no cgroup v1 cpuacct or cgroup v2 hierarchy" >&2; exit 1
fi
mkdir "$cg"
source scripts/lib/private-containerd.sh
link=$(mktemp -d /tmp/lcow-ab-cpu.XXXXXX)
out=$(mktemp /tmp/lcow-ab-cpu-out.XXXXXX)
cleanup() {
  pc_stop || true
  rm -rf "$link"
  for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$cg" 2>/dev/null && break; sleep 0.2; done
}
trap cleanup EXIT
ab_containerd "$link"
echo "$PC_PID" > "$cg/cgroup.procs"
pc_make_rootfs "$PC_TMP/rootfs"

# One sample: K containers at once through runtime $1 (ids $2-1..K); prints "wall_ms cpu_ms".
sample() {
  local t0 t1 c0 i pids=()
  c0=$(usage_ms); t0=$(date +%s%N)
  for i in $(seq 1 "$k"); do
    pc_ctr run --rm --runtime "$1" --rootfs "$PC_TMP/rootfs" "$2-$i" /bin/true >/dev/null & pids+=($!)
  done
  wait "${pids[@]}"
  t1=$(date +%s%N)
  sleep 0.3 # the shims' last CPU (delete, the daemon's exit) lands after ctr returned
  echo "$(((t1 - t0) / 1000000)) $(($(usage_ms) - c0))"
}

ab_use "${builds[0]}"
sample io.containerd.lcow.v1 warm-lcow >/dev/null
sample io.containerd.runc.v2 warm-runc >/dev/null
for r in $(seq 1 "$rounds"); do
  echo "round $r runc-v2 $(sample io.containerd.runc.v2 runc-$r)" | tee -a "$out"
  for i in "${!builds[@]}"; do
    ab_use "${builds[$i]}"
    echo "round $r ${builds[$i]} $(sample io.containerd.lcow.v1 "lcow-$r-$i")" | tee -a "$out"
  done
done
echo "medians over $rounds rounds, $k at once (wall ms, CPU ms of containerd's cgroup per run):"
node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split(" "));
  const med = (a) => { a.sort((x, y) => x - y); const m = a.length >> 1; return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2; };
  for (const b of [...new Set(rows.map((r) => r[2]))]) {
    const mine = rows.filter((r) => r[2] === b);
    console.log(`  ${b}: wall ${med(mine.map((r) => +r[3]))}, CPU ${med(mine.map((r) => +r[4]))}`);
  }' "$out"
rm -f "$out"
