/**
 * The ttrpc frame: a 10-byte big-endian header followed by `length` bytes of data.
 *
 *   offset 0  uint32  data length (bytes after the header; at most MAX_MESSAGE_LENGTH)
 *   offset 4  uint32  stream id (odd = started by the client)
 *   offset 8  uint8   message type (MessageType)
 *   offset 9  uint8   flags (Flag bits)
 *   offset 10 bytes   data
 */

/** Size of the fixed frame header. */
export const HEADER_LENGTH = 10;

/** Largest data length a frame may carry: 4 MiB. Exactly this many bytes is allowed; one more is not. */
export const MAX_MESSAGE_LENGTH = 4 << 20;

/** Largest stream id the 32-bit header field can hold. */
export const MAX_STREAM_ID = 0xffff_ffff;

/** Message types (byte 8 of the header). */
export enum MessageType {
  /** Client → server: opens a stream; data is a `ttrpc.Request`. */
  Request = 0x01,
  /** Server → client: ends a stream; data is a `ttrpc.Response`. */
  Response = 0x02,
  /** Either way: stream data (ttrpc ≥ 1.2 streaming only; we never send it and ignore it on receipt). */
  Data = 0x03,
}

/** Flag bits (byte 9 of the header). Unary calls always use 0. */
export const Flag = {
  /** The sender sends no more data on this stream. */
  RemoteClosed: 0x01,
  /** Request only: the sender will stream Data frames. */
  RemoteOpen: 0x02,
  /** Data only: the frame carries no payload. */
  NoData: 0x04,
} as const;

/** One decoded frame. `data` is a view owned by the frame (never reused by the decoder). */
export interface Frame {
  readonly streamId: number;
  readonly type: number;
  readonly flags: number;
  readonly data: Uint8Array;
}
