/** Chooses the transport once, by platform: the only place in the project that looks at process.platform. */
import type { Readable, Writable } from 'node:stream';
import type { Listener, Transport } from './types.js';
import { UnixTransport } from './unix-transport.js';
import { WindowsTransport } from './windows-transport.js';

export interface TransportOptions {
  /** Defaults to process.platform; tests pass 'win32' to get the Windows implementation anywhere. */
  readonly platform?: NodeJS.Platform;
  /** Linux: the HCS emulator root (default env LCOW_EMULATOR_ROOT, else /run/containerd-shim-lcow-v1/vm). */
  readonly emulatorRoot?: string;
  /** Windows: the Winsock library (default %SystemRoot%\System32\ws2_32.dll; tests: the Linux double). */
  readonly winsockLibrary?: string;
}

/**
 * How `start` hands the serving endpoint to the long-running shim:
 *   'listener-fd'      Linux: start listens, passes the socket as fd 3 to the detached daemon, exits.
 *   'ready-handshake'  Windows (a named pipe cannot be inherited): start re-execs `serve -socket <pipe>`;
 *                      the child listens itself and signals on its stdout once it serves.
 */
export type ServeMode = 'listener-fd' | 'ready-handshake';

export interface StdioWriterOptions {
  /** Windows: how long stdout/stderr redial a vanished reader (io_retry_timeout_in_sec × 1000; 0 = forever). */
  readonly retryTimeoutMs?: number;
  /** Windows: called on each redial attempt (for logs). */
  readonly onRedial?: (event: { attempt: number; delayMs: number; error?: Error }) => void;
}

/** Transport plus what the shim process itself needs from the platform. */
export interface PlatformTransport extends Transport {
  /** Serves a local endpoint (the shim's own ttrpc address): a unix socket path, or a named pipe. */
  listen(address: string): Promise<Listener>;
  readonly serveMode: ServeMode;
  /** The address the shim serves on and prints from `start`. */
  shimAddress(namespace: string, id: string, containerdAddress: string): string;
  /** Opens containerd's stdin endpoint (Linux: a FIFO; Windows: dials its named pipe). */
  openStdioReader(path: string): Promise<Readable>;
  /** Opens a stdout/stderr endpoint (Linux: a FIFO; Windows: dials its pipe, redialling if the reader goes). */
  openStdioWriter(path: string, opts?: StdioWriterOptions): Promise<Writable>;
}

export function createTransport(opts: TransportOptions = {}): PlatformTransport {
  const platform = opts.platform ?? process.platform;
  if (platform === 'win32') return new WindowsTransport({ winsockLibrary: opts.winsockLibrary });
  return new UnixTransport({ emulatorRoot: opts.emulatorRoot });
}
