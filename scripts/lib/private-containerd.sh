# Shell helpers for a private containerd (own config, root, state and sockets under one temp dir), used by
# scripts/demo.sh and scripts/bench.sh. Source it; call pc_start, then use $PC_SOCK / pc_ctr, then pc_stop.
# Never touches the system's /run/containerd.

PC_ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# pc_make_rootfs DIR: a busybox root filesystem (busybox-static, relative applet links).
pc_make_rootfs() {
  local dir=$1
  mkdir -p "$dir/bin" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/tmp" "$dir/etc"
  cp /bin/busybox "$dir/bin/busybox"
  local a
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$dir/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$dir/etc/passwd"
}

# pc_start: starts containerd; sets PC_TMP, PC_SOCK, PC_PID. Extra env for the shims may be passed in PC_ENV.
# PC_CONTAINERD_DIR: a directory holding a containerd 2.x and its ctr, to run instead of Debian's 1.6 from PATH
# (first on the shims' PATH too: a runc-v2 run needs 2.x's containerd-shim-runc-v2 there, since 1.6's cannot
# read 2.3+'s bootstrap; scripts/lib/go-tools.sh builds containerd and ctr 2.4.2, and the same `go install` of
# github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@v2.4.2 the runc shim). Its config is version 4
# (as test/integration/harness.ts writes it), and its shims get the socket dir in the bootstrap too.
pc_start() {
  PC_TMP=$(mktemp -d /tmp/lcow-ctd.XXXXXX)
  PC_SOCK="$PC_TMP/containerd.sock"
  mkdir -p "$PC_TMP/root" "$PC_TMP/state" "$PC_TMP/s" "$PC_TMP/vm"
  local bin=containerd
  if [ -n "${PC_CONTAINERD_DIR:-}" ]; then
    bin=$PC_CONTAINERD_DIR/containerd
    cat > "$PC_TMP/config.toml" <<TOML
version = 4
root = "$PC_TMP/root"
state = "$PC_TMP/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime", "io.containerd.cri.v1.images", "io.containerd.podsandbox.controller.v1.podsandbox", "io.containerd.nri.v1.nri", "io.containerd.internal.v1.opt"]
[debug]
  level = "${PC_LOG_LEVEL:-info}"
[plugins.'io.containerd.server.v1.grpc']
  address = "$PC_SOCK"
[plugins.'io.containerd.server.v1.ttrpc']
  address = "$PC_SOCK.ttrpc"
[plugins.'io.containerd.shim.v1.manager']
  socket_dir = "$PC_TMP/s"
TOML
  else
    cat > "$PC_TMP/config.toml" <<TOML
version = 2
root = "$PC_TMP/root"
state = "$PC_TMP/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$PC_SOCK"
[ttrpc]
  address = "$PC_SOCK.ttrpc"
[debug]
  level = "${PC_LOG_LEVEL:-info}"
TOML
  fi
  # Shims inherit containerd's environment: keep NODE_EXTRA_CA_CERTS/NODE_OPTIONS out (each adds start cost).
  env -u NODE_EXTRA_CA_CERTS -u NODE_OPTIONS \
    PATH="${PC_CONTAINERD_DIR:+$PC_CONTAINERD_DIR:}$PC_ROOT_DIR/dist/bin:$PATH" \
    LCOW_SHIM_SOCKET_DIR="$PC_TMP/s" LCOW_EMULATOR_ROOT="$PC_TMP/vm" ${PC_ENV:-} \
    "$bin" --config "$PC_TMP/config.toml" > "$PC_TMP/containerd.log" 2>&1 &
  PC_PID=$!
  local i
  for i in $(seq 1 200); do
    [ -S "$PC_SOCK" ] && pc_ctr version >/dev/null 2>&1 && return 0
    kill -0 "$PC_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "containerd did not start; its log:" >&2
  cat "$PC_TMP/containerd.log" >&2
  return 1
}

pc_ctr() { env -u NODE_EXTRA_CA_CERTS "${PC_CONTAINERD_DIR:+$PC_CONTAINERD_DIR/}ctr" -a "$PC_SOCK" "$@"; }

# pc_shim_pids: the shim daemons this containerd started that still run (`serve` with -address $PC_SOCK).
pc_shim_pids() {
  local p a prev ours serve
  for p in /proc/[0-9]*; do
    ours= serve= prev=
    while IFS= read -r -d '' a; do
      [ "$prev" = -address ] && [ "$a" = "$PC_SOCK" ] && ours=1
      [ "$a" = serve ] && serve=1
      prev=$a
    done 2>/dev/null < "$p/cmdline"
    [ -n "$ours" ] && [ -n "$serve" ] && echo "${p#/proc/}"
  done
  return 0
}

# pc_stop: stops containerd and removes everything it made. First the shim daemons still serving (a script
# that stopped with a task up: containerd leaves its shims running by design, and their bundles go with the
# temp dir): SIGTERM while containerd still runs (a daemon then tears down its VM, delivers its exit events
# and is gone within ~2 s; without containerd it waits up to 10 s for the events), SIGKILL after ~15 s. Then
# containerd, the mounts under the temp dir, the dir.
pc_stop() {
  if [ -n "${PC_SOCK:-}" ]; then
    local shims i
    shims=$(pc_shim_pids)
    if [ -n "$shims" ]; then
      # shellcheck disable=SC2086
      kill $shims 2>/dev/null || true
      for i in $(seq 1 300); do
        shims=$(pc_shim_pids)
        [ -z "$shims" ] && break
        sleep 0.05
      done
      # shellcheck disable=SC2086
      [ -z "$shims" ] || kill -KILL $shims 2>/dev/null || true
    fi
  fi
  if [ -n "${PC_PID:-}" ]; then
    kill "$PC_PID" 2>/dev/null || true
    wait "$PC_PID" 2>/dev/null || true
  fi
  if [ -n "${PC_TMP:-}" ] && [ -d "$PC_TMP" ]; then
    { grep -o " $PC_TMP[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$PC_TMP"
  fi
  PC_PID= PC_TMP= PC_SOCK=
}
