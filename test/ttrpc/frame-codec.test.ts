import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../src/errdefs/index.js';
import {
  FrameDecoder,
  HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
  OversizedMessageError,
  encodeFrame,
} from '../../src/ttrpc/index.js';
import type { DecodeEvent } from '../../src/ttrpc/index.js';
import { hex, toHex } from './wire.js';

// Reference §1.10 vectors (checked against containerd/ttrpc 1.1.1).
const CONNECT_DATA =
  '0a17636f6e7461696e6572642e7461736b2e76322e5461736b1207436f6e6e6563741a040a0274312a250a1a636f6e7461696e6572642d6e616d6573706163652d7474727063120764656661756c74';
const CONNECT_FRAME = hex(`0000004f 00000001 01 00 ${CONNECT_DATA}`);
const OK_FRAME = hex('0000000a 00000001 02 00 0a00 1206 08d209 10ae2c');
const ERROR_FRAME = hex('00000010 00000003 02 00 0a0e080c120a6d6574686f6420466f6f');

function decodeInChunks(bytes: Uint8Array, size: number, decoder = new FrameDecoder()): DecodeEvent[] {
  const out: DecodeEvent[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...decoder.decode(bytes.subarray(i, i + size)));
  return out;
}

describe('encodeFrame', () => {
  it('produces the reference Connect request, OK and error frames byte for byte', () => {
    assert.equal(toHex(encodeFrame(1, MessageType.Request, 0, hex(CONNECT_DATA))), toHex(CONNECT_FRAME));
    assert.equal(toHex(encodeFrame(1, MessageType.Response, 0, hex('0a00120608d20910ae2c'))), toHex(OK_FRAME));
    assert.equal(toHex(encodeFrame(3, MessageType.Response, 0, hex('0a0e080c120a6d6574686f6420466f6f'))), toHex(ERROR_FRAME));
  });

  it('writes the header big-endian, including stream ids above 2^31', () => {
    assert.equal(toHex(encodeFrame(0xfffffffd, 3, 5, new Uint8Array(0))), '00000000fffffffd0305');
  });

  it('accepts exactly 4 MiB of data and refuses one byte more with ResourceExhausted', () => {
    assert.equal(encodeFrame(1, MessageType.Request, 0, new Uint8Array(MAX_MESSAGE_LENGTH)).length, MAX_MESSAGE_LENGTH + HEADER_LENGTH);
    assert.throws(
      () => encodeFrame(1, MessageType.Request, 0, new Uint8Array(MAX_MESSAGE_LENGTH + 1)),
      (err: unknown) =>
        err instanceof OversizedMessageError &&
        err.code === ErrorCode.ResourceExhausted &&
        err.rejectedLength === MAX_MESSAGE_LENGTH + 1 &&
        err.message === 'message length 4194305 exceed maximum message size of 4194304',
    );
  });

  it('rejects a stream id or type outside the header fields', () => {
    for (const id of [-1, 2 ** 32, 1.5]) {
      assert.throws(() => encodeFrame(id, 1, 0, new Uint8Array(0)), { code: ErrorCode.InvalidArgument });
    }
    assert.throws(() => encodeFrame(1, 256, 0, new Uint8Array(0)), { code: ErrorCode.InvalidArgument });
  });
});

describe('FrameDecoder', () => {
  const all = Buffer.concat([CONNECT_FRAME, OK_FRAME, ERROR_FRAME]);
  const expected = [
    { streamId: 1, type: 1, flags: 0, data: CONNECT_DATA },
    { streamId: 1, type: 2, flags: 0, data: '0a00120608d20910ae2c' },
    { streamId: 3, type: 2, flags: 0, data: '0a0e080c120a6d6574686f6420466f6f' },
  ];
  const simplify = (evs: DecodeEvent[]): unknown[] =>
    evs.map((e) => (e.kind === 'frame' ? { ...e.frame, data: toHex(e.frame.data) } : e));

  for (const size of [1, 2, 3, 7, 10, 11, all.length]) {
    it(`decodes the reference frames fed in ${size}-byte chunks`, () => {
      assert.deepEqual(simplify(decodeInChunks(all, size)), expected);
    });
  }

  // Headers read in place when whole in a chunk, byte by byte otherwise: every way of cutting the stream
  // (several frames per read, a header or a body split across reads, a zero-length frame between) gives the
  // same frames, each a copy that is not a view of the chunk.
  it('decodes the same frames at every split point into two and three reads', () => {
    const stream = Buffer.concat([CONNECT_FRAME, hex('00000000 00000005 03 04'), OK_FRAME, ERROR_FRAME]);
    const want = simplify(decodeInChunks(stream, 1));
    assert.equal(want.length, 4);
    for (let i = 0; i <= stream.length; i++) {
      const d = new FrameDecoder();
      assert.deepEqual(simplify([...d.decode(stream.subarray(0, i)), ...d.decode(stream.subarray(i))]), want, `split at ${i}`);
      for (let j = i; j <= stream.length; j += 5) {
        const e = new FrameDecoder();
        const evs = [...e.decode(stream.subarray(0, i)), ...e.decode(stream.subarray(i, j)), ...e.decode(stream.subarray(j))];
        assert.deepEqual(simplify(evs), want, `split at ${i} and ${j}`);
        assert.equal(e.idle, true);
      }
    }
    const chunk = Buffer.from(stream);
    const [first] = new FrameDecoder().decode(chunk);
    assert.ok(first?.kind === 'frame');
    assert.notEqual(first.frame.data.buffer, chunk.buffer);
    chunk.fill(0);
    assert.equal(toHex(first.frame.data), CONNECT_DATA);
  });

  it('keeps flags and yields zero-length frames at once', () => {
    const d = new FrameDecoder();
    assert.deepEqual(simplify(d.decode(hex('00000000 00000007 03 05'))), [{ streamId: 7, type: 3, flags: 5, data: '' }]);
    assert.equal(d.idle, true);
  });

  it('reports a partial frame as not idle', () => {
    const d = new FrameDecoder();
    assert.deepEqual(d.decode(OK_FRAME.subarray(0, 12)), []);
    assert.equal(d.idle, false);
    assert.equal(d.decode(OK_FRAME.subarray(12)).length, 1);
    assert.equal(d.idle, true);
  });

  it('does not let a later chunk overwrite an earlier frame', () => {
    const d = new FrameDecoder();
    const [first] = d.decode(OK_FRAME);
    d.decode(ERROR_FRAME);
    assert.ok(first?.kind === 'frame');
    assert.equal(toHex(first.frame.data), '0a00120608d20910ae2c');
  });

  it('decodes a frame of exactly 4 MiB', () => {
    const data = Buffer.alloc(MAX_MESSAGE_LENGTH, 0xab);
    const evs = decodeInChunks(encodeFrame(9, 1, 0, data), 65536);
    assert.equal(evs.length, 1);
    assert.ok(evs[0]?.kind === 'frame');
    assert.equal(evs[0].frame.data.length, MAX_MESSAGE_LENGTH);
    assert.equal(evs[0].frame.data[MAX_MESSAGE_LENGTH - 1], 0xab);
  });

  for (const size of [1 << 16, 4097, 10, 3]) {
    it(`reports a 4 MiB + 1 frame as oversized, skips its body (${size}-byte chunks) and stays in sync`, () => {
      const len = MAX_MESSAGE_LENGTH + 1;
      const header = Buffer.alloc(HEADER_LENGTH);
      header.writeUInt32BE(len, 0);
      header.writeUInt32BE(21, 4);
      header.writeUInt8(1, 8);
      header.writeUInt8(0, 9);
      const stream = Buffer.concat([header, Buffer.alloc(len, 0x55), OK_FRAME]);
      const d = new FrameDecoder();
      const evs = size >= 4097 ? decodeInChunks(stream, size, d) : decodeSmallThenLarge(stream, size, d);
      assert.deepEqual(simplify(evs), [
        { kind: 'oversized', streamId: 21, type: 1, flags: 0, length: len },
        { streamId: 1, type: 2, flags: 0, data: '0a00120608d20910ae2c' },
      ]);
      assert.equal(d.idle, true);
    });
  }

  it('announces the oversized frame as soon as its header is complete, before any body byte', () => {
    const d = new FrameDecoder();
    const evs = d.decode(hex('ffffffff 00000005 01 00'));
    assert.deepEqual(evs, [{ kind: 'oversized', streamId: 5, type: 1, flags: 0, length: 0xffffffff }]);
    assert.equal(d.idle, false);
  });

  it('honours a smaller configured limit', () => {
    const d = new FrameDecoder(4);
    assert.deepEqual(simplify(d.decode(hex('00000005 00000001 02 00 0102030405 00000004 00000003 02 00 01020304'))), [
      { kind: 'oversized', streamId: 1, type: 2, flags: 0, length: 5 },
      { streamId: 3, type: 2, flags: 0, data: '01020304' },
    ]);
  });
});

/** Tiny chunks for the header and the first and last bytes, big ones in between (keeps the test fast). */
function decodeSmallThenLarge(stream: Buffer, size: number, d: FrameDecoder): DecodeEvent[] {
  const head = 64;
  const tail = OK_FRAME.length + 64;
  const out = decodeInChunks(stream.subarray(0, head), size, d);
  out.push(...decodeInChunks(stream.subarray(head, stream.length - tail), 1 << 16, d));
  out.push(...decodeInChunks(stream.subarray(stream.length - tail), size, d));
  return out;
}
