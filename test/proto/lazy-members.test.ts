/**
 * The generated protobuf code makes each nested namespace, message and enum on first read
 * (scripts/gen-protos.mjs: lazyMembers), so a daemon holds only the types it uses (issue 17). This file runs
 * in a process of its own (node --test), so nothing has read these members before it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerd, io } from '../../src/proto/index.js';

const isPending = (o: object, k: string): boolean => typeof Object.getOwnPropertyDescriptor(o, k)?.get === 'function';

test('a member is a getter until first read, then a plain property holding the same value', () => {
  const v1 = containerd.runtime.sandbox.v1;
  assert.ok(isPending(v1, 'CreateSandboxRequest'), 'not made at load');
  assert.ok(isPending(v1, 'StopSandboxRequest'));
  const made = v1.CreateSandboxRequest;
  assert.equal(typeof made, 'function');
  assert.equal(v1.CreateSandboxRequest, made, 'made once');
  const d = Object.getOwnPropertyDescriptor(v1, 'CreateSandboxRequest');
  assert.equal(d?.value, made);
  assert.equal(d?.enumerable, true);
  assert.ok(isPending(v1, 'StopSandboxRequest'), 'a sibling stays unmade');
  assert.ok(Object.keys(v1).includes('StopSandboxRequest'), 'unmade members are still listed');
});

test('nested types made on first use encode and decode as before (bytes checked)', () => {
  assert.ok(isPending(io.containerd.cgroups, 'v1'));
  const { Statistics } = containerd.runhcs.stats.v1;
  const bytes = Statistics.encode({ linux: { pids: { current: 3, limit: 9 } } }).finish();
  // Statistics.linux (field 2) { Metrics.pids (field 2) { current (1) = 3, limit (2) = 9 } }
  assert.deepEqual([...bytes], [0x12, 0x06, 0x12, 0x04, 0x08, 0x03, 0x10, 0x09]);
  const back = Statistics.decode(bytes);
  assert.equal(back.linux?.pids?.current, 3);
  assert.equal(back.linux?.pids?.limit, 9);
  assert.ok(back.linux instanceof io.containerd.cgroups.v1.Metrics);
});

test('enums made on first read; an assigned member replaces the getter', () => {
  assert.equal(containerd.runhcs.v1.Options.DebugType.ETW, 2);
  assert.equal(containerd.runhcs.v1.Options.SandboxIsolation[1], 'HYPERVISOR');
  const ns = containerd.runtime.bootstrap.v1 as unknown as Record<string, unknown>;
  assert.ok(isPending(ns, 'LogLevel'));
  const replaced = { replaced: true };
  ns['LogLevel'] = replaced;
  assert.equal(ns['LogLevel'], replaced);
});
