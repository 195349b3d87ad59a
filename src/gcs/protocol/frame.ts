import { invalidArgument } from '../../errdefs/index.js';
import { HdrOffID, HdrOffSize, HdrOffType, HdrSize, MaxMessageId } from './constants.js';
import { msgTypeString } from './message-type.js';

/** One decoded message: the header fields plus the raw body (UTF-8 JSON, possibly with a trailing newline). */
export interface Frame {
  /** Message type (u32, see message-type.ts). */
  readonly type: number;
  /** Message id, 0 ≤ id ≤ 2^53 - 1. */
  readonly id: number;
  /** Body bytes (Size - 16 of them). Owned by the frame: the decoder copies out of its input. */
  readonly body: Buffer;
}

const TWO_32 = 0x1_0000_0000;

/** Writes a 16-byte header into `buf` at `offset`. `size` is the total frame length (header included). */
export function writeHeader(buf: Buffer, offset: number, type: number, size: number, id: number): void {
  if (!Number.isInteger(type) || type < 0 || type > 0xffffffff) throw invalidArgument(`gcs: message type ${type} is not a u32`);
  if (!Number.isInteger(size) || size < HdrSize || size > 0xffffffff) {
    throw invalidArgument(`gcs: frame size ${size} is out of range [${HdrSize}, 2^32 - 1]`);
  }
  if (!Number.isSafeInteger(id) || id < 0 || id > MaxMessageId) throw invalidArgument(`gcs: message id ${id} is out of range`);
  buf.writeUInt32LE(type, offset + HdrOffType);
  buf.writeUInt32LE(size, offset + HdrOffSize);
  buf.writeUInt32LE(id % TWO_32, offset + HdrOffID);
  buf.writeUInt32LE(Math.floor(id / TWO_32), offset + HdrOffID + 4);
}

/** The 64-bit id at `offset + 8` as a number, or undefined when it exceeds 2^53 - 1. */
export function readId(buf: Buffer, offset: number): number | undefined {
  const lo = buf.readUInt32LE(offset + HdrOffID);
  const hi = buf.readUInt32LE(offset + HdrOffID + 4);
  if (hi > 0x1fffff) return undefined;
  return hi * TWO_32 + lo;
}

/**
 * Encodes one frame. `body` is serialized with JSON.stringify unless it is already bytes or a string (then
 * sent as is). No trailing newline is added; both peers tolerate either. No size limit is applied to what
 * we send (as upstream); the receiver enforces its own.
 */
export function encodeFrame(type: number, id: number, body: unknown): Buffer {
  const payload =
    Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body ?? {}), 'utf8');
  const out = Buffer.allocUnsafe(HdrSize + payload.length);
  writeHeader(out, 0, type, out.length, id);
  payload.copy(out, HdrSize);
  return out;
}

/** "Request(Create) id=3 size=120", for logs. */
export function describeFrame(frame: Frame): string {
  return `${msgTypeString(frame.type)} id=${frame.id} size=${HdrSize + frame.body.length}`;
}
