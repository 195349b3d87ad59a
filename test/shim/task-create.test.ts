/**
 * TaskService Create against the fakes of test/fakes: validation (ids, spec, rootfs, runtime options,
 * annotations) and cleanup when a later step fails (sandbox closed, rootfs unmounted).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ErrorCode } from '../../src/errdefs/index.js';
import { containerd } from '../../src/proto/index.js';
import { ProcessStatus } from '../../src/shim/task/types.js';
import { rejectsWith } from './support/assert-error.js';
import { TASK_ID, TTY_IO, harness, minimalSpec, type Harness } from './support/task-harness.js';

const HYPERVISOR = containerd.runhcs.v1.Options.SandboxIsolation.HYPERVISOR;
const MEMORY_ANNOTATION = 'io.microsoft.virtualmachine.computetopology.memory.sizeinmb';
const hs: Harness[] = [];
afterEach(async () => {
  for (const h of hs.splice(0)) await h.dispose();
});
async function setup(spec?: Record<string, unknown> | string): Promise<Harness> {
  const h = await harness(spec);
  hs.push(h);
  return h;
}

describe('Create', { timeout: 60_000 }, () => {
  it('creates the task: sandbox request, container spec, create event, State created', async () => {
    const h = await setup();
    assert.deepEqual(await h.svc.create(h.createOptions()), { pid: 0 });
    const req = h.factory.requests[0];
    assert.ok(req);
    assert.equal(req.taskId, TASK_ID);
    assert.equal(req.bundle, h.bundle);
    // The host rootfs path is resolved against the bundle before the sandbox sees it.
    assert.equal((req.spec.root as { path: string }).path, join(h.bundle, 'rootfs'));
    assert.equal(h.sandbox.specs.length, 1);
    assert.equal(h.container.id, TASK_ID);
    assert.deepEqual(h.events.sequence, ['create']);
    const ev = h.events.ofType('create')[0];
    assert.equal(ev?.bundle, h.bundle);
    assert.equal(ev?.pid, 0);
    const s = await h.svc.state(TASK_ID, '');
    assert.equal(s.status, ProcessStatus.Created);
    assert.equal(s.pid, 0);
    assert.equal(s.exitStatus, 255);
    assert.equal(s.exitedAt, undefined);
    assert.equal(s.bundle, h.bundle);
  });

  it('rejects an id other than the one the shim serves (InvalidArgument naming it)', async () => {
    const h = await setup();
    await rejectsWith(h.svc.create(h.createOptions({ id: 'other' })), ErrorCode.InvalidArgument, /'other'/);
    assert.equal(h.factory.requests.length, 0);
  });

  it('a second Create is AlreadyExists, also while the first is still in flight', async () => {
    const h = await setup();
    const first = h.svc.create(h.createOptions());
    await rejectsWith(h.svc.create(h.createOptions()), ErrorCode.AlreadyExists);
    await first;
    await rejectsWith(h.svc.create(h.createOptions()), ErrorCode.AlreadyExists);
    assert.equal(h.factory.requests.length, 1);
  });

  it('a config.json without a linux section is InvalidArgument naming it', async () => {
    const spec = minimalSpec();
    delete spec.linux;
    const h = await setup(spec);
    await rejectsWith(h.svc.create(h.createOptions()), ErrorCode.InvalidArgument, /linux/);
    assert.equal(h.factory.requests.length, 0);
  });

  it('a config.json that is not JSON is InvalidArgument naming the file', async () => {
    const h = await setup('{ "linux": ');
    await rejectsWith(h.svc.create(h.createOptions()), ErrorCode.InvalidArgument, /config\.json/);
  });

  it('a missing config.json is NotFound naming the file', async () => {
    const h = await setup();
    await rm(join(h.bundle, 'config.json'));
    await rejectsWith(h.svc.create(h.createOptions()), ErrorCode.NotFound, /config\.json/);
  });

  it('a rootfs directory that does not exist is InvalidArgument naming it', async () => {
    const h = await setup(minimalSpec({ root: { path: 'no-such-rootfs' } }));
    await rejectsWith(h.svc.create(h.createOptions()), ErrorCode.InvalidArgument, /no-such-rootfs/);
    assert.equal(h.factory.requests.length, 0);
  });

  it('an unknown runtime options type is InvalidArgument naming the type', async () => {
    const h = await setup();
    const options = { typeUrl: 'containerd.runc.v1.Options', value: new Uint8Array([8, 1]) };
    await rejectsWith(h.svc.create(h.createOptions({ options })), ErrorCode.InvalidArgument, /containerd\.runc\.v1\.Options/);
    assert.equal(h.factory.requests.length, 0);
  });

  it('runhcs options become defaults under the spec annotations', async () => {
    const h = await setup(minimalSpec({ annotations: { 'x.spec': 'spec', 'x.both': 'spec' } }));
    const value = containerd.runhcs.v1.Options.encode({
      sandbox_isolation: HYPERVISOR,
      vm_memory_size_in_mb: 2048,
      NCProxyAddr: '/run/ncproxy.sock',
      default_container_annotations: { 'x.default': 'd', 'x.both': 'default' },
    }).finish();
    await h.svc.create(h.createOptions({ options: { typeUrl: 'type.googleapis.com/containerd.runhcs.v1.Options', value } }));
    const req = h.factory.requests[0];
    assert.equal(req?.options.vmMemorySizeInMB, 2048);
    assert.equal(req?.annotations[MEMORY_ANNOTATION], '2048');
    assert.equal(req?.annotations['io.microsoft.network.ncproxy'], '/run/ncproxy.sock', 'NCProxyAddr is the ncproxy annotation default');
    assert.equal(req?.annotations['x.default'], 'd');
    assert.equal(req?.annotations['x.both'], 'spec');
    assert.equal(req?.annotations['x.spec'], 'spec');
    // runhcs UpdateSpecFromOptions: the spec the guest gets carries the merged annotations too.
    assert.deepEqual(h.sandbox.specs[0]?.annotations, req?.annotations);
  });

  it('runhcs sandbox checks: configured options need HYPERVISOR isolation and a linux platform; FILE logging is refused', async () => {
    const create = async (o: Record<string, unknown>) => {
      const h = await setup();
      const value = containerd.runhcs.v1.Options.encode(o).finish();
      return { h, done: h.svc.create(h.createOptions({ options: { typeUrl: 'containerd.runhcs.v1.Options', value } })) };
    };
    let r = await create({ vm_memory_size_in_mb: 1024 });
    await rejectsWith(r.done, ErrorCode.InvalidArgument, /invalid runtime sandbox isolation \(PROCESS\).*SandboxIsolation = 1/);
    assert.equal(r.h.factory.requests.length, 0, 'refused before any VM is asked for');
    r = await create({ sandbox_isolation: HYPERVISOR, sandbox_platform: 'windows/amd64' });
    await rejectsWith(r.done, ErrorCode.InvalidArgument, /non-empty Linux config in OCI spec for Windows sandbox platform: windows\/amd64/);
    r = await create({ sandbox_isolation: HYPERVISOR, sandbox_platform: 'plan9/amd64' });
    await rejectsWith(r.done, ErrorCode.InvalidArgument, /unknown runtime sandbox platform OS: plan9\/amd64/);
    r = await create({ sandbox_isolation: HYPERVISOR, sandbox_platform: 'linux amd64' });
    await rejectsWith(r.done, ErrorCode.InvalidArgument, /invalid runtime sandbox platform/);
    r = await create({ sandbox_isolation: HYPERVISOR, debug_type: 1 });
    await rejectsWith(r.done, ErrorCode.InvalidArgument, /debug_type FILE is not supported/);
    for (const ok of [
      { sandbox_isolation: HYPERVISOR, sandbox_platform: 'Linux/AMD64', debug_type: 2 },
      {}, // all defaults: "not configured", as runhcs (no checks)
    ]) {
      r = await create(ok);
      await r.done;
      assert.equal(r.h.factory.requests.length, 1);
    }
    assert.equal(r.h.factory.requests[0]?.options.configured, false);
  });

  it('scrub_logs is false only when set so; debug_type and NCProxyAddr are decoded', async () => {
    const h = await setup();
    const value = containerd.runhcs.v1.Options.encode({ sandbox_isolation: HYPERVISOR, scrub_logs: false, debug_type: 2 }).finish();
    await h.svc.create(h.createOptions({ options: { typeUrl: 'containerd.runhcs.v1.Options', value } }));
    const o = h.factory.requests[0]?.options;
    assert.equal(o?.scrubLogs, false);
    assert.equal(o?.debugType, 'etw');
    assert.equal(o?.configured, true);
    const h2 = await setup();
    const v2 = containerd.runhcs.v1.Options.encode({ sandbox_isolation: HYPERVISOR }).finish();
    await h2.svc.create(h2.createOptions({ options: { typeUrl: 'containerd.runhcs.v1.Options', value: v2 } }));
    assert.equal(h2.factory.requests[0]?.options.scrubLogs, undefined);
  });

  it(
    'a bad annotation value is InvalidArgument naming the annotation, before any VM is asked for',
    async () => {
      const h = await setup(minimalSpec({ annotations: { [MEMORY_ANNOTATION]: 'lots' } }));
      await rejectsWith(h.svc.create(h.createOptions()), ErrorCode.InvalidArgument, new RegExp(MEMORY_ANNOTATION.replace(/\./g, '\\.')));
      assert.equal(h.factory.requests.length, 0);
    },
  );

  it('a terminal with a separate stderr is InvalidArgument; a checkpoint is NotImplemented', async () => {
    const h = await setup();
    await rejectsWith(h.svc.create(h.createOptions({ stdio: { ...TTY_IO, stderr: '/x' } })), ErrorCode.InvalidArgument, /stderr/);
    await rejectsWith(h.svc.create(h.createOptions({ checkpoint: '/cp' })), ErrorCode.NotImplemented);
    assert.equal(h.factory.requests.length, 0);
  });

  it('a sandbox factory failure is returned and leaves nothing behind; Create can be retried', async () => {
    const h = await setup();
    const boom = new Error('no VM today');
    h.factory.failWith = boom;
    await assert.rejects(h.svc.create(h.createOptions()), (err) => err === boom);
    await rejectsWith(h.svc.state(TASK_ID, ''), ErrorCode.NotFound);
    assert.deepEqual(h.events.events, []);
    h.factory.failWith = undefined;
    await h.svc.create(h.createOptions());
    assert.equal(h.factory.sandboxes.length, 1);
  });

  it('a container creation failure closes the sandbox', async () => {
    const h = await setup();
    const boom = new Error('guest refused the container');
    h.factory.prepare = (s) => (s.createContainerError = boom);
    await assert.rejects(h.svc.create(h.createOptions()), (err) => err === boom);
    assert.equal(h.factory.last.closeCount, 1);
    await rejectsWith(h.svc.state(TASK_ID, ''), ErrorCode.NotFound);
    assert.deepEqual(h.events.events, []);
  });
});

/** The mount points under `dir` (from /proc/self/mountinfo). */
async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => p.startsWith(dir));
}

describe('Create with rootfs mounts (root only: real bind mounts)', { skip: process.getuid?.() !== 0 && 'needs root', timeout: 60_000 }, () => {
  for (const failure of ['sandbox factory', 'container creation'] as const) {
    it(`a ${failure} failure unmounts the rootfs again`, async () => {
      const h = await setup();
      const layer = await mkdtemp(join(tmpdir(), 'shim-layer-'));
      try {
        await mkdir(join(layer, 'bin'));
        if (failure === 'sandbox factory') h.factory.failWith = new Error('boom');
        else h.factory.prepare = (s) => (s.createContainerError = new Error('boom'));
        const rootfs = [{ type: 'bind', source: layer, target: '', options: ['rbind'] }];
        await assert.rejects(h.svc.create(h.createOptions({ rootfs })), /boom/);
        assert.equal(h.factory.requests.length, 1, 'the rootfs was mounted and the factory called');
        assert.deepEqual(await mountsUnder(h.bundle), []);
      } finally {
        for (const m of await mountsUnder(h.bundle)) await promisify(execFile)('umount', ['-l', m]).catch(() => undefined);
        await rm(layer, { recursive: true, force: true });
      }
    });
  }

  it('the rootfs is mounted while the task lives and unmounted by Delete', async () => {
    const h = await setup();
    const layer = await mkdtemp(join(tmpdir(), 'shim-layer-'));
    try {
      const rootfs = [{ type: 'bind', source: layer, target: '', options: ['rbind'] }];
      await h.svc.create(h.createOptions({ rootfs }));
      assert.deepEqual(await mountsUnder(h.bundle), [join(h.bundle, 'rootfs')]);
      assert.equal((h.factory.requests[0]?.spec.root as { path: string }).path, join(h.bundle, 'rootfs'));
      await h.svc.delete(TASK_ID, '');
      assert.deepEqual(await mountsUnder(h.bundle), []);
    } finally {
      for (const m of await mountsUnder(h.bundle)) await promisify(execFile)('umount', ['-l', m]).catch(() => undefined);
      await rm(layer, { recursive: true, force: true });
    }
  });
});

