/**
 * containerd 2.x's client sends containerd.runc.v1.Options with only the (deprecated) task API endpoint for a
 * task joining a Sandbox API sandbox when the runtime has no options: that is "no options". Real runc
 * options stay refused, as any other foreign type.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, ShimError } from '../../src/errdefs/index.js';
import { containerd } from '../../src/proto/index.js';
import { decodeRuntimeOptions } from '../../src/shim/create/runtime-options.js';

const any = (o: Record<string, unknown>) => ({
  typeUrl: 'containerd.runc.v1.Options', value: containerd.runc.v1.Options.encode(o).finish(),
});

describe('runtime options: containerd 2.x endpoint-only runc Options', () => {
  it('task_api_address/version only → defaults', () => {
    assert.deepEqual(decodeRuntimeOptions(any({ task_api_address: 'unix:///run/s.sock', task_api_version: 2 })), {});
    assert.deepEqual(decodeRuntimeOptions(any({})), {});
  });

  it('any other runc option → InvalidArgument naming the type', () => {
    for (const o of [{ binary_name: 'runc' }, { task_api_version: 3, systemd_cgroup: true }, { io_uid: 1000 }]) {
      assert.throws(() => decodeRuntimeOptions(any(o)), (err: unknown) =>
        err instanceof ShimError && err.code === ErrorCode.InvalidArgument && /containerd\.runc\.v1\.Options/.test(err.message));
    }
    assert.throws(() => decodeRuntimeOptions({ typeUrl: 'containerd.runc.v1.Options', value: Uint8Array.of(0xff) }), ShimError);
  });
});
