#!/usr/bin/env bash
# The main job: run a Linux container through containerd with runtime io.containerd.lcow.v1.
# On a fresh Debian 12 with Node 20 it installs what it needs (npm ci, build, Debian containerd, runc,
# busybox-static, e2fsprogs), starts a private containerd, runs
#   ctr run --rm --runtime io.containerd.lcow.v1 --rootfs <busybox rootfs> demo /bin/echo hello from LCOW
# prints the container's output and the time it took, then stops containerd and cleans up.
#
# `scripts/demo.sh --image [CMD…]` runs busybox from LCOW image layers instead, as on Windows: a busybox
# OCI image is imported into containerd and exported again (`ctr images export`), turned into layer
# folders (layer.vhd, tar2ext4 semantics) by `node dist/cmd/lcow-layers.js`, a scratch disk is made with
# `containerd-shim-lcow-v1 create-scratch`, and `ctr run --config` starts a container whose spec names
# them in windows.layerFolders: the shim attaches the layer on VPMem and the scratch on SCSI, and the
# guest overlays them.
# On Linux the utility VM is the HCS emulator's (see src/hcs/emulator/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
image=0
if [ "${1:-}" = "--image" ]; then image=1; shift; fi
bash scripts/setup.sh
npm run --silent build >&2
source scripts/lib/private-containerd.sh
trap pc_stop EXIT
pc_start
pc_make_rootfs "$PC_TMP/rootfs"
cmd=("$@")
[ ${#cmd[@]} -gt 0 ] || cmd=(/bin/echo hello from LCOW)
status=0
if [ $image -eq 0 ]; then
  echo "+ ctr run --rm --runtime io.containerd.lcow.v1 --rootfs $PC_TMP/rootfs demo ${cmd[*]}" >&2
  start=$(date +%s%N)
  pc_ctr run --rm --runtime io.containerd.lcow.v1 --rootfs "$PC_TMP/rootfs" demo "${cmd[@]}" </dev/null || status=$?
else
  node scripts/lib/oci-archive.mjs "$PC_TMP/rootfs" "$PC_TMP/busybox-oci.tar" demo/busybox:latest
  pc_ctr images import "$PC_TMP/busybox-oci.tar" >&2
  pc_ctr images export "$PC_TMP/exported.tar" demo/busybox:latest >&2
  mkdir -p "$PC_TMP/layers" "$PC_TMP/scratch"
  echo "+ node dist/cmd/lcow-layers.js --image $PC_TMP/exported.tar --out $PC_TMP/layers" >&2
  node dist/cmd/lcow-layers.js --image "$PC_TMP/exported.tar" --out "$PC_TMP/layers" > "$PC_TMP/layers.json"
  echo "+ containerd-shim-lcow-v1 create-scratch --destpath $PC_TMP/scratch/sandbox.vhdx --sizeGB 1" >&2
  dist/bin/containerd-shim-lcow-v1 create-scratch --destpath "$PC_TMP/scratch/sandbox.vhdx" --sizeGB 1 >&2
  pc_ctr oci spec > "$PC_TMP/default-spec.json"
  node -e '
    const fs = require("fs");
    const [specIn, layersJson, scratch, out, ...args] = process.argv.slice(1);
    const spec = JSON.parse(fs.readFileSync(specIn, "utf8"));
    const { layerFolders } = JSON.parse(fs.readFileSync(layersJson, "utf8"));
    spec.process.args = args;
    spec.process.terminal = false;
    spec.process.env = ["PATH=/bin"];
    spec.windows = { layerFolders: [...layerFolders, scratch] };
    fs.writeFileSync(out, JSON.stringify(spec));
  ' "$PC_TMP/default-spec.json" "$PC_TMP/layers.json" "$PC_TMP/scratch" "$PC_TMP/spec.json" "${cmd[@]}"
  echo "+ ctr run --rm --runtime io.containerd.lcow.v1 --config $PC_TMP/spec.json demo   (windows.layerFolders: $(cat "$PC_TMP/layers.json" | head -c 200)… + scratch)" >&2
  start=$(date +%s%N)
  pc_ctr run --rm --runtime io.containerd.lcow.v1 --config "$PC_TMP/spec.json" demo </dev/null || status=$?
fi
end=$(date +%s%N)
echo "container exited with status $status after $(( (end - start) / 1000000 )) ms" >&2
if [ $status -ne 0 ]; then echo "--- containerd log ---" >&2; tail -50 "$PC_TMP/containerd.log" >&2; fi
exit $status
