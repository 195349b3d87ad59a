/**
 * `start` and `delete` run as containerd 2.3+ runs them (process tier: the real binary, real sockets): stdin
 * holds BootstrapParams (built by hand, test/shim/support/bootstrap-bytes.ts), stdout must be a BootstrapResult,
 * the socket goes under the params' socket_dir, the daemon publishes events to the params' ttrpc address,
 * its log level follows containerd's level and the runtime options, and `delete` (which gets no params) still finds and removes that socket. A legacy options
 * Any on stdin (containerd 1.6–2.2) still gets the plain address.
 *
 * Each case runs through both starts: the executable as containerd runs it (its sh `start` spools stdin and
 * `serve` decodes it: serve-start-input.ts) and Node's `start`
 * (the same file run by node). What the daemon made of the input is read where containerd sees it: its
 * "shim serving" line in the bundle's log FIFO (level, level source, events address, runtime options).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { SANDBOX_TASK_API_VERSION, TASK_API_VERSION } from '../../src/shim/bootstrap.js';
import { containerd } from '../../src/proto/index.js';
import { anyBytes, bootstrapParamsBytes, runhcsOptionsBytes } from './support/bootstrap-bytes.js';
import { logLineFields, openReader, readUntil } from '../fixtures/log-fifo-reader.js';
import { running } from '../fixtures/procfs.js';

const BIN = resolve(process.env.LCOW_SHIM_BIN ?? 'dist/bin/containerd-shim-lcow-v1');
const ADDRESS = '/tmp/x.sock';
const RUNHCS = 'containerd.runhcs.v1.Options';

/** `sh`: the executable as containerd runs it; `node`: Node's start (the same file run by node). */
type Via = 'sh' | 'node';
const VIAS: readonly Via[] = ['sh', 'node'];

function runShim(args: string[], cwd: string, input: Uint8Array, env: NodeJS.ProcessEnv = {}, via: Via = 'sh'): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const e: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete e.TTRPC_ADDRESS;
    delete e.NODE_OPTIONS;
    delete e.NODE_TEST_CONTEXT;
    if (!('LCOW_SHIM_SOCKET_DIR' in env)) delete e.LCOW_SHIM_SOCKET_DIR;
    const [file, argv] = via === 'sh' ? [BIN, args] : [process.execPath, ['--no-warnings', BIN, ...args]];
    const child = spawn(file, argv, { cwd, env: e, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.end(input);
  });
}

const flags = (id: string, ...more: string[]): string[] =>
  ['-namespace', 'ns1', '-address', ADDRESS, '-publish-binary', '/bin/true', '-id', id, ...more];
const hash = (id: string): string => createHash('sha256').update(`${ADDRESS}/ns1/${id}`).digest('hex');


/** The environment the daemon was started with (/proc keeps the initial one). */
const daemonEnv = (pid: number): string[] => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');

/** containerd's reader of `<bundle>/log`, opened before `start` runs, as containerd does. */
function logReader(bundle: string): number {
  const path = join(bundle, 'log');
  execFileSync('mkfifo', [path]);
  return openReader(path);
}

/** The daemon's "shim serving" line, as containerd reads it from the log FIFO; closes the reader. */
async function servingLine(fd: number): Promise<Map<string, string>> {
  try {
    const fields = logLineFields(await readUntil(fd, (t) => t.includes('msg="shim serving"')), 'shim serving');
    assert.ok(fields, 'the daemon logged "shim serving"');
    return fields;
  } finally {
    closeSync(fd);
  }
}

/** Which start launched daemon `pid`: sh's (a ready fd; the spooled stdin named) or Node's (the socket as fd 3). */
function assertStartedBy(pid: number, via: Via, spooled: boolean): void {
  const env = daemonEnv(pid);
  if (via === 'node') {
    assert.ok(env.includes('LCOW_SHIM_LISTEN_FD=3'), 'Node\'s start handed the socket');
    return;
  }
  assert.ok(env.includes('LCOW_SHIM_READY_FD=3'), 'the sh start launched serve');
  assert.equal(env.some((v) => v.startsWith('LCOW_SHIM_START_INPUT=')), spooled, 'sh named the spooled stdin');
}

describe('start/delete under the containerd 2.3+ bootstrap (real processes)', { skip: !existsSync(BIN) && `no binary at ${BIN}`, timeout: 120_000 }, () => {
  const dirs: string[] = [];
  const daemons: number[] = [];
  after(async () => {
    for (const pid of daemons) if (running(pid)) process.kill(pid, 'SIGKILL');
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function bundle(): Promise<string> {
    const b = await mkdtemp(join(tmpdir(), 'shim-boot-'));
    dirs.push(b);
    await writeFile(join(b, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', process: { args: ['true'], cwd: '/' }, root: { path: 'rootfs' }, linux: {} }));
    return b;
  }

  async function stopped(pid: number): Promise<void> {
    for (let i = 0; i < 200 && running(pid); i++) await sleep(25);
    assert.equal(running(pid), false, `daemon ${pid} stopped`);
  }

  /**
   * `start` (args) in bundle `b` with `input` on stdin, through `via`, containerd's log reader open: it succeeded,
   * and the daemon it left (recorded for cleanup) came from that start; with its "shim serving" line.
   */
  async function startDaemon(b: string, args: string[], input: Uint8Array, env: NodeJS.ProcessEnv, via: Via): Promise<{ stdout: Buffer; pid: number; serving: Map<string, string> }> {
    const log = logReader(b);
    const r = await runShim(args, b, input, env, via);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const pid = Number.parseInt(readFileSync(join(b, 'shim.pid'), 'utf8'), 10);
    daemons.push(pid);
    assertStartedBy(pid, via, input.length > 0);
    return { stdout: r.stdout, pid, serving: await servingLine(log) };
  }

  for (const via of VIAS) {
    it(`BootstrapParams in → BootstrapResult out; socket under socket_dir; log level and events from containerd; delete removes it (${via} start)`, async () => {
      const b = await bundle();
      const socketDir = join(b, 'sockets');
      const ttrpcAddress = join(b, 'containerd.sock.ttrpc');
      const id = `b1-${via}`;
      const input = bootstrapParamsBytes({ id, namespace: 'ns1', logLevel: -8, socketDir, ttrpcAddress });
      const { stdout, pid, serving } = await startDaemon(b, flags(id, 'start'), input, {}, via);
      const result = containerd.runtime.bootstrap.v1.BootstrapResult.decode(stdout);
      assert.deepEqual(stdout, Buffer.from(containerd.runtime.bootstrap.v1.BootstrapResult.encode(result).finish()), 'nothing but the BootstrapResult');
      const socket = join(socketDir, hash(id));
      assert.equal(result.version, TASK_API_VERSION);
      assert.equal(result.protocol, 'ttrpc');
      assert.equal(result.address, `unix://${socket}`);
      assert.equal(readFileSync(join(b, 'address'), 'utf8'), result.address);
      assert.ok(existsSync(socket), 'the socket is under socket_dir');
      assert.equal(serving.get('log-level'), 'trace', 'containerd at trace → the daemon logs at trace');
      assert.equal(serving.get('log-level-from'), 'bootstrap');
      assert.equal(serving.get('events-address'), ttrpcAddress, 'events go to the params\' containerd_ttrpc_address');
      assert.deepEqual(readdirSync(b).filter((f) => f.startsWith('.')), [], 'no spool left in the bundle');

      const d = await runShim(flags(id, '-bundle', b, 'delete'), b, new Uint8Array());
      assert.equal(d.code, 0, d.stderr);
      assert.equal(containerd.task.v2.DeleteResponse.decode(d.stdout).exit_status, 255);
      await stopped(pid);
      assert.equal(existsSync(socket), false, 'delete found the socket through <bundle>/address and removed it');
    });

    it(`runtime options in a 2.3+ extension set the daemon level (log_level wins over debug) and reach the daemon (${via} start)`, async () => {
      const b = await bundle();
      const id = `b2-${via}`;
      const ext = { typeUrl: RUNHCS, value: runhcsOptionsBytes({ debug: true, logLevel: 'info' }) };
      const input = bootstrapParamsBytes({ id, namespace: 'ns1', logLevel: -8, socketDir: join(b, 's'), extensions: [ext] });
      const { pid, serving } = await startDaemon(b, flags(id, 'start'), input, {}, via);
      assert.equal(serving.get('log-level'), 'info', 'options log_level=info over debug: true and containerd\'s trace');
      assert.equal(serving.get('log-level-from'), 'log_level');
      assert.equal(serving.get('runtime-options'), RUNHCS, 'the options reached the daemon (a Sandbox API pod\'s VM is sized from them)');
      if (via === 'node') {
        assert.ok(daemonEnv(pid).includes(`LCOW_SHIM_RUNTIME_OPTIONS=${RUNHCS} ${Buffer.from(ext.value).toString('base64')}`));
      }
      process.kill(pid, 'SIGTERM');
      await stopped(pid);
    });

    it(`LCOW_SHIM_SOCKET_DIR overrides socket_dir (${via} start)`, async () => {
      const b = await bundle();
      const id = `b3-${via}`;
      const override = join(b, 'override');
      const r = await runShim(flags(id, 'start'), b, bootstrapParamsBytes({ id, namespace: 'ns1', socketDir: join(b, 'ignored') }),
        { LCOW_SHIM_SOCKET_DIR: override }, via);
      assert.equal(r.code, 0, r.stderr);
      const address = containerd.runtime.bootstrap.v1.BootstrapResult.decode(r.stdout).address;
      assert.equal(address, `unix://${join(override, hash(id))}`);
      const pid = Number.parseInt(readFileSync(join(b, 'shim.pid'), 'utf8'), 10);
      daemons.push(pid);
      assertStartedBy(pid, via, true);
      process.kill(pid, 'SIGTERM');
      await stopped(pid);
    });

    it(`a legacy options Any (containerd 1.6–2.2) gets the plain address; debug options raise the level (${via} start)`, async () => {
      const b = await bundle();
      const id = `b4-${via}`;
      const { stdout, pid, serving } = await startDaemon(b, flags(id, 'start'), anyBytes(RUNHCS, runhcsOptionsBytes({ debug: true })), { LCOW_SHIM_SOCKET_DIR: join(b, 's') }, via);
      assert.equal(stdout.toString(), `unix://${join(b, 's', hash(id))}`);
      assert.equal(serving.get('log-level'), 'debug');
      assert.equal(serving.get('log-level-from'), 'debug');
      assert.equal(serving.get('runtime-options'), RUNHCS, 'the options reached the daemon');
      process.kill(pid, 'SIGTERM');
      await stopped(pid);
    });

    // One rule on every path (log-level.ts): options log_level > containerd's level > -debug > info.
    for (const c of [
      { name: '1.6 stdin-less + -debug → debug', id: 'l1', input: () => new Uint8Array(), debug: true, want: 'debug', from: 'debug' },
      { name: '1.6 options log_level=info + debug + -debug → info', id: 'l2', input: () => anyBytes(RUNHCS, runhcsOptionsBytes({ debug: true, logLevel: 'info' })), debug: true, want: 'info', from: 'log_level' },
      { name: '2.x bootstrap info + -debug → info', id: 'l3', input: (b: string, id: string) => bootstrapParamsBytes({ id, namespace: 'ns1', socketDir: join(b, 's') }), debug: true, want: 'info', from: 'bootstrap' },
    ]) {
      it(`daemon level: ${c.name} (${via} start)`, async () => {
        const b = await bundle();
        const id = `${c.id}-${via}`;
        const input = c.input(b, id);
        const { pid, serving } = await startDaemon(b, flags(id, ...(c.debug ? ['-debug'] : []), 'start'), input, { LCOW_SHIM_SOCKET_DIR: join(b, 's') }, via);
        assert.equal(serving.get('log-level'), c.want);
        assert.equal(serving.get('log-level-from'), c.from);
        if (via === 'node') {
          assert.ok(daemonEnv(pid).includes(`LCOW_SHIM_LOG_LEVEL=${c.want}`));
          assert.ok(daemonEnv(pid).includes(`LCOW_SHIM_LOG_LEVEL_FROM=${c.from}`));
        }
        process.kill(pid, 'SIGTERM');
        await stopped(pid);
      });
    }
  }

  for (const via of VIAS) {
    it(`a bundle without a spec (the Sandbox API sandbox containerd's shim controller starts) announces Task API 3 [${via}]`, async () => {
      const b = await mkdtemp(join(tmpdir(), 'shim-boot-'));
      dirs.push(b);
      const id = `b5-${via}`;
      const r = await runShim(flags(id, 'start'), b, bootstrapParamsBytes({ id, namespace: 'ns1', socketDir: join(b, 's') }), {}, via);
      assert.equal(r.code, 0, r.stderr);
      const result = containerd.runtime.bootstrap.v1.BootstrapResult.decode(r.stdout);
      assert.equal(result.version, SANDBOX_TASK_API_VERSION);
      assert.equal(result.version, 3);
      assert.equal(result.address, `unix://${join(b, 's', hash(id))}`);
      const pid = Number.parseInt(readFileSync(join(b, 'shim.pid'), 'utf8'), 10);
      daemons.push(pid);
      assertStartedBy(pid, via, true);
      assert.equal(daemonEnv(pid).some((v) => v.startsWith('LCOW_SHIM_RUNTIME_OPTIONS=')), false, 'no options, no variable');
      process.kill(pid, 'SIGTERM');
      await stopped(pid);
    });
  }
});

describe('-info (containerd 2.x introspection, real process)', { skip: !existsSync(BIN) && `no binary at ${BIN}`, timeout: 60_000 }, () => {
  it('prints a RuntimeInfo with our runtime name and version and echoes the options', async () => {
    const opts = anyBytes(RUNHCS, runhcsOptionsBytes({ debug: true }));
    const r = await runShim(['-info'], tmpdir(), opts);
    assert.equal(r.code, 0, r.stderr);
    const info = containerd.types.RuntimeInfo.decode(r.stdout);
    assert.equal(info.name, 'io.containerd.lcow.v1');
    assert.match(info.version?.version ?? '', /^\d+\.\d+\.\d+$/);
    assert.equal(info.options?.type_url, RUNHCS);
    assert.deepEqual(Buffer.from(info.options?.value ?? []), Buffer.from(runhcsOptionsBytes({ debug: true })));
    const empty = containerd.types.RuntimeInfo.decode((await runShim(['-info'], tmpdir(), new Uint8Array())).stdout);
    assert.equal(empty.options, null);
  });
});
