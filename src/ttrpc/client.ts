import type { Duplex } from 'node:stream';
import { ErrorCode, ShimError, invalidArgument, isErrorCode, unavailable } from '../errdefs/index.js';
import { ttrpc } from '../proto/index.js';
import { OversizedMessageError, TtrpcClosedError } from './errors.js';
import { MAX_STREAM_ID, MessageType } from './frame.js';
import type { Frame } from './frame.js';
import { FrameDecoder } from './frame-decoder.js';
import { encodeFrame } from './frame-encoder.js';
import { metadataToPairs } from './metadata.js';
import type { MetadataInit } from './metadata.js';
import { encodeRequestFrame } from './request-frame.js';
import { okResponsePayload } from './response-frame.js';
import { fromStatus } from './status.js';
import { TickWriter } from './tick-writer.js';

/** setTimeout's ceiling; a longer timeout is sent to the server but not enforced locally. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Opens a byte stream to `address` (the platform's dial: src/transport's Transport.dial, passed down by the
 * caller, since ttrpc is a leaf that knows no platform). Rejects Canceled when `signal` aborts.
 */
export type Dialer = (address: string, signal?: AbortSignal) => Promise<Duplex>;

export interface ConnectOptions {
  /** How to reach the address: a unix socket path (`unix://` optional) or a named pipe. */
  readonly dial: Dialer;
  /** Aborts the dial (Canceled). */
  readonly signal?: AbortSignal;
}

export interface TtrpcCallOptions {
  /** Deadline in ms: sent as timeout_nano and enforced locally (DeadlineExceeded). Default: none. */
  readonly timeoutMs?: number;
  /** Stops waiting (Canceled). The server is not told; its answer, if any, is dropped. */
  readonly signal?: AbortSignal;
  /** Sent as repeated KeyValue, keys lower-cased (e.g. containerd-namespace-ttrpc). */
  readonly metadata?: MetadataInit;
}

/**
 * A call waiting for its answer: settles once (answer, deadline, cancel or close), and settling removes it
 * from the client's table with its timer and abort listener.
 */
class Pending {
  timer: NodeJS.Timeout | undefined = undefined;
  private signal: AbortSignal | undefined = undefined;
  private onAbort: (() => void) | undefined = undefined;

  constructor(
    private readonly table: Map<number, Pending>,
    private readonly streamId: number,
    private readonly onResolve: (payload: Uint8Array) => void,
    private readonly onReject: (err: unknown) => void,
  ) {}

  /** Rejects with `error()` when `signal` aborts. */
  watch(signal: AbortSignal, error: () => unknown): void {
    this.signal = signal;
    this.onAbort = () => this.reject(error());
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  resolve(payload: Uint8Array): void {
    this.cleanup();
    this.onResolve(payload);
  }

  reject(err: unknown): void {
    this.cleanup();
    this.onReject(err);
  }

  private cleanup(): void {
    clearTimeout(this.timer);
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
    this.table.delete(this.streamId);
  }
}

/**
 * A ttrpc client on one connection: unary calls, many in flight, matched to replies by stream id.
 * Stream ids are odd, start at 1 and grow by 2 (strictly increasing, as ttrpc ≥ 1.2 servers demand).
 * When the connection ends, every pending and later call fails with TtrpcClosedError (Unavailable);
 * `closed` resolves with that error.
 */
export class TtrpcClient {
  /** Resolves once the connection is gone, with the error pending calls got. */
  readonly closed: Promise<TtrpcClosedError>;
  private readonly decoder = new FrameDecoder();
  private readonly pending = new Map<number, Pending>();
  private nextStreamId = 1;
  private closeError: TtrpcClosedError | undefined;
  private resolveClosed: (err: TtrpcClosedError) => void = () => undefined;
  private readonly out: TickWriter;

  /**
   * Dials `address` with `opts.dial` and wraps the connection. Fails with Unavailable when nobody listens
   * (whatever the dialer's own code), Canceled when `signal` aborts first.
   */
  static async connect(address: string, opts: ConnectOptions): Promise<TtrpcClient> {
    let conn: Duplex;
    try {
      conn = await opts.dial(address, opts.signal);
    } catch (err) {
      if (isErrorCode(err, ErrorCode.Canceled)) throw new ShimError(ErrorCode.Canceled, `ttrpc: dial ${address}: canceled`, { cause: err });
      // Unavailable only: the dialer's own code (e.g. NotFound for a missing socket) must not show through the chain.
      const cause = err instanceof ShimError && err.cause !== undefined ? err.cause : err;
      throw unavailable(`ttrpc: dial ${address}: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
    }
    return new TtrpcClient(conn);
  }

  /** Wraps an already-open duplex byte stream (the client owns it from now on). */
  constructor(private readonly conn: Duplex) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.out = new TickWriter(conn);
    conn.on('data', (chunk: Buffer) => this.onData(chunk));
    conn.on('end', () => this.fail(undefined));
    conn.on('close', () => this.fail(undefined));
    conn.on('error', (err: Error) => this.fail(err));
  }

  get isClosed(): boolean {
    return this.closeError !== undefined;
  }

  /** One unary call: resolves with the reply payload or rejects (TtrpcStatusError for a non-OK status). */
  call(service: string, method: string, payload: Uint8Array, opts: TtrpcCallOptions = {}): Promise<Uint8Array> {
    const { timeoutMs, signal } = opts;
    if (this.closeError !== undefined) return Promise.reject(new TtrpcClosedError(this.closeError.cause));
    if (timeoutMs !== undefined && !(timeoutMs > 0 && Number.isFinite(timeoutMs))) {
      return Promise.reject(invalidArgument(`ttrpc: timeoutMs must be a positive number, got ${timeoutMs}`));
    }
    const label = `${service}/${method}`;
    if (signal?.aborted === true) return Promise.reject(canceled(label, signal));
    if (this.nextStreamId > MAX_STREAM_ID) {
      return Promise.reject(new ShimError(ErrorCode.Unavailable, 'ttrpc: stream ids exhausted on this connection'));
    }
    const streamId = this.nextStreamId;
    this.nextStreamId += 2;
    let frame: Buffer;
    try {
      const timeoutNano = timeoutMs === undefined ? 0 : Math.round(timeoutMs * 1e6);
      const metadata = metadataToPairs(opts.metadata);
      frame =
        encodeRequestFrame(streamId, service, method, payload, timeoutNano, metadata) ??
        encodeFrame(streamId, MessageType.Request, 0, ttrpc.Request.encode({ service, method, payload, timeout_nano: timeoutNano, metadata }).finish());
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      const entry = new Pending(this.pending, streamId, resolve, reject);
      this.pending.set(streamId, entry);
      if (timeoutMs !== undefined && timeoutMs <= MAX_TIMER_MS) {
        entry.timer = setTimeout(() => {
          entry.reject(new ShimError(ErrorCode.DeadlineExceeded, `ttrpc: ${label}: context deadline exceeded`));
        }, timeoutMs);
      }
      if (signal !== undefined) entry.watch(signal, () => canceled(label, signal));
      this.out.write(frame);
    });
  }

  /** Closes the connection; pending calls fail with TtrpcClosedError. Resolves when closed. */
  close(): Promise<TtrpcClosedError> {
    this.fail(undefined);
    return this.closed;
  }

  private onData(chunk: Buffer): void {
    for (const ev of this.decoder.decode(chunk)) {
      if (ev.kind === 'frame') this.onFrame(ev.frame);
      else if (ev.type === MessageType.Response) this.pending.get(ev.streamId)?.reject(new OversizedMessageError(ev.length));
    }
  }

  private onFrame(frame: Frame): void {
    if (frame.type !== MessageType.Response) return; // We open no streams: Data and unknown types are dropped.
    const entry = this.pending.get(frame.streamId);
    if (entry === undefined) return; // Timed out or canceled: the late answer is dropped.
    const ok = okResponsePayload(frame.data); // the usual OK shape, without the generated decoder
    if (ok !== undefined) {
      entry.resolve(ok);
      return;
    }
    let resp: ttrpc.Response;
    try {
      resp = ttrpc.Response.decode(frame.data);
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      entry.reject(new ShimError(ErrorCode.Internal, `ttrpc: malformed response on stream ${frame.streamId}: ${text}`, { cause: err }));
      return;
    }
    const failure = fromStatus(resp.status);
    if (failure !== undefined) entry.reject(failure);
    else entry.resolve(resp.payload ?? new Uint8Array(0));
  }

  private fail(cause: unknown): void {
    if (this.closeError !== undefined) return;
    const err = new TtrpcClosedError(cause);
    this.closeError = err;
    for (const entry of [...this.pending.values()]) entry.reject(new TtrpcClosedError(cause));
    this.conn.destroy();
    this.resolveClosed(err);
  }
}

function canceled(label: string, signal: AbortSignal | undefined): ShimError {
  return new ShimError(ErrorCode.Canceled, `ttrpc: ${label}: canceled`, { cause: signal?.reason });
}
