import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** Where shim sockets live: env LCOW_SHIM_SOCKET_DIR, else containerd's convention /run/containerd/s. */
export function socketDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.LCOW_SHIM_SOCKET_DIR || '/run/containerd/s';
}

/**
 * The shim's socket path, as containerd's Go shims compute it: sha256 of `<address>/<namespace>/<id>`
 * (filepath.Join) in hex, under the socket directory. 64 hex digits keep it well under the 106-byte limit.
 */
export function shimSocketPath(address: string, namespace: string, id: string, env?: NodeJS.ProcessEnv): string {
  const digest = createHash('sha256').update(join(address, namespace, id)).digest('hex');
  return join(socketDir(env), digest);
}

/** `unix://` + path: what `start` prints and writes to `<bundle>/address`. */
export const unixAddress = (path: string): string => `unix://${path}`;
