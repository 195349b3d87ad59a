/**
 * The guest's pod rules (src/guest/pods.ts), as the real GCS enforces them: unknown pod, duplicate pod or
 * member, a workload's hostname, an unknown container type, a sandbox without networking; the sandbox's
 * hostname and hosts files; the workload's binds of them unless it mounts its own.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HResult } from '../../src/errdefs/index.js';
import { GuestError } from '../../src/guest/errors.js';
import { etcHostsContent, PodRegistry } from '../../src/guest/pods.js';

const dir = mkdtempSync(join(tmpdir(), 'guest-pods-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const sandboxSpec = (id: string, extra: Record<string, unknown> = {}) => ({
  hostname: '', root: { path: '/r', readonly: true }, mounts: [],
  annotations: { 'io.kubernetes.cri.container-type': 'sandbox', 'io.kubernetes.cri.sandbox-id': id, 'io.microsoft.cri.skip-pod-networking': 'true' },
  ...extra,
});
const workloadSpec = (pod: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  root: { path: '/r' }, mounts: [{ destination: '/etc/resolv.conf', type: 'bind', source: '/x/resolv.conf', options: ['rbind'] }],
  annotations: { 'io.kubernetes.cri.container-type': 'container', 'io.kubernetes.cri.sandbox-id': pod },
  ...extra,
});

async function rejects(p: Promise<unknown>, message: RegExp, hresult: number = HResult.E_FAIL): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof GuestError, String(err));
    assert.match(err.message, message);
    assert.equal(err.hresult >>> 0, hresult >>> 0);
    return true;
  });
}

describe('guest pods', () => {
  it('a workload whose pod the guest does not know is refused, as the real GCS does', async () => {
    const pods = new PodRegistry();
    await rejects(pods.admit('c1', workloadSpec('p0'), join(dir, 'c1')), /pod p0 does not exist for workload container c1/);
    await rejects(pods.admit('c1', workloadSpec(''), join(dir, 'c1')), /unsupported 'io.kubernetes.cri.sandbox-id': ''/);
    await rejects(pods.admit('c1', { annotations: { 'io.kubernetes.cri.container-type': 'pause' } }, dir), /unsupported 'io.kubernetes.cri.container-type': 'pause'/);
    assert.deepEqual(pods.snapshot, {});
  });

  it('a sandbox writes its hostname, hosts and (empty) resolv.conf under its root; workloads bind them unless they mount their own', async () => {
    const pods = new PodRegistry();
    const root = join(dir, 'p1');
    await pods.admit('p1', sandboxSpec('p1', { hostname: 'web.example' }), root);
    assert.equal(readFileSync(join(root, 'hostname'), 'utf8'), 'web.example\n');
    assert.equal(readFileSync(join(root, 'hosts'), 'utf8'), etcHostsContent('web.example'));
    assert.match(etcHostsContent('web.example'), /^127\.0\.0\.1 localhost\n127\.0\.0\.1 web\.example web\n/);
    assert.equal(readFileSync(join(root, 'resolv.conf'), 'utf8'), '', 'skipped networking: the empty namespace has no DNS settings');
    const spec = workloadSpec('p1');
    await pods.admit('c1', spec, join(dir, 'c1'));
    assert.deepEqual(spec.mounts, [
      { destination: '/etc/resolv.conf', type: 'bind', source: '/x/resolv.conf', options: ['rbind'] },
      { destination: '/etc/hostname', type: 'bind', source: join(root, 'hostname'), options: ['bind'] },
      { destination: '/etc/hosts', type: 'bind', source: join(root, 'hosts'), options: ['bind'] },
    ]);
    assert.deepEqual(pods.snapshot, { p1: ['p1', 'c1'] });
    await rejects(pods.admit('c1', workloadSpec('p1'), join(dir, 'c1')), /container c1 already registered with pod p1/);
    await rejects(pods.admit('p1', sandboxSpec('p1'), root), /pod p1 already exists/);
    await rejects(pods.admit('c2', workloadSpec('p1', { hostname: 'other' }), join(dir, 'c2')), /workload container must not change hostname: other/);
    pods.remove('c1');
    assert.deepEqual(pods.snapshot, { p1: ['p1'] });
    pods.remove('p1');
    assert.deepEqual(pods.snapshot, {});
    await rejects(pods.admit('c3', workloadSpec('p1'), join(dir, 'c3')), /pod p1 does not exist/);
  });

  it('an empty hostname is the VM\'s; an invalid one is E_INVALIDARG; a sandbox without networking is refused', async () => {
    const pods = new PodRegistry();
    await pods.admit('p2', sandboxSpec('p2'), join(dir, 'p2'));
    assert.equal(readFileSync(join(dir, 'p2', 'hostname'), 'utf8'), `${hostname()}\n`);
    await rejects(pods.admit('p3', sandboxSpec('p3', { hostname: 'bad name' }), join(dir, 'p3')), /hostname "bad name" invalid/, HResult.E_INVALIDARG);
    const noSkip = sandboxSpec('p4');
    noSkip.annotations = { 'io.kubernetes.cri.container-type': 'sandbox', 'io.kubernetes.cri.sandbox-id': 'p4' } as typeof noSkip.annotations;
    await rejects(pods.admit('p4', noSkip, join(dir, 'p4')), /namespace '' not found/);
    assert.deepEqual(Object.keys(pods.snapshot), ['p2']);
  });

  it('a standalone container (no CRI annotations) is admitted untouched', async () => {
    const pods = new PodRegistry();
    const spec = { root: { path: '/r' }, mounts: [] };
    await pods.admit('s1', spec, join(dir, 's1'));
    assert.deepEqual(spec.mounts, []);
    assert.deepEqual(pods.snapshot, {});
  });
});
