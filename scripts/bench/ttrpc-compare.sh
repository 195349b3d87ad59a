#!/usr/bin/env bash
# (d) of scripts/bench.sh: ttrpc unary echo, ours (src/ttrpc via scripts/bench-ttrpc) vs Go containerd/ttrpc
# 1.1.1 (Debian's golang-github-containerd-ttrpc-dev, built here in GOPATH mode from scripts/bench/ttrpc-go.go),
# same messages over the same socket kind (unix), at 1 and 16 calls in flight. Pairs measured:
# go→go, ours→ours, go client→our server, our client→go server.
# Usage: scripts/bench/ttrpc-compare.sh BUILD_DIR CALLS OUT.json
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:?build dir}; calls=${2:?calls}; out=${3:?out file}
tmp=$(mktemp -d /tmp/lcow-bench-go.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
gobin=$(bash scripts/bench/ttrpc-go-build.sh "$tmp")
gover=$(go version | awk '{print $3}')
ttrpcver=$(dpkg-query -W -f='${Version}' golang-github-containerd-ttrpc-dev 2>/dev/null || echo unknown)
nodeenv=(env -u NODE_EXTRA_CA_CERTS -u NODE_OPTIONS)
waitsock() { for _ in $(seq 1 100); do [ -S "$1" ] && return 0; sleep 0.05; done; echo "bench: no server on $1" >&2; return 1; }

goclient() { # SOCK → the JSON results, one per concurrency level, comma-separated
  for c in 1 16; do "$gobin" client "$1" "$calls" "$c" 100 2000; done | paste -sd, -
}
tsclient() {
  "${nodeenv[@]}" node scripts/bench-ttrpc --build "$build" -n "$calls" --json --connect "$1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).results.map(r=>JSON.stringify(r)).join(",")))'
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
# One server at a time, so the other side's idle process takes nothing from the pair being measured.
"$gobin" serve "$tmp/go.sock" & gopid=$!; pids+=($gopid)
waitsock "$tmp/go.sock"
echo "bench: (d) ttrpc go→go" >&2;     gg=$(goclient "$tmp/go.sock")
echo "bench: (d) ttrpc ours→go" >&2;   tg=$(tsclient "$tmp/go.sock")
stop $gopid
"${nodeenv[@]}" node scripts/bench-ttrpc --serve "$tmp/ts.sock" --build "$build" >/dev/null & tspid=$!; pids+=($tspid)
waitsock "$tmp/ts.sock"
echo "bench: (d) ttrpc ours→ours" >&2; tt=$(tsclient "$tmp/ts.sock")
echo "bench: (d) ttrpc go→ours" >&2;   gt=$(goclient "$tmp/ts.sock")
stop $tspid
cat > "$out" <<JSON
{ "payloadBytes": 100, "calls": $calls, "go": "$gover", "goTtrpc": "$ttrpcver", "node": "$(node --version)",
  "pairs": [
    { "client": "go", "server": "go", "results": [$gg] },
    { "client": "ours", "server": "ours", "results": [$tt] },
    { "client": "go", "server": "ours", "results": [$gt] },
    { "client": "ours", "server": "go", "results": [$tg] } ] }
JSON
