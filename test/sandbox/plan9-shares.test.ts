/**
 * Plan9Shares: one set per container, names unique per VM, host side first then the guest mount, released
 * newest first (guest unmount, then host remove), a failed guest mount rolled back on the host, and a failed
 * step never skipping the next (the state machine in plan9-shares.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GuestConnection } from '../../src/gcs/index.js';
import { Plan9Shares, shareNameAllocator, ShareState } from '../../src/sandbox/plan9-shares.js';

function fakes() {
  const calls: string[] = [];
  let failGuest: 'Add' | 'Remove' | undefined;
  const vm = {
    async modify(r: { RequestType: string; Settings: { Name: string } }) {
      calls.push(`host ${r.RequestType} ${r.Settings.Name}`);
    },
  };
  const gc = {
    async modifySettings(r: { RequestType: string; Settings: { ShareName: string; MountPath: string } }) {
      calls.push(`guest ${r.RequestType} ${r.Settings.ShareName} ${r.Settings.MountPath}`);
      if (failGuest === r.RequestType) throw new Error(`guest ${r.RequestType} failed`);
    },
  } as unknown as GuestConnection;
  return { calls, vm: vm as never, gc, failGuestOn: (t: 'Add' | 'Remove' | undefined) => (failGuest = t) };
}

describe('Plan9Shares', () => {
  it('two containers of one VM: unique names; releasing one leaves the other\'s shares', async () => {
    const f = fakes();
    const names = shareNameAllocator();
    const a = new Plan9Shares(f.vm, f.gc, names);
    const b = new Plan9Shares(f.vm, f.gc, names);
    await a.add('/host/a', '/run/gcs/c/a/rootfs', false);
    await b.add('/host/b', '/run/gcs/c/b/rootfs', false);
    await a.add('/host/a-m', '/run/mounts/a/m0', true);
    assert.deepEqual(a.states.map((s) => [s.name, s.state]), [['0', ShareState.Mounted], ['2', ShareState.Mounted]]);
    assert.deepEqual(b.states.map((s) => s.name), ['1']);
    f.calls.length = 0;
    await a.removeAll();
    assert.deepEqual(f.calls, [
      'guest Remove 2 /run/mounts/a/m0', 'host Remove 2',
      'guest Remove 0 /run/gcs/c/a/rootfs', 'host Remove 0',
    ]);
    assert.deepEqual(a.states, []);
    assert.deepEqual(b.states.map((s) => [s.name, s.state]), [['1', ShareState.Mounted]]);
  });

  it('a failed guest mount removes the host share again and records nothing', async () => {
    const f = fakes();
    const s = new Plan9Shares(f.vm, f.gc);
    f.failGuestOn('Add');
    await assert.rejects(s.add('/host/x', '/run/x', false), /guest Add failed/);
    assert.deepEqual(f.calls, ['host Add 0', 'guest Add 0 /run/x', 'host Remove 0']);
    assert.deepEqual(s.states, []);
  });

  it('a failed guest unmount still removes the host share; the first error is returned after every share was tried', async () => {
    const f = fakes();
    const s = new Plan9Shares(f.vm, f.gc);
    await s.add('/host/x', '/run/x', false);
    await s.add('/host/y', '/run/y', false);
    f.calls.length = 0;
    f.failGuestOn('Remove');
    await assert.rejects(s.removeAll(), /guest Remove failed/);
    assert.deepEqual(f.calls, ['guest Remove 1 /run/y', 'host Remove 1', 'guest Remove 0 /run/x', 'host Remove 0']);
    assert.deepEqual(s.states, []);
  });
});
