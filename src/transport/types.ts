import type { Duplex, Readable, Writable } from 'node:stream';

/**
 * A Hyper-V socket address: the VM (its HCS RuntimeId GUID) and the service id GUID
 * (for LCOW, VsockServiceID(port) = `<port as 8 hex digits>-facb-11e6-bd58-64006a7986d3`).
 */
export interface HvSocketAddress {
  readonly vmId: string;
  readonly serviceId: string;
}

/** A byte stream with half-close: `end()` shuts down the send side (stdin EOF), reading goes on. */
export type Connection = Duplex;

/** A listener that hands out connections one at a time. */
export interface Listener {
  /** Human-readable address (a socket path, a pipe name or `hvsock://vm/service`), for logs and errors. */
  readonly address: string;
  /**
   * Waits for the next connection. MUST reject with a ShimError (Canceled) when `signal` aborts and with
   * Unavailable when the listener is closed while waiting.
   */
  accept(signal?: AbortSignal): Promise<Connection>;
  /** Stops listening; pending accepts fail. Idempotent. */
  close(): Promise<void>;
}

/** The one platform seam: how the shim listens for and dials its peers. Chosen once, at start-up. */
export interface Transport {
  readonly platform: 'windows' | 'linux';
  /** Listens for a utility VM's connection on a Hyper-V socket (emulated as a unix socket on Linux). */
  listenHvSocket(address: HvSocketAddress): Promise<Listener>;
  /** Dials a local endpoint: a unix socket path (`unix://` optional) or a named pipe. */
  dial(address: string, signal?: AbortSignal): Promise<Connection>;
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
  /**
   * CloseIO: the client wrote all of stdin. The reader MUST still deliver every byte already written, then
   * reach EOF once the client's writers are closed (Linux FIFO: even if none was ever opened).
   */
  releaseStdioReader(path: string): Promise<void>;
  /** Opens a stdout/stderr endpoint (Linux: a FIFO; Windows: dials its pipe, redialling if the reader goes). */
  openStdioWriter(path: string, opts?: StdioWriterOptions): Promise<Writable>;
  /**
   * Who process `pid` is now (start time and image), or undefined when it is gone or cannot be queried:
   * recorded by `start`, compared by `delete` before it signals (a reused pid is someone else).
   */
  processIdentity(pid: number): Promise<ProcessIdentity | undefined>;
}

/** Which process a pid is: the same pid, start time and image mean the same process (process-identity.ts). */
export interface ProcessIdentity {
  readonly pid: number;
  /** Opaque but stable for the life of the process: a FILETIME or a boot-relative tick count, as a decimal string. */
  readonly startTime: string;
  /** The executable's full path. */
  readonly image: string;
}
