/** The process state machine's table, guards and status mapping (src/shim/task/exec-state.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, ShimError } from '../../../src/errdefs/index.js';
import { ExecState, UNEXITED_STATUS, canTransition, guard, toContainerdStatus } from '../../../src/shim/task/exec-state.js';
import { ProcessStatus } from '../../../src/shim/task/types.js';

const STATES = [ExecState.Created, ExecState.Running, ExecState.Exited];
const ALLOWED = new Set(['created→running', 'created→exited', 'running→exited']);

function codeOf(f: () => void): ErrorCode | 'ok' {
  try {
    f();
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof ShimError, String(err));
    assert.match(err.message, /^(task|exec) x:/, 'the message names the process');
    return err.code;
  }
}

describe('exec state machine', () => {
  for (const from of STATES) {
    for (const to of STATES) {
      const key = `${from}→${to}`;
      it(`${key} is ${ALLOWED.has(key) ? 'allowed' : 'refused'}`, () => {
        assert.equal(canTransition(from, to), ALLOWED.has(key));
      });
    }
  }

  it('maps states to containerd statuses', () => {
    assert.equal(toContainerdStatus(ExecState.Created), ProcessStatus.Created);
    assert.equal(toContainerdStatus(ExecState.Running), ProcessStatus.Running);
    assert.equal(toContainerdStatus(ExecState.Exited), ProcessStatus.Stopped);
    assert.equal(UNEXITED_STATUS, 255);
  });

  const GUARDS: Array<[string, (s: ExecState) => void, Record<ExecState, ErrorCode | 'ok'>]> = [
    ['start', (s) => guard.start(s, 'task x'), { created: 'ok', running: ErrorCode.FailedPrecondition, exited: ErrorCode.FailedPrecondition }],
    ['kill', (s) => guard.kill(s, 'exec x'), { created: 'ok', running: 'ok', exited: ErrorCode.NotFound }],
    ['delete', (s) => guard.delete(s, 'exec x'), { created: 'ok', running: ErrorCode.FailedPrecondition, exited: 'ok' }],
    ['resize (terminal)', (s) => guard.resize(s, true, 'exec x'), { created: 'ok', running: 'ok', exited: 'ok' }],
    ['resize (no terminal)', (s) => guard.resize(s, false, 'exec x'), {
      created: ErrorCode.FailedPrecondition, running: ErrorCode.FailedPrecondition, exited: ErrorCode.FailedPrecondition,
    }],
  ];
  for (const [op, f, expected] of GUARDS) {
    for (const s of STATES) {
      it(`guard ${op} in ${s}: ${expected[s]}`, () => assert.equal(codeOf(() => f(s)), expected[s]));
    }
  }
});
