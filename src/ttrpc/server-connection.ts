import type { Duplex } from 'node:stream';
import { ErrorCode, ShimError, invalidArgument } from '../errdefs/index.js';
import type { Logger } from '../log/index.js';
import { ttrpc } from '../proto/index.js';
import { OversizedMessageError, TtrpcClosedError } from './errors.js';
import { MAX_MESSAGE_LENGTH, MessageType } from './frame.js';
import type { Frame } from './frame.js';
import { FrameDecoder } from './frame-decoder.js';
import { encodeFrame } from './frame-encoder.js';
import { metadataFromPairs } from './metadata.js';
import type { RpcContext } from './rpc-context.js';
import type { ServiceRegistry } from './service-registry.js';
import { toStatus } from './status.js';

/** setTimeout's ceiling; a longer deadline is treated as none (it is ~24.8 days away). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** One request being served: its abort switch, deadline timer and whether it has been answered. */
interface ActiveCall {
  readonly abort: AbortController;
  timer: NodeJS.Timeout | undefined;
  answered: boolean;
}

type Outcome = { readonly ok: true; readonly payload: Uint8Array } | { readonly ok: false; readonly error: unknown };

/**
 * The server side of one connection: reads frames, runs every Request concurrently, writes each
 * Response when its handler finishes (completion order, matched by stream id).
 *
 * Rules (see PROTOCOL.md): even stream id → InvalidArgument on that id; Data and unknown types are
 * ignored; stream ids must strictly increase (ttrpc ≥ 1.2 rule); an undecodable Request →
 * InvalidArgument; an oversized frame → ResourceExhausted on its stream. None of these close the
 * connection. Peer EOF or a socket error closes it and aborts every call still running.
 *
 * States: open → draining (shutdown asked; closes once no call is running) → closed.
 */
export class ServerConnection {
  private readonly decoder = new FrameDecoder();
  private readonly active = new Set<ActiveCall>();
  private lastStreamId = 0;
  private draining = false;
  /** Set once the graceful close has begun: nothing more is read or written. */
  private ending = false;
  private closed = false;

  constructor(
    private readonly conn: Duplex,
    private readonly registry: ServiceRegistry,
    private readonly log: () => Logger,
    private readonly onClose: (c: ServerConnection) => void,
  ) {
    conn.on('data', (chunk: Buffer) => this.onData(chunk));
    conn.on('end', () => this.destroy());
    conn.on('close', () => this.destroy());
    conn.on('error', (err: Error) => {
      this.log().debug('ttrpc: server connection error', { error: err.message });
      this.destroy(err);
    });
  }

  /** True when no request is running. */
  get idle(): boolean {
    return this.active.size === 0;
  }

  /** Graceful close: finish the calls in flight (and any that still arrive), then close once idle. */
  closeWhenIdle(): void {
    this.draining = true;
    this.closeIfDrained();
  }

  /** Immediate close: aborts running handlers (their answers are dropped). Idempotent. */
  destroy(cause?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    const reason = new TtrpcClosedError(cause);
    for (const call of this.active) {
      clearTimeout(call.timer);
      call.answered = true;
      call.abort.abort(reason);
    }
    this.active.clear();
    this.conn.destroy();
    this.onClose(this);
  }

  private onData(chunk: Buffer): void {
    if (this.closed || this.ending) return;
    for (const ev of this.decoder.decode(chunk)) {
      if (ev.kind === 'oversized') this.sendError(ev.streamId, new OversizedMessageError(ev.length));
      else this.onFrame(ev.frame);
    }
  }

  private onFrame(frame: Frame): void {
    const id = frame.streamId;
    if (id % 2 !== 1) {
      this.sendError(id, invalidArgument('StreamID must be odd for client initiated streams'));
      return;
    }
    if (frame.type !== MessageType.Request) return; // Data (streaming) and unknown types: ignored.
    if (id <= this.lastStreamId) {
      this.sendError(id, invalidArgument('StreamID cannot be re-used and must increment'));
      return;
    }
    this.lastStreamId = id;
    let req: ttrpc.Request;
    try {
      req = ttrpc.Request.decode(frame.data);
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      this.sendError(id, invalidArgument(`unmarshal request error: ${text}`, err));
      return;
    }
    this.dispatch(id, req);
  }

  private dispatch(streamId: number, req: ttrpc.Request): void {
    const service = req.service ?? '';
    const method = req.method ?? '';
    let handler;
    try {
      handler = this.registry.resolve(service, method);
    } catch (err) {
      this.sendError(streamId, err);
      return;
    }
    const call: ActiveCall = { abort: new AbortController(), timer: undefined, answered: false };
    const timeoutMs = int64ToNumber(req.timeout_nano) / 1e6;
    const ctx: RpcContext = {
      service,
      method,
      streamId,
      metadata: metadataFromPairs(req.metadata),
      signal: call.abort.signal,
      deadline: timeoutMs > 0 ? Date.now() + timeoutMs : undefined,
    };
    this.active.add(call);
    const finish = (outcome: Outcome): void => {
      if (call.answered) return;
      call.answered = true;
      clearTimeout(call.timer);
      this.active.delete(call);
      this.sendOutcome(streamId, outcome);
      this.closeIfDrained();
    };
    if (timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS) {
      // The caller has given up by then: answer DeadlineExceeded now and tell the handler to stop.
      call.timer = setTimeout(() => {
        const error = new ShimError(ErrorCode.DeadlineExceeded, 'context deadline exceeded');
        finish({ ok: false, error });
        call.abort.abort(error);
      }, Math.ceil(timeoutMs));
    }
    invoke(() => handler(req.payload ?? new Uint8Array(0), ctx)).then(
      (payload) => finish(payload instanceof Uint8Array ? { ok: true, payload } : { ok: false, error: notBytes(service, method) }),
      (error: unknown) => finish({ ok: false, error }),
    );
  }

  private sendOutcome(streamId: number, outcome: Outcome): void {
    if (outcome.ok) {
      // OK leaves the status out; an empty reply (google.protobuf.Empty) makes a 0-byte Response.
      let data = ttrpc.Response.encode({ payload: outcome.payload }).finish();
      if (data.length > MAX_MESSAGE_LENGTH) data = encodeStatus(new OversizedMessageError(data.length));
      this.write(streamId, data);
    } else {
      this.log().debug('ttrpc: call failed', { streamId, error: String(outcome.error) });
      this.sendError(streamId, outcome.error);
    }
  }

  private sendError(streamId: number, error: unknown): void {
    this.write(streamId, encodeStatus(error));
  }

  private write(streamId: number, data: Uint8Array): void {
    if (this.closed || this.ending) return;
    this.conn.write(encodeFrame(streamId, MessageType.Response, 0, data));
  }

  private closeIfDrained(): void {
    if (!this.draining || !this.idle || this.closed || this.ending) return;
    this.ending = true;
    this.conn.end(() => this.destroy());
  }
}

/**
 * An int64 field as a number. Set fields decode as numbers (src/proto turns Long off), but an absent
 * field yields the generated default, which may be a Long-shaped {low, high} object.
 */
function int64ToNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && v !== null && 'low' in v && 'high' in v) {
    const { low, high } = v as { low: number; high: number };
    return high * 2 ** 32 + (low >>> 0);
  }
  return 0;
}

function encodeStatus(error: unknown): Uint8Array {
  return ttrpc.Response.encode({ status: toStatus(error) }).finish();
}

function invoke(fn: () => Promise<Uint8Array>): Promise<unknown> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}

function notBytes(service: string, method: string): ShimError {
  return new ShimError(ErrorCode.Internal, `ttrpc: handler ${service}/${method} did not return bytes`);
}
