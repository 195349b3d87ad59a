#!/usr/bin/env bash
# The benchmark (issue 7): our shim (io.containerd.lcow.v1) side by side with containerd-shim-runc-v2, and our
# ttrpc side by side with Go containerd/ttrpc 1.1.1, against ONE private containerd (debug log level, no
# NODE_EXTRA_CA_CERTS/NODE_OPTIONS in its environment). Measures:
#   (a) `ctr run --rm <rootfs> id /bin/true` wall time, both shims, and their ratio (N runs each, interleaved);
#       again under containerd 2.4.2 (scripts/lib/go-tools.sh: its containerd, ctr and runc shim)
#   (b) 50 containers started at once, wall time until all exited, both shims
#   (c) RSS of the shim daemon (and of the emulated VM's guest agent) with one running container, 1 s after
#       `ctr run -d` (the target's figure) and, on the same container, 12 s after (V8 settled: the daemon lives
#       as long as its container); at the 1 s read also the minor page faults each process has taken (counts:
#       what a fault costs depends on the machine)
#   (d) ttrpc unary calls/s and p50/p99 at 1 and 16 in flight: go→go, ours→ours, go→ours, ours→go
#   (e) GCS bridge round trips/s and p50/p99 against the real guest agent
#   (f) the start-up breakdown of one container, from the log timestamps
#   (g) Task.Connect calls/s on each shim's socket from a Go ttrpc client, at 1 and 16 in flight
# Writes results/bench.{json,md,png} and prints the table.
# Usage: scripts/bench.sh [-n N] [--concurrent K] [--build DIR]
#   -n N          sequential runs per runtime for (a) (default 20; env BENCH_N)
#   --concurrent  containers started at once for (b) (default 50; env BENCH_CONCURRENT)
#   --build DIR   use an existing build (e.g. .build-bench) instead of `npm run build` into dist/
set -euo pipefail
cd "$(dirname "$0")/.."
n=${BENCH_N:-20}; k=${BENCH_CONCURRENT:-50}; build=
while [ $# -gt 0 ]; do
  case $1 in
    -n) n=$2; shift 2 ;;
    --concurrent) k=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    *) echo "usage: scripts/bench.sh [-n N] [--concurrent K] [--build DIR]" >&2; exit 2 ;;
  esac
done
bash scripts/setup.sh
if [ -z "$build" ]; then npm run --silent build >&2; build=dist; fi
build=$(cd "$build" && pwd)
out=results
mkdir -p "$out"
rm -f "$out"/{containerd,containerd2,gcs,ttrpc,machine,bench}.json

bash scripts/lib/go-tools.sh >&2 || echo "bench: no containerd 2.x (scripts/lib/go-tools.sh failed): (a) runs under 1.6 only" >&2
read -r ctd2 _ runcshim2 <<< "$(bash scripts/lib/go-tools.sh --print)"
gotmp=$(mktemp -d /tmp/lcow-bench-go.XXXXXX)
gobin=$(bash scripts/bench/ttrpc-go-build.sh "$gotmp")
source scripts/lib/private-containerd.sh
trap 'pc_stop || true; rm -rf "$gotmp"' EXIT  # || true: pc_stop's kill && wait would trip set -e before it removes the temp dir
PC_LOG_LEVEL=debug PC_ENV="PATH=$build/bin:$PATH" pc_start
pc_make_rootfs "$PC_TMP/rootfs"

mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
cat > "$out/machine.json" <<JSON
{ "nproc": $(nproc), "memory": "$mem", "kernel": "$(uname -r)", "node": "$(node --version)",
  "containerd": "$(containerd --version | awk '{print $3}')", "containerd2": "$("$ctd2/containerd" --version 2>/dev/null | awk '{print $3}')", "runc": "$(runc --version | awk 'NR==1 {print $3}')",
  "date": "$(date -u +%Y-%m-%dT%H:%MZ)", "build": "$build" }
JSON

nodeenv=(env -u NODE_EXTRA_CA_CERTS -u NODE_OPTIONS)
"${nodeenv[@]}" node scripts/bench/containerd-bench.mjs --address "$PC_SOCK" --rootfs "$PC_TMP/rootfs" \
  --log "$PC_TMP/containerd.log" --state "$PC_TMP/state" --n "$n" --concurrent "$k" --ttrpc-go "$gobin" \
  --out "$out/containerd.json"
pc_stop || true
rm -rf "$gotmp"
# (a) again under containerd 2.x (go-tools.sh's 2.4.2, with its own runc shim): containerd 2.3+ hands `start` its
# BootstrapParams on stdin, so its start path differs from 1.6's (README, start round 3).
gotmp=$(mktemp -d /tmp/lcow-bench-ctd2.XXXXXX)
if [ -x "$ctd2/containerd" ] && [ -x "$runcshim2/containerd-shim-runc-v2" ] && ln -s "$ctd2"/containerd "$ctd2"/ctr "$runcshim2"/containerd-shim-runc-v2 "$gotmp"/; then
  echo "bench: (a) ctr run --rm under containerd 2.x" >&2
  PC_CONTAINERD_DIR=$gotmp PC_LOG_LEVEL=debug PC_ENV="PATH=$gotmp:$build/bin:$PATH" pc_start
  pc_make_rootfs "$PC_TMP/rootfs"
  "${nodeenv[@]}" node scripts/bench/containerd-bench.mjs --address "$PC_SOCK" --rootfs "$PC_TMP/rootfs" \
    --log "$PC_TMP/containerd.log" --state "$PC_TMP/state" --n "$n" --ctr "$gotmp/ctr" --run-rm-only \
    --out "$out/containerd2.json"
  pc_stop || true
fi
rm -rf "$gotmp"
trap - EXIT
echo "bench: (e) GCS bridge round trips" >&2
"${nodeenv[@]}" node scripts/bench/gcs-bench.mjs --build "$build" --out "$out/gcs.json"
bash scripts/bench/ttrpc-compare.sh "$build" 20000 "$out/ttrpc.json"
"${nodeenv[@]}" node scripts/bench/report.mjs "$out"
