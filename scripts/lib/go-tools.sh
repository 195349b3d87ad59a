#!/usr/bin/env bash
# Builds the pinned Go tools the test tiers drive, once per machine, with `go install …@version` (Go at
# /usr/local/go, modules from the Go module proxy), into a cache outside the repository:
#   $LCOW_GO_CACHE/containerd-<v>/bin/{containerd,ctr}   containerd 2.x (CRI built in; no cgo, no btrfs/devmapper/zfs)
#   $LCOW_GO_CACHE/crictl-<v>/bin/crictl                 cri-tools' crictl
#   $LCOW_GO_CACHE/runc-shim-<v>/bin/containerd-shim-runc-v2   containerd 2.x's runc shim (scripts/bench.sh: runc-v2
#                                                        under 2.x; Debian's 1.6 shim cannot read 2.3+'s bootstrap)
# A tool's directory appears only when its build finished (built in a temp dir, then renamed), so an
# interrupted build is redone. Nothing of their source is kept in the repository.
# Usage: scripts/lib/go-tools.sh [--print]   (--print: only print the bin directories, build nothing)
set -euo pipefail

CONTAINERD2_VERSION=v2.4.2
CRICTL_VERSION=v1.37.0
LCOW_GO_CACHE=${LCOW_GO_CACHE:-/var/cache/containerd-shim-lcow-v1/go}
# containerd's own Makefile tags, less cgo: btrfs needs cgo, devmapper and zfs are snapshotters we do not use.
CONTAINERD2_TAGS="urfave_cli_no_docs no_btrfs no_devmapper no_zfs"

containerd2_dir="$LCOW_GO_CACHE/containerd-$CONTAINERD2_VERSION"
crictl_dir="$LCOW_GO_CACHE/crictl-$CRICTL_VERSION"
runc_shim_dir="$LCOW_GO_CACHE/runc-shim-$CONTAINERD2_VERSION"
if [ "${1:-}" = --print ]; then echo "$containerd2_dir/bin $crictl_dir/bin $runc_shim_dir/bin"; exit 0; fi

GO=${GO:-/usr/local/go/bin/go}
export GOPATH="$LCOW_GO_CACHE/gopath" GOMODCACHE="$LCOW_GO_CACHE/gopath/pkg/mod" GOCACHE="$LCOW_GO_CACHE/build-cache"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local

# go_tool DIR PKG… : go install PKGs into DIR/bin unless DIR exists; extra go flags in GO_TOOL_FLAGS.
go_tool() {
  local dir=$1; shift
  [ -x "$dir/bin/$(basename "${1%@*}")" ] && return 0
  [ -x "$GO" ] || { echo "setup: $GO not found: the tests need Go 1.26 to build ${*}" >&2; exit 1; }
  local tmp="$dir.partial.$$" t0=$SECONDS
  rm -rf "$tmp"; mkdir -p "$tmp/bin"
  echo "setup: building $* (once per machine, into $dir)" >&2
  # shellcheck disable=SC2086
  GOBIN="$tmp/bin" nice "$GO" install ${GO_TOOL_FLAGS:-} "$@" >&2
  rm -rf "$dir"; mv "$tmp" "$dir"
  echo "setup: built $(ls "$dir/bin" | tr '\n' ' ')in $((SECONDS - t0)) s" >&2
}

mkdir -p "$LCOW_GO_CACHE"
exec 8>"$LCOW_GO_CACHE/.lock"; flock 8   # one builder at a time on this machine
v=${CONTAINERD2_VERSION#v}
GO_TOOL_FLAGS="-trimpath -tags=${CONTAINERD2_TAGS// /,} -ldflags=-X=github.com/containerd/containerd/v2/version.Version=$v" \
  go_tool "$containerd2_dir" \
  "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD2_VERSION" \
  "github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD2_VERSION"
GO_TOOL_FLAGS="-trimpath" go_tool "$crictl_dir" "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
GO_TOOL_FLAGS="-trimpath -tags=${CONTAINERD2_TAGS// /,} -ldflags=-X=github.com/containerd/containerd/v2/version.Version=$v" \
  go_tool "$runc_shim_dir" "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD2_VERSION"
