import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, ShimError } from '../../src/errdefs/index.js';
import { guestSpecFor, podRole, SKIP_POD_NETWORKING } from '../../src/sandbox/pod-role.js';

const T = 'io.kubernetes.cri.container-type';
const S = 'io.kubernetes.cri.sandbox-id';

describe('podRole: CRI annotations parsed once', () => {
  it('standalone, sandbox and container', () => {
    assert.deepEqual(podRole({}), { kind: 'standalone' });
    assert.deepEqual(podRole({ [T]: 'sandbox', [S]: 'p' }), { kind: 'sandbox', sandboxId: 'p' });
    assert.deepEqual(podRole({ [T]: 'container', [S]: 'p', 'io.kubernetes.cri.container-name': 'c' }), { kind: 'container', sandboxId: 'p' });
  });

  it('a type without an id, an id without a type, an unknown type: InvalidArgument naming the annotation', () => {
    const bad = (a: Record<string, string>, re: RegExp) =>
      assert.throws(() => podRole(a), (e: unknown) => e instanceof ShimError && e.code === ErrorCode.InvalidArgument && re.test(e.message));
    bad({ [T]: 'sandbox' }, /needs io\.kubernetes\.cri\.sandbox-id/);
    bad({ [S]: 'p' }, /needs io\.kubernetes\.cri\.container-type/);
    bad({ [T]: 'podsandbox', [S]: 'p' }, /'podsandbox' is neither/);
  });
});

describe('guestSpecFor', () => {
  it('marks a sandbox on the node network skip-pod-networking; leaves others and explicit settings alone', () => {
    const hostNet = { annotations: { [T]: 'sandbox', [S]: 'p' }, linux: { namespaces: [{ type: 'pid' }, { type: 'ipc' }] } };
    assert.equal((guestSpecFor(hostNet).annotations as Record<string, string>)[SKIP_POD_NETWORKING], 'true');
    assert.equal(hostNet.annotations[SKIP_POD_NETWORKING as keyof typeof hostNet.annotations], undefined, 'input not mutated');
    const podNet = { annotations: { [T]: 'sandbox', [S]: 'p' }, linux: { namespaces: [{ type: 'network', path: '/var/run/netns/x' }] } };
    assert.equal(guestSpecFor(podNet), podNet);
    const workload = { annotations: { [T]: 'container', [S]: 'p' }, linux: {} };
    assert.equal(guestSpecFor(workload), workload);
    const explicit = { annotations: { [T]: 'sandbox', [S]: 'p', [SKIP_POD_NETWORKING]: 'false' }, linux: {} };
    assert.equal(guestSpecFor(explicit), explicit);
  });
});
