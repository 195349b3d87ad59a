#!/usr/bin/env bash
# The main job: run a Linux container through containerd with runtime io.containerd.lcow.v1.
# On a fresh Debian 12 with Node 20 it installs what it needs (npm ci, build, Debian containerd, runc,
# busybox-static), starts a private containerd, runs
#   ctr run --rm --runtime io.containerd.lcow.v1 --rootfs <busybox rootfs> demo /bin/echo hello from LCOW
# prints the container's output and the time it took, then stops containerd and cleans up.
# On Linux the utility VM is the HCS emulator's (see src/hcs/emulator/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent build >&2
source scripts/lib/private-containerd.sh
trap pc_stop EXIT
pc_start
pc_make_rootfs "$PC_TMP/rootfs"
cmd=("$@")
[ ${#cmd[@]} -gt 0 ] || cmd=(/bin/echo hello from LCOW)
echo "+ ctr run --rm --runtime io.containerd.lcow.v1 --rootfs $PC_TMP/rootfs demo ${cmd[*]}" >&2
start=$(date +%s%N)
status=0
pc_ctr run --rm --runtime io.containerd.lcow.v1 --rootfs "$PC_TMP/rootfs" demo "${cmd[@]}" </dev/null || status=$?
end=$(date +%s%N)
echo "container exited with status $status after $(( (end - start) / 1000000 )) ms" >&2
if [ $status -ne 0 ]; then echo "--- containerd log ---" >&2; tail -50 "$PC_TMP/containerd.log" >&2; fi
exit $status
