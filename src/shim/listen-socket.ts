import { chmodSync, linkSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import { unixSocketPath } from '../transport/index.js';

/**
 * Listens on a fresh unix socket, mode 0600, in a directory made 0700 when missing (what the ttrpc
 * module's listenUnix does; not imported from there because loading the ttrpc barrel loads the logger:
 * Node's `start` never serves, and `serve` listens before it makes its logger). `path` is a temporary name
 * nobody else uses.
 */
export async function listenSocket(path: string): Promise<Server> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const server = createServer();
  const listening = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', resolve);
  });
  const oldMask = process.umask(0o177); // born 0600: listen() binds a path synchronously
  try {
    server.listen(path);
  } finally {
    process.umask(oldMask);
  }
  await listening;
  try {
    chmodSync(path, 0o600);
  } catch (err) {
    server.close(); // a listening server would keep a short-lived `start` from ever exiting
    throw err;
  }
  return server;
}

/**
 * Listens on `path` without `path` ever naming a socket that is bound but not yet listening (a peer's
 * connect() there would fail with ECONNREFUSED instead of waiting): binds and listens under a temporary
 * name beside it (listenSocket's modes), then hard-links the listening socket to `path` and drops the
 * temporary name. link(2), unlike rename, never replaces: an existing `path` (a live shim, or a stale
 * socket whose liveness `start` probes) fails with EEXIST and nothing is left behind. A temporary name too
 * long for sun_path fails first (InvalidArgument naming the limit), before anything is made.
 */
export async function listenLinked(path: string): Promise<Server> {
  const tmpPath = unixSocketPath(`${path}.${process.pid}`);
  const server = await listenSocket(tmpPath);
  try {
    linkSync(tmpPath, path);
  } catch (err) {
    server.close(); // unlinks tmpPath
    throw err;
  } finally {
    rmSync(tmpPath, { force: true });
  }
  return server;
}
