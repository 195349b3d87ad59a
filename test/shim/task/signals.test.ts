/**
 * Signals and lifecycle as hcsshim: signals checked against the guest's SignalProcessSupported, an
 * undelivered signal is NotFound, and a SIGKILL of the init arms the watchdog that closes the VM.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ErrorCode } from '../../../src/errdefs/index.js';
import { lcowSignal } from '../../../src/shim/task/signals.js';
import { rejectsWith } from '../support/assert-error.js';
import { TASK_ID, harness, runningExec, runningTask, settle, type Harness } from '../support/task-harness.js';

const hs: Harness[] = [];
afterEach(async () => {
  for (const h of hs.splice(0)) await h.dispose();
});
async function setup(killWatchdogMs?: number): Promise<Harness> {
  const h = await harness(undefined, killWatchdogMs === undefined ? {} : { killWatchdogMs });
  hs.push(h);
  return h;
}

describe('lcowSignal (hcsshim signals.ValidateLCOW)', () => {
  it('with SignalProcessSupported: 1–31 pass as they are, 0 and real-time signals are FailedPrecondition', () => {
    for (let s = 1; s <= 31; s++) assert.equal(lcowSignal(s, true), s);
    for (const s of [0, 32, 34, 64, -1, 1.5]) {
      assert.throws(() => lcowSignal(s, true), (e: { code?: ErrorCode; message: string }) =>
        e.code === ErrorCode.FailedPrecondition && e.message === `signal ${s}: invalid signal value`);
    }
  });

  it('without it: SIGTERM, SIGKILL and CTRL_SHUTDOWN become a kill, anything else is FailedPrecondition', () => {
    for (const s of [6, 9, 15]) assert.equal(lcowSignal(s, false), 9);
    for (const s of [1, 2, 10, 17, 31]) assert.throws(() => lcowSignal(s, false), (e: { code?: ErrorCode }) => e.code === ErrorCode.FailedPrecondition);
  });
});

describe('Kill against the guest', { timeout: 60_000 }, () => {
  it('a guest without SignalProcessSupported gets SIGKILL for SIGTERM and refuses SIGUSR1', async () => {
    const h = await setup();
    await h.svc.create(h.createOptions());
    h.sandbox.signalProcessSupported = false;
    await h.svc.start(TASK_ID, '');
    const init = h.container.process(0);
    await h.svc.kill(TASK_ID, '', 15, false);
    await rejectsWith(h.svc.kill(TASK_ID, '', 10, false), ErrorCode.FailedPrecondition, /signal 10: invalid signal value/);
    assert.deepEqual(init.signals, [9]);
  });

  it('a guest with it gets the signal itself; a real-time signal is refused before reaching it', async () => {
    const h = await setup();
    const init = await runningTask(h);
    await h.svc.kill(TASK_ID, '', 10, false);
    await rejectsWith(h.svc.kill(TASK_ID, '', 40, false), ErrorCode.FailedPrecondition);
    assert.deepEqual(init.signals, [10]);
  });

  it('a signal the guest did not deliver (process gone) is NotFound naming the exec and the task', async () => {
    const h = await setup();
    await runningTask(h);
    h.container.processOptions = { signalNotDelivered: true };
    await runningExec(h, 'e1');
    await rejectsWith(h.svc.kill(TASK_ID, 'e1', 15, false), ErrorCode.NotFound, /exec: 'e1' in task: 't1' not found/);
  });

  it('kill all: an exec that refuses is logged and the init is still signalled', async () => {
    const h = await setup();
    const init = await runningTask(h);
    h.container.processOptions = { signalNotDelivered: true };
    const e1 = await runningExec(h, 'e1');
    await h.svc.kill(TASK_ID, '', 15, true);
    assert.deepEqual(e1.signals, [15]);
    assert.deepEqual(init.signals, [15]);
  });
});

describe('the SIGKILL watchdog', { timeout: 60_000 }, () => {
  it('closes the VM when the init has not exited in time; the task then ends with status 1', async () => {
    const h = await setup(50);
    const init = await runningTask(h);
    await h.svc.kill(TASK_ID, '', 9, false);
    assert.deepEqual(init.signals, [9]);
    assert.equal(h.sandbox.closeCount, 0, 'not at once');
    const x = await h.svc.wait(TASK_ID, ''); // the VM's end force-exits the init
    assert.equal(x.exitStatus, 1);
    assert.ok(h.sandbox.closeCount >= 1);
  });

  it('is disarmed by the init exiting in time, and is not armed by SIGTERM or by an exec SIGKILL', async () => {
    const h = await setup(50);
    const init = await runningTask(h);
    const e1 = await runningExec(h, 'e1');
    await h.svc.kill(TASK_ID, '', 15, false);
    await h.svc.kill(TASK_ID, 'e1', 9, false);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(h.sandbox.closeCount, 0, 'SIGTERM and an exec SIGKILL arm nothing');
    assert.deepEqual(e1.signals, [9]);
    await h.svc.kill(TASK_ID, '', 9, false);
    e1.exit(137);
    init.exit(137);
    assert.equal((await h.svc.wait(TASK_ID, '')).exitStatus, 137);
    const closesAtExit = h.sandbox.closeCount; // the init's exit closes the VM once
    await new Promise((r) => setTimeout(r, 150));
    await settle();
    assert.equal(h.sandbox.closeCount, closesAtExit, 'the watchdog did not fire after the exit');
  });
});
