// The entry of the Windows single executable (containerd-shim-lcow-v1.exe): the same main as
// cmd/containerd-shim-lcow-v1.ts, without top-level await (a SEA main script is CommonJS).
// Node repeats the executable's path as argv[1] in a SEA, so containerd's arguments start at argv[2].
import { main } from '../../src/shim/index.js';

void main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exitCode = code;
});
