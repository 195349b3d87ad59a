/**
 * The diagnostics edge: the ShimDiag and ExtendedTask wire facts (service names, field numbers), served by
 * our ttrpc server to our client, and the `diag` command's shim discovery and arguments.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, notFound } from '../../../src/errdefs/index.js';
import { ComputeProcessorInfoRequest, ComputeProcessorInfoResponse, containerd } from '../../../src/proto/index.js';
import { diagCommand } from '../../../src/shim/diag/diag-command.js';
import { EXTENDED_TASK_SERVICE, SHIM_DIAG_SERVICE, diagServices } from '../../../src/shim/diag/diag-service.js';
import { findShim, findShims } from '../../../src/shim/diag/find-shims.js';
import type { DiagLogic } from '../../../src/shim/diag/types.js';
import { TtrpcClient, TtrpcServer, listenUnix } from '../../../src/ttrpc/index.js';
import { silentLogger } from '../../fakes/index.js';
import { platformDial } from '../../fakes/platform-dial.js';

const diag = containerd.runhcs.v1.diag;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('wire facts (hcsshim shimdiag.proto, extendedtask.proto)', () => {
  it('field numbers', () => {
    assert.equal(hex(diag.StacksResponse.encode({ stacks: 'a', guest_stacks: 'b' }).finish()), '0a0161120162');
    assert.equal(hex(diag.ExecProcessRequest.encode({ args: ['x'], workdir: 'w', terminal: true, stdin: 'i', stdout: 'o', stderr: 'e' }).finish()),
      '0a017812017718012201692a016f320165');
    assert.equal(hex(diag.ShareRequest.encode({ host_path: 'h', uvm_path: 'u', read_only: true }).finish()), '0a0168120175' + '1801');
    assert.equal(hex(diag.TasksResponse.encode({ tasks: [{ id: 't', execs: [{ id: 'e', state: 's' }] }] }).finish()), '0a0b0a017412060a0165120173');
    assert.equal(hex(diag.PidResponse.encode({ pid: 7 }).finish()), '0807');
    assert.equal(hex(diag.ExecProcessResponse.encode({ exit_code: -1 }).finish()), '08ffffffffffffffffff01');
    assert.equal(hex(ComputeProcessorInfoResponse.encode({ count: 4 }).finish()), '0804');
  });
});

class RecordingDiag implements DiagLogic {
  calls: unknown[] = [];
  async diagExecInHost(): Promise<number> {
    return 3;
  }
  async diagStacks() {
    return { stacks: 'host', guestStacks: 'guest' };
  }
  async diagTasks(execs: boolean) {
    this.calls.push(['tasks', execs]);
    return [{ id: 't1', execs: execs ? [{ id: '', state: 'running' }, { id: 'e1', state: 'exited' }] : [] }];
  }
  async diagShare(h: string, u: string, ro: boolean): Promise<void> {
    this.calls.push(['share', h, u, ro]);
  }
  diagPid(): number {
    return 4242;
  }
  async computeProcessorInfo(id: string): Promise<number> {
    if (id !== 't1') throw notFound(`task ${id} not found`);
    return 8;
  }
}

describe('served over ttrpc, driven by the diag command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'diag-edge-'));
  const state = join(dir, 'state');
  const sock = join(dir, 'shim.sock');
  const logic = new RecordingDiag();
  const server = new TtrpcServer({ logger: silentLogger() });
  for (const [name, methods] of diagServices(logic, silentLogger())) server.register(name, methods);
  const out = (): { io: Parameters<typeof diagCommand>[1]; text: () => string; err: () => string } => {
    let text = '';
    let err = '';
    const stdout = new PassThrough().on('data', (d: Buffer) => (text += d.toString()));
    const stderr = new PassThrough().on('data', (d: Buffer) => (err += d.toString()));
    return { io: { stdin: new PassThrough(), stdout, stderr, env: {}, dial: platformDial }, text: () => text, err: () => err };
  };
  const run = async (args: string[]): Promise<{ code: number; text: string; err: string }> => {
    const o = out();
    const code = await diagCommand(['--state', state, '-n', 'ns1', ...args], o.io);
    await new Promise((r) => setImmediate(r));
    return { code, text: o.text(), err: o.err() };
  };

  before(async () => {
    server.serve(await listenUnix(sock));
    for (const [id, address] of [['t1', `unix://${sock}`], ['t2', `unix://${join(dir, 'gone.sock')}`], ['u1', '']] as const) {
      mkdirSync(join(state, 'io.containerd.runtime.v2.task', 'ns1', id), { recursive: true });
      if (address !== '') writeFileSync(join(state, 'io.containerd.runtime.v2.task', 'ns1', id, 'address'), address);
    }
  });
  after(async () => {
    await server.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ExtendedTask is served under its bare name', async () => {
    const c = await TtrpcClient.connect(sock, { dial: platformDial });
    try {
      assert.equal(EXTENDED_TASK_SERVICE, 'ExtendedTask');
      assert.equal(SHIM_DIAG_SERVICE, 'containerd.runhcs.v1.diag.ShimDiag');
      const r = await c.call('ExtendedTask', 'ComputeProcessorInfo', ComputeProcessorInfoRequest.encode({ id: 't1' }).finish());
      assert.equal(ComputeProcessorInfoResponse.decode(r).count, 8);
      await assert.rejects(c.call('ExtendedTask', 'ComputeProcessorInfo', ComputeProcessorInfoRequest.encode({ id: 'x' }).finish()),
        (e: { code?: ErrorCode }) => e.code === ErrorCode.NotFound);
    } finally {
      await c.close();
    }
  });

  it('findShims reads the namespace state dir; findShim takes an exact id or a unique prefix', () => {
    assert.deepEqual(findShims(state, 'ns1').map((s) => s.id), ['t1', 't2']);
    assert.deepEqual(findShims(state, 'other'), []);
    assert.equal(findShim(state, 'ns1', 't1').address, `unix://${sock}`);
    assert.throws(() => findShim(state, 'ns1', 't'), /multiple shims beginning with 't': t1, t2/);
    assert.throws(() => findShim(state, 'ns1', 'zz'), (e: { code?: ErrorCode }) => e.code === ErrorCode.NotFound);
    assert.throws(() => findShim(state, 'ns1', '../x'), /invalid shim name/);
  });

  it('list shows the shims that answer DiagPid and reports the unreachable ones on stderr', async () => {
    const r = await run(['list', '--pids']);
    assert.equal(r.code, 0);
    assert.equal(r.text, 't1\t4242\n');
    assert.match(r.err, /^t2: /);
  });

  it('tasks, stacks, share', async () => {
    assert.equal((await run(['tasks', 't1'])).text, 't1\n');
    assert.equal((await run(['tasks', '--execs', 't1'])).text, 't1\n  running\t(init)\n  exited\te1\n');
    assert.equal((await run(['stacks', 't1'])).text, 'Stacks:\nhost\nGuest Stacks:\nguest\n');
    assert.equal((await run(['share', '--ro', 't1', '/h', '/u'])).text, 'Shared /h into t1 at /u\n');
    assert.deepEqual(logic.calls.slice(-1), [['share', '/h', '/u', true]]);
  });

  it('bad arguments are InvalidArgument naming what is wrong', async () => {
    await assert.rejects(run(['frobnicate']), /unknown diag command 'frobnicate'/);
    await assert.rejects(run(['share', 't1', '/h']), /HOST_PATH and UVM_PATH are required/);
    await assert.rejects(run(['tasks', '--bogus', 't1']), /unknown flag '--bogus'/);
    await assert.rejects(run(['--state']), /--state needs a value/);
  });
});
