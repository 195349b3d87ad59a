import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runDecoderFuzz } from '../../scripts/fuzz-gcs-engine.js';
import { FrameDecoder, GcsProtocolError, MaxMsgSize } from '../../src/gcs/protocol/index.js';

test('decoder fuzz: 120k valid, mutated and random frames; no crash, bounded buffering', () => {
  const stats = runDecoderFuzz({ frames: 120_000, seed: 0x5eed });
  assert.deepEqual(stats.violations, []);
  assert.ok(stats.frames >= 120_000);
  assert.ok(stats.decodedFrames > 50_000, `decoded ${stats.decodedFrames}`);
  assert.ok(stats.protocolErrors > 1000, `protocol errors ${stats.protocolErrors}`);
  assert.ok(stats.maxBuffered <= MaxMsgSize);
});

test('a header claiming 4 GiB never allocates: buffered stays at 0 and the error is immediate', () => {
  const dec = new FrameDecoder();
  const hdr = Buffer.from('0101102000ffffff0000000000000000', 'hex');
  assert.throws(() => dec.decode(hdr), GcsProtocolError);
  assert.equal(dec.bufferedBytes, 0);
});

test('a body trickling in one byte at a time never buffers beyond its declared size', () => {
  const dec = new FrameDecoder();
  const hdr = Buffer.alloc(16);
  hdr.writeUInt32LE(0x20100101, 0);
  hdr.writeUInt32LE(MaxMsgSize, 4);
  dec.decode(hdr);
  for (let i = 0; i < MaxMsgSize - 17; i++) dec.decode(Buffer.from([0x20]));
  assert.equal(dec.bufferedBytes, MaxMsgSize - 1);
  assert.equal(dec.decode(Buffer.from([0x20])).length, 1);
  assert.equal(dec.bufferedBytes, 0);
});
