/**
 * The Windows transport:
 * - Hyper-V sockets through Winsock (koffi, loaded on first use): hvsock-listener.ts.
 * - The shim's own ttrpc endpoint: a named pipe served by node:net, announced by the re-exec handshake.
 * - stdio: the shim is the pipe CLIENT of containerd's pipes; stdout/stderr redial a vanished reader.
 */
import { createServer } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { ErrorCode, ShimError, invalidArgument } from '../errdefs/index.js';
import { dialPath } from './dial.js';
import { RedialWriter } from './redial-writer.js';
import { namedPipeShimAddress } from './shim-address.js';
import { SocketListener } from './socket-listener.js';
import type { Connection, HvSocketAddress, Listener, PlatformTransport, ProcessIdentity, ServeMode, StdioWriterOptions } from './types.js';
import { WinsockError } from './winsock-error.js';

const PIPE_PREFIXES = ['\\\\.\\pipe\\', '//./pipe/'];

export function isNamedPipePath(address: string): boolean {
  return PIPE_PREFIXES.some((p) => address.toLowerCase().startsWith(p) && address.length > p.length);
}

export interface WindowsTransportOptions {
  /** The Winsock library; default %SystemRoot%\System32\ws2_32.dll. Tests inject the Linux double. */
  readonly winsockLibrary?: string;
}

export class WindowsTransport implements PlatformTransport {
  readonly platform = 'windows' as const;
  readonly serveMode: ServeMode = 'ready-handshake';
  private readonly winsockLibrary: string | undefined;

  constructor(opts: WindowsTransportOptions = {}) {
    this.winsockLibrary = opts.winsockLibrary;
  }

  /**
   * Binds (VM runtime id, service id) and listens. Needs Administrator or SYSTEM; errors are WinsockErrors
   * carrying the WSA code (e.g. 10013 → FailedPrecondition, 10048 → AlreadyExists).
   */
  async listenHvSocket(address: HvSocketAddress): Promise<Listener> {
    // koffi and the Winsock binding load only when a Windows hvsocket is really needed.
    const [{ loadWinsock, systemWinsockPath }, { listenHvSocketWinsock }] = await Promise.all([
      import('./winsock-ffi.js'),
      import('./hvsock-listener.js'),
    ]);
    const path = this.winsockLibrary ?? systemWinsockPath();
    let lib;
    try {
      lib = loadWinsock(path);
    } catch (err) {
      const wsa = (err as { wsaCode?: unknown }).wsaCode;
      if (typeof wsa === 'number') throw new WinsockError('WSAStartup', wsa, `(${path})`, { cause: err });
      throw ShimError.from(err, ErrorCode.FailedPrecondition, `cannot load Winsock from ${path}`);
    }
    return listenHvSocketWinsock(lib, address);
  }

  /** Serves a named pipe (`\\.\pipe\name`), e.g. the shim's own ttrpc address. */
  async listen(address: string): Promise<Listener> {
    if (!isNamedPipePath(address)) throw invalidArgument(`not a named pipe path (want \\\\.\\pipe\\<name>): ${address}`);
    const server = createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(ShimError.from(err, ErrorCode.Unavailable, `listen ${address}`)));
      server.listen(address, () => resolve());
    });
    return new SocketListener(server, address);
  }

  /** Named pipes only (`\\.\pipe\name`). */
  dial(address: string, signal?: AbortSignal): Promise<Connection> {
    if (!isNamedPipePath(address)) {
      return Promise.reject(invalidArgument(`not a named pipe path (want \\\\.\\pipe\\<name>): ${address}`));
    }
    return dialPath(address, signal);
  }

  shimAddress(namespace: string, id: string): string {
    return namedPipeShimAddress(namespace, id);
  }

  /** stdin: one dial, no retry (hcsshim does not redial stdin). */
  openStdioReader(path: string): Promise<Readable> {
    return this.dial(path);
  }

  /** CloseIO: nothing to do; the stdin pipe reaches EOF when the client closes its end. */
  async releaseStdioReader(_path: string): Promise<void> {}

  /** kernel32 through koffi (loaded on first use): creation time and full image path. */
  async processIdentity(pid: number): Promise<ProcessIdentity | undefined> {
    const { windowsProcessIdentity } = await import('./windows-process-ffi.js');
    return windowsProcessIdentity(pid);
  }

  async openStdioWriter(path: string, opts: StdioWriterOptions = {}): Promise<Writable> {
    const first = await this.dial(path);
    return new RedialWriter(first, {
      address: path,
      redial: () => this.dial(path),
      totalMs: opts.retryTimeoutMs ?? 0,
      ...(opts.onRedial ? { onRedial: opts.onRedial } : {}),
    });
  }
}
