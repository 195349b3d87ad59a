/** The hand-encoded ConnectResponse: the same bytes as the generated protobufjs encoder. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerd } from '../../src/proto/index.js';
import { encodeConnectResponse } from '../../src/shim/connect-response.js';

const generated = (shimPid: number, taskPid: number, version: string): Uint8Array =>
  containerd.task.v2.ConnectResponse.encode({ shim_pid: shimPid, task_pid: taskPid, version }).finish();

describe('encodeConnectResponse', () => {
  const cases: Array<[number, number]> = [
    [12345, 678], // a running task
    [12345, 0], // no task yet: task_pid omitted
    [0, 0], // both zero: an empty message
    [0, 1],
    [1, 127], // one-byte varints at their edges
    [128, 16_383], // two-byte
    [16_384, 4_194_304], // three- and four-byte (pid_max is 2^22)
    [4_294_967_295, 2_147_483_648], // uint32 max: five bytes
    [-1, -2], // what the generated encoder does with a negative value: v >>> 0
  ];
  for (const [shim, taskPid] of cases) {
    it(`shim ${shim}, task ${taskPid}: same bytes as protobufjs`, () => {
      assert.deepEqual(Buffer.from(encodeConnectResponse(shim, taskPid, '') ?? []), Buffer.from(generated(shim, taskPid, '')));
    });
  }

  it('reference bytes: shim 1234, task 5678', () => {
    assert.equal(Buffer.from(encodeConnectResponse(1234, 5678, '') ?? []).toString('hex'), '08d20910ae2c');
  });

  it('leaves a non-empty version to the generated encoder', () => {
    assert.equal(encodeConnectResponse(1, 2, 'v1'), undefined);
  });

  it('decodes back to the fields', () => {
    const m = containerd.task.v2.ConnectResponse.decode(encodeConnectResponse(4242, 99, '') ?? new Uint8Array());
    assert.equal(m.shim_pid, 4242);
    assert.equal(m.task_pid, 99);
    assert.equal(m.version, '');
  });
});
