/**
 * The diagnostics logic (ShimDiag, ExtendedTask) of TaskService against the fakes: tasks with execs,
 * stacks with the guest's (bounded), share, pid, processor count, and exec in the VM with real FIFOs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { ErrorCode } from '../../src/errdefs/index.js';
import { ShimDiagLogic } from '../../src/shim/diag/diag-logic.js';
import { silentLogger } from '../fakes/index.js';
import { rejectsWith } from './support/assert-error.js';
import { TASK_ID, harness, runningExec, runningTask, type Harness } from './support/task-harness.js';
import { createTransport } from '../../src/transport/index.js';

const hs: Harness[] = [];
afterEach(async () => {
  for (const h of hs.splice(0)) await h.dispose();
});
const diagOf = (h: Harness): ShimDiagLogic => new ShimDiagLogic({ shimId: TASK_ID, namespace: 'ns1', log: silentLogger(), tasks: h.svc, transport: createTransport() });
async function setup(): Promise<Harness> {
  const h = await harness();
  hs.push(h);
  return h;
}

describe('diagnostics logic', { timeout: 60_000 }, () => {
  it('before Create every task-bound call is NotFound; DiagPid and DiagStacks still answer', async () => {
    const h = await setup();
    await rejectsWith(diagOf(h).diagTasks(true), ErrorCode.NotFound);
    await rejectsWith(diagOf(h).diagShare('/tmp', '/x', false), ErrorCode.NotFound);
    await rejectsWith(diagOf(h).computeProcessorInfo(TASK_ID), ErrorCode.NotFound);
    await rejectsWith(diagOf(h).diagExecInHost({ args: ['ls'], workdir: '', terminal: false, stdin: '', stdout: '', stderr: '' }), ErrorCode.NotFound);
    assert.equal(diagOf(h).diagPid(), process.pid);
    const s = await diagOf(h).diagStacks();
    assert.equal(s.guestStacks, '');
    assert.match(s.stacks, new RegExp(`^pid ${process.pid}, node v`));
    assert.match(s.stacks, /JavaScript stack:/);
  });

  it('DiagTasks lists the task, and with execs every process with its state', async () => {
    const h = await setup();
    await runningTask(h);
    const e1 = await runningExec(h, 'e1');
    await h.svc.exec({ id: TASK_ID, execId: 'e2', stdio: { stdin: '', stdout: '', stderr: '', terminal: false }, spec: { args: ['true'], cwd: '/' } });
    e1.exit(0);
    await h.svc.wait(TASK_ID, 'e1');
    assert.deepEqual(await diagOf(h).diagTasks(false), [{ id: TASK_ID, execs: [] }]);
    assert.deepEqual(await diagOf(h).diagTasks(true), [{
      id: TASK_ID,
      execs: [{ id: '', state: 'running' }, { id: 'e1', state: 'exited' }, { id: 'e2', state: 'created' }],
    }]);
  });

  it("DiagStacks carries the guest's stacks, and gives up on a hung guest after 5 s", async () => {
    const h = await setup();
    await runningTask(h);
    h.sandbox.guestStacks = Promise.resolve('goroutine 1 [running]');
    assert.equal((await diagOf(h).diagStacks()).guestStacks, 'goroutine 1 [running]');
    h.sandbox.guestStacks = Promise.reject(new Error('bridge closed'));
    assert.equal((await diagOf(h).diagStacks()).guestStacks, '', 'a failure leaves them empty');
    h.sandbox.guestStacks = new Promise(() => undefined);
    const t0 = Date.now();
    assert.equal((await diagOf(h).diagStacks()).guestStacks, '');
    assert.ok(Date.now() - t0 >= 4900, 'waited the 5 s bound');
  });

  it('DiagShare and ComputeProcessorInfo reach the VM; another task id is NotFound', async () => {
    const h = await setup();
    await runningTask(h);
    await diagOf(h).diagShare('/srv/data', '/run/data', true);
    assert.deepEqual(h.sandbox.shares, [{ hostPath: '/srv/data', uvmPath: '/run/data', readOnly: true }]);
    h.sandbox.processorCount = 6;
    assert.equal(await diagOf(h).computeProcessorInfo(TASK_ID), 6);
    await rejectsWith(diagOf(h).computeProcessorInfo('other'), ErrorCode.NotFound);
  });

  it('DiagExecInHost relays stdin and stdout through FIFOs and returns the exit code', async () => {
    const h = await setup();
    await runningTask(h);
    const dir = await mkdtemp(join(tmpdir(), 'diag-fifo-'));
    try {
      const stdin = join(dir, 'in');
      const stdout = join(dir, 'out');
      execFileSync('mkfifo', [stdin, stdout]);
      const guestIn = new PassThrough();
      const guestOut = new PassThrough();
      h.sandbox.hostProcessOptions = { stdin: guestIn, stdout: guestOut };
      // The guest process: echoes its stdin upper-cased, exits 3 at EOF.
      h.sandbox.onExecInHost = (p) => {
        const chunks: Buffer[] = [];
        guestIn.on('data', (c: Buffer) => chunks.push(c));
        guestIn.on('end', () => {
          guestOut.end(Buffer.concat(chunks).toString().toUpperCase());
          setImmediate(() => p.exit(3));
        });
      };
      const output = new Promise<string>((resolve) => {
        const chunks: Buffer[] = [];
        createReadStream(stdout).on('data', (c) => chunks.push(c as Buffer)).on('end', () => resolve(Buffer.concat(chunks).toString()));
      });
      const run = diagOf(h).diagExecInHost({ args: ['cat'], workdir: '/tmp', terminal: false, stdin, stdout, stderr: '' });
      await writeFile(stdin, 'hello vm\n');
      assert.equal(await run, 3);
      assert.equal(await output, 'HELLO VM\n');
      assert.deepEqual(h.sandbox.hostRequests, [{ args: ['cat'], workdir: '/tmp', terminal: false, stdin: true, stdout: true, stderr: false }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('DiagExecInHost refuses a terminal with stderr and an empty command', async () => {
    const h = await setup();
    await runningTask(h);
    await rejectsWith(diagOf(h).diagExecInHost({ args: ['sh'], workdir: '', terminal: true, stdin: '', stdout: '', stderr: '/x' }), ErrorCode.FailedPrecondition, /terminal/);
    await rejectsWith(diagOf(h).diagExecInHost({ args: [], workdir: '', terminal: false, stdin: '', stdout: '', stderr: '' }), ErrorCode.InvalidArgument, /missing command/);
  });
});
