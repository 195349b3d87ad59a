#!/usr/bin/env bash
# Installs the project's dependencies on Debian 12 + Node 20: npm packages and the Debian packages the
# tests and the demo drive (containerd, runc, busybox-static, a C compiler for the HCS test double), and for
# the Windows tier: zip/unzip (the package), wine + wine64 8.0 (runs the packaged .exe) and the mingw-w64
# cross compiler (builds the computecore test double as a PE DLL); e2fsprogs for LCOW layers and scratch disks.
# With --go-tools it also builds the pinned Go tools the tests drive (containerd 2.4 + ctr, crictl; once per
# machine, cached outside the repository: scripts/lib/go-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx sh || need+=(busybox-static)
command -v cc >/dev/null || need+=(gcc libc6-dev)
command -v zip >/dev/null || need+=(zip)
command -v unzip >/dev/null || need+=(unzip)
command -v wine >/dev/null || need+=(wine)
[ -x /usr/lib/wine/wine64 ] || need+=(wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64)
# e2fsprogs: mkfs.ext4 -d / debugfs / resize2fs build LCOW layers and format scratch disks (src/tar2ext4,
# create-scratch, the guest's EnsureFilesystem); losetup (util-linux) attaches VHD/VHDX in the emulator.
for t in mkfs.ext4 debugfs resize2fs e2fsck dumpe2fs; do command -v $t >/dev/null || { need+=(e2fsprogs); break; }; done
command -v losetup >/dev/null || need+=(mount)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund >&2
fi
if [ "${1:-}" = --go-tools ]; then bash scripts/lib/go-tools.sh; fi
