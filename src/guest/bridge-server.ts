/**
 * The guest end of the GCS bridge: reads frames from the host connection, hands each request to the
 * dispatcher concurrently (responses may go out of order, as the real guest answers each request in its own
 * goroutine), and writes responses and notifications. Response rules of the Linux GCS:
 *  - Type = MsgTypeResponse | proc of the request, same ID;
 *  - ActivityId echoed from the request, absent when the request had none;
 *  - failures carry Result (signed int32), ErrorMessage and one ErrorRecord {Result, Message, ModuleName
 *    "gcs", FileName "", Line 4294967295} (StackTrace / FunctionName omitted when empty).
 * A framing error or the host closing the connection ends the bridge (`closed` resolves).
 */
import type { Socket } from 'node:net';
import {
  ComputeSystemNotificationV1,
  encodeFrame,
  FrameDecoder,
  hresultToWire,
  isRequest,
  msgTypeString,
  parseJsonBody,
  responseType,
  type ContainerNotification,
  type ErrorRecord,
  type Frame,
  type ResponseBase,
} from '../gcs/protocol/index.js';
import { errorText, hresultOf, notImpl, stackFields } from './errors.js';
import type { GuestLogger } from './log.js';

/** The guest accepts frames far beyond the host's 64 KiB limit (upstream enforces none). */
export const GuestMaxMessageSize = 64 << 20;

export interface BridgeRequest {
  /** Header type of the request. */
  type: number;
  id: number;
  body: Record<string, unknown>;
}

/** Returns the response body fields beyond the base (Result/ActivityId are added here). */
export type Dispatch = (req: BridgeRequest) => Promise<Record<string, unknown>>;

export class BridgeServer {
  readonly closed: Promise<void>;
  private readonly decoder = new FrameDecoder({ maxMessageSize: GuestMaxMessageSize });
  private ended = false;

  constructor(
    private readonly socket: Socket,
    private readonly dispatch: Dispatch,
    private readonly log: GuestLogger,
  ) {
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.ended = true;
        resolve();
      });
    });
    socket.on('error', (err) => log.error('bridge connection error', { error: err }));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  private onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.decoder.decode(chunk);
    } catch (err) {
      this.log.error('bridge framing error; closing the connection', { error: err });
      this.socket.destroy();
      return;
    }
    for (const frame of frames) void this.handle(frame);
  }

  private async handle(frame: Frame): Promise<void> {
    const rtype = responseType(frame.type);
    let activityId: string | undefined;
    try {
      if (!isRequest(frame.type)) {
        throw notImpl(`bridge: function not supported, header type: ${frame.type >>> 0}`);
      }
      const body = parseJsonBody(frame.body);
      if (typeof body['ActivityId'] === 'string' && body['ActivityId'] !== '') activityId = body['ActivityId'];
      this.log.trace('request', { type: msgTypeString(frame.type), id: frame.id, cid: body['ContainerId'] });
      const result = await this.dispatch({ type: frame.type, id: frame.id, body });
      this.send(rtype, frame.id, { Result: 0, ...(activityId ? { ActivityId: activityId } : {}), ...result });
    } catch (err) {
      this.send(rtype, frame.id, errorResponse(err, activityId));
      this.log.debug('request failed', { type: msgTypeString(frame.type), id: frame.id, error: errorText(err) });
    }
  }

  private send(type: number, id: number, body: unknown): void {
    if (this.ended || this.socket.destroyed) return;
    this.socket.write(encodeFrame(type, id, body));
  }

  /** Sends a container notification (ID 0, Type 0x30100101). */
  notify(n: ContainerNotification): void {
    const body: Record<string, unknown> = { ...n };
    if (!body['ResultInfo']) delete body['ResultInfo'];
    if (!body['ActivityId']) delete body['ActivityId'];
    this.send(ComputeSystemNotificationV1, 0, body);
  }

  close(): void {
    this.socket.end();
    this.socket.destroySoon?.();
  }
}

/** The error response of the real Linux GCS for `err`. */
export function errorResponse(err: unknown, activityId?: string, hresult = hresultOf(err)): ResponseBase {
  const message = errorText(err);
  const { StackTrace, FileName, Line, FunctionName } = stackFields(err);
  const record: ErrorRecord = {
    Result: hresultToWire(hresult),
    Message: message,
    ...(StackTrace ? { StackTrace } : {}),
    ModuleName: 'gcs',
    FileName,
    Line,
    ...(FunctionName ? { FunctionName } : {}),
  };
  return {
    Result: hresultToWire(hresult),
    ...(activityId ? { ActivityId: activityId } : {}),
    ErrorMessage: message,
    ErrorRecords: [record],
  };
}
