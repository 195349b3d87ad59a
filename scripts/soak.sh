#!/usr/bin/env bash
# Soak (issue 12): many containers and execs through our shim against ONE private containerd, watching for
# leaks. One long-lived task ("soak-long") takes an exec per run; its shim daemon's open fds and RSS are
# sampled every --every runs, with the host mounts, emulated VM dirs, shim daemons and guest agents of the
# instance (those four must come back to what the long task alone holds). Phases:
#   seq    N × (`ctr run --rm … /bin/true` + `ctr task exec soak-long /bin/true`), sequentially
#   conc   rounds of K `ctr run --rm` and K `ctr task exec` at once
#   flood  a client sends Connect requests to soak-long's shim and never reads a reply (twice): the shim's
#          RSS before / once it stopped reading / after the client closed; then 500 connections each send
#          64 KiB of a request announced at 4 MiB and hang (scripts/soak/flood.mjs)
#   end    soak-long removed: nothing of the instance may be left
# Prints a table (also written to results/soak.md). Failures of ctr are counted, not fatal.
# Usage: scripts/soak.sh [-n N] [--concurrent K] [--rounds R] [--every E] [--flood REQS] [--build DIR]
#   defaults: -n 300, --concurrent 10, --rounds 10, --every 50, --flood 400000, build into dist/
set -euo pipefail
cd "$(dirname "$0")/.."
n=300; k=10; rounds=10; every=50; flood=400000; build=
while [ $# -gt 0 ]; do
  case $1 in
    -n) n=$2; shift 2 ;;
    --concurrent) k=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --every) every=$2; shift 2 ;;
    --flood) flood=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    *) echo "usage: scripts/soak.sh [-n N] [--concurrent K] [--rounds R] [--every E] [--flood REQS] [--build DIR]" >&2; exit 2 ;;
  esac
done
bash scripts/setup.sh >&2
if [ -z "$build" ]; then npm run --silent build >&2; build=dist; fi
build=$(cd "$build" && pwd)
mkdir -p results

source scripts/lib/private-containerd.sh
cleanup() {
  pc_ctr task kill -s KILL soak-long >/dev/null 2>&1 || true
  sleep 1
  pc_ctr task delete -f soak-long >/dev/null 2>&1 || true
  pc_ctr container rm soak-long >/dev/null 2>&1 || true
  pc_stop || true
}
trap cleanup EXIT
PC_ENV="PATH=$build/bin:$PATH" pc_start
R="$PC_TMP/rootfs"
pc_make_rootfs "$R"
RT=io.containerd.lcow.v1

# The shim daemon serving task $1 (cmdline: … -id <id> … serve).
shim_pid() {
  local p
  for p in /proc/[0-9]*; do
    { tr '\0' '\n' < "$p/cmdline"; } 2>/dev/null | grep -qx -- "$PC_TMP/containerd.sock" || continue
    { tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null | grep -q -- "-id $1 .*serve" && { echo "${p#/proc/}"; return; }
  done
}
count_shims() { local c=0 p; for p in /proc/[0-9]*; do { tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null | grep -q -- "$PC_TMP/containerd.sock.* serve" && c=$((c+1)); done; echo $c; }
count_guests() { local c=0 p; for p in /proc/[0-9]*; do case "$(readlink "$p/cwd" 2>/dev/null)" in "$PC_TMP/vm/"*) { tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null | grep -q lcow-guest && c=$((c+1));; esac; done; echo $c; }
count_mounts() { grep -c " $PC_TMP/" /proc/mounts || true; }
count_vmdirs() { find "$PC_TMP/vm" -mindepth 1 -maxdepth 1 -type d | wc -l; }
fds() { if [ "$1" = 0 ]; then echo —; else ls "/proc/$1/fd" 2>/dev/null | wc -l; fi; }
rss() { if [ "$1" = 0 ]; then echo —; else awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status" 2>/dev/null; fi; }

pc_ctr run -d --runtime $RT --rootfs "$R" soak-long /bin/sh -c 'sleep 1000000' >/dev/null
for _ in $(seq 1 100); do pc_ctr task ls | grep -q '^soak-long .*RUNNING' && break; sleep 0.1; done
LONG=$(shim_pid soak-long)
[ -n "$LONG" ] || { echo "soak: no shim daemon for soak-long" >&2; exit 1; }

fail_run=0; fail_exec=0; runs=0; execs=0; started=$(date +%s)
rows=()
sample() { # phase label
  local t=$(( $(date +%s) - started ))
  rows+=("| $1 | $2 | $runs | $execs | $fail_run / $fail_exec | $(fds "$LONG") | $(rss "$LONG") | $(count_mounts) | $(count_vmdirs) | $(count_shims) | $(count_guests) | ${t} |")
  echo "soak: ${rows[-1]}" >&2
}
sample start "soak-long running"

# seq: one run and one exec per step.
for i in $(seq 1 "$n"); do
  pc_ctr run --rm --runtime $RT --rootfs "$R" "soak-$i" /bin/true >/dev/null 2>>"$PC_TMP/why" || { fail_run=$((fail_run+1)); echo "run soak-$i failed" >> "$PC_TMP/why"; }
  runs=$((runs+1))
  pc_ctr task exec --exec-id "e$i" soak-long /bin/true >/dev/null 2>>"$PC_TMP/why" || { fail_exec=$((fail_exec+1)); echo "exec e$i failed" >> "$PC_TMP/why"; }
  execs=$((execs+1))
  if [ $((i % every)) -eq 0 ]; then sample seq "$i sequential"; fi
done

# conc: K runs and K execs at once, per round.
for r in $(seq 1 "$rounds"); do
  pids=()
  for j in $(seq 1 "$k"); do
    ( pc_ctr run --rm --runtime $RT --rootfs "$R" "soak-c$r-$j" /bin/true >/dev/null 2>>"$PC_TMP/why" || { echo run >> "$PC_TMP/conc-fail"; echo "run soak-c$r-$j failed" >> "$PC_TMP/why"; } ) &
    pids+=($!)
    ( pc_ctr task exec --exec-id "c$r-$j" soak-long /bin/true >/dev/null 2>>"$PC_TMP/why" || { echo exec >> "$PC_TMP/conc-fail"; echo "exec c$r-$j failed" >> "$PC_TMP/why"; } ) &
    pids+=($!)
  done
  wait "${pids[@]}" || true
  runs=$((runs+k)); execs=$((execs+k))
  fail_run=$((fail_run + $(cat "$PC_TMP/conc-fail" 2>/dev/null | grep -c '^run' || true)))
  fail_exec=$((fail_exec + $(cat "$PC_TMP/conc-fail" 2>/dev/null | grep -c '^exec' || true)))
  rm -f "$PC_TMP/conc-fail"
  if [ $(( (r * k) % every )) -lt "$k" ] || [ "$r" -eq "$rounds" ]; then sample conc "round $r: $k runs + $k execs at once"; fi
done

# flood: twice, against soak-long's shim; then the shim must still serve an exec.
addr=$(sed 's#^unix://##' "$PC_TMP/state/io.containerd.runtime.v2.task/default/soak-long/address")
flood_rows=()
for f in 1 2; do
  out=$(env -u NODE_EXTRA_CA_CERTS -u NODE_OPTIONS node scripts/soak/flood.mjs --socket "$addr" --pid "$LONG" --requests "$flood" --id soak-long)
  flood_rows+=("| flood $f | $out |")
  echo "soak: flood $f: $out" >&2
done
conn_out=$(env -u NODE_EXTRA_CA_CERTS -u NODE_OPTIONS node scripts/soak/flood.mjs --socket "$addr" --pid "$LONG" --connections 500 --id soak-long)
echo "soak: 500 partial 4 MiB requests: $conn_out" >&2
pc_ctr task exec --exec-id after-flood soak-long /bin/true >/dev/null 2>>"$PC_TMP/why" || { fail_exec=$((fail_exec+1)); echo "exec after-flood failed" >> "$PC_TMP/why"; }
execs=$((execs+1))
sample flood "after the floods + 1 exec"

# end: remove soak-long; nothing may be left.
pc_ctr task kill -s KILL soak-long >/dev/null 2>&1 || true
for _ in $(seq 1 100); do pc_ctr task delete soak-long >/dev/null 2>&1 && break; sleep 0.1; done
pc_ctr container rm soak-long >/dev/null 2>&1 || true
for _ in $(seq 1 100); do [ "$(count_shims)$(count_mounts)$(count_vmdirs)$(count_guests)" = 0000 ] && break; sleep 0.1; done
LONG=0
sample end "soak-long removed"
cp "$PC_TMP/why" results/soak-failures.log 2>/dev/null || : > results/soak-failures.log

{
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), node $(node --version), containerd $(containerd --version | awk '{print $3}'), runc $(runc --version | awk 'NR==1 {print $3}'); $(date -u +%Y-%m-%dT%H:%MZ)."
  echo
  echo "| phase | step | runs | execs | failed runs / execs | soak-long shim fds | its RSS (MB) | mounts | VM dirs | shim daemons | guest agents | s |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
  echo
  echo "| flood of soak-long's shim (Connect, replies never read) | requests sent before the shim stopped reading | RSS before (MB) | RSS once paused (MB) | RSS 2 s after the client closed (MB) |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${flood_rows[@]}"
  echo
  echo "| connections each sending 64 KiB of a request announced at 4 MiB, then hanging | RSS before (MB) | while open (MB) | 2 s after they closed (MB) |"
  echo "| ---: | ---: | ---: | ---: |"
  echo "| $conn_out |"
  if [ -s results/soak-failures.log ]; then echo; echo "What ctr said for the failures (results/soak-failures.log):"; echo; sed 's/^/    /' results/soak-failures.log | head -20; fi
} | tee results/soak.md
