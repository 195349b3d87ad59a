import { HdrOffSize, HdrOffType, HdrSize, MaxMsgSize } from './constants.js';
import { GcsProtocolError } from './errors.js';
import { readId, type Frame } from './frame.js';

export interface FrameDecoderOptions {
  /** Largest accepted frame, header included. Default MaxMsgSize (64 KiB); at least 16. */
  maxMessageSize?: number;
}

/**
 * Pure incremental decoder: feed it chunks as they arrive, get back every complete frame. Holds no socket
 * and no timer.
 *
 * It keeps at most one partial frame: a 16-byte header buffer and, once the header has been validated, one
 * body buffer of exactly Size - 16 bytes. Size is checked against [16, maxMessageSize] before anything is
 * allocated, so `bufferedBytes` never exceeds maxMessageSize. The first violation is sticky: framing is lost,
 * so every later `decode` throws the same GcsProtocolError.
 *
 *   state HEADER --16 bytes, size ok--> BODY --Size-16 bytes--> emit, HEADER
 *         HEADER/BODY --violation--> FAILED (terminal)
 */
export class FrameDecoder {
  readonly maxMessageSize: number;
  private readonly header = Buffer.alloc(HdrSize);
  private headerFill = 0;
  private body: Buffer | undefined;
  private bodyFill = 0;
  private type = 0;
  private id = 0;
  private failure: GcsProtocolError | undefined;

  constructor(opts: FrameDecoderOptions = {}) {
    const max = opts.maxMessageSize ?? MaxMsgSize;
    if (!Number.isInteger(max) || max < HdrSize || max > 0xffffffff) {
      throw new RangeError(`gcs: maxMessageSize ${max} must be an integer in [${HdrSize}, 2^32 - 1]`);
    }
    this.maxMessageSize = max;
  }

  /** Bytes held for the frame in progress (≤ maxMessageSize). */
  get bufferedBytes(): number {
    return this.headerFill + this.bodyFill;
  }

  /** True when no partial frame is held (a clean place for the stream to end). */
  get idle(): boolean {
    return this.headerFill === 0 && this.body === undefined && this.failure === undefined;
  }

  /** The sticky failure, if any. */
  get error(): GcsProtocolError | undefined {
    return this.failure;
  }

  /** Consumes a chunk; returns the frames it completed (possibly none). Throws GcsProtocolError. */
  decode(chunk: Uint8Array): Frame[] {
    if (this.failure) throw this.failure;
    const frames: Frame[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.body === undefined) {
        const n = Math.min(HdrSize - this.headerFill, chunk.length - pos);
        this.header.set(chunk.subarray(pos, pos + n), this.headerFill);
        this.headerFill += n;
        pos += n;
        if (this.headerFill < HdrSize) break;
        this.startBody();
        if (this.body!.length > 0) continue;
      } else {
        const n = Math.min(this.body.length - this.bodyFill, chunk.length - pos);
        this.body.set(chunk.subarray(pos, pos + n), this.bodyFill);
        this.bodyFill += n;
        pos += n;
        if (this.bodyFill < this.body.length) break;
      }
      frames.push({ type: this.type, id: this.id, body: this.body! });
      this.headerFill = 0;
      this.body = undefined;
      this.bodyFill = 0;
    }
    return frames;
  }

  /** Validates the complete header, then (and only then) allocates the body. */
  private startBody(): void {
    const size = this.header.readUInt32LE(HdrOffSize);
    const type = this.header.readUInt32LE(HdrOffType);
    if (size < HdrSize) this.fail('frame-too-small', `frame size ${size} is smaller than the ${HdrSize}-byte header`);
    if (size > this.maxMessageSize) {
      this.fail('frame-too-large', `frame size ${size} exceeds the limit of ${this.maxMessageSize} bytes`);
    }
    const id = readId(this.header, 0);
    if (id === undefined) this.fail('id-out-of-range', `message id ${this.header.readBigUInt64LE(8)} exceeds 2^53 - 1`);
    this.type = type;
    this.id = id!;
    this.body = Buffer.allocUnsafe(size - HdrSize);
    this.bodyFill = 0;
  }

  private fail(violation: GcsProtocolError['violation'], message: string): never {
    this.failure = new GcsProtocolError(violation, message);
    this.headerFill = 0;
    throw this.failure;
  }
}
