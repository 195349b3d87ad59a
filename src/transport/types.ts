import type { Duplex } from 'node:stream';

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
