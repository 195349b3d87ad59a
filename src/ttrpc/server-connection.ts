import type { Duplex } from 'node:stream';
import { ErrorCode, ShimError, invalidArgument } from '../errdefs/index.js';
import type { Logger } from '../log/index.js';
import { ttrpc } from '../proto/index.js';
import { OversizedMessageError, TtrpcClosedError } from './errors.js';
import { MAX_MESSAGE_LENGTH, MessageType } from './frame.js';
import type { Frame } from './frame.js';
import { FrameDecoder, type DecodeEvent } from './frame-decoder.js';
import { encodeFrame } from './frame-encoder.js';
import { RequestDecoder, type DecodedRequest } from './request-decoder.js';
import { encodeOkResponseFrame, okResponseLength } from './response-frame.js';
import { TickWriter } from './tick-writer.js';
import { ServerCall } from './server-call.js';
import type { ServiceRegistry } from './service-registry.js';
import { toStatus } from './status.js';

/** setTimeout's ceiling; a longer deadline is treated as none (it is ~24.8 days away). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * What one connection may hold before the server stops reading it (reading resumes once it is back under):
 * replies written but not yet taken by the peer, calls running, and the request bytes those calls hold.
 * With the decoder's partial frame (≤ 4 MiB, only what arrived) and the frames of the last chunk read, this
 * bounds a connection's memory whatever its peer does. Go ttrpc gets the same effect by blocking on write.
 */
export const FLOW_LIMITS = {
  replyHighWaterBytes: 256 << 10,
  maxCallsInFlight: 4096,
  maxRequestBytesInFlight: 16 << 20,
};

/** What one connection holds (TtrpcServer.flows()). */
export interface ConnectionFlow {
  /** Reading is stopped (a flow limit was reached, or decoded frames wait). */
  readonly paused: boolean;
  readonly callsInFlight: number;
  /** Request payload bytes held by the calls in flight. */
  readonly requestBytes: number;
  /** Reply bytes written but not yet taken by the peer's socket. */
  readonly replyBytes: number;
  /** Decoded frames waiting to be served. */
  readonly backlog: number;
}

/**
 * The server side of one connection: reads frames, runs every Request concurrently, writes each
 * Response when its handler finishes (completion order, matched by stream id).
 *
 * Rules (see PROTOCOL.md): even stream id → InvalidArgument on that id; Data and unknown types are
 * ignored; stream ids must strictly increase (ttrpc ≥ 1.2 rule); an undecodable Request →
 * InvalidArgument; an oversized frame → ResourceExhausted on its stream. None of these close the
 * connection. Peer EOF or a socket error closes it and aborts every call still running.
 *
 * Flow control: while the peer leaves more than FLOW_LIMITS.replyHighWaterBytes of replies unread, or the
 * calls running or the request bytes they hold reach their limits, the connection is paused (nothing more
 * is read, so the peer's writes back up in the kernel); frames already decoded wait in `backlog`, in order.
 * Reading resumes on 'drain' and as calls finish. destroy() drops everything the connection holds.
 *
 * States: open → draining (shutdown asked; closes once no call is running) → closed.
 *         Orthogonal: reading ⇄ paused (over a flow limit, or backlog not yet served).
 */
export class ServerConnection {
  private decoder = new FrameDecoder();
  private readonly requests = new RequestDecoder();
  private readonly active = new Set<ServerCall>();
  private requestBytes = 0;
  /** Decoded frames not yet served because a flow limit was reached (served from backlogAt on). */
  private backlog: Array<DecodeEvent | undefined> = [];
  private backlogAt = 0;
  private paused = false;
  private lastStreamId = 0;
  private draining = false;
  /** Set once the graceful close has begun: nothing more is read or written. */
  private ending = false;
  private closed = false;
  private readonly out: TickWriter;

  constructor(
    private readonly conn: Duplex,
    private readonly registry: ServiceRegistry,
    private readonly log: () => Logger,
    private readonly onClose: (c: ServerConnection) => void,
  ) {
    this.out = new TickWriter(conn);
    conn.on('data', (chunk: Buffer) => this.onData(chunk));
    conn.on('drain', () => this.serveBacklog());
    conn.on('end', () => this.destroy());
    conn.on('close', () => this.destroy());
    conn.on('error', (err: Error) => {
      this.log().debug('ttrpc: server connection error', { error: err.message });
      this.destroy(err);
    });
  }

  /** True when no request is running or waiting to be served. */
  get idle(): boolean {
    return this.active.size === 0 && this.backlogAt === this.backlog.length;
  }

  /** What the connection holds now (for tests and diagnostics). */
  get flow(): ConnectionFlow {
    return {
      paused: this.paused,
      callsInFlight: this.active.size,
      requestBytes: this.requestBytes,
      replyBytes: this.conn.writableLength,
      backlog: this.backlog.length - this.backlogAt,
    };
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
    this.requestBytes = 0;
    this.backlog = [];
    this.backlogAt = 0;
    this.decoder = new FrameDecoder(); // drops a partial frame
    this.conn.destroy();
    this.onClose(this);
  }

  private onData(chunk: Buffer): void {
    if (this.closed || this.ending) return;
    const events = this.decoder.decode(chunk);
    if (this.backlogAt < this.backlog.length) {
      for (const ev of events) this.backlog.push(ev); // behind frames still waiting: keep the order
    } else {
      let i = 0;
      for (; i < events.length && !this.overLimit(); i++) this.onEvent(events[i] as DecodeEvent);
      if (i < events.length) {
        this.backlog = events;
        this.backlogAt = i;
      }
    }
    this.updateReading();
  }

  private onEvent(ev: DecodeEvent): void {
    if (ev.kind === 'oversized') this.sendError(ev.streamId, new OversizedMessageError(ev.length));
    else this.onFrame(ev.frame);
  }

  /** Serves waiting frames while under the limits (after a 'drain' or a finished call). */
  private serveBacklog(): void {
    while (this.backlogAt < this.backlog.length && !this.overLimit() && !this.closed && !this.ending) {
      const ev = this.backlog[this.backlogAt];
      this.backlog[this.backlogAt++] = undefined; // released as soon as served
      if (ev !== undefined) this.onEvent(ev);
    }
    if (this.backlog.length > 0 && this.backlogAt === this.backlog.length) {
      this.backlog = [];
      this.backlogAt = 0;
    }
    this.updateReading();
  }

  private overLimit(): boolean {
    return (
      this.conn.writableLength > FLOW_LIMITS.replyHighWaterBytes ||
      this.active.size >= FLOW_LIMITS.maxCallsInFlight ||
      this.requestBytes >= FLOW_LIMITS.maxRequestBytesInFlight
    );
  }

  /** Pauses reading while over a limit or frames wait; resumes otherwise. */
  private updateReading(): void {
    if (this.closed) return;
    const pause = this.overLimit() || this.backlogAt < this.backlog.length;
    if (pause === this.paused) return;
    this.paused = pause;
    if (pause) this.conn.pause();
    else this.conn.resume();
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
    let req: DecodedRequest;
    try {
      req = this.requests.decode(frame.data);
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      this.sendError(id, invalidArgument(`unmarshal request error: ${text}`, err));
      return;
    }
    this.dispatch(id, req);
  }

  private dispatch(streamId: number, req: DecodedRequest): void {
    let handler;
    try {
      handler = this.registry.resolve(req.service, req.method);
    } catch (err) {
      this.sendError(streamId, err);
      return;
    }
    const timeoutMs = req.timeoutNano / 1e6;
    const call = new ServerCall(streamId, req, timeoutMs);
    this.active.add(call);
    this.requestBytes += call.bytes;
    if (timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS) {
      // The caller has given up by then: answer DeadlineExceeded now and tell the handler to stop.
      call.timer = setTimeout(() => {
        const error = new ShimError(ErrorCode.DeadlineExceeded, 'context deadline exceeded');
        this.finish(call, undefined, error);
        call.abort.abort(error);
      }, Math.ceil(timeoutMs));
    }
    let answer: Promise<unknown>;
    try {
      answer = Promise.resolve(handler(req.payload, call));
    } catch (err) {
      answer = Promise.reject(err);
    }
    answer.then(
      (payload) => {
        if (payload instanceof Uint8Array) this.finish(call, payload, undefined);
        else this.finish(call, undefined, notBytes(call.service, call.method));
      },
      (error: unknown) => this.finish(call, undefined, error),
    );
  }

  /** Answers `call` once (its payload, else its error) and serves what waited for it. */
  private finish(call: ServerCall, payload: Uint8Array | undefined, error: unknown): void {
    if (call.answered) return;
    call.answered = true;
    clearTimeout(call.timer);
    this.active.delete(call);
    this.requestBytes -= call.bytes;
    this.sendOutcome(call.streamId, payload, error);
    this.serveBacklog();
    this.closeIfDrained();
  }

  private sendOutcome(streamId: number, payload: Uint8Array | undefined, error: unknown): void {
    if (payload !== undefined) {
      // OK leaves the status out; an empty reply (google.protobuf.Empty) makes a 0-byte Response.
      const length = okResponseLength(payload.length);
      if (length > MAX_MESSAGE_LENGTH) this.write(streamId, encodeStatus(new OversizedMessageError(length)));
      else if (!this.closed && !this.ending) this.out.write(encodeOkResponseFrame(streamId, payload));
    } else {
      this.log().debug('ttrpc: call failed', { streamId, error: String(error) });
      this.sendError(streamId, error);
    }
  }

  private sendError(streamId: number, error: unknown): void {
    this.write(streamId, encodeStatus(error));
  }

  private write(streamId: number, data: Uint8Array): void {
    if (this.closed || this.ending) return;
    this.out.write(encodeFrame(streamId, MessageType.Response, 0, data));
  }

  private closeIfDrained(): void {
    if (!this.draining || !this.idle || this.closed || this.ending) return;
    this.ending = true;
    this.conn.end(() => this.destroy());
  }
}

function encodeStatus(error: unknown): Uint8Array {
  return ttrpc.Response.encode({ status: toStatus(error) }).finish();
}

function notBytes(service: string, method: string): ShimError {
  return new ShimError(ErrorCode.Internal, `ttrpc: handler ${service}/${method} did not return bytes`);
}
