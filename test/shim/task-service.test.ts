/**
 * TaskService (the Task logic of one standalone task) against the fakes of test/fakes: every RPC's
 * behaviour on the init and on execs after Create (Create itself: task-create.test.ts).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ErrorCode } from '../../src/errdefs/index.js';
import { ProcessStatus } from '../../src/shim/task/types.js';
import { rejectsWith } from './support/assert-error.js';
import {
  EXEC_SPEC, NULL_IO, TASK_ID, TTY_IO, harness, runningExec, runningTask, settle, type Harness,
} from './support/task-harness.js';

const hs: Harness[] = [];
afterEach(async () => {
  for (const h of hs.splice(0)) await h.dispose();
});
async function setup(spec?: Record<string, unknown> | string): Promise<Harness> {
  const h = await harness(spec);
  hs.push(h);
  return h;
}

describe('the init process', { timeout: 60_000 }, () => {
  it('Start runs the container spec process; State, Wait and Delete follow its exit', async () => {
    const h = await setup();
    assert.equal(h.svc.hasRunningProcess(), false, 'no task');
    await h.svc.create(h.createOptions());
    assert.equal(h.svc.hasRunningProcess(), false, 'created, not started');
    assert.deepEqual(await h.svc.start(TASK_ID, ''), { pid: 100 });
    assert.equal(h.svc.hasRunningProcess(), true, 'the init runs (the idle reclaim is due)');
    assert.deepEqual(h.container.requests, [{ stdin: false, stdout: false, stderr: false, terminal: false }]);
    let s = await h.svc.state(TASK_ID, '');
    assert.equal(s.status, ProcessStatus.Running);
    assert.equal(s.pid, 100);
    let waited = false;
    const wait = h.svc.wait(TASK_ID, '').then((x) => ((waited = true), x));
    await settle();
    assert.equal(waited, false, 'Wait returns only after the exit');
    h.container.process(0).exit(3);
    const x = await wait;
    assert.equal(h.svc.hasRunningProcess(), false, 'the init exited');
    assert.equal(x.pid, 100);
    assert.equal(x.exitStatus, 3);
    assert.ok(x.exitedAt instanceof Date);
    // The task is torn down before Wait returns.
    assert.deepEqual(h.container.shutdowns, [30_000]);
    assert.deepEqual(h.container.shutdownOptions, [{ vmClosing: true }], 'its own VM is closed next: no DeleteContainerState');
    assert.ok(h.sandbox.closeCount >= 1);
    s = await h.svc.state(TASK_ID, '');
    assert.equal(s.status, ProcessStatus.Stopped);
    assert.equal(s.exitStatus, 3);
    assert.deepEqual(s.exitedAt, x.exitedAt);
    assert.deepEqual(await h.svc.wait(TASK_ID, ''), x, 'Wait may be called again');
    const d = await h.svc.delete(TASK_ID, '');
    assert.deepEqual(d, x);
    assert.deepEqual(h.events.sequence, ['create', 'start', `exit:${TASK_ID}`, 'delete']);
    const del = h.events.ofType('delete')[0];
    assert.equal(del?.exitStatus, 3);
    assert.equal(del?.pid, 100);
  });

  it('Wait before Start blocks until the process exits', async () => {
    const h = await setup();
    await h.svc.create(h.createOptions());
    const wait = h.svc.wait(TASK_ID, '');
    await h.svc.start(TASK_ID, '');
    h.container.process(0).exit(0);
    assert.equal((await wait).exitStatus, 0);
  });

  it('Delete of a created task force-exits it with status 0 and closes the VM', async () => {
    const h = await setup();
    await h.svc.create(h.createOptions());
    const d = await h.svc.delete(TASK_ID, '');
    assert.equal(d.exitStatus, 0);
    assert.equal(d.pid, 0);
    assert.ok(h.sandbox.closeCount >= 1);
    assert.deepEqual(h.events.sequence, ['create', `exit:${TASK_ID}`, 'delete']);
  });

  it('a failed Start leaves the init exited with status 1 and returns the error', async () => {
    const h = await setup();
    await h.svc.create(h.createOptions());
    const boom = new Error('exec format error');
    h.container.failNextExecute = boom;
    await assert.rejects(h.svc.start(TASK_ID, ''), (err) => err === boom);
    const s = await h.svc.state(TASK_ID, '');
    assert.equal(s.status, ProcessStatus.Stopped);
    assert.equal(s.exitStatus, 1);
    await h.svc.wait(TASK_ID, '');
    // hcsshim's closeHost: the init's TaskExit goes out even though it never ran (pid 0).
    assert.deepEqual(h.events.sequence, ['create', `exit:${TASK_ID}`]);
    assert.equal(h.events.ofType('exit')[0]?.pid, 0);
  });

  it(
    'two concurrent Starts run the process once; the second is FailedPrecondition',
    async () => {
      const h = await setup();
      await h.svc.create(h.createOptions());
      const results = await Promise.allSettled([h.svc.start(TASK_ID, ''), h.svc.start(TASK_ID, '')]);
      assert.equal(h.container.requests.length, 1);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    },
  );
});

describe('operations while a Start is in flight', { timeout: 60_000 }, () => {
  it(
    'Kill during Start waits for it (hcsshim serializes them) and then signals the process',
    async () => {
      const h = await setup();
      await runningTask(h);
      await h.svc.exec({ id: TASK_ID, execId: 'e1', stdio: NULL_IO, spec: EXEC_SPEC });
      let open!: () => void;
      h.container.executeGate = new Promise((r) => (open = r));
      const starting = h.svc.start(TASK_ID, 'e1');
      await settle();
      const killing = h.svc.kill(TASK_ID, 'e1', 9, false);
      await settle();
      open();
      const [s, k] = await Promise.allSettled([starting, killing]);
      assert.equal(s.status, 'fulfilled', `start: ${s.status === 'rejected' ? String(s.reason) : ''}`);
      assert.equal(k.status, 'fulfilled', `kill: ${k.status === 'rejected' ? String(k.reason) : ''}`);
      assert.deepEqual(h.container.process(1).signals, [9], 'the process that runs got the signal');
    },
  );
});

describe('Kill', { timeout: 60_000 }, () => {
  it('of a created init exits it with status 1; the never-started init still publishes its exit', async () => {
    const h = await setup();
    await h.svc.create(h.createOptions());
    await h.svc.kill(TASK_ID, '', 9, false);
    const s = await h.svc.state(TASK_ID, '');
    assert.equal(s.status, ProcessStatus.Stopped);
    assert.equal(s.exitStatus, 1);
    assert.equal((await h.svc.wait(TASK_ID, '')).exitStatus, 1);
    assert.deepEqual(h.events.sequence, ['create', `exit:${TASK_ID}`]);
    assert.equal(h.container.requests.length, 0, 'nothing ran in the guest');
  });

  it('of a running process sends the signal to the guest process', async () => {
    const h = await setup();
    const init = await runningTask(h);
    await h.svc.kill(TASK_ID, '', 15, false);
    assert.deepEqual(init.signals, [15]);
    assert.equal((await h.svc.state(TASK_ID, '')).status, ProcessStatus.Running);
  });

  it('of an exited process is NotFound', async () => {
    const h = await setup();
    const init = await runningTask(h);
    init.exit(0);
    await h.svc.wait(TASK_ID, '');
    await rejectsWith(h.svc.kill(TASK_ID, '', 9, false), ErrorCode.NotFound, /already finished/);
    assert.deepEqual(init.signals, []);
  });

  it('with all=true signals every running exec and the init; with an exec id it is FailedPrecondition', async () => {
    const h = await setup();
    const init = await runningTask(h);
    const e1 = await runningExec(h, 'e1');
    await h.svc.exec({ id: TASK_ID, execId: 'e2', stdio: NULL_IO, spec: EXEC_SPEC });
    await rejectsWith(h.svc.kill(TASK_ID, 'e1', 9, true), ErrorCode.FailedPrecondition);
    await h.svc.kill(TASK_ID, '', 9, true);
    assert.deepEqual(e1.signals, [9]);
    assert.deepEqual(init.signals, [9]);
    assert.equal((await h.svc.state(TASK_ID, 'e2')).status, ProcessStatus.Created, 'a created exec is left alone');
  });

  it('validates the signal number and the ids', async () => {
    const h = await setup();
    await runningTask(h);
    for (const sig of [0, -1, 65, 1.5]) await rejectsWith(h.svc.kill(TASK_ID, '', sig, false), ErrorCode.InvalidArgument, /signal/);
    await rejectsWith(h.svc.kill(TASK_ID, 'nope', 9, false), ErrorCode.NotFound, /nope/);
    await rejectsWith(h.svc.kill('other', '', 9, false), ErrorCode.NotFound);
  });
});

describe('Exec', { timeout: 60_000 }, () => {
  it('before the init runs is FailedPrecondition', async () => {
    const h = await setup();
    await h.svc.create(h.createOptions());
    await rejectsWith(h.svc.exec({ id: TASK_ID, execId: 'e1', stdio: NULL_IO, spec: EXEC_SPEC }), ErrorCode.FailedPrecondition);
    assert.deepEqual(h.events.sequence, ['create']);
  });

  it('a duplicate id is AlreadyExists; an empty id is InvalidArgument; an unknown task is NotFound', async () => {
    const h = await setup();
    await runningTask(h);
    await h.svc.exec({ id: TASK_ID, execId: 'e1', stdio: NULL_IO, spec: EXEC_SPEC });
    await rejectsWith(h.svc.exec({ id: TASK_ID, execId: 'e1', stdio: NULL_IO, spec: EXEC_SPEC }), ErrorCode.AlreadyExists, /e1/);
    await rejectsWith(h.svc.exec({ id: TASK_ID, execId: '', stdio: NULL_IO, spec: EXEC_SPEC }), ErrorCode.InvalidArgument);
    await rejectsWith(h.svc.exec({ id: 'other', execId: 'e2', stdio: NULL_IO, spec: EXEC_SPEC }), ErrorCode.NotFound);
    await rejectsWith(h.svc.exec({ id: TASK_ID, execId: 'e3', stdio: { ...TTY_IO, stderr: '/x' }, spec: EXEC_SPEC }), ErrorCode.InvalidArgument);
    assert.deepEqual(h.events.sequence, ['create', 'start', 'exec-added']);
  });

  it('Start of an exec runs its OCI process and returns its pid; Wait returns its exit', async () => {
    const h = await setup();
    await runningTask(h);
    await h.svc.exec({ id: TASK_ID, execId: 'e1', stdio: TTY_IO, spec: EXEC_SPEC });
    const s0 = await h.svc.state(TASK_ID, 'e1');
    assert.equal(s0.status, ProcessStatus.Created);
    assert.equal(s0.execId, 'e1');
    assert.deepEqual(await h.svc.start(TASK_ID, 'e1'), { pid: 101 });
    assert.deepEqual(h.container.requests[1], { oci: EXEC_SPEC, stdin: false, stdout: false, stderr: false, terminal: true });
    assert.equal((await h.svc.state(TASK_ID, 'e1')).status, ProcessStatus.Running);
    h.container.process(1).exit(7);
    const x = await h.svc.wait(TASK_ID, 'e1');
    assert.equal(x.exitStatus, 7);
    assert.equal(x.pid, 101);
    assert.equal((await h.svc.state(TASK_ID, '')).status, ProcessStatus.Running, 'the init lives on');
  });

  it('Delete of an exec publishes /tasks/delete with the exec id and forgets it', async () => {
    const h = await setup();
    await runningTask(h);
    const e1 = await runningExec(h, 'e1');
    e1.exit(0);
    await h.svc.wait(TASK_ID, 'e1');
    await h.events.untilCount('exit');
    const before = h.events.sequence;
    const d = await h.svc.delete(TASK_ID, 'e1');
    assert.equal(d.exitStatus, 0);
    assert.equal(d.pid, 101);
    await settle();
    assert.deepEqual(h.events.sequence, [...before, 'delete']);
    const del = h.events.ofType('delete')[0];
    assert.ok(del?.type === 'delete');
    assert.deepEqual({ ...del, exitedAt: undefined }, { type: 'delete', containerId: TASK_ID, id: 'e1', pid: 101, exitStatus: 0, exitedAt: undefined });
    assert.ok(del.exitedAt instanceof Date);
    await rejectsWith(h.svc.state(TASK_ID, 'e1'), ErrorCode.NotFound, /e1/);
    // The id is free again.
    await h.svc.exec({ id: TASK_ID, execId: 'e1', stdio: NULL_IO, spec: EXEC_SPEC });
  });

  it(
    'Kill of a created exec exits it with status 1 and publishes no exit (hcsshim: no event)',
    async () => {
      const h = await setup();
      await runningTask(h);
      await h.svc.exec({ id: TASK_ID, execId: 'e1', stdio: NULL_IO, spec: EXEC_SPEC });
      await h.svc.kill(TASK_ID, 'e1', 9, false);
      assert.equal((await h.svc.wait(TASK_ID, 'e1')).exitStatus, 1);
      await settle();
      assert.deepEqual(h.events.sequence, ['create', 'start', 'exec-added']);
    },
  );
});

describe('Delete, CloseIO, ResizePty', { timeout: 60_000 }, () => {
  it('Delete of a running process (init or exec) is FailedPrecondition', async () => {
    const h = await setup();
    await runningTask(h);
    await runningExec(h, 'e1');
    await rejectsWith(h.svc.delete(TASK_ID, ''), ErrorCode.FailedPrecondition, /running/);
    await rejectsWith(h.svc.delete(TASK_ID, 'e1'), ErrorCode.FailedPrecondition, /running/);
    assert.equal((await h.svc.state(TASK_ID, 'e1')).status, ProcessStatus.Running);
  });

  it('CloseIO is idempotent, before and after Start, with and without stdin', async () => {
    const h = await setup();
    await runningTask(h);
    await h.svc.exec({ id: TASK_ID, execId: 'e1', stdio: NULL_IO, spec: EXEC_SPEC });
    for (let i = 0; i < 2; i++) await h.svc.closeIO(TASK_ID, 'e1', true);
    await h.svc.start(TASK_ID, 'e1');
    for (let i = 0; i < 2; i++) await h.svc.closeIO(TASK_ID, 'e1', true);
    await h.svc.closeIO(TASK_ID, '', false);
    await h.svc.closeIO(TASK_ID, '', true);
    await rejectsWith(h.svc.closeIO(TASK_ID, 'nope', true), ErrorCode.NotFound);
  });

  it('ResizePty on a process without a terminal is FailedPrecondition', async () => {
    const h = await setup();
    const init = await runningTask(h);
    await rejectsWith(h.svc.resizePty(TASK_ID, '', 80, 24), ErrorCode.FailedPrecondition, /terminal/);
    assert.deepEqual(init.resizes, []);
  });

  it('ResizePty on a terminal resizes the running process and is ignored before it runs', async () => {
    const h = await setup();
    await runningTask(h);
    await h.svc.exec({ id: TASK_ID, execId: 't', stdio: TTY_IO, spec: EXEC_SPEC });
    await h.svc.resizePty(TASK_ID, 't', 10, 20);
    await h.svc.start(TASK_ID, 't');
    await h.svc.resizePty(TASK_ID, 't', 132, 43);
    assert.deepEqual(h.container.process(1).resizes, [{ width: 132, height: 43 }]);
  });
});

describe('Pids, Stats, Update, Pause/Resume/Checkpoint', { timeout: 60_000 }, () => {
  it('Pids maps guest pids to exec ids', async () => {
    const h = await setup();
    await h.svc.create(h.createOptions());
    assert.deepEqual(await h.svc.pids(TASK_ID), [], 'nothing runs before Start');
    await h.svc.start(TASK_ID, '');
    await runningExec(h, 'e1');
    h.container.processListResult = [{ pid: 100, imageName: 'sleep' }, { pid: 101 }, { pid: 999, imageName: 'orphan' }];
    assert.deepEqual(await h.svc.pids(TASK_ID), [
      { pid: 100, imageName: 'sleep', execId: '' },
      { pid: 101, execId: 'e1' },
      { pid: 999, imageName: 'orphan' },
    ]);
  });

  it('Pids after the init exited lists the init only', async () => {
    const h = await setup();
    const init = await runningTask(h);
    init.exit(0);
    await h.svc.wait(TASK_ID, '');
    assert.deepEqual(await h.svc.pids(TASK_ID), [{ pid: 100, execId: '' }]);
  });

  it('Stats returns the container statistics while running, FailedPrecondition otherwise', async () => {
    const h = await setup();
    await h.svc.create(h.createOptions());
    await rejectsWith(h.svc.stats(TASK_ID), ErrorCode.FailedPrecondition);
    await h.svc.start(TASK_ID, '');
    h.container.statisticsResult = { pids: { current: 3, limit: 10 }, memory: { usage: 4096 } };
    assert.deepEqual(await h.svc.stats(TASK_ID), { pids: { current: 3, limit: 10 }, memory: { usage: 4096 } });
    await rejectsWith(h.svc.stats('other'), ErrorCode.NotFound);
  });

  it('Update without resources is InvalidArgument; a task that owns its VM updates the VM (hcsshim UtilityVM.Update)', async () => {
    const h = await setup();
    await runningTask(h);
    await rejectsWith(h.svc.update(TASK_ID, undefined, {}, 'linux'), ErrorCode.InvalidArgument, /resources/);
    const group = { 'io.microsoft.virtualmachine.cpugroup.id': 'g1' };
    await h.svc.update(TASK_ID, { memory: { limit: 1 << 30 }, cpu: { quota: 5000, shares: 200, period: 100000 } }, group, 'linux');
    await h.svc.update(TASK_ID, { cpu: { maximum: 7000, shares: 10 } }, {}, 'windows');
    assert.deepEqual(h.sandbox.vmUpdates, [
      { resources: { memoryLimitBytes: 1 << 30, processorLimit: 5000, processorWeight: 200 }, annotations: group },
      { resources: { processorLimit: 7000, processorWeight: 10 }, annotations: {} },
    ]);
    assert.deepEqual(h.container.updates, [], 'not the container: the VM');
  });

  it('Checkpoint is NotImplemented; Pause and Resume freeze the container (task/pause.test.ts); NotFound for an unknown task', async () => {
    const h = await setup();
    await runningTask(h);
    await rejectsWith(h.svc.checkpoint(TASK_ID), ErrorCode.NotImplemented, /checkpoint/);
    await h.svc.pause(TASK_ID);
    await h.svc.resume(TASK_ID);
    assert.deepEqual(h.container.freezes, ['pause', 'resume']);
    await rejectsWith(h.svc.pause('other'), ErrorCode.NotFound);
    await rejectsWith(h.svc.resume('other'), ErrorCode.NotFound);
    await rejectsWith(h.svc.checkpoint('other'), ErrorCode.NotFound);
  });
});

describe('Shutdown and Connect', { timeout: 60_000 }, () => {
  it('Shutdown with a live task stays up; after Delete it requests the exit', async () => {
    const h = await setup();
    const init = await runningTask(h);
    await h.svc.shutdown(TASK_ID, false);
    await h.svc.shutdown('', true);
    assert.deepEqual(h.exitRequests, []);
    init.exit(0);
    await h.svc.wait(TASK_ID, '');
    await h.svc.shutdown(TASK_ID, false);
    assert.deepEqual(h.exitRequests, [], 'exited but not deleted: still up');
    await h.svc.delete(TASK_ID, '');
    await h.svc.shutdown('someone-else', false);
    assert.deepEqual(h.exitRequests, [], 'another id is ignored');
    await h.svc.shutdown(TASK_ID, true);
    assert.deepEqual(h.exitRequests, [true]);
  });

  it('Shutdown before any Create requests the exit', async () => {
    const h = await setup();
    await h.svc.shutdown(TASK_ID, false);
    assert.deepEqual(h.exitRequests, [false]);
  });

  it('Connect returns the shim pid and the init pid (0 until started)', async () => {
    const h = await setup();
    assert.deepEqual(await h.svc.connect(TASK_ID), { shimPid: process.pid, taskPid: 0, version: '' });
    await h.svc.create(h.createOptions());
    assert.equal((await h.svc.connect(TASK_ID)).taskPid, 0);
    await h.svc.start(TASK_ID, '');
    assert.deepEqual(await h.svc.connect(TASK_ID), { shimPid: process.pid, taskPid: 100, version: '' });
  });
});

describe('the utility VM exits', { timeout: 60_000 }, () => {
  it('every process is marked exited with status 1 and the exits are published, execs first', async () => {
    const h = await setup();
    await runningTask(h);
    await runningExec(h, 'e1');
    await h.svc.exec({ id: TASK_ID, execId: 'e2', stdio: NULL_IO, spec: EXEC_SPEC });
    h.sandbox.exitVm();
    const x = await h.svc.wait(TASK_ID, '');
    assert.equal(x.exitStatus, 1);
    for (const id of ['', 'e1', 'e2']) {
      const s = await h.svc.state(TASK_ID, id);
      assert.equal(s.status, ProcessStatus.Stopped, `process '${id}'`);
      assert.equal(s.exitStatus, 1, `process '${id}'`);
    }
    const exits = h.events.ofType('exit');
    assert.equal(exits.at(-1)?.id, TASK_ID, 'the init exit is last');
    assert.ok(exits.some((e) => e.id === 'e1' && e.exitStatus === 1));
    await h.svc.delete(TASK_ID, '');
    assert.equal(h.events.sequence.at(-1), 'delete');
  });

  it('before Start: the init is exited with status 1, Start is refused and Delete still works', async () => {
    const h = await setup();
    await h.svc.create(h.createOptions());
    h.sandbox.exitVm();
    assert.equal((await h.svc.wait(TASK_ID, '')).exitStatus, 1);
    await rejectsWith(h.svc.start(TASK_ID, ''), ErrorCode.FailedPrecondition);
    assert.equal(h.container.requests.length, 0);
    assert.equal((await h.svc.delete(TASK_ID, '')).exitStatus, 1);
    assert.deepEqual(h.events.sequence, ['create', `exit:${TASK_ID}`, 'delete']);
  });

  it('a guest process whose wait() rejects (guest gone) is exited with status 1', async () => {
    const h = await setup();
    await runningTask(h);
    const e1 = await runningExec(h, 'e1');
    e1.loseGuest();
    assert.equal((await h.svc.wait(TASK_ID, 'e1')).exitStatus, 1);
  });
});
