import { HEADER_LENGTH, MAX_MESSAGE_LENGTH } from './frame.js';
import type { Frame } from './frame.js';

/** What the decoder yields: a whole frame, or the header of a frame whose body was too big and skipped. */
export type DecodeEvent =
  | { readonly kind: 'frame'; readonly frame: Frame }
  | {
      readonly kind: 'oversized';
      readonly streamId: number;
      readonly type: number;
      readonly flags: number;
      /** The data length the header announced (> maxLength). */
      readonly length: number;
    };

/**
 * Pure incremental ttrpc frame decoder: feed it chunks of any size, get back the events they complete.
 * No sockets, no timers. The length is checked against the limit BEFORE any of the body is kept; an
 * oversized body is read and thrown away (across as many chunks as it spans), so the stream stays in
 * sync, and the frame surfaces as one 'oversized' event as soon as its header has been read.
 *
 * States: header (collecting 10 bytes) → body (collecting `length` bytes) → header ...
 *                                     ↘ skip (discarding `length` bytes) → header ...
 */
export class FrameDecoder {
  private readonly header = new Uint8Array(HEADER_LENGTH);
  private headerFill = 0;
  /**
   * The frame being filled (state body): the pieces received so far, copied out of their chunks. The body is
   * assembled once complete, so a peer that announces 4 MiB and sends little makes us hold little.
   */
  private body: { streamId: number; type: number; flags: number; length: number; parts: Uint8Array[]; fill: number } | undefined;
  /** Bytes of an oversized body still to discard (state skip). */
  private skipRemaining = 0;

  constructor(private readonly maxLength: number = MAX_MESSAGE_LENGTH) {}

  /** True when no partial frame is buffered (a peer closing now closes on a frame boundary). */
  get idle(): boolean {
    return this.headerFill === 0 && this.body === undefined && this.skipRemaining === 0;
  }

  decode(chunk: Uint8Array): DecodeEvent[] {
    const events: DecodeEvent[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.skipRemaining > 0) {
        const n = Math.min(this.skipRemaining, chunk.length - pos);
        this.skipRemaining -= n;
        pos += n;
      } else if (this.body !== undefined) {
        const b = this.body;
        const n = Math.min(b.length - b.fill, chunk.length - pos);
        b.parts.push(new Uint8Array(chunk.subarray(pos, pos + n))); // a copy: never a view pinning the chunk
        b.fill += n;
        pos += n;
        if (b.fill === b.length) {
          this.body = undefined;
          const data = b.parts.length === 1 ? (b.parts[0] as Uint8Array) : concat(b.parts, b.length);
          events.push({ kind: 'frame', frame: { streamId: b.streamId, type: b.type, flags: b.flags, data } });
        }
      } else if (this.headerFill === 0 && chunk.length - pos >= HEADER_LENGTH) {
        pos = this.wholeHeader(chunk, pos, events);
      } else {
        const n = Math.min(HEADER_LENGTH - this.headerFill, chunk.length - pos);
        this.header.set(chunk.subarray(pos, pos + n), this.headerFill);
        this.headerFill += n;
        pos += n;
        if (this.headerFill === HEADER_LENGTH) this.onHeader(events);
      }
    }
    return events;
  }

  /**
   * A header that lies whole in the chunk at pos (the usual case), read in place; a body that follows whole
   * is copied out in one step. Returns the position after what was taken. Same events as the general path.
   */
  private wholeHeader(chunk: Uint8Array, pos: number, events: DecodeEvent[]): number {
    const length = ((chunk[pos] as number) * 2 ** 24) + (((chunk[pos + 1] as number) << 16) | ((chunk[pos + 2] as number) << 8) | (chunk[pos + 3] as number));
    const streamId = ((chunk[pos + 4] as number) * 2 ** 24) + (((chunk[pos + 5] as number) << 16) | ((chunk[pos + 6] as number) << 8) | (chunk[pos + 7] as number));
    const type = chunk[pos + 8] as number;
    const flags = chunk[pos + 9] as number;
    const at = pos + HEADER_LENGTH;
    if (length <= this.maxLength && length > 0 && chunk.length - at >= length) {
      const data = new Uint8Array(length); // a copy: never a view pinning the chunk
      data.set(chunk.subarray(at, at + length));
      events.push({ kind: 'frame', frame: { streamId, type, flags, data } });
      return at + length;
    }
    this.header.set(chunk.subarray(pos, at));
    this.onHeader(events);
    return at;
  }

  private onHeader(events: DecodeEvent[]): void {
    this.headerFill = 0;
    const view = new DataView(this.header.buffer, this.header.byteOffset, HEADER_LENGTH);
    const length = view.getUint32(0);
    const streamId = view.getUint32(4);
    const type = view.getUint8(8);
    const flags = view.getUint8(9);
    if (length > this.maxLength) {
      // Checked before allocating: discard the body, report the frame once.
      this.skipRemaining = length;
      events.push({ kind: 'oversized', streamId, type, flags, length });
    } else if (length === 0) {
      events.push({ kind: 'frame', frame: { streamId, type, flags, data: new Uint8Array(0) } });
    } else {
      this.body = { streamId, type, flags, length, parts: [], fill: 0 };
    }
  }
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
