#!/usr/bin/env bash
# A/B of whole builds by the start-up breakdown: ONE private containerd (debug log level, as scripts/bench.sh),
# a symlink switched between the builds (as ab.sh); each round runs `ctr run --rm … /bin/true` once per build,
# then the milestones of every run are read from containerd's debug log (scripts/bench/milestones.mjs, the
# same as bench.sh's (f)). Prints per build the median of each milestone (ms after `ctr run` was spawned) and of
# the spans between them, and per span the median of the per-round differences to the first build. Spans
# are steadier than whole-run wall times on a loaded machine: other work lands in the span it delays.
# Usage: scripts/bench/ab-breakdown.sh [-n ROUNDS] BUILD_DIR...   (each a `node scripts/build.mjs --out DIR` tree)
set -euo pipefail
rounds=10
if [ "${1:-}" = -n ]; then rounds=$2; shift 2; fi
[ $# -ge 1 ] || { echo "usage: scripts/bench/ab-breakdown.sh [-n ROUNDS] BUILD_DIR..." >&2; exit 2; }
source "$(dirname "$0")/../lib/ab-builds.sh"
ab_builds "$@" # before the cd: the paths may be relative to the caller
cd "$(dirname "$0")/../.."
source scripts/lib/private-containerd.sh
link=$(mktemp -d /tmp/lcow-ab-bd.XXXXXX)
runs=$(mktemp /tmp/lcow-ab-bd-runs.XXXXXX)
trap 'pc_stop || true; rm -rf "$link" "$runs"' EXIT
ab_containerd "$link"
pc_make_rootfs "$PC_TMP/rootfs"
run() { # build index, container id: one run, recorded as "index id t0_ms wall_ms"
  local t0 t1
  t0=$(date +%s%N)
  pc_ctr run --rm --runtime io.containerd.lcow.v1 --rootfs "$PC_TMP/rootfs" "$2" /bin/true >/dev/null
  t1=$(date +%s%N)
  echo "$1 $2 $((t0 / 1000000)) $(((t1 - t0) / 1000000))" >> "$runs"
}
for i in "${!builds[@]}"; do
  ab_use "${builds[$i]}"
  pc_ctr run --rm --runtime io.containerd.lcow.v1 --rootfs "$PC_TMP/rootfs" "bd-warm-$i" /bin/true >/dev/null
done
for r in $(seq 1 "$rounds"); do
  for i in "${!builds[@]}"; do
    ab_use "${builds[$i]}"
    run "$i" "bd-$r-$i"
  done
done
sleep 0.5 # containerd copies the shims' log FIFOs asynchronously
echo "start-up breakdown over $rounds rounds (ms after ctr run was spawned; medians):"
node --input-type=module -e '
  import { readFileSync } from "node:fs";
  import { milestonesOf } from "./scripts/bench/milestones.mjs";
  import { summarize } from "./scripts/bench/stats.mjs";
  const [runsFile, logFile, ...builds] = process.argv.slice(1);
  const log = readFileSync(logFile, "utf8");
  const rows = readFileSync(runsFile, "utf8").trim().split("\n").map((l) => l.split(" "));
  const med = (xs) => summarize(xs.filter((x) => Number.isFinite(x)), 1).median;
  const per = builds.map(() => []);
  for (const [i, id, t0, wall] of rows) {
    const m = Object.fromEntries(milestonesOf(log, id, Number(t0)).map(({ name, ms }) => [name, ms]));
    m["ctr returned"] = Number(wall);
    per[Number(i)].push(m);
  }
  const names = Object.keys(per[0][0]);
  const spans = names.slice(1).map((b, k) => [names[k], b]);
  const span = (m, [a, b]) => m[b] - m[a];
  for (const [i, b] of builds.entries()) {
    console.log(`${b}:`);
    console.log("  " + names.map((n) => `${n} ${med(per[i].map((m) => m[n]))}`).join(", "));
  }
  console.log("spans (median per build; median of the per-round difference to the first build):");
  for (const s of spans) {
    const cells = builds.map((_, i) => med(per[i].map((m) => span(m, s))));
    const diffs = builds.slice(1).map((_, j) => med(per[j + 1].map((m, r) => span(m, s) - span(per[0][r] ?? {}, s))));
    console.log(`  ${s[0]} -> ${s[1]}: ${cells.join(" / ")}${diffs.length ? `  (diff ${diffs.join(" / ")})` : ""}`);
  }
  // The whole run too: its per-round difference is what the spans add up to (their medians need not).
  if (builds.length > 1) {
    const diffs = builds.slice(1).map((_, j) => per[j + 1].map((m, r) => m["ctr returned"] - (per[0][r] ?? {})["ctr returned"]).filter((x) => Number.isFinite(x)));
    console.log(`ctr returned, per-round difference to the first build: median ${diffs.map((d) => med(d)).join(" / ")}; rounds faster ${diffs.map((d) => `${d.filter((x) => x < 0).length} of ${d.length}`).join(" / ")}`);
  }
' "$runs" "$PC_TMP/containerd.log" "${builds[@]}"
