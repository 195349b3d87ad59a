# The A/B benches' one way of running several builds under ONE private containerd (scripts/bench/ab*.sh):
# containerd finds `containerd-shim-lcow-v1` on its PATH through a symlink in a directory of its own, and each
# sample first points that symlink at the build it measures, so every build runs under the same load.
# Source it after scripts/lib/private-containerd.sh, from the repository root.
#   ab_builds DIR...     the builds (`node scripts/build.mjs --out DIR` trees) as absolute paths, into `builds`
#   ab_containerd LINK   starts the private containerd at debug level (as scripts/bench.sh) with the
#                        directory LINK first on its PATH; the caller made LINK and removes it
#   ab_use DIR           points LINK's symlink at build DIR: the next shim containerd starts is that build's

ab_builds() {
  builds=()
  local b
  for b in "$@"; do builds+=("$(cd "$b" && pwd)"); done
}

ab_containerd() {
  ab_link=$1
  PC_LOG_LEVEL=debug PC_ENV="PATH=$ab_link:${PC_CONTAINERD_DIR:+$PC_CONTAINERD_DIR:}$PATH" pc_start
}

ab_use() {
  ln -sfn "$1/bin/containerd-shim-lcow-v1" "$ab_link/containerd-shim-lcow-v1"
}
