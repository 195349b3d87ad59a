/**
 * Where a shim serves its ttrpc API, per platform:
 *   Linux    unix://<socket dir>/<hex sha256 of filepath.Join(address, namespace, id)>, as containerd's
 *            Go shims compute it; socket dir = env LCOW_SHIM_SOCKET_DIR, else /run/containerd/s.
 *   Windows  \\.\pipe\ProtectedPrefix\Administrators\containerd-shim-<namespace>-<id>-pipe (hcsshim's
 *            runhcs v1 name; only an elevated process can create a pipe under ProtectedPrefix\Administrators).
 */
import { posix } from 'node:path';
import { invalidArgument } from '../errdefs/index.js';
import { sha256Hex } from './sha256.js';

/** Where shim sockets live: env LCOW_SHIM_SOCKET_DIR, else containerd's convention /run/containerd/s. */
export function shimSocketDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['LCOW_SHIM_SOCKET_DIR'] || '/run/containerd/s';
}

/**
 * The Linux shim socket path (64 hex digits keep it well under the 106-byte limit). The sha256 is our own
 * (sha256.ts), not node:crypto's: `serve` computes its path when the executable's sh `start` runs it, and the
 * daemon loads no node:crypto (test/integration/daemon-modules.test.ts).
 */
export function unixShimSocketPath(address: string, namespace: string, id: string, env?: NodeJS.ProcessEnv): string {
  const digest = sha256Hex(posix.join(address, namespace, id));
  return posix.join(shimSocketDir(env), digest);
}

export const NAMED_PIPE_SHIM_PREFIX = '\\\\.\\pipe\\ProtectedPrefix\\Administrators\\containerd-shim-';

/** The Windows shim pipe; namespace and id must be non-empty and free of path separators. */
export function namedPipeShimAddress(namespace: string, id: string): string {
  for (const [what, v] of [['namespace', namespace], ['id', id]] as const) {
    if (v === '' || /[\\/\0]/.test(v)) throw invalidArgument(`${what} ${JSON.stringify(v)} cannot be part of a pipe name`);
  }
  return `${NAMED_PIPE_SHIM_PREFIX}${namespace}-${id}-pipe`;
}

/** The Windows debug log pipe the shim serves (containerd connects to it). */
export function namedPipeShimLogAddress(namespace: string, id: string): string {
  return `\\\\.\\pipe\\containerd-shim-${namespace}-${id}-log`;
}

/** hcsshim's logging-binary pipes: \\.\pipe\binary-<id>-stdout|stderr|wait. */
export function binaryLoggerPipe(id: string, stream: 'stdout' | 'stderr' | 'wait'): string {
  return `\\\\.\\pipe\\binary-${id}-${stream}`;
}
