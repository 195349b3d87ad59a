import { shimSocketDir, unixShimSocketPath } from '../transport/index.js';

/** Where shim sockets live: env LCOW_SHIM_SOCKET_DIR, else containerd's convention /run/containerd/s. */
export function socketDir(env: NodeJS.ProcessEnv = process.env): string {
  return shimSocketDir(env);
}

/**
 * The shim's socket path, as containerd's Go shims compute it: sha256 of `<address>/<namespace>/<id>`
 * (filepath.Join) in hex, under the socket directory. 64 hex digits keep it well under the 106-byte limit.
 * (The rule itself lives in src/transport/shim-address.ts, beside the Windows pipe name.)
 */
export function shimSocketPath(address: string, namespace: string, id: string, env?: NodeJS.ProcessEnv): string {
  return unixShimSocketPath(address, namespace, id, env);
}

/** `unix://` + path: what `start` prints and writes to `<bundle>/address`. */
export const unixAddress = (path: string): string => `unix://${path}`;
