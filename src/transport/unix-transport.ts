/**
 * The Linux transport: hvsockets are emulated as unix sockets at the path the HCS emulator and the guest
 * agree on (emulated-paths.ts), and dial() connects to unix socket paths.
 */
import { mkdir, stat, unlink } from '../async/index.js';
import { createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ErrorCode, ShimError, alreadyExists, ignoreErrno, notFound } from '../errdefs/index.js';
import { dialPath } from './dial.js';
import { emulatedHvSocketPath } from './emulated-paths.js';
import { openFifoReader, openFifoWriter, releaseFifoReader } from './fifo-stdio.js';
import { linuxProcessIdentity } from './process-identity.js';
import { unixShimSocketPath } from './shim-address.js';
import { SocketListener } from './socket-listener.js';
import type { Connection, HvSocketAddress, Listener, PlatformTransport, ProcessIdentity, ServeMode } from './types.js';
import { unixSocketPath } from './unix-path.js';

export interface UnixTransportOptions {
  /** Emulator root (default: env LCOW_EMULATOR_ROOT, else /run/containerd-shim-lcow-v1/vm). */
  readonly emulatorRoot?: string;
}

export class UnixTransport implements PlatformTransport {
  readonly platform = 'linux' as const;
  readonly serveMode: ServeMode = 'listener-fd';
  private readonly root: string | undefined;

  constructor(opts: UnixTransportOptions = {}) {
    this.root = opts.emulatorRoot;
  }

  /**
   * Listens on `<vmDir>/vsock/<port>.sock`. The VM dir must exist (the emulator creates it at create
   * time): a missing one is NotFound naming the runtime id. A stale socket file nobody serves is replaced.
   */
  async listenHvSocket(address: HvSocketAddress): Promise<Listener> {
    const path = unixSocketPath(emulatedHvSocketPath(address, this.root));
    const vsockDir = dirname(path);
    const vmDir = dirname(vsockDir);
    try {
      await stat(vmDir);
    } catch (err) {
      throw notFound(`no emulated utility VM with runtime id ${address.vmId} (${vmDir} does not exist)`, err);
    }
    await mkdir(vsockDir, { mode: 0o700, recursive: true });
    const label = `hvsock://${address.vmId}/${address.serviceId} (${path})`;
    const server = await listenUnix(path);
    return new SocketListener(server, label, () => unlink(path).catch(ignoreErrno('ENOENT'))); // already removed: nothing to do
  }

  /** Listens on a local unix socket (`unix://` optional), e.g. the shim's own ttrpc address. */
  async listen(address: string): Promise<Listener> {
    const path = unixSocketPath(address);
    const server = await listenUnix(path);
    return new SocketListener(server, path, () => unlink(path).catch(ignoreErrno('ENOENT'))); // already removed: nothing to do
  }

  /** Unix only: `unix:///path` or a plain path. */
  dial(address: string, signal?: AbortSignal): Promise<Connection> {
    let path: string;
    try {
      path = unixSocketPath(address);
    } catch (err) {
      return Promise.reject(err);
    }
    return dialPath(path, signal);
  }

  /** `unix://<socket dir>/<sha256 hex>` (shim-address.ts). */
  shimAddress(namespace: string, id: string, containerdAddress: string): string {
    return `unix://${unixShimSocketPath(containerdAddress, namespace, id)}`;
  }

  /** stdin FIFO (fifo-stdio.ts). */
  openStdioReader(path: string): Promise<Readable> {
    return openFifoReader(path);
  }

  /** CloseIO: lets the stdin FIFO reach EOF once the client's writers are closed (fifo-stdio.ts). */
  releaseStdioReader(path: string): Promise<void> {
    return releaseFifoReader(path);
  }

  /** /proc/<pid>/stat start time and the /proc/<pid>/exe link. */
  async processIdentity(pid: number): Promise<ProcessIdentity | undefined> {
    return linuxProcessIdentity(pid);
  }

  /** stdout/stderr FIFO, opened O_RDWR so it survives its reader (no redial needed). */
  openStdioWriter(path: string): Promise<Writable> {
    return openFifoWriter(path);
  }
}

/** Listens on a unix socket path; replaces a stale socket file (one that refuses connections). */
export async function listenUnix(path: string): Promise<Server> {
  try {
    return await tryListen(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw ShimError.from(err, ErrorCode.Unavailable, `listen ${path}`);
  }
  const live = await dialPath(path).then(
    (c) => (c.destroy(), true),
    () => false,
  );
  if (live) throw alreadyExists(`something is already listening on ${path}`);
  await unlink(path).catch(ignoreErrno('ENOENT')); // a stale socket file nobody listens on; gone already is fine
  try {
    return await tryListen(path);
  } catch (err) {
    throw ShimError.from(err, ErrorCode.Unavailable, `listen ${path}`);
  }
}

function tryListen(path: string): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const server = createServer({ allowHalfOpen: true });
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
