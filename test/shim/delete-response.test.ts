/** The hand-encoded DeleteResponse `delete` prints: the same bytes as the generated protobufjs encoder. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerd } from '../../src/proto/index.js';
import { encodeDeleteResponse } from '../../src/shim/delete-response.js';

const generated = (pid: number, exitStatus: number, ms: number): Uint8Array =>
  containerd.task.v2.DeleteResponse.encode({
    pid, exit_status: exitStatus, exited_at: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 },
  }).finish();

describe('encodeDeleteResponse', () => {
  const cases: Array<[number, number, number]> = [
    [0, 255, 1_764_530_000_123], // what delete prints
    [0, 255, 1_764_530_000_000], // whole second: nanos omitted
    [0, 0, 0], // every scalar zero: an empty Timestamp is still written
    [1, 1, 999],
    [4_294_967_295, 4_294_967_295, 253_402_300_799_999], // uint32 max, year 9999
    [12_345, 137, 1_000],
  ];
  for (const [pid, status, ms] of cases) {
    it(`pid ${pid}, exit ${status}, ${ms} ms: same bytes as protobufjs`, () => {
      assert.deepEqual(Buffer.from(encodeDeleteResponse({ pid, exitStatus: status, exitedAtMs: ms })), Buffer.from(generated(pid, status, ms)));
    });
  }

  it('decodes back to the fields', () => {
    const m = containerd.task.v2.DeleteResponse.decode(encodeDeleteResponse({ pid: 7, exitStatus: 255, exitedAtMs: 1_764_530_000_456 }));
    assert.equal(m.pid, 7);
    assert.equal(m.exit_status, 255);
    assert.equal(Number(m.exited_at?.seconds), 1_764_530_000);
    assert.equal(m.exited_at?.nanos, 456_000_000);
  });
});
