/**
 * The Sandbox API's state machine (PodSandbox) against a fake sandbox factory: every transition of the
 * table in pod-sandbox.ts, every refused one with its error code, the pod's sandbox container in the guest,
 * the teardown order (containers, then the sandbox container, then the VM) also for a start that fails
 * half-way or is stopped meanwhile, WaitSandbox/SandboxStatus states and exit status, and a VM that exits on
 * its own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { ErrorCode, ShimError } from '../../src/errdefs/index.js';
import { POD_INFRA_PROCESS, PodSandbox, PodSandboxState, STOPPED_EXIT_STATUS, VM_LOST_EXIT_STATUS, type PodSandboxDeps } from '../../src/shim/sandbox-api/index.js';
import type { TaskStats } from '../../src/sandbox/index.js';
import { FakeSandboxFactory, silentLogger, type FakeSandbox } from '../fakes/index.js';
import { rejectsWith } from './support/assert-error.js';

const ID = 'sb1';

interface Setup {
  pod: PodSandbox;
  factory: FakeSandboxFactory;
  order: string[];
  exits: number[];
  rootfs: string[];
}

function setup(over: Partial<PodSandboxDeps> = {}): Setup {
  const factory = new FakeSandboxFactory();
  const order: string[] = [];
  const exits: number[] = [];
  const rootfs: string[] = [];
  factory.prepare = (s) => {
    const close = s.close.bind(s);
    s.close = async () => {
      order.push('vm closed');
      await close();
    };
    const createContainer = s.createContainer.bind(s);
    s.createContainer = async (id, spec) => {
      const c = await createContainer(id, spec);
      const shutdown = c.shutdown.bind(c);
      c.shutdown = async (ms) => {
        order.push(`container ${id} removed`);
        await shutdown(ms);
      };
      return c;
    };
  };
  const pod = new PodSandbox({
    shimId: ID, log: silentLogger(), sandboxes: factory.factory,
    workloads: { killAll: async () => void order.push('containers killed'), podStats: async () => [] },
    requestExit: () => void exits.push(1),
    now: () => new Date(1_700_000_000_000),
    prepareInfraRootfs: async (dir) => void rootfs.push(dir),
    ...over,
  });
  return { pod, factory, order, exits, rootfs };
}

const create = (pod: PodSandbox, id = ID): void => pod.create({ id, bundle: '/b', annotations: { a: 'b' }, netnsPath: '', hostname: 'web' });

describe('PodSandbox (Sandbox API)', () => {
  it('Create → Start → Stop → Shutdown: one VM named <id>@vm, states, exit status 0, then the daemon exits', async () => {
    const { pod, factory, order, exits, rootfs } = setup();
    create(pod);
    assert.equal(pod.current, PodSandboxState.Created);
    assert.equal(pod.status(ID).state, 'SANDBOX_NOTREADY');
    assert.equal(pod.vm(), undefined, 'no VM before StartSandbox');
    assert.equal(factory.requests.length, 0);
    const { createdAt } = await pod.start(ID);
    assert.equal(createdAt.getTime(), 1_700_000_000_000);
    assert.equal(factory.requests.length, 1);
    assert.equal(factory.requests[0]?.taskId, ID);
    assert.deepEqual(factory.requests[0]?.annotations, { a: 'b' });
    assert.equal(factory.last.id, `${ID}@vm`);
    assert.equal(pod.vm(), factory.last);
    // the pod in the guest: its sandbox container, created (never started) from the rootfs written in the bundle
    assert.deepEqual(rootfs, ['/b/sandbox-rootfs']);
    assert.deepEqual(factory.last.containers.map((c) => c.id), [ID]);
    const infra = factory.last.specs[0] as { annotations: Record<string, string>; hostname: string; root: { path: string }; process: { args: string[] } };
    assert.deepEqual(infra.annotations, { a: 'b', 'io.kubernetes.cri.container-type': 'sandbox', 'io.kubernetes.cri.sandbox-id': ID });
    assert.equal(infra.hostname, 'web');
    assert.equal(infra.root.path, '/b/sandbox-rootfs');
    assert.deepEqual(infra.process.args, [POD_INFRA_PROCESS]);
    assert.equal(factory.last.container.requests.length, 0, 'nothing runs in it');
    assert.equal(pod.status(ID).state, 'SANDBOX_READY');
    assert.deepEqual(pod.platform(ID), { os: 'linux', architecture: 'amd64' });
    pod.ping(ID);
    const waits: number[] = [];
    void pod.wait(ID).then((e) => waits.push(e.exitStatus));
    await tick();
    assert.deepEqual(waits, [], 'WaitSandbox blocks while running');

    await pod.stop(ID);
    assert.deepEqual(order, ['containers killed', `container ${ID} removed`, 'vm closed'], 'containers, the sandbox container, then the VM');
    assert.equal(pod.current, PodSandboxState.Stopped);
    await tick();
    assert.deepEqual(waits, [STOPPED_EXIT_STATUS]);
    const st = pod.status(ID);
    assert.equal(st.state, 'SANDBOX_NOTREADY');
    assert.ok(st.exitedAt !== undefined);
    assert.equal(pod.vm(), undefined);
    await pod.stop(ID); // idempotent
    assert.equal(factory.last.closeCount, 1);

    assert.equal(pod.active(), true);
    await pod.shutdown(ID);
    assert.equal(pod.active(), false);
    await tick();
    assert.deepEqual(exits, [1]);
  });

  it('ShutdownSandbox: released (the marker for delete) once the VM is closed, with the bundle; not when the close fails, nor on Stop alone', async () => {
    const released: string[] = [];
    const ok = setup({ onReleased: (b) => void released.push(`${b} after ${ok.order.at(-1) ?? 'nothing'}`) });
    create(ok.pod);
    await ok.pod.start(ID);
    await ok.pod.stop(ID);
    assert.deepEqual(released, [], 'StopSandbox alone: the daemon serves on');
    await ok.pod.shutdown(ID);
    assert.deepEqual(released, ['/b after vm closed']);
    // never started: nothing to release, and nothing left for delete either
    const idle: string[] = [];
    const never = setup({ onReleased: (b) => void idle.push(b) });
    create(never.pod);
    await never.pod.shutdown(ID);
    assert.deepEqual(idle, ['/b']);
    assert.equal(never.factory.requests.length, 0);
    // a VM whose close fails: ShutdownSandbox fails and no marker is left (delete then cleans up after it)
    const failed: string[] = [];
    const bad = setup({ onReleased: (b) => void failed.push(b) });
    create(bad.pod);
    await bad.pod.start(ID);
    bad.factory.last.closeError = new Error('HcsTerminateComputeSystem failed');
    await assert.rejects(bad.pod.shutdown(ID), /HcsTerminateComputeSystem failed/);
    assert.deepEqual(failed, []);
  });

  it('refuses every invalid transition with the documented code', async () => {
    const { pod } = setup();
    // before CreateSandbox: NotFound everywhere
    await rejectsWith(pod.start(ID), ErrorCode.NotFound);
    await rejectsWith(pod.stop(ID), ErrorCode.NotFound);
    await rejectsWith(pod.wait(ID), ErrorCode.NotFound);
    await rejectsWith(pod.shutdown(ID), ErrorCode.NotFound);
    await rejectsWith((async () => pod.status(ID))(), ErrorCode.NotFound);
    await rejectsWith((async () => pod.platform(ID))(), ErrorCode.NotFound);
    await rejectsWith((async () => pod.ping(ID))(), ErrorCode.NotFound);
    // an id the shim was not started for, an empty id
    await rejectsWith((async () => create(pod, 'other'))(), ErrorCode.InvalidArgument, /started for sandbox sb1/);
    await rejectsWith((async () => create(pod, ''))(), ErrorCode.InvalidArgument);
    create(pod);
    await rejectsWith((async () => create(pod))(), ErrorCode.AlreadyExists);
    await rejectsWith(pod.start('other'), ErrorCode.NotFound);
    await rejectsWith(pod.start(''), ErrorCode.InvalidArgument);
    await rejectsWith((async () => pod.ping(ID))(), ErrorCode.FailedPrecondition, /created, not running/);
    await pod.start(ID);
    await rejectsWith(pod.start(ID), ErrorCode.FailedPrecondition, /running, not created/);
    await rejectsWith((async () => create(pod))(), ErrorCode.AlreadyExists);
    await pod.stop(ID);
    await rejectsWith(pod.start(ID), ErrorCode.FailedPrecondition, /stopped, not created/);
    await rejectsWith((async () => pod.ping(ID))(), ErrorCode.FailedPrecondition);
    await pod.shutdown(ID);
    // after ShutdownSandbox: gone
    await rejectsWith(pod.start(ID), ErrorCode.NotFound);
    await rejectsWith(pod.stop(ID), ErrorCode.NotFound);
    await rejectsWith((async () => pod.status(ID))(), ErrorCode.NotFound);
    await rejectsWith((async () => create(pod))(), ErrorCode.AlreadyExists);
  });

  it('Stop of a created (never started) sandbox: no VM, no kill, Wait answers 0', async () => {
    const { pod, factory, order } = setup();
    create(pod);
    await pod.stop(ID);
    assert.equal(factory.requests.length, 0);
    assert.deepEqual(order, []);
    assert.equal((await pod.wait(ID)).exitStatus, STOPPED_EXIT_STATUS);
  });

  it('a VM that exits on its own: Wait answers 255, status NOTREADY; Stop after that does not close twice', async () => {
    const { pod, factory, order } = setup();
    create(pod);
    await pod.start(ID);
    factory.last.exitVm();
    const e = await pod.wait(ID);
    assert.equal(e.exitStatus, VM_LOST_EXIT_STATUS);
    assert.equal(pod.status(ID).state, 'SANDBOX_NOTREADY');
    await pod.stop(ID);
    assert.deepEqual(order, []);
  });

  it('a failed StartSandbox leaves it created (retry works); a Stop during start closes the new VM', async () => {
    const { pod, factory } = setup();
    create(pod);
    factory.failWith = new Error('CreateLCOW failed');
    await assert.rejects(pod.start(ID), /CreateLCOW failed/);
    assert.equal(pod.current, PodSandboxState.Created);
    factory.failWith = undefined;
    await pod.start(ID);
    assert.equal(pod.current, PodSandboxState.Running, 'the retry works');

    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const inner = factory.factory;
    const slow = setup({
      sandboxes: async (req) => {
        await gate;
        return inner(req);
      },
    }).pod;
    slow.create({ id: ID, bundle: '/b', annotations: {}, netnsPath: '' });
    const started = slow.start(ID);
    const stopped = slow.stop(ID); // waits for the start in flight
    release();
    await rejectsWith(started, ErrorCode.FailedPrecondition, /stopped while starting/);
    await stopped;
    assert.equal(factory.last.closeCount, 1, 'the VM made after the stop is closed');
    assert.equal(factory.last.containers.length, 0, 'no sandbox container is made for a stopped pod');
    assert.equal(slow.current, PodSandboxState.Stopped);
    assert.equal((await slow.wait(ID)).exitStatus, STOPPED_EXIT_STATUS);
  });

  it('a start that fails half-way releases what it acquired, in reverse order; a Stop then releases nothing twice', async () => {
    // the sandbox container cannot be created: the VM is closed
    const a = setup();
    a.factory.prepare = ((prev) => (s: FakeSandbox) => {
      prev?.(s);
      s.createContainerError = new Error('pod p already exists');
    })(a.factory.prepare);
    create(a.pod);
    await assert.rejects(a.pod.start(ID), /pod p already exists/);
    assert.deepEqual(a.order, ['vm closed']);
    assert.equal(a.pod.current, PodSandboxState.Created);
    assert.equal(a.pod.vm(), undefined);
    await a.pod.stop(ID);
    assert.deepEqual(a.order, ['vm closed'], 'nothing left for the stop to release');
    assert.equal(a.factory.last.closeCount, 1);

    // the rootfs cannot be written: the VM is closed, no container was made
    const b = setup({ prepareInfraRootfs: async () => Promise.reject(new Error('EROFS')) });
    create(b.pod);
    await assert.rejects(b.pod.start(ID), /EROFS/);
    assert.deepEqual(b.order, ['vm closed']);
    assert.equal(b.factory.last.containers.length, 0);

    // a Stop while the rootfs is written: no sandbox container is made, the VM is closed once, by the start
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const c = setup({ prepareInfraRootfs: () => gate });
    create(c.pod);
    const started = c.pod.start(ID);
    await tick();
    const stopped = c.pod.stop(ID);
    assert.equal(c.pod.current, PodSandboxState.Running, 'Stop waits for the start in flight');
    release();
    await rejectsWith(started, ErrorCode.FailedPrecondition, /stopped while starting/);
    await stopped;
    assert.deepEqual(c.order, ['vm closed']);
    assert.equal(c.factory.last.containers.length, 0);
    assert.equal(c.factory.last.closeCount, 1);
    assert.equal(c.pod.current, PodSandboxState.Stopped);

    // a Stop while the sandbox container is being created: the start removes it, then closes the VM
    let releaseCreate!: () => void;
    const createGate = new Promise<void>((r) => (releaseCreate = r));
    const d = setup();
    d.factory.prepare = ((prev) => (s: FakeSandbox) => {
      prev?.(s);
      const createContainer = s.createContainer.bind(s);
      s.createContainer = async (id, spec) => {
        await createGate;
        return createContainer(id, spec);
      };
    })(d.factory.prepare);
    create(d.pod);
    const started2 = d.pod.start(ID);
    for (let i = 0; i < 5; i++) await tick();
    const stopped2 = d.pod.stop(ID);
    releaseCreate();
    await rejectsWith(started2, ErrorCode.FailedPrecondition, /stopped while starting/);
    await stopped2;
    assert.deepEqual(d.order, [`container ${ID} removed`, 'vm closed'], 'reverse order of acquisition');
    assert.equal(d.factory.last.closeCount, 1);
    assert.equal(d.pod.current, PodSandboxState.Stopped);
  });

  it('the runtime options size the VM as a pause container\'s Create would; refused options fail the start before any VM', async () => {
    const { pod, factory } = setup({ options: () => ({ vmMemorySizeInMB: 2048, vmProcessorCount: 2 }) });
    create(pod);
    await pod.start(ID);
    assert.equal(factory.requests[0]?.options.vmMemorySizeInMB, 2048);
    const a = factory.requests[0]?.annotations ?? {};
    assert.equal(a['io.microsoft.virtualmachine.computetopology.memory.sizeinmb'], '2048', 'the options\' defaults as annotations');
    assert.equal(a['io.microsoft.virtualmachine.computetopology.processor.count'], '2');
    assert.equal(a.a, 'b', 'the pod\'s own annotations kept');

    const bad = setup({ options: () => { throw new ShimError(ErrorCode.InvalidArgument, "unsupported runtime options type 'x'"); } });
    create(bad.pod);
    await rejectsWith(bad.pod.start(ID), ErrorCode.InvalidArgument, /unsupported runtime options type/);
    assert.equal(bad.factory.requests.length, 0, 'no VM');
    assert.equal(bad.pod.current, PodSandboxState.Created);

    const process = setup({ options: () => ({ configured: true, sandboxIsolation: 'process' }) });
    create(process.pod);
    await rejectsWith(process.pod.start(ID), ErrorCode.InvalidArgument, /sandbox isolation/);
    assert.equal(process.factory.requests.length, 0);
  });

  it('a failing sandbox-container removal is logged and the VM is still closed', async () => {
    const { pod, factory, order } = setup();
    create(pod);
    await pod.start(ID);
    factory.last.container.shutdownError = new Error('guest gone');
    await pod.stop(ID);
    assert.deepEqual(order, ['containers killed', `container ${ID} removed`, 'vm closed']);
    assert.equal(pod.current, PodSandboxState.Stopped);
  });

  it('SandboxMetrics: NotFound before start and after stop; while running, the sum of the running containers\' stats', async () => {
    const big = 2n ** 60n;
    const containers: TaskStats[] = [
      { pids: { current: 2, limit: 100 }, cpu: { usage_usec: 1500, user_usec: 1000, system_usec: 500 }, memory: { usage: 4096, usage_limit: 1 << 30, inactive_file: 10 } },
      { pids: { current: 1, limit: 0 }, cpu: { usage_usec: big, nr_periods: 3 }, memory: { usage: 1024, anon: 7 } },
    ];
    const { pod } = setup({ workloads: { killAll: async () => undefined, podStats: async () => containers } });
    await rejectsWith(pod.metrics(ID), ErrorCode.NotFound); // before CreateSandbox
    create(pod);
    await rejectsWith(pod.metrics(ID), ErrorCode.NotFound); // created, not started
    await pod.start(ID);
    await rejectsWith(pod.metrics('other'), ErrorCode.NotFound);
    const m = await pod.metrics(ID);
    assert.equal(m.timestamp.getTime(), 1_700_000_000_000);
    assert.deepEqual(m.stats, {
      pids: { current: 3, limit: 0 },
      cpu: { usage_usec: big + 1500n, user_usec: 1000, system_usec: 500, nr_periods: 3 },
      // one container without a memory limit: the pod has none (cgroup v2 "max"); no swap limit reported either
      memory: { usage: 5120, inactive_file: 10, anon: 7, usage_limit: 2n ** 64n - 1n, swap_limit: 2n ** 64n - 1n },
    });
    await pod.stop(ID);
    await rejectsWith(pod.metrics(ID), ErrorCode.NotFound);
  });

  it('SandboxMetrics of a running pod with no running container: zero usage, not an error', async () => {
    const { pod } = setup();
    create(pod);
    await pod.start(ID);
    const m = await pod.metrics(ID);
    assert.deepEqual(m.stats, {
      pids: { current: 0, limit: 0 }, cpu: { usage_usec: 0, user_usec: 0, system_usec: 0 },
      memory: { usage: 0, usage_limit: 2n ** 64n - 1n, swap_limit: 2n ** 64n - 1n },
    });
  });

  it('SandboxMetrics: the pod\'s memory limit is the sum of its containers\' when each has one', async () => {
    const containers: TaskStats[] = [{ memory: { usage: 1, usage_limit: 1 << 20 } }, { memory: { usage: 2, usage_limit: 2 << 20, swap_limit: 5 } }];
    const { pod } = setup({ workloads: { killAll: async () => undefined, podStats: async () => containers } });
    create(pod);
    await pod.start(ID);
    const { memory } = (await pod.metrics(ID)).stats;
    assert.equal(memory?.usage_limit, 3 << 20);
    assert.equal(memory?.swap_limit, 2n ** 64n - 1n, 'the first container has no swap limit');
  });
});
