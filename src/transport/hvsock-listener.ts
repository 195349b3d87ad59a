/**
 * A Hyper-V socket listener over Winsock: socket(AF_HYPERV, SOCK_STREAM, HV_PROTOCOL_RAW), bind to a
 * SOCKADDR_HV (VM runtime id, service id), listen, then blocking accept() calls on the libuv threadpool.
 *
 * At most one native accept is in flight, and only while someone waits: its connection goes to the first
 * waiter, or queues (like a kernel backlog) when that waiter gave up. Contract (types.ts):
 *   accept(signal)  Canceled when the signal aborts (the native accept stays pending for the next caller);
 *                   Unavailable when the listener is closed before or while waiting.
 *   close()         closesocket on the main thread, which makes the pending native accept fail (hcsshim
 *                   cancels an accept the same way); waiters are rejected with that failure as the cause.
 *                   Resolves once the native accept has returned, so no pool thread stays blocked.
 */
import { ErrorCode, ShimError, unavailable } from '../errdefs/index.js';
import { AcceptQueue } from './accept-queue.js';
import { HvSocketConnection } from './hvsock-connection.js';
import { AF_HYPERV, HV_PROTOCOL_RAW, SOCKADDR_HV_SIZE, encodeSockaddrHv } from './sockaddr-hv.js';
import type { Connection, HvSocketAddress, Listener } from './types.js';
import { WinsockError } from './winsock-error.js';
import { callAsync, callSync, type SocketHandle, type WinsockLibrary } from './winsock-ffi.js';

const SOCK_STREAM = 1;
/** go-winio listens with a backlog of 16. */
const LISTEN_BACKLOG = 16;
/** Accepted connections nobody took yet; beyond this they are closed. */
const MAX_QUEUED = 64;

/** Creates, binds and listens; every failure closes the socket and names the address and the WSA code. */
export function listenHvSocketWinsock(lib: WinsockLibrary, address: HvSocketAddress): HvSocketListener {
  const label = `hvsock://${address.vmId}/${address.serviceId}`;
  const name = encodeSockaddrHv(address); // validates both GUIDs before any native call
  const s = callSync(lib, 'socket', AF_HYPERV, SOCK_STREAM, HV_PROTOCOL_RAW);
  if (s.value === -1) throw new WinsockError('socket', s.wsaCode, `(AF_HYPERV, SOCK_STREAM, HV_PROTOCOL_RAW) for ${label}`);
  const sock = s.value as SocketHandle;
  for (const [call, args] of [
    ['bind', [name, SOCKADDR_HV_SIZE]],
    ['listen', [LISTEN_BACKLOG]],
  ] as const) {
    const r = callSync(lib, call, sock, ...args);
    if (r.value === -1) {
      callSync(lib, 'closesocket', sock);
      throw new WinsockError(call, r.wsaCode, label);
    }
  }
  return new HvSocketListener(lib, sock, label);
}

export class HvSocketListener implements Listener {
  readonly address: string;
  private readonly lib: WinsockLibrary;
  private readonly sock: SocketHandle;
  private readonly connections: AcceptQueue;
  private inFlight: Promise<void> | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private accepted = 0;

  constructor(lib: WinsockLibrary, sock: SocketHandle, address: string) {
    this.lib = lib;
    this.sock = sock;
    this.address = address;
    this.connections = new AcceptQueue(address, MAX_QUEUED);
  }

  accept(signal?: AbortSignal): Promise<Connection> {
    return this.connections.accept(signal, () => this.pump());
  }

  /** Starts a native accept when someone waits and none is running. */
  private pump(): void {
    if (this.inFlight !== undefined || this.closed || !this.connections.hasWaiters) return;
    this.inFlight = callAsync(this.lib, 'accept', this.sock, null, null).then(
      (r) => this.onAccepted(r.value, r.wsaCode),
      (err: Error) => this.onAccepted(-1, 0, err),
    );
  }

  private onAccepted(value: number, wsaCode: number, koffiError?: Error): void {
    this.inFlight = undefined;
    if (value !== -1) {
      this.connections.offer(new HvSocketConnection(this.lib, value as SocketHandle, `${this.address}#${++this.accepted}`));
      this.pump();
      return;
    }
    const cause = koffiError ?? new WinsockError('accept', wsaCode, `on ${this.address}`);
    const err = this.closed
      ? unavailable(`listener ${this.address} closed while waiting for a connection`, cause)
      : cause instanceof ShimError
        ? cause
        : ShimError.from(cause, ErrorCode.Unavailable, `accept on ${this.address}`);
    // A failed accept on an open listener fails every waiter: the socket is unusable (the caller closes it).
    this.connections.failWaiters(err);
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    callSync(this.lib, 'closesocket', this.sock);
    this.connections.close();
    if (this.inFlight !== undefined) await this.inFlight;
    // Nothing was in flight: waiters (if any) never reached a native call.
    this.connections.failWaiters(unavailable(`listener ${this.address} closed while waiting for a connection`));
  }
}
