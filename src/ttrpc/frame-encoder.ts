import { invalidArgument } from '../errdefs/index.js';
import { OversizedMessageError } from './errors.js';
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH, MAX_STREAM_ID } from './frame.js';

/**
 * Encodes one frame (header + data) into a single buffer, so it goes out in one write.
 * Refuses data over the 4 MiB limit with OversizedMessageError (ResourceExhausted) before writing anything.
 */
export function encodeFrame(
  streamId: number,
  type: number,
  flags: number,
  data: Uint8Array,
  maxLength: number = MAX_MESSAGE_LENGTH,
): Buffer {
  if (data.length > maxLength) throw new OversizedMessageError(data.length, maxLength);
  if (!Number.isInteger(streamId) || streamId < 0 || streamId > MAX_STREAM_ID) {
    throw invalidArgument(`ttrpc: stream id ${streamId} is not a 32-bit unsigned integer`);
  }
  if (!isByte(type) || !isByte(flags)) throw invalidArgument(`ttrpc: message type ${type} / flags ${flags} must be bytes`);
  const out = Buffer.allocUnsafe(HEADER_LENGTH + data.length);
  out.writeUInt32BE(data.length, 0);
  out.writeUInt32BE(streamId, 4);
  out.writeUInt8(type, 8);
  out.writeUInt8(flags, 9);
  out.set(data, HEADER_LENGTH);
  return out;
}

function isByte(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xff;
}
