/**
 * The order of the task events the shim publishes (containerd's rules: start before exit, every exec's exit
 * before the init's, delete last), whatever order the guest reports the exits in.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { EXEC_SPEC, NULL_IO, TASK_ID, harness, runningExec, runningTask, settle, type Harness } from './support/task-harness.js';

const hs: Harness[] = [];
afterEach(async () => {
  for (const h of hs.splice(0)) await h.dispose();
});
async function setup(): Promise<Harness> {
  const h = await harness();
  hs.push(h);
  return h;
}

describe('event order', { timeout: 60_000 }, () => {
  it('a full lifecycle publishes create, start, exec-added, exec-started, exit(exec), exit(init), delete(exec), delete', async () => {
    const h = await setup();
    const init = await runningTask(h);
    const e1 = await runningExec(h, 'e1');
    e1.exit(5);
    await h.svc.wait(TASK_ID, 'e1');
    init.exit(0);
    await h.svc.wait(TASK_ID, '');
    await h.svc.delete(TASK_ID, 'e1');
    await h.svc.delete(TASK_ID, '');
    assert.deepEqual(h.events.sequence, ['create', 'start', 'exec-added', 'exec-started', 'exit:e1', `exit:${TASK_ID}`, 'delete', 'delete']);
    const [create, start, added, started, exitE1, exitInit, delE1, del] = h.events.events;
    assert.ok(delE1?.type === 'delete');
    assert.deepEqual({ ...delE1, exitedAt: undefined }, { type: 'delete', containerId: TASK_ID, id: 'e1', pid: 101, exitStatus: 5, exitedAt: undefined });
    assert.deepEqual(create, {
      type: 'create', containerId: TASK_ID, bundle: h.bundle, rootfs: [], io: NULL_IO, checkpoint: '', pid: 0,
    });
    assert.deepEqual(start, { type: 'start', containerId: TASK_ID, pid: 100 });
    assert.deepEqual(added, { type: 'exec-added', containerId: TASK_ID, execId: 'e1' });
    assert.deepEqual(started, { type: 'exec-started', containerId: TASK_ID, execId: 'e1', pid: 101 });
    assert.ok(exitE1?.type === 'exit' && exitInit?.type === 'exit' && del?.type === 'delete');
    assert.deepEqual({ ...exitE1, exitedAt: undefined }, { type: 'exit', containerId: TASK_ID, id: 'e1', pid: 101, exitStatus: 5, exitedAt: undefined });
    assert.deepEqual({ ...exitInit, exitedAt: undefined }, { type: 'exit', containerId: TASK_ID, id: TASK_ID, pid: 100, exitStatus: 0, exitedAt: undefined });
    assert.deepEqual({ ...del, exitedAt: undefined }, { type: 'delete', containerId: TASK_ID, id: TASK_ID, pid: 100, exitStatus: 0, exitedAt: undefined });
    assert.ok(exitE1.exitedAt <= exitInit.exitedAt);
    assert.deepEqual(del.exitedAt, exitInit.exitedAt, 'delete reports the init exit time');
  });

  it("the init's exit follows every exec's exit even when the execs' exits are reported after it", async () => {
    const h = await setup();
    const init = await runningTask(h);
    const e1 = await runningExec(h, 'e1');
    const e2 = await runningExec(h, 'e2');
    init.exit(137);
    await settle();
    assert.ok(!h.events.sequence.includes(`exit:${TASK_ID}`), 'the init exit waits for the execs');
    e2.exit(1);
    await settle();
    assert.ok(!h.events.sequence.includes(`exit:${TASK_ID}`), 'still one exec to go');
    e1.exit(2);
    await h.svc.wait(TASK_ID, '');
    assert.deepEqual(h.events.sequence.slice(-3), ['exit:e2', 'exit:e1', `exit:${TASK_ID}`]);
  });

  it('an exec the guest never reports is force-exited (status 1) and still published before the init', async () => {
    const h = await setup();
    const init = await runningTask(h);
    await runningExec(h, 'e1');
    init.exit(0);
    const x = await h.svc.wait(TASK_ID, '');
    assert.equal(x.exitStatus, 0);
    assert.deepEqual(h.events.sequence.slice(-2), ['exit:e1', `exit:${TASK_ID}`]);
    assert.equal(h.events.ofType('exit')[0]?.exitStatus, 1);
    assert.equal((await h.svc.state(TASK_ID, 'e1')).exitStatus, 1);
  });

  it('an early exit of the init (before Start returns) still publishes start before exit', async () => {
    const h = await setup();
    await h.svc.create(h.createOptions());
    h.container.onExecute = (p) => p.exit(0);
    assert.deepEqual(await h.svc.start(TASK_ID, ''), { pid: 100 });
    await h.svc.wait(TASK_ID, '');
    assert.deepEqual(h.events.sequence, ['create', 'start', `exit:${TASK_ID}`]);
  });

  it('an early exit of an exec (before Start returns) still publishes exec-started before exit', async () => {
    const h = await setup();
    await runningTask(h);
    await h.svc.exec({ id: TASK_ID, execId: 'e1', stdio: NULL_IO, spec: EXEC_SPEC });
    h.container.onExecute = (p) => p.exit(3);
    await h.svc.start(TASK_ID, 'e1');
    await h.svc.wait(TASK_ID, 'e1');
    await h.events.untilCount('exit');
    assert.deepEqual(h.events.sequence, ['create', 'start', 'exec-added', 'exec-started', 'exit:e1']);
  });

  it('an early exit whose guest streams are already at EOF still publishes exec-started first', async () => {
    const { PassThrough } = await import('node:stream');
    const h = await setup();
    await runningTask(h);
    await h.svc.exec({ id: TASK_ID, execId: 'e1', stdio: NULL_IO, spec: EXEC_SPEC });
    h.container.onExecute = (p) => p.exit(0);
    const ended = () => {
      const s = new PassThrough();
      s.end();
      return s;
    };
    h.container.processOptions = { stdout: ended(), stderr: ended() };
    await h.svc.start(TASK_ID, 'e1');
    await h.events.untilCount('exit');
    assert.deepEqual(h.events.sequence.slice(-2), ['exec-started', 'exit:e1']);
  });

  it('nothing is published for a failed Start or a refused Exec; an exec Delete publishes its delete', async () => {
    const h = await setup();
    await runningTask(h);
    await h.svc.exec({ id: TASK_ID, execId: 'e1', stdio: NULL_IO, spec: EXEC_SPEC });
    h.container.failNextExecute = new Error('boom');
    await assert.rejects(h.svc.start(TASK_ID, 'e1'), /boom/);
    await assert.rejects(h.svc.exec({ id: TASK_ID, execId: 'e1', stdio: NULL_IO, spec: EXEC_SPEC }));
    await h.svc.delete(TASK_ID, 'e1');
    await settle();
    // (The exit of the never-started exec is left out here: see the todo in task-service.test.ts.)
    assert.deepEqual(h.events.sequence.filter((t) => t !== 'exit:e1'), ['create', 'start', 'exec-added', 'delete']);
  });
});
