import { chmod, lstat, mkdir, unlink } from '../async/index.js';
import { createConnection, createServer } from 'node:net';
import type { Server } from 'node:net';
import { dirname } from 'node:path';
import { ErrorCode, ShimError, alreadyExists, ignoreAbsent, invalidArgument } from '../errdefs/index.js';

/** sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

/** Strips an optional `unix://` scheme: containerd's addresses carry it, the socket path does not. */
export function socketPath(address: string): string {
  return address.startsWith('unix://') ? address.slice('unix://'.length) : address;
}

/**
 * Creates a listening unix socket at `path` (`unix://` optional) with mode 0600, in a directory created
 * with mode 0700 when it does not exist. A socket file left behind by a dead server (nobody answers) is
 * removed and the listen retried once; a live one is AlreadyExists. Anything that is not a socket at that
 * path is never removed.
 */
export async function listenUnix(address: string): Promise<Server> {
  const path = socketPath(address);
  if (path === '') throw invalidArgument('ttrpc: empty socket path');
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw invalidArgument(`ttrpc: socket path ${path} is longer than ${MAX_SOCKET_PATH_BYTES} bytes`);
  }
  const dir = dirname(path);
  if ((await mkdir(dir, { recursive: true, mode: 0o700 })) !== undefined) await chmod(dir, 0o700);
  try {
    return await listenOnce(path);
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'EADDRINUSE') throw ShimError.from(err, ErrorCode.Unknown, `ttrpc: listen ${path}`);
  }
  await removeStaleSocket(path);
  try {
    return await listenOnce(path);
  } catch (err) {
    throw ShimError.from(err, ErrorCode.Unknown, `ttrpc: listen ${path}`);
  }
}

/**
 * Binds with umask 0177 so the socket is born 0600 (no window with a wider mode), then chmods anyway.
 * net.Server.listen binds synchronously for a path, so the process-wide umask is restored at once.
 */
async function listenOnce(path: string): Promise<Server> {
  const server = createServer();
  const listening = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const oldMask = setUmask(0o177);
  try {
    server.listen(path);
  } finally {
    if (oldMask !== undefined) setUmask(oldMask);
  }
  await listening;
  await chmod(path, 0o600);
  return server;
}

/** process.umask can only be set on the main thread; elsewhere we rely on the chmod that follows. */
function setUmask(mask: number): number | undefined {
  try {
    return process.umask(mask);
  } catch {
    return undefined;
  }
}

async function removeStaleSocket(path: string): Promise<void> {
  const st = await lstat(path).catch(ignoreAbsent);
  if (st === undefined) return; // Gone meanwhile: just retry.
  if (!st.isSocket()) throw alreadyExists(`ttrpc: ${path} exists and is not a socket`);
  if (await answers(path)) throw alreadyExists(`ttrpc: socket ${path} is in use by a live server`);
  await unlink(path).catch((err: unknown) => {
    if ((err as { code?: unknown }).code !== 'ENOENT') throw ShimError.from(err, ErrorCode.Unknown, `ttrpc: remove stale ${path}`);
  });
}

/** True when something accepts a connection on the socket. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection(path);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}
