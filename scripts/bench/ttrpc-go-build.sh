#!/usr/bin/env bash
# Builds scripts/bench/ttrpc-go.go against Go containerd/ttrpc 1.1.1 (Debian's golang-github-containerd-ttrpc-dev,
# GOPATH mode), installing what is missing, into DIR; prints the binary's path on stdout.
# Usage: scripts/bench/ttrpc-go-build.sh DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:?output dir}
need=()
command -v go >/dev/null || need+=(golang-go)
[ -d /usr/share/gocode/src/github.com/containerd/ttrpc ] || need+=(golang-github-containerd-ttrpc-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "bench: installing ${need[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
mkdir -p "$dir/src/ttrpcgo"
cp scripts/bench/ttrpc-go.go "$dir/src/ttrpcgo/main.go"
(cd "$dir" && env GO111MODULE=off GOPATH="$dir:/usr/share/gocode" GOCACHE="$dir/cache" GOFLAGS= go build -o "$dir/ttrpc-go" ttrpcgo) >&2
echo "$dir/ttrpc-go"
