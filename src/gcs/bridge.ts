/**
 * The host end of the GCS bridge: numbers requests, writes them, pairs responses by id (in any order),
 * delivers container notifications, and fails everything with GcsBridgeClosedError once the connection
 * is gone. Modelled on hcsshim's internal/gcs bridge (RPC / AsyncRPC / kill), minus live migration.
 *
 * Lifecycle:  open --(close(), peer EOF, socket error, protocol violation, RPC timeout)--> closed (terminal)
 * On closing, the connection is destroyed and every pending call rejects with GcsBridgeClosedError whose
 * `cause` is the reason (undefined for close() or a clean EOF between frames).
 *
 * Fatal protocol violations (logged at error level with the offending type/id): a frame the decoder
 * rejects, a response whose id has no pending call, a response body that is not a JSON object, a
 * notification other than ComputeSystemNotificationV1, a request or unknown message type from the guest,
 * EOF in the middle of a frame, and a notification handler that throws.
 */
import type { Duplex } from 'node:stream';
import { ErrorCode, ShimError } from '../errdefs/index.js';
import { rootLogger, type Logger } from '../log/index.js';
import { GcsBridgeClosedError, GcsRpcError } from './errors.js';
import {
  ComputeSystemNotificationV1,
  FrameDecoder,
  GcsProtocolError,
  describeFrame,
  encodeFrame,
  messageKind,
  msgTypeString,
  parseJsonBody,
  requestType,
  rpcName,
  type ContainerNotification,
  type ErrorRecord,
  type Frame,
  type ResponseBase,
} from './protocol/index.js';

/** hcsshim bridgeFailureTimeout: a synchronous RPC that gets no answer within this kills the bridge. */
export const DefaultBridgeTimeoutMs = 5 * 60 * 1000;

export interface BridgeOptions {
  log?: Logger;
  /** Synchronous RPC timeout (default 5 minutes); on expiry the whole bridge is closed. */
  timeoutMs?: number;
  /** Largest accepted incoming frame (default MaxMsgSize, 64 KiB). */
  maxMessageSize?: number;
  /** Called for each container notification; a throw is fatal to the bridge (as upstream). */
  onNotification?: (notification: ContainerNotification) => void;
}

export interface RpcOptions {
  /** Aborting before the request is written fails the call with Canceled and sends nothing. */
  signal?: AbortSignal;
  /**
   * hcsshim allowCancel: if set, aborting `signal` after the request was written rejects the call with
   * Canceled and the eventual response is discarded. Only for messages whose response is safe to ignore.
   */
  allowCancel?: boolean;
}

interface PendingCall {
  readonly proc: number;
  resolve(body: Record<string, unknown>): void;
  reject(err: Error): void;
}

export class Bridge {
  private readonly conn: Duplex;
  private readonly log: Logger;
  private readonly timeoutMs: number;
  private readonly decoder: FrameDecoder;
  private readonly onNotification: ((n: ContainerNotification) => void) | undefined;
  private readonly pending = new Map<number, PendingCall>();
  private readonly closeListeners = new Set<(err: Error | undefined) => void>();
  private nextId = 0;
  private closedWith: { err: Error | undefined } | undefined;
  private readonly done: Promise<Error | undefined>;
  private resolveDone!: (err: Error | undefined) => void;

  constructor(conn: Duplex, opts: BridgeOptions = {}) {
    this.conn = conn;
    this.log = opts.log ?? rootLogger().child({ component: 'gcs-bridge' });
    this.timeoutMs = opts.timeoutMs ?? DefaultBridgeTimeoutMs;
    this.decoder = new FrameDecoder({ maxMessageSize: opts.maxMessageSize });
    this.onNotification = opts.onNotification;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    conn.on('data', (chunk: Buffer) => this.onData(chunk));
    conn.on('end', () => this.onEnd());
    conn.on('error', (err) => this.kill(err));
    conn.on('close', () => this.onEnd());
  }

  /** True once the bridge has terminated. */
  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Number of calls waiting for a response (including abandoned cancellable ones). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Resolves when the bridge terminates, with the reason (undefined for close() or a clean EOF). */
  wait(): Promise<Error | undefined> {
    return this.done;
  }

  /**
   * Calls `fn` once when the bridge terminates (immediately, on a microtask, if it already has).
   * Returns an unsubscribe function, so short-lived waiters do not pile up on a long-lived bridge.
   */
  onClose(fn: (err: Error | undefined) => void): () => void {
    if (this.closedWith) {
      const err = this.closedWith.err;
      queueMicrotask(() => fn(err));
      return () => undefined;
    }
    this.closeListeners.add(fn);
    return () => this.closeListeners.delete(fn);
  }

  /** Terminates the bridge; pending calls fail with GcsBridgeClosedError. Idempotent. */
  close(): void {
    this.kill(undefined);
  }

  /**
   * A synchronous RPC (hcsshim bridge.RPC): sends `request` as `proc`, resolves with the response body
   * when Result == 0, rejects with GcsRpcError otherwise. If no response arrives within the bridge timeout
   * the bridge is closed and the call fails with GcsBridgeClosedError.
   */
  rpc<T extends ResponseBase = ResponseBase>(proc: number, request: object, opts: RpcOptions = {}): Promise<T> {
    return this.call<T>(proc, request, opts, true);
  }

  /**
   * An RPC without the bridge timeout (hcsshim AsyncRPC), for long polls such as WaitForProcess. It ends
   * with the response or with the bridge.
   */
  asyncRpc<T extends ResponseBase = ResponseBase>(proc: number, request: object, opts: RpcOptions = {}): Promise<T> {
    return this.call<T>(proc, request, opts, false);
  }

  private call<T>(proc: number, request: object, opts: RpcOptions, timed: boolean): Promise<T> {
    if (this.closedWith) return Promise.reject(new GcsBridgeClosedError(this.closedWith.err));
    if (opts.signal?.aborted) return Promise.reject(canceled(proc, opts.signal.reason));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
      };
      this.pending.set(id, {
        proc,
        resolve: (body) => (cleanup(), resolve(body as T)),
        reject: (err) => (cleanup(), reject(err)),
      });
      if (timed) {
        timer = setTimeout(() => {
          const err = new ShimError(ErrorCode.DeadlineExceeded, `gcs: ${rpcName(proc)} (id ${id}) got no response within ${this.timeoutMs} ms`);
          this.log.error('bridge message timeout', { 'message-id': id, rpc: rpcName(proc) });
          this.kill(err);
        }, this.timeoutMs);
      }
      if (opts.allowCancel && opts.signal) {
        const signal = opts.signal;
        onAbort = () => {
          // Keep the id registered so the late response is recognised, but stop delivering it.
          this.pending.set(id, { proc, resolve: () => undefined, reject: () => undefined });
          this.log.warn('ignoring response to bridge message', { 'message-id': id, rpc: rpcName(proc) });
          cleanup();
          reject(canceled(proc, signal.reason));
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      this.write(requestType(proc), id, request);
    });
  }

  private write(type: number, id: number, body: object): void {
    let frame: Buffer;
    try {
      frame = encodeFrame(type, id, body);
    } catch (err) {
      this.pending.get(id)?.reject(ShimError.from(err, ErrorCode.InvalidArgument, 'gcs: cannot encode request'));
      this.pending.delete(id);
      return;
    }
    if (this.log.isLevelEnabled('trace')) {
      this.log.log('trace', 'bridge send', { type: msgTypeString(type), 'message-id': id, payload: frame.subarray(16).toString() });
    }
    this.conn.write(frame, (err) => {
      if (err) this.kill(new ShimError(ErrorCode.Unavailable, `gcs: bridge write failed: ${err.message}`, { cause: err }));
    });
  }

  private onData(chunk: Buffer): void {
    if (this.closedWith) return;
    let frames: Frame[];
    try {
      frames = this.decoder.decode(chunk);
    } catch (err) {
      this.protocolError(err as GcsProtocolError);
      return;
    }
    for (const frame of frames) {
      if (this.closedWith) return;
      this.dispatch(frame);
    }
  }

  private dispatch(frame: Frame): void {
    if (this.log.isLevelEnabled('trace')) {
      this.log.log('trace', 'bridge receive', { type: msgTypeString(frame.type), 'message-id': frame.id, payload: frame.body.toString() });
    }
    switch (messageKind(frame.type)) {
      case 'response':
        return this.onResponse(frame);
      case 'notification':
        return this.onNotify(frame);
      default:
        return this.protocolError(new GcsProtocolError('unexpected-message', `unexpected message ${describeFrame(frame)} from the guest`));
    }
  }

  private onResponse(frame: Frame): void {
    const call = this.pending.get(frame.id);
    if (!call) {
      return this.protocolError(new GcsProtocolError('unexpected-message', `response ${describeFrame(frame)} matches no pending request`));
    }
    let body: Record<string, unknown>;
    try {
      body = parseJsonBody(frame.body);
    } catch (err) {
      return this.protocolError(err as GcsProtocolError);
    }
    this.pending.delete(frame.id);
    const result = typeof body['Result'] === 'number' ? body['Result'] : 0;
    if (result === 0) return call.resolve(body);
    const records = Array.isArray(body['ErrorRecords']) ? (body['ErrorRecords'] as ErrorRecord[]) : [];
    const message = typeof body['ErrorMessage'] === 'string' ? body['ErrorMessage'] : '';
    const err = new GcsRpcError(call.proc, result, message, records);
    for (const rec of records) {
      this.log.debug('bridge RPC error record', { 'message-id': frame.id, result: rec.Result, 'error-message': rec.Message, module: rec.ModuleName, file: rec.FileName, line: rec.Line, function: rec.FunctionName });
    }
    call.reject(err);
  }

  private onNotify(frame: Frame): void {
    if (frame.type !== ComputeSystemNotificationV1) {
      return this.protocolError(new GcsProtocolError('unexpected-message', `unknown notification ${describeFrame(frame)}`));
    }
    let body: Record<string, unknown>;
    try {
      body = parseJsonBody(frame.body);
    } catch (err) {
      return this.protocolError(err as GcsProtocolError);
    }
    try {
      this.onNotification?.(body as unknown as ContainerNotification);
    } catch (err) {
      this.kill(ShimError.from(err, ErrorCode.Internal, 'gcs: notification handler failed'));
    }
  }

  /** Peer EOF or socket close: clean between frames, a violation inside one. */
  private onEnd(): void {
    if (this.closedWith) return;
    if (this.decoder.idle || this.decoder.error) return this.kill(undefined);
    this.protocolError(
      new GcsProtocolError('unexpected-message', `connection closed mid-frame (${this.decoder.bufferedBytes} bytes of a frame received)`),
    );
  }

  private protocolError(err: GcsProtocolError): void {
    this.log.error('gcs bridge protocol error, closing the bridge', { error: err.message, violation: err.violation });
    this.kill(err);
  }

  private kill(err: Error | undefined): void {
    if (this.closedWith) {
      if (err) this.log.debug('bridge error after termination', { error: err.message });
      return;
    }
    this.closedWith = { err };
    if (err) this.log.error('bridge forcibly terminating', { error: err.message });
    else this.log.debug('bridge terminating');
    this.conn.destroy();
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const call of calls) call.reject(new GcsBridgeClosedError(err));
    this.resolveDone(err);
    const listeners = [...this.closeListeners];
    this.closeListeners.clear();
    for (const fn of listeners) fn(err);
  }
}

function canceled(proc: number, reason: unknown): ShimError {
  return new ShimError(ErrorCode.Canceled, `gcs: ${rpcName(proc)} canceled`, { cause: reason });
}
