import { HEADER_LENGTH, MAX_MESSAGE_LENGTH, MessageType } from './frame.js';
import type { ttrpc } from '../proto/index.js';

/**
 * The Request frame of a call, built straight into one buffer: header, then ttrpc.Request {service = 1,
 * method = 2, payload = 3, timeout_nano = 4, repeated KeyValue metadata = 5 {key = 1, value = 2}}, each
 * field written only when it is not empty or zero, in number order: the bytes of
 * encodeFrame(id, Request, 0, Request.encode(…).finish()) without the protobuf Writer and the second copy
 * (test/ttrpc/request-frame.test.ts compares them). Only for ASCII strings and a timeout that is a safe
 * integer ≥ 0 (then every encoding agrees); undefined otherwise, and the caller uses the generated encoder.
 * Also undefined when the Request would be over the 4 MiB limit (the caller's encodeFrame reports it).
 */
export function encodeRequestFrame(
  streamId: number,
  service: string,
  method: string,
  payload: Uint8Array,
  timeoutNano: number,
  metadata: readonly ttrpc.KeyValue.$Properties[],
): Buffer | undefined {
  if (!Number.isSafeInteger(timeoutNano) || timeoutNano < 0) return undefined;
  if (!isAscii(service) || !isAscii(method)) return undefined;
  let length = stringFieldLength(service) + stringFieldLength(method) + bytesFieldLength(payload.length);
  if (timeoutNano > 0) length += 1 + varintLength(timeoutNano);
  for (const kv of metadata) {
    const key = kv.key ?? '';
    const value = kv.value ?? '';
    if (!isAscii(key) || !isAscii(value)) return undefined;
    length += bytesFieldLength(stringFieldLength(key) + stringFieldLength(value)) || 2; // an empty pair is 2a00
  }
  if (length > MAX_MESSAGE_LENGTH) return undefined;
  const out = Buffer.allocUnsafe(HEADER_LENGTH + length);
  out.writeUInt32BE(length, 0);
  out.writeUInt32BE(streamId, 4);
  out[8] = MessageType.Request;
  out[9] = 0;
  let pos = HEADER_LENGTH;
  pos = writeString(out, pos, 0x0a, service);
  pos = writeString(out, pos, 0x12, method);
  if (payload.length > 0) {
    out[pos++] = 0x1a;
    pos = writeVarint(out, pos, payload.length);
    out.set(payload, pos);
    pos += payload.length;
  }
  if (timeoutNano > 0) {
    out[pos++] = 0x20;
    pos = writeVarint(out, pos, timeoutNano);
  }
  for (const kv of metadata) {
    const key = kv.key ?? '';
    const value = kv.value ?? '';
    out[pos++] = 0x2a;
    pos = writeVarint(out, pos, stringFieldLength(key) + stringFieldLength(value));
    pos = writeString(out, pos, 0x0a, key);
    pos = writeString(out, pos, 0x12, value);
  }
  return out;
}

/** One byte per character: every character below U+0080 (a non-ASCII one takes 2-4 UTF-8 bytes, a lone surrogate 3). */
function isAscii(s: string): boolean {
  return Buffer.byteLength(s, 'utf8') === s.length;
}

/** An ASCII string field's size: tag, length, bytes; 0 when empty (left out). */
function stringFieldLength(s: string): number {
  return bytesFieldLength(s.length);
}

function bytesFieldLength(n: number): number {
  return n === 0 ? 0 : 1 + varintLength(n) + n;
}

function writeString(out: Buffer, pos: number, tag: number, s: string): number {
  if (s.length === 0) return pos;
  out[pos++] = tag;
  pos = writeVarint(out, pos, s.length);
  return pos + out.write(s, pos, 'latin1');
}

/** A non-negative safe integer as a base-128 varint. */
function writeVarint(out: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[pos++] = n;
  return pos;
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    len++;
  }
  return len;
}
