/** The OK Response frame built by hand: the same bytes as the generated encoder framed by encodeFrame. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ttrpc } from '../../src/proto/index.js';
import { MessageType, encodeFrame } from '../../src/ttrpc/index.js';
import { encodeOkResponseFrame, okResponseLength } from '../../src/ttrpc/response-frame.js';

describe('encodeOkResponseFrame', () => {
  // Lengths around each varint boundary of the payload length, and the empty reply.
  for (const size of [0, 1, 100, 127, 128, 16_383, 16_384, 70_000]) {
    it(`a ${size}-byte payload: same frame as Response.encode + encodeFrame`, () => {
      const payload = Buffer.alloc(size, 0x5a);
      if (size > 0) payload[size - 1] = 0x01;
      const reference = encodeFrame(0xfffffffd, MessageType.Response, 0, ttrpc.Response.encode({ payload }).finish());
      const frame = encodeOkResponseFrame(0xfffffffd, payload);
      assert.deepEqual(frame, reference);
      assert.equal(okResponseLength(size), reference.length - 10);
    });
  }
});
