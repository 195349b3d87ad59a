#!/usr/bin/env bash
# A/B of whole builds for Task.Connect from a Go ttrpc client (bench.sh's (g)) through ONE private containerd
# (debug log level, as scripts/bench.sh): one running `sleep` container per build (containerd finds
# `containerd-shim-lcow-v1` through a symlink switched between the builds before each `ctr run -d`) and one
# under runc-v2, all alive at once; then, for each round and in-flight count, the Go client calls Connect on
# each shim's socket in turn (the order rotates each round), so every cell of a round runs under the same
# load. Per cell: calls/s, and the shim daemon's CPU (user + sys from /proc/PID/stat) per call in µs, the
# steadier figure on a shared machine. Prints one line per cell.
# Usage: scripts/bench/ab-connect.sh [-n ROUNDS] [-c CALLS] [-f 1,16] BUILD_DIR...
#        (each a `node scripts/build.mjs --out DIR` tree; env TTRPC_GO: a built scripts/bench/ttrpc-go.go)
set -euo pipefail
rounds=5; calls=20000; flights=1,16
while [ $# -gt 0 ]; do
  case $1 in
    -n) rounds=$2; shift 2 ;;
    -c) calls=$2; shift 2 ;;
    -f) flights=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: scripts/bench/ab-connect.sh [-n ROUNDS] [-c CALLS] [-f 1,16] BUILD_DIR..." >&2; exit 2; }
source "$(dirname "$0")/../lib/ab-builds.sh"
ab_builds "$@" # before the cd: the paths may be relative to the caller
cd "$(dirname "$0")/../.."
source scripts/lib/private-containerd.sh
link=$(mktemp -d /tmp/lcow-abc.XXXXXX)
gobin=${TTRPC_GO:-}
gotmp=
if [ -z "$gobin" ]; then gotmp=$(mktemp -d /tmp/lcow-abc-go.XXXXXX); gobin=$(bash scripts/bench/ttrpc-go-build.sh "$gotmp"); fi
ids=()
cleanup() {
  for id in "${ids[@]}"; do
    pc_ctr task kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    for _ in $(seq 1 50); do pc_ctr task ls | grep -q "^$id .*RUNNING" || break; sleep 0.1; done
    pc_ctr task delete "$id" >/dev/null 2>&1 || true
    pc_ctr container rm "$id" >/dev/null 2>&1 || true
  done
  pc_stop || true
  rm -rf "$link" ${gotmp:+"$gotmp"}
}
trap cleanup EXIT
ab_containerd "$link"
pc_make_rootfs "$PC_TMP/rootfs"
names=(); socks=(); pids=()
start_one() { # tag name runtime
  local id=abc-$1-$$
  pc_ctr run -d --runtime "$3" --rootfs "$PC_TMP/rootfs" "$id" /bin/sleep 3600 >/dev/null
  ids+=("$id")
  local dir=$PC_TMP/state/io.containerd.runtime.v2.task/default/$id
  names+=("$2"); socks+=("$(sed 's|^unix://||' "$dir/address")")
  if [ -f "$dir/shim.pid" ]; then pids+=("$(cat "$dir/shim.pid")")
  else pids+=("$(pgrep -f -- "containerd-shim-runc-v2 .*-id $id( |\$)" | head -1)"); fi # runc-v2 writes no shim.pid
}
for i in "${!builds[@]}"; do
  ab_use "${builds[$i]}"
  start_one "b$i" "${builds[$i]}" io.containerd.lcow.v1
done
start_one runc runc-v2 io.containerd.runc.v2
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
lines=$(mktemp /tmp/lcow-abc-lines.XXXXXX)
echo "# rounds=$rounds calls=$calls per cell; load: $(cut -d' ' -f1-3 /proc/loadavg)"
n=${#names[@]}
for r in $(seq 1 "$rounds"); do
  for f in ${flights//,/ }; do
    for k in $(seq 0 $((n - 1))); do
      j=$(((k + r) % n))
      t0=$(cpu_ticks "${pids[$j]}")
      out=$("$gobin" connect "${socks[$j]}" "$calls" "$f" 500 "${ids[$j]}")
      t1=$(cpu_ticks "${pids[$j]}")
      rate=$(sed -n 's/.*"callsPerSec":\([0-9.]*\).*/\1/p' <<< "$out")
      us=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v c="$calls" 'BEGIN {printf "%.1f", d / hz * 1e6 / (c + 500)}')
      echo "round $r inflight=$f ${names[$j]} calls_per_s=${rate%.*} cpu_us_per_call=$us load=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$lines"
    done
  done
done
# Medians per shim and in-flight count; calls/s also as a ratio to runc-v2's median in the same run.
node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => {
    const [, , f, name, rate, cpu] = l.split(" ");
    return { f: f.split("=")[1], name, rate: +rate.split("=")[1], cpu: +cpu.split("=")[1] };
  });
  const med = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  for (const f of [...new Set(rows.map((r) => r.f))]) {
    const of = (n) => rows.filter((r) => r.f === f && r.name === n);
    const runc = med(of("runc-v2").map((r) => r.rate));
    for (const n of [...new Set(rows.map((r) => r.name))]) {
      const rate = med(of(n).map((r) => r.rate));
      console.log(`median inflight=${f} ${n} calls_per_s=${Math.round(rate)} (${(rate / runc).toFixed(2)}x runc-v2) cpu_us_per_call=${med(of(n).map((r) => r.cpu)).toFixed(1)}`);
    }
  }' "$lines"
rm -f "$lines"
