/**
 * Pause/Resume through the TaskService with a fake guest: every operation in every pause state (the table of
 * pause-state.ts), runc-v2's errors (Unknown, same messages), the events, PAUSED/PAUSING for the init and the
 * execs, a guest that refuses, serialisation, and the thaw after the init's exit while paused.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ErrorCode, ShimError } from '../../../src/errdefs/index.js';
import { ExecState } from '../../../src/shim/task/exec-state.js';
import { PauseState, canTransitionPause, pauseGuard, pausedStatus } from '../../../src/shim/task/pause-state.js';
import { ProcessStatus } from '../../../src/shim/task/types.js';
import { EXEC_SPEC, NULL_IO, TASK_ID, harness, runningExec, runningTask, settle, type Harness } from '../support/task-harness.js';
import { rejectsWith } from '../support/assert-error.js';

const { Unknown: UNK } = ErrorCode;

const hs: Harness[] = [];
afterEach(async () => {
  for (const h of hs.splice(0)) await h.dispose();
});
async function fresh(): Promise<Harness> {
  const h = await harness();
  hs.push(h);
  return h;
}

describe('pause-state guards (pure)', () => {
  const ALL = Object.values(PauseState);
  it('transition table: only the documented moves', () => {
    const allowed = new Set([
      'thawed>pausing', 'pausing>paused', 'pausing>thawed', 'paused>resuming', 'paused>thawed', 'resuming>thawed', 'resuming>paused',
    ]);
    for (const from of ALL) for (const to of ALL) assert.equal(canTransitionPause(from, to), allowed.has(`${from}>${to}`), `${from} → ${to}`);
  });
  it('pause/resume of a created or stopped init: runc-v2 messages, Unknown', () => {
    const cases: Array<[() => void, RegExp]> = [
      [() => pauseGuard.pause(ExecState.Created, PauseState.Thawed), /^cannot pause task in created state$/],
      [() => pauseGuard.resume(ExecState.Created, PauseState.Thawed), /^cannot resume task in created state$/],
      [() => pauseGuard.pause(ExecState.Exited, PauseState.Thawed), /^cannot pause a stopped container$/],
      [() => pauseGuard.resume(ExecState.Exited, PauseState.Thawed), /^cannot resume a stopped container$/],
      [() => pauseGuard.resume(ExecState.Running, PauseState.Thawed), /^cannot resume a running process$/],
    ];
    for (const s of [PauseState.Pausing, PauseState.Paused, PauseState.Resuming]) {
      cases.push([() => pauseGuard.pause(ExecState.Running, s), /^cannot pause a paused container$/]);
      cases.push([() => pauseGuard.exec(s), /^cannot exec in a paused state$/]);
      cases.push([() => pauseGuard.startExec(s), /^cannot exec in a paused container$/]);
      cases.push([() => pauseGuard.delete(s), /^cannot delete a paused process$/]);
    }
    for (const [fn, msg] of cases) assert.throws(fn, (err: ShimError) => err instanceof ShimError && err.code === UNK && msg.test(err.message));
  });
  it('allowed: pause of a thawed running init, resume of a paused one, exec/start/delete while thawed', () => {
    pauseGuard.pause(ExecState.Running, PauseState.Thawed);
    pauseGuard.resume(ExecState.Running, PauseState.Paused);
    pauseGuard.exec(PauseState.Thawed);
    pauseGuard.startExec(PauseState.Thawed);
    pauseGuard.delete(PauseState.Thawed);
  });
  it('status: PAUSING while pausing, PAUSED while paused or resuming, none while thawed', () => {
    assert.equal(pausedStatus(PauseState.Thawed), undefined);
    assert.equal(pausedStatus(PauseState.Pausing), ProcessStatus.Pausing);
    assert.equal(pausedStatus(PauseState.Paused), ProcessStatus.Paused);
    assert.equal(pausedStatus(PauseState.Resuming), ProcessStatus.Paused);
  });
});

describe('Pause/Resume through the TaskService', { timeout: 60_000 }, () => {
  it('pause → PAUSED (init and a running exec), /tasks/paused; resume → RUNNING, /tasks/resumed', async () => {
    const h = await fresh();
    await runningTask(h);
    await runningExec(h, 'e1');
    await h.svc.pause(TASK_ID);
    assert.deepEqual(h.container.freezes, ['pause']);
    assert.equal((await h.svc.state(TASK_ID, '')).status, ProcessStatus.Paused);
    assert.equal((await h.svc.state(TASK_ID, 'e1')).status, ProcessStatus.Paused);
    assert.deepEqual(h.events.ofType('paused'), [{ type: 'paused', containerId: TASK_ID }]);
    await h.svc.resume(TASK_ID);
    assert.deepEqual(h.container.freezes, ['pause', 'resume']);
    assert.equal((await h.svc.state(TASK_ID, '')).status, ProcessStatus.Running);
    assert.equal((await h.svc.state(TASK_ID, 'e1')).status, ProcessStatus.Running);
    assert.deepEqual(h.events.ofType('resumed'), [{ type: 'resumed', containerId: TASK_ID }]);
    assert.deepEqual(h.events.sequence.slice(-2), ['paused', 'resumed']);
  });

  it('created, exited or unknown tasks are refused and nothing reaches the guest', async () => {
    const h = await fresh();
    await h.svc.create(h.createOptions());
    await rejectsWith(h.svc.pause(TASK_ID), UNK, /^cannot pause task in created state$/);
    await rejectsWith(h.svc.resume(TASK_ID), UNK, /^cannot resume task in created state$/);
    await h.svc.start(TASK_ID, '');
    await rejectsWith(h.svc.resume(TASK_ID), UNK, /^cannot resume a running process$/);
    h.container.process(0).exit(0);
    await h.svc.wait(TASK_ID, '');
    await rejectsWith(h.svc.pause(TASK_ID), UNK, /^cannot pause a stopped container$/);
    await rejectsWith(h.svc.resume(TASK_ID), UNK, /^cannot resume a stopped container$/);
    await rejectsWith(h.svc.pause('nope'), ErrorCode.NotFound);
    await rejectsWith(h.svc.resume('nope'), ErrorCode.NotFound);
    assert.deepEqual(h.container.freezes, []);
    assert.deepEqual(h.events.ofType('paused'), []);
  });

  it('while paused: pause, exec, start of an earlier exec and delete are refused as runc-v2 refuses them; nothing changes', async () => {
    const h = await fresh();
    await runningTask(h);
    await h.svc.exec({ id: TASK_ID, execId: 'early', stdio: NULL_IO, spec: EXEC_SPEC });
    await h.svc.pause(TASK_ID);
    const before = { requests: h.container.requests.length, events: h.events.sequence.length };
    await rejectsWith(h.svc.pause(TASK_ID), UNK, /^cannot pause a paused container$/);
    await rejectsWith(h.svc.exec({ id: TASK_ID, execId: 'e2', stdio: NULL_IO, spec: EXEC_SPEC }), UNK, /^cannot exec in a paused state$/);
    await rejectsWith(h.svc.start(TASK_ID, 'early'), UNK, /^cannot exec in a paused container$/);
    await rejectsWith(h.svc.delete(TASK_ID, ''), UNK, /^cannot delete a paused process$/);
    assert.deepEqual({ requests: h.container.requests.length, events: h.events.sequence.length }, before);
    assert.deepEqual(h.container.freezes, ['pause']);
    assert.equal((await h.svc.state(TASK_ID, 'early')).status, ProcessStatus.Paused);
    await rejectsWith(h.svc.state(TASK_ID, 'e2'), ErrorCode.NotFound);
    // After resume the earlier exec starts and a new exec is accepted.
    await h.svc.resume(TASK_ID);
    await h.svc.start(TASK_ID, 'early');
    await h.svc.exec({ id: TASK_ID, execId: 'e2', stdio: NULL_IO, spec: EXEC_SPEC });
  });

  it('PAUSING while the guest freezes; a resume sent meanwhile runs after it (serialised)', async () => {
    const h = await fresh();
    await runningTask(h);
    let open!: () => void;
    h.container.freezeGate = new Promise((r) => (open = r));
    const pausing = h.svc.pause(TASK_ID);
    await settle();
    assert.equal((await h.svc.state(TASK_ID, '')).status, ProcessStatus.Pausing);
    const resuming = h.svc.resume(TASK_ID);
    await settle();
    assert.deepEqual(h.container.freezes, ['pause'], 'the resume waits for the pause');
    open();
    await pausing;
    await resuming;
    assert.deepEqual(h.container.freezes, ['pause', 'resume']);
    assert.equal((await h.svc.state(TASK_ID, '')).status, ProcessStatus.Running);
  });

  it('a guest that refuses: the error is returned, the state stays, no event', async () => {
    const h = await fresh();
    await runningTask(h);
    h.container.failNextFreeze = new ShimError(UNK, 'OCI runtime pause failed: boom');
    await rejectsWith(h.svc.pause(TASK_ID), UNK, /OCI runtime pause failed: boom/);
    assert.equal((await h.svc.state(TASK_ID, '')).status, ProcessStatus.Running);
    await h.svc.pause(TASK_ID);
    h.container.failNextFreeze = new ShimError(UNK, 'OCI runtime resume failed: boom');
    await rejectsWith(h.svc.resume(TASK_ID), UNK, /OCI runtime resume failed/);
    assert.equal((await h.svc.state(TASK_ID, '')).status, ProcessStatus.Paused);
    assert.deepEqual(h.events.ofType('paused').length, 1);
    assert.deepEqual(h.events.ofType('resumed'), []);
  });

  it('kill of a paused task reaches the guest; the init exit thaws the container, then the task stops and deletes', async () => {
    const h = await fresh();
    const init = await runningTask(h);
    await h.svc.pause(TASK_ID);
    await h.svc.kill(TASK_ID, '', 9, false);
    assert.deepEqual(init.signals, [9]);
    init.exit(137);
    const x = await h.svc.wait(TASK_ID, '');
    assert.equal(x.exitStatus, 137);
    assert.deepEqual(h.container.freezes, ['pause', 'resume'], 'thawed after the exit, as runc-v2');
    assert.equal((await h.svc.state(TASK_ID, '')).status, ProcessStatus.Stopped);
    await rejectsWith(h.svc.resume(TASK_ID), UNK, /^cannot resume a stopped container$/);
    await h.svc.delete(TASK_ID, '');
    assert.equal(h.events.ofType('delete').length, 1);
  });

  it('a failed thaw after the exit is logged, the teardown goes on', async () => {
    const h = await fresh();
    const init = await runningTask(h);
    await h.svc.pause(TASK_ID);
    h.container.failNextFreeze = new ShimError(UNK, 'OCI runtime resume failed: container not paused');
    init.exit(137);
    await h.svc.wait(TASK_ID, '');
    assert.equal(h.container.shutdowns.length, 1);
    await h.svc.delete(TASK_ID, '');
  });
});
