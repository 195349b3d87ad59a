/**
 * Where serialized ForwardRequests go: containerd's ttrpc Events service, over one lazily dialed connection
 * that is re-dialed once when it turns out to be closed (containerd restarted, or the connection idled out).
 */
import { ErrorCode, ShimError, unavailable } from '../../errdefs/index.js';
import { logTeardown, type Logger } from '../../log/index.js';
import { NAMESPACE_METADATA_KEY, TtrpcClient, type Dialer } from '../../ttrpc/index.js';
import { EVENTS_SERVICE, FORWARD_METHOD } from './encode-event.js';

/** The part of a ttrpc client the publisher uses. TtrpcClient satisfies it. */
export interface EventConnection {
  /** True once the connection is gone; every later call fails. */
  readonly isClosed: boolean;
  call(
    service: string,
    method: string,
    payload: Uint8Array,
    opts: { timeoutMs: number; metadata: Readonly<Record<string, string>> },
  ): Promise<Uint8Array>;
  close(): Promise<unknown>;
}

/** Dials containerd's ttrpc address (a socket path; `unix://` optional). Must honour `signal`. */
export type EventConnect = (address: string, signal: AbortSignal) => Promise<EventConnection>;

/** A ttrpc client dialled with the platform's `dial` (the transport's, passed down from entry.ts). */
export const connectTtrpc = (dial: Dialer): EventConnect => (address, signal) => TtrpcClient.connect(address, { dial, signal });

/** Delivers one serialized ForwardRequest, or rejects. */
export interface EventSink {
  forward(request: Uint8Array): Promise<void>;
  /** Closes the connection; later forwards fail with Unavailable. Idempotent. */
  close(): Promise<void>;
}

export interface TtrpcEventSinkOptions {
  readonly address: string;
  readonly namespace: string;
  readonly connect: EventConnect;
  /** Per-Forward deadline, also the dial deadline. */
  readonly timeoutMs: number;
  readonly log: Logger;
}

export class TtrpcEventSink implements EventSink {
  private conn: EventConnection | undefined;
  private closed = false;

  constructor(private readonly opts: TtrpcEventSinkOptions) {}

  /**
   * One Forward with the namespace metadata containerd requires. If the call fails because the connection
   * closed under it, the connection is re-dialed once and the call repeated (Go publisher: "reconnect
   * once on ttrpc: closed"). Any other failure is the caller's to retry.
   */
  async forward(request: Uint8Array): Promise<void> {
    const first = await this.connection();
    try {
      await this.call(first, request);
      return;
    } catch (err) {
      if (!first.isClosed || this.closed) throw err;
      this.opts.log.debug('events: connection to containerd closed, reconnecting once', { error: String(err) });
    }
    await this.call(await this.connection(), request);
  }

  async close(): Promise<void> {
    this.closed = true;
    const conn = this.conn;
    this.conn = undefined;
    await conn?.close().catch(logTeardown(this.opts.log, 'events: closing the connection to containerd'));
  }

  private call(conn: EventConnection, request: Uint8Array): Promise<Uint8Array> {
    return conn.call(EVENTS_SERVICE, FORWARD_METHOD, request, {
      timeoutMs: this.opts.timeoutMs,
      metadata: { [NAMESPACE_METADATA_KEY]: this.opts.namespace },
    });
  }

  /** The open connection, dialing a new one when there is none or it has closed. */
  private async connection(): Promise<EventConnection> {
    if (this.closed) throw unavailable('events: publisher closed');
    if (this.conn !== undefined && !this.conn.isClosed) return this.conn;
    this.conn = undefined;
    let conn: EventConnection;
    try {
      conn = await this.opts.connect(this.opts.address, AbortSignal.timeout(this.opts.timeoutMs));
    } catch (err) {
      throw ShimError.from(err, ErrorCode.Unavailable, `events: connect ${this.opts.address}`);
    }
    if (this.closed) {
      await conn.close().catch(logTeardown(this.opts.log, 'events: closing a connection opened after close'));
      throw unavailable('events: publisher closed');
    }
    this.conn = conn;
    return conn;
  }
}
