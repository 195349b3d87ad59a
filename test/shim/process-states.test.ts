/**
 * Every operation in every state of a process, through the TaskService, for the init and for an exec
 * (states × operations, table-driven). A refused operation must leave the process as it was and must not
 * reach the guest.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ErrorCode, ShimError } from '../../src/errdefs/index.js';
import { ProcessStatus } from '../../src/shim/task/types.js';
import { EXEC_SPEC, NULL_IO, TASK_ID, TTY_IO, harness, type Harness } from './support/task-harness.js';

type State = 'created' | 'running' | 'exited' | 'deleted';
type Op = 'start' | 'kill' | 'delete' | 'resize' | 'resize-tty' | 'closeIO' | 'state' | 'exec';
type Outcome = 'ok' | ErrorCode;
const { FailedPrecondition: FP, NotFound: NF } = ErrorCode;

const EXEC_TABLE: Record<State, Partial<Record<Op, Outcome>>> = {
  created: { start: 'ok', kill: 'ok', delete: 'ok', resize: FP, 'resize-tty': 'ok', closeIO: 'ok', state: 'ok' },
  running: { start: FP, kill: 'ok', delete: FP, resize: FP, 'resize-tty': 'ok', closeIO: 'ok', state: 'ok' },
  exited: { start: FP, kill: NF, delete: 'ok', resize: FP, 'resize-tty': 'ok', closeIO: 'ok', state: 'ok' },
  deleted: { start: NF, kill: NF, delete: NF, resize: NF, 'resize-tty': NF, closeIO: NF, state: NF },
};
const INIT_TABLE: Record<Exclude<State, 'deleted'>, Partial<Record<Op, Outcome>>> = {
  created: { start: 'ok', kill: 'ok', delete: 'ok', resize: FP, 'resize-tty': 'ok', closeIO: 'ok', state: 'ok', exec: FP },
  running: { start: FP, kill: 'ok', delete: FP, resize: FP, 'resize-tty': 'ok', closeIO: 'ok', state: 'ok', exec: 'ok' },
  exited: { start: FP, kill: NF, delete: 'ok', resize: FP, 'resize-tty': 'ok', closeIO: 'ok', state: 'ok', exec: FP },
};

const hs: Harness[] = [];
afterEach(async () => {
  for (const h of hs.splice(0)) await h.dispose();
});

/** A task whose process `execId` ('' = the init) is in `state`. */
async function inState(execId: string, state: State, tty: boolean): Promise<Harness> {
  const h = await harness();
  hs.push(h);
  const io = tty ? TTY_IO : NULL_IO;
  await h.svc.create(h.createOptions({ stdio: execId === '' ? io : NULL_IO }));
  if (execId === '') {
    if (state === 'created') return h;
    await h.svc.start(TASK_ID, '');
    if (state === 'exited') {
      h.container.process(0).exit(0);
      await h.svc.wait(TASK_ID, '');
    }
    return h;
  }
  await h.svc.start(TASK_ID, '');
  await h.svc.exec({ id: TASK_ID, execId, stdio: io, spec: EXEC_SPEC });
  if (state === 'created') return h;
  await h.svc.start(TASK_ID, execId);
  if (state === 'running') return h;
  h.container.process(1).exit(0);
  await h.svc.wait(TASK_ID, execId);
  if (state === 'deleted') await h.svc.delete(TASK_ID, execId);
  return h;
}

function run(h: Harness, op: Op, execId: string): Promise<unknown> {
  switch (op) {
    case 'start':
      return h.svc.start(TASK_ID, execId);
    case 'kill':
      return h.svc.kill(TASK_ID, execId, 15, false);
    case 'delete':
      return h.svc.delete(TASK_ID, execId);
    case 'resize':
    case 'resize-tty':
      return h.svc.resizePty(TASK_ID, execId, 100, 30);
    case 'closeIO':
      return h.svc.closeIO(TASK_ID, execId, true);
    case 'state':
      return h.svc.state(TASK_ID, execId);
    case 'exec':
      return h.svc.exec({ id: TASK_ID, execId: 'new', stdio: NULL_IO, spec: EXEC_SPEC });
  }
}

async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof ShimError, `not a ShimError: ${String(err)}`);
    return err.code;
  }
}

/** What the process looks like from outside: its status (or NotFound) and what reached the guest. */
async function observe(h: Harness, execId: string): Promise<unknown> {
  const c = h.factory.last.containers[0];
  const guest = c ? { requests: c.requests.length, signals: c.processes.map((p) => p.signals.length), resizes: c.processes.map((p) => p.resizes.length) } : undefined;
  const status = await h.svc.state(TASK_ID, execId).then((s) => [s.status, s.exitStatus], (err: ShimError) => err.code);
  return { status, guest, events: h.events.sequence.length };
}

function cases(kind: 'init' | 'exec', table: Partial<Record<State, Partial<Record<Op, Outcome>>>>): void {
  const execId = kind === 'init' ? '' : 'e1';
  for (const [state, ops] of Object.entries(table) as Array<[State, Partial<Record<Op, Outcome>>]>) {
    for (const [op, expected] of Object.entries(ops) as Array<[Op, Outcome]>) {
      it(`${kind} ${state}: ${op} → ${expected}`, async () => {
        const h = await inState(execId, state, op === 'resize-tty');
        const before = await observe(h, execId);
        assert.equal(await outcome(run(h, op, execId)), expected);
        if (expected !== 'ok') assert.deepEqual(await observe(h, execId), before, 'a refused operation changes nothing');
      });
    }
  }
}

describe('process states × operations', { timeout: 60_000 }, () => {
  describe('init', () => cases('init', INIT_TABLE));
  describe('exec', () => cases('exec', EXEC_TABLE));
});

describe('the allowed operations move the process as documented', { timeout: 60_000 }, () => {
  const status = async (h: Harness, id: string) => (await h.svc.state(TASK_ID, id)).status;
  it('start: created → running', async () => {
    const h = await inState('e1', 'created', false);
    await h.svc.start(TASK_ID, 'e1');
    assert.equal(await status(h, 'e1'), ProcessStatus.Running);
  });
  it('kill: created → exited (status 1), running stays running until the guest reports the exit', async () => {
    const h = await inState('e1', 'created', false);
    await h.svc.kill(TASK_ID, 'e1', 9, false);
    assert.equal(await status(h, 'e1'), ProcessStatus.Stopped);
    assert.equal((await h.svc.state(TASK_ID, 'e1')).exitStatus, 1);
    const r = await inState('e1', 'running', false);
    await r.svc.kill(TASK_ID, 'e1', 9, false);
    assert.equal(await status(r, 'e1'), ProcessStatus.Running);
    r.container.process(1).exit(137);
    assert.equal((await r.svc.wait(TASK_ID, 'e1')).exitStatus, 137);
  });
  it('delete of an exec: created or exited → gone', async () => {
    for (const s of ['created', 'exited'] as const) {
      const h = await inState('e1', s, false);
      await h.svc.delete(TASK_ID, 'e1');
      await assert.rejects(h.svc.state(TASK_ID, 'e1'), (err: ShimError) => err.code === NF);
    }
  });
  it('the guest exit: running → exited with its code (a negative code reads as unsigned)', async () => {
    const h = await inState('e1', 'running', false);
    h.container.process(1).exit(-1);
    const x = await h.svc.wait(TASK_ID, 'e1');
    assert.equal(x.exitStatus, 0xffffffff);
    assert.equal(await status(h, 'e1'), ProcessStatus.Stopped);
  });
});
