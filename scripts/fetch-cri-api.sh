#!/usr/bin/env bash
# Fetches the CRI runtime.v1 api.proto from Debian's containerd source package (the version this machine's
# apt sources offer) into a cache outside the repository, and prints its path. Never committed.
# The source index comes from deb-src entries derived from the machine's own apt sources (deb822 files and
# one-line lists), in a private apt state dir: the system's apt configuration is left untouched.
# The gogoproto import and options are dropped (proto-loader has no gogo.proto; they only steer Go codegen).
# Usage: scripts/fetch-cri-api.sh [CACHE_DIR]   (default /var/cache/containerd-shim-lcow-v1/cri-api)
set -euo pipefail
cache=${1:-/var/cache/containerd-shim-lcow-v1/cri-api}
out=$cache/runtime/v1/api.proto
if [ -s "$out" ]; then echo "$out"; exit 0; fi
mkdir -p "$cache"
work=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/sources.list.d" "$work/lists/partial" "$work/src"
shopt -s nullglob
for f in /etc/apt/sources.list.d/*.sources; do
  sed -E 's/^Types:.*$/Types: deb-src/' "$f" > "$work/sources.list.d/$(basename "$f")"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] && sed -nE 's/^deb (.*)$/deb-src \1/p' "$f" >> "$work/sources.list.d/derived.list"
done
apt_opts=(-q -o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$work/sources.list.d" -o "Dir::State::Lists=$work/lists"
  -o "APT::Sandbox::User=root")
apt-get "${apt_opts[@]}" update >&2
(cd "$work/src" && apt-get "${apt_opts[@]}" source --download-only containerd >&2)
orig=$(ls "$work"/src/containerd_*.orig.tar.* | head -n1)
member=$(tar -tf "$orig" | grep -E '^[^/]+/vendor/k8s.io/cri-api/pkg/apis/runtime/v1/api.proto$' | head -n1)
[ -n "$member" ] || { echo "fetch-cri-api: no runtime/v1/api.proto in $orig" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
tar -xOf "$orig" "$member" | grep -v 'gogoproto' > "$out.tmp"
mv "$out.tmp" "$out"
echo "fetch-cri-api: $(basename "$orig") → $out" >&2
echo "$out"
