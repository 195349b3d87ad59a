import { ttrpc } from '../proto/index.js';

/** What the server takes from a ttrpc.Request (absent fields as their zero values). */
export interface DecodedRequest {
  readonly service: string;
  readonly method: string;
  /** A view of the frame's data (which the call owns); empty when absent. */
  readonly payload: Uint8Array;
  /** timeout_nano as a number; 0 when absent. */
  readonly timeoutNano: number;
  /** The metadata pairs in wire order (keys not yet lower-cased); undefined when there are none. */
  readonly metadata: readonly ttrpc.KeyValue.$Properties[] | undefined;
}

/** Strings kept per connection for reuse (service, method, metadata keys and values repeat on every call). */
const STRING_CACHE_SIZE = 8;
/** Longer strings are not cached (a peer's odd names must not grow what a connection holds). */
const MAX_CACHED_STRING_BYTES = 64;
/** A timeout varint longer than this (≥ 2^49 ns, ~6.5 days) goes to the generated decoder. */
const MAX_FAST_TIMEOUT_BYTES = 7;

/**
 * Decodes the Request of every call. The shape every client sends (fields 1–5, each with its own wire
 * type, ASCII strings, a timeout below 2^49 ns, each field at most once except metadata) is read here without
 * the generated decoder's objects; the strings that repeat call after call (service, method, metadata) come
 * from a small cache instead of being made anew. Anything else (unknown or repeated fields, other wire types,
 * non-ASCII strings, truncation) is handed to the generated decoder, which gives the same values or the same
 * error: the fast path only ever accepts input that decoder reads identically (byte vectors in
 * test/ttrpc/request-decoder.test.ts).
 */
export class RequestDecoder {
  private readonly strings: Array<{ bytes: Uint8Array; text: string }> = [];
  private next = 0;

  decode(data: Uint8Array): DecodedRequest {
    return this.fast(data) ?? fromGenerated(ttrpc.Request.decode(data));
  }

  /** The fast path; undefined when the input needs the generated decoder. */
  private fast(data: Uint8Array): DecodedRequest | undefined {
    let service = '';
    let method = '';
    let payload: Uint8Array | undefined;
    let timeoutNano = 0;
    let metadata: ttrpc.KeyValue.$Properties[] | undefined;
    let seen = 0;
    let pos = 0;
    const end = data.length;
    while (pos < end) {
      const tag = data[pos++] as number;
      if (tag === 0x20) {
        // 4: timeout_nano, varint
        if (seen & 0x10) return undefined;
        seen |= 0x10;
        let value = 0;
        let scale = 1;
        for (let i = 0; ; i++) {
          if (i === MAX_FAST_TIMEOUT_BYTES || pos >= end) return undefined;
          const b = data[pos++] as number;
          value += (b & 0x7f) * scale;
          scale *= 128;
          if (b < 0x80) break;
        }
        timeoutNano = value;
        continue;
      }
      const field = tag >>> 3;
      if ((tag & 7) !== 2 || field < 1 || field > 5 || field === 4) return undefined;
      const len = readLength(data, pos, end);
      if (len < 0) return undefined;
      pos += varintSize(len);
      const start = pos;
      pos += len;
      if (field === 3) {
        if (seen & 0x04) return undefined;
        seen |= 0x04;
        payload = data.subarray(start, pos);
      } else if (field === 5) {
        const kv = this.keyValue(data, start, pos);
        if (kv === undefined) return undefined;
        (metadata ??= []).push(kv);
      } else {
        const bit = field === 1 ? 0x01 : 0x02;
        if (seen & bit) return undefined;
        seen |= bit;
        const text = this.ascii(data, start, pos);
        if (text === undefined) return undefined;
        if (field === 1) service = text;
        else method = text;
      }
    }
    return { service, method, payload: payload ?? EMPTY, timeoutNano, metadata };
  }

  /** A KeyValue {1: key, 2: value} between start and end; undefined when it needs the generated decoder. */
  private keyValue(data: Uint8Array, start: number, end: number): ttrpc.KeyValue.$Properties | undefined {
    let key = '';
    let value = '';
    let seen = 0;
    let pos = start;
    while (pos < end) {
      const tag = data[pos++] as number;
      if (tag !== 0x0a && tag !== 0x12) return undefined;
      const bit = tag === 0x0a ? 1 : 2;
      if (seen & bit) return undefined;
      seen |= bit;
      const len = readLength(data, pos, end);
      if (len < 0) return undefined;
      pos += varintSize(len);
      const text = this.ascii(data, pos, pos + len);
      if (text === undefined) return undefined;
      pos += len;
      if (bit === 1) key = text;
      else value = text;
    }
    return { key, value };
  }

  /** data[start, end) as a string when every byte is ASCII (then UTF-8 and latin1 agree), else undefined. */
  private ascii(data: Uint8Array, start: number, end: number): string | undefined {
    const n = end - start;
    for (const s of this.strings) {
      const b = s.bytes;
      if (b.length !== n) continue;
      let i = 0;
      while (i < n && b[i] === data[start + i]) i++;
      if (i === n) return s.text;
    }
    for (let i = start; i < end; i++) if ((data[i] as number) >= 0x80) return undefined;
    const text = Buffer.from(data.buffer, data.byteOffset + start, n).toString('latin1');
    if (n > MAX_CACHED_STRING_BYTES) return text;
    const entry = { bytes: Uint8Array.prototype.slice.call(data, start, end), text }; // a copy even of a Buffer
    if (this.strings.length < STRING_CACHE_SIZE) this.strings.push(entry);
    else this.strings[this.next] = entry;
    this.next = (this.next + 1) % STRING_CACHE_SIZE;
    return text;
  }
}

const EMPTY = new Uint8Array(0);

/**
 * A length-delimited field's length at pos, or -1 (generated decoder) when its varint is longer than 4 bytes
 * or not minimal (the caller steps over varintSize(length) bytes), truncated, or the field runs past end.
 */
function readLength(data: Uint8Array, pos: number, end: number): number {
  let len = 0;
  for (let i = 0; i < 4; i++) {
    if (pos + i >= end) return -1;
    const b = data[pos + i] as number;
    len |= (b & 0x7f) << (7 * i);
    if (b < 0x80) return varintSize(len) === i + 1 && pos + i + 1 + len <= end ? len : -1;
  }
  return -1;
}

function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4;
}

/**
 * An int64 field as a number. Set fields decode as numbers (src/proto turns Long off), but an absent
 * field yields the generated default, which may be a Long-shaped {low, high} object.
 */
function int64ToNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && v !== null && 'low' in v && 'high' in v) {
    const { low, high } = v as { low: number; high: number };
    return high * 2 ** 32 + (low >>> 0);
  }
  return 0;
}

function fromGenerated(req: ttrpc.Request): DecodedRequest {
  return {
    service: req.service ?? '',
    method: req.method ?? '',
    payload: req.payload ?? EMPTY,
    timeoutNano: int64ToNumber(req.timeout_nano),
    metadata: req.metadata ?? undefined,
  };
}
