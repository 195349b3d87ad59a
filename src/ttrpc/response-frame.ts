import { HEADER_LENGTH, MessageType } from './frame.js';

/**
 * The Response frame of a call that succeeded, built straight into one buffer: header, then
 * ttrpc.Response{payload = 2} (tag 0x12, varint length, bytes; an empty payload leaves the message empty,
 * as the generated encoder does). The same bytes as encodeFrame(id, Response, 0, Response.encode({payload}))
 * without the protobuf writer and the second copy; the hot path of every OK answer.
 */
export function okResponseLength(payloadLength: number): number {
  return payloadLength === 0 ? 0 : 1 + varintLength(payloadLength) + payloadLength;
}

/** The frame for `payload`; the caller has checked okResponseLength against the message limit. */
export function encodeOkResponseFrame(streamId: number, payload: Uint8Array): Buffer {
  const length = okResponseLength(payload.length);
  const out = Buffer.allocUnsafe(HEADER_LENGTH + length);
  out.writeUInt32BE(length, 0);
  out.writeUInt32BE(streamId, 4);
  out[8] = MessageType.Response;
  out[9] = 0;
  if (length === 0) return out;
  let pos = HEADER_LENGTH;
  out[pos++] = 0x12;
  let n = payload.length;
  while (n >= 0x80) {
    out[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[pos++] = n;
  out.set(payload, pos);
  return out;
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n >>>= 7;
    len++;
  }
  return len;
}

/**
 * The payload of an OK ttrpc.Response in the shapes servers send (status absent, or empty `0a00` as Go
 * ttrpc writes it, then the payload field, or nothing), as a view of `data`; undefined for anything else (a
 * status with content, other fields or orders, a non-minimal or truncated length): the caller then uses the
 * generated decoder, which reads these shapes the same way.
 */
export function okResponsePayload(data: Uint8Array): Uint8Array | undefined {
  let pos = data.length >= 2 && data[0] === 0x0a && data[1] === 0x00 ? 2 : 0;
  if (pos === data.length) return data.subarray(pos);
  if (data[pos++] !== 0x12) return undefined;
  let n = 0;
  for (let i = 0; ; i++) {
    if (i === 4 || pos >= data.length) return undefined;
    const b = data[pos++] as number;
    n |= (b & 0x7f) << (7 * i);
    if (b < 0x80) {
      if (varintLength(n) !== i + 1) return undefined;
      break;
    }
  }
  return pos + n === data.length ? data.subarray(pos) : undefined;
}
