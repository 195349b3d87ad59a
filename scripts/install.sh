#!/usr/bin/env bash
# Links the built shim into DIR/bin (default /usr/local/bin) so containerd finds it on its PATH.
# Usage: scripts/install.sh [--prefix DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=/usr/local
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    -h|--help) sed -n '2,3p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -x dist/bin/containerd-shim-lcow-v1 ] || npm run --silent build
mkdir -p "$prefix/bin"
ln -sf "$(pwd)/dist/bin/containerd-shim-lcow-v1" "$prefix/bin/containerd-shim-lcow-v1"
echo "installed $prefix/bin/containerd-shim-lcow-v1 -> $(pwd)/dist/bin/containerd-shim-lcow-v1"
