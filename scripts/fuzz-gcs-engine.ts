/**
 * Fuzzing engine for the GCS frame decoder (src/gcs/protocol), shared by test/gcs/decoder-fuzz.test.ts and
 * scripts/fuzz-gcs.mjs (which runs it on the built output for millions of frames).
 *
 * Three kinds of input, all from a seeded PRNG so failures replay:
 *   valid    streams of well-formed frames, cut into random chunks: every frame must come back identical;
 *   mutated  valid streams with bytes flipped, inserted, deleted or truncated: decoding must either yield
 *            frames or throw GcsProtocolError, never anything else;
 *   random   pure random bytes, the same rule.
 * After every chunk the decoder's buffered size must stay ≤ its maxMessageSize (no unbounded allocation),
 * and every emitted body must be ≤ maxMessageSize - 16. Every decoded body is also run through
 * parseJsonBody, which may only fail with GcsProtocolError.
 */
import { FrameDecoder, GcsProtocolError, HdrSize, encodeFrame, parseJsonBody, type Frame } from '../src/gcs/protocol/index.js';

export interface FuzzOptions {
  /** Total frames (valid + mutated + random-chunk equivalents) to push through. */
  frames: number;
  seed?: number;
}

export interface FuzzStats {
  frames: number;
  bytes: number;
  decodedFrames: number;
  protocolErrors: number;
  maxBuffered: number;
  violations: string[];
}

/** mulberry32: small, fast, seedable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = [0x10100101, 0x10100b01, 0x20100101, 0x20100b01, 0x20100601, 0x30100101, 0x40000000, 0];

export function runDecoderFuzz(opts: FuzzOptions): FuzzStats {
  const rnd = prng(opts.seed ?? 1);
  const int = (n: number): number => Math.floor(rnd() * n);
  const stats: FuzzStats = { frames: 0, bytes: 0, decodedFrames: 0, protocolErrors: 0, maxBuffered: 0, violations: [] };
  const violation = (msg: string): void => {
    if (stats.violations.length < 20) stats.violations.push(msg);
  };

  const body = (max: number): Buffer => {
    switch (int(4)) {
      case 0:
        return Buffer.from(JSON.stringify({ Result: int(3) - 1, ContainerId: 'c' + int(1000), Pad: 'x'.repeat(int(Math.min(max, 200))) }));
      case 1:
        return Buffer.alloc(0);
      case 2:
        return Buffer.from(Array.from({ length: int(Math.min(max, 64)) }, () => int(256)));
      default:
        // Occasionally exactly at the limit, otherwise anywhere below it.
        return Buffer.alloc(rnd() < 0.05 ? max : int(Math.min(max, 2048) + 1), 0x20);
    }
  };
  const frame = (maxSize: number): { type: number; id: number; body: Buffer } => {
    const type = rnd() < 0.8 ? TYPES[int(TYPES.length)]! : int(0x1_0000_0000);
    const id = rnd() < 0.7 ? int(1000) : int(2 ** 21) * 2 ** 32 + int(2 ** 32);
    return { type, id, body: body(maxSize - HdrSize).subarray(0, maxSize - HdrSize) };
  };

  // Feeds `stream` in random chunks; returns decoded frames (stops at the first protocol error).
  const feed = (dec: FrameDecoder, stream: Buffer): { frames: Frame[]; failed: boolean } => {
    const out: Frame[] = [];
    for (let pos = 0; pos < stream.length; ) {
      const n = 1 + (rnd() < 0.3 ? int(4) : int(stream.length - pos));
      try {
        for (const f of dec.decode(stream.subarray(pos, pos + n))) out.push(f);
      } catch (err) {
        if (!(err instanceof GcsProtocolError)) violation(`decoder threw ${String(err)}`);
        stats.protocolErrors++;
        return { frames: out, failed: true };
      }
      pos += n;
      if (dec.bufferedBytes > dec.maxMessageSize) violation(`buffered ${dec.bufferedBytes} > limit ${dec.maxMessageSize}`);
      stats.maxBuffered = Math.max(stats.maxBuffered, dec.bufferedBytes);
    }
    return { frames: out, failed: false };
  };
  const checkBodies = (frames: Frame[], max: number): void => {
    for (const f of frames) {
      stats.decodedFrames++;
      if (f.body.length > max - HdrSize) violation(`body of ${f.body.length} bytes over the limit ${max}`);
      try {
        parseJsonBody(f.body);
      } catch (err) {
        if (!(err instanceof GcsProtocolError)) violation(`parseJsonBody threw ${String(err)}`);
      }
    }
  };

  while (stats.frames < opts.frames) {
    const max = rnd() < 0.5 ? 0x10000 : 16 + int(1024);
    const count = 1 + int(20);
    const frames = Array.from({ length: count }, () => frame(max));
    const stream = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.id, f.body)));
    stats.frames += count;
    stats.bytes += stream.length;
    const kind = rnd();
    if (kind < 0.4) {
      // valid: exact round trip
      const got = feed(new FrameDecoder({ maxMessageSize: max }), stream);
      if (got.failed || got.frames.length !== count) violation(`valid stream: ${got.frames.length}/${count} frames, failed=${got.failed}`);
      got.frames.forEach((f, i) => {
        const want = frames[i]!;
        if (f.type !== want.type >>> 0 || f.id !== want.id || !f.body.equals(want.body)) violation(`valid frame ${i} differs`);
      });
      checkBodies(got.frames, max);
    } else if (kind < 0.9) {
      // mutated
      const m = Buffer.from(stream);
      const edits = 1 + int(6);
      let bytes: Buffer = m;
      for (let e = 0; e < edits && bytes.length > 0; e++) {
        const at = int(bytes.length);
        switch (int(4)) {
          case 0:
            bytes[at] = int(256);
            break;
          case 1:
            bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([int(256), int(256)]), bytes.subarray(at)]);
            break;
          case 2:
            bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + int(8))]);
            break;
          default:
            bytes = bytes.subarray(0, at);
        }
      }
      checkBodies(feed(new FrameDecoder({ maxMessageSize: max }), bytes).frames, max);
    } else {
      // random bytes of a similar length
      const junk = Buffer.from(Array.from({ length: Math.min(stream.length, 4096) }, () => int(256)));
      checkBodies(feed(new FrameDecoder({ maxMessageSize: max }), junk).frames, max);
    }
  }
  return stats;
}
