/**
 * The Sandbox API's state machine (PodSandbox) against a fake sandbox factory: every transition of the
 * table in pod-sandbox.ts, every refused one with its error code, the teardown order (containers, then the
 * VM), WaitSandbox/SandboxStatus states and exit status, and a VM that exits on its own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { ErrorCode } from '../../src/errdefs/index.js';
import { PodSandbox, PodSandboxState, STOPPED_EXIT_STATUS, VM_LOST_EXIT_STATUS } from '../../src/shim/sandbox-api/index.js';
import { FakeSandboxFactory, silentLogger } from '../fakes/index.js';
import { rejectsWith } from './support/assert-error.js';

const ID = 'sb1';

function setup(): { pod: PodSandbox; factory: FakeSandboxFactory; order: string[]; exits: number[] } {
  const factory = new FakeSandboxFactory();
  const order: string[] = [];
  const exits: number[] = [];
  factory.prepare = (s) => {
    const close = s.close.bind(s);
    s.close = async () => {
      order.push('vm closed');
      await close();
    };
  };
  const pod = new PodSandbox({
    shimId: ID, log: silentLogger(), sandboxes: factory.factory,
    workloads: { killAll: async () => void order.push('containers killed') },
    requestExit: () => void exits.push(1),
    now: () => new Date(1_700_000_000_000),
  });
  return { pod, factory, order, exits };
}

const create = (pod: PodSandbox, id = ID): void => pod.create({ id, bundle: '/b', annotations: { a: 'b' }, netnsPath: '' });

describe('PodSandbox (Sandbox API)', () => {
  it('Create → Start → Stop → Shutdown: one VM named <id>@vm, states, exit status 0, then the daemon exits', async () => {
    const { pod, factory, order, exits } = setup();
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
    assert.equal(pod.status(ID).state, 'SANDBOX_READY');
    assert.deepEqual(pod.platform(ID), { os: 'linux', architecture: 'amd64' });
    pod.ping(ID);
    const waits: number[] = [];
    void pod.wait(ID).then((e) => waits.push(e.exitStatus));
    await tick();
    assert.deepEqual(waits, [], 'WaitSandbox blocks while running');

    await pod.stop(ID);
    assert.deepEqual(order, ['containers killed', 'vm closed'], 'containers first, then the VM');
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
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const inner = factory.factory;
    const slow = new PodSandbox({
      shimId: ID, log: silentLogger(), workloads: { killAll: async () => undefined }, requestExit: () => undefined,
      sandboxes: async (req) => {
        await gate;
        return inner(req);
      },
    });
    slow.create({ id: ID, bundle: '/b', annotations: {}, netnsPath: '' });
    const started = slow.start(ID);
    await slow.stop(ID);
    release();
    await rejectsWith(started, ErrorCode.FailedPrecondition, /stopped while starting/);
    assert.equal(factory.last.closeCount, 1, 'the VM made after the stop is closed');
  });
});
