// containerd-shim-lcow-v1: containerd runtime v2 shim (runtime handler io.containerd.lcow.v1).
// Thin on purpose: parse containerd's flags and call src/shim.
import { main } from '../src/shim/index.js';

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
