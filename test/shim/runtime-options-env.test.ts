/**
 * The runtime options `start` hands the daemon in its environment (runtime-options-env.ts): round trip,
 * nothing for no options, the variable taken out of the environment, and a malformed value ignored.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RUNTIME_OPTIONS_ENV, runtimeOptionsEnv, takeRuntimeOptions } from '../../src/shim/runtime-options-env.js';

describe('runtime options in the daemon environment', () => {
  it('round trip: type URL and bytes; the variable is removed once taken', () => {
    const value = Uint8Array.of(0, 1, 2, 250, 255, 0x0a);
    const env: NodeJS.ProcessEnv = { ...runtimeOptionsEnv({ typeUrl: 'containerd.runhcs.v1.Options', value }), OTHER: 'x' };
    assert.equal(env[RUNTIME_OPTIONS_ENV], 'containerd.runhcs.v1.Options AAEC+v8K');
    const got = takeRuntimeOptions(env);
    assert.equal(got?.typeUrl, 'containerd.runhcs.v1.Options');
    assert.deepEqual([...(got?.value ?? [])], [...value]);
    assert.deepEqual(env, { OTHER: 'x' });
    assert.equal(takeRuntimeOptions(env), undefined, 'taken once');
  });

  it('no options (or an empty type URL): no variable; empty bytes survive', () => {
    assert.deepEqual(runtimeOptionsEnv(undefined), {});
    assert.deepEqual(runtimeOptionsEnv({ typeUrl: '', value: Uint8Array.of(1) }), {});
    const env = runtimeOptionsEnv({ typeUrl: 't.x/Y', value: new Uint8Array() });
    assert.deepEqual(takeRuntimeOptions(env), { typeUrl: 't.x/Y', value: new Uint8Array() });
  });

  it('a malformed value is ignored (and still removed)', () => {
    for (const bad of ['', 'onlytype', 'a b c', 'type not*base64']) {
      const env: NodeJS.ProcessEnv = { [RUNTIME_OPTIONS_ENV]: bad };
      assert.equal(takeRuntimeOptions(env), undefined, bad);
      assert.equal(env[RUNTIME_OPTIONS_ENV], undefined);
    }
  });
});
