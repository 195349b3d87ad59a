/**
 * The shim binary run as containerd runs it (process tier: real processes, real sockets): `start` prints
 * the address and leaves a detached daemon serving the Task API; `delete` cleans up and answers a
 * DeleteResponse. The binary: env LCOW_SHIM_BIN, else dist/bin/containerd-shim-lcow-v1 (from the repo root).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { containerd } from '../../src/proto/index.js';
import { TtrpcClient } from '../../src/ttrpc/index.js';
import { platformDial } from '../fakes/platform-dial.js';
import { running } from '../fixtures/procfs.js';

const BIN = resolve(process.env.LCOW_SHIM_BIN ?? 'dist/bin/containerd-shim-lcow-v1');
const ADDRESS = '/tmp/x.sock';
const task = containerd.task.v2;

interface Run {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs the binary with stdin = /dev/null; resolves once it exited AND its stdout/stderr reached EOF. */
function runShim(args: string[], cwd: string, socketDir: string): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, LCOW_SHIM_SOCKET_DIR: socketDir };
    delete env.TTRPC_ADDRESS;
    const child = spawn(BIN, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.once('error', reject);
    // 'close' waits for the pipes' EOF: a daemon that kept them open would hang here.
    child.once('close', (code) => resolveRun({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
  });
}

const flags = (id: string, ...more: string[]): string[] =>
  ['-namespace', 'ns1', '-address', ADDRESS, '-publish-binary', '/bin/true', '-id', id, ...more];


/** Polls until `test()` holds; the test's own timeout bounds it. */
async function until(test: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await test()) return;
    await sleep(25);
  }
  throw new Error(`gave up waiting: ${what}`);
}

async function makeBundle(): Promise<string> {
  const bundle = await mkdtemp(join(tmpdir(), 'shim-bundle-'));
  const spec = { ociVersion: '1.0.2', process: { args: ['true'], cwd: '/' }, root: { path: 'rootfs' }, linux: {} };
  await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
  return bundle;
}

describe('containerd-shim-lcow-v1 start / serve / delete (real processes)', { skip: !existsSync(BIN) && `no binary at ${BIN}`, timeout: 120_000 }, () => {
  let socketDir: string;
  const bundles: string[] = [];
  const daemons: number[] = [];

  before(async () => {
    socketDir = await mkdtemp(join(tmpdir(), 'shim-s-'));
  });
  after(async () => {
    for (const pid of daemons) if (running(pid)) process.kill(pid, 'SIGKILL');
    for (const b of bundles) await rm(b, { recursive: true, force: true });
    await rm(socketDir, { recursive: true, force: true });
  });

  const expectedSocket = (id: string): string =>
    join(socketDir, createHash('sha256').update(`${ADDRESS}/ns1/${id}`).digest('hex'));

  async function start(id: string): Promise<{ bundle: string; address: string; pid: number }> {
    const bundle = await makeBundle();
    bundles.push(bundle);
    const r = await runShim(flags(id, 'start'), bundle, socketDir);
    assert.equal(r.stderr, '', 'start prints nothing on stderr (containerd reads stdout+stderr combined)');
    assert.equal(r.code, 0);
    const address = r.stdout.toString();
    const pid = Number.parseInt(await readFile(join(bundle, 'shim.pid'), 'utf8'), 10);
    daemons.push(pid);
    return { bundle, address, pid };
  }

  it('start prints exactly the address and writes <bundle>/address; the daemon runs on', async () => {
    const { bundle, address, pid } = await start('t1');
    assert.equal(address, `unix://${expectedSocket('t1')}`, 'stdout is the address with no newline');
    assert.equal(await readFile(join(bundle, 'address'), 'utf8'), address);
    assert.ok(Number.isInteger(pid) && pid > 1 && running(pid), 'the daemon runs on after start exited');
  });

  it(
    'when start returns, the socket is there (containerd dials at once) with mode 0600',
    async () => {
      const { pid } = await start('t0');
      try {
        const st = await stat(expectedSocket('t0'));
        assert.ok(st.isSocket());
        assert.equal(st.mode & 0o777, 0o600);
        const client = await TtrpcClient.connect(`unix://${expectedSocket('t0')}`, { dial: platformDial });
        const res = task.ConnectResponse.decode(
          await client.call('containerd.task.v2.Task', 'Connect', task.ConnectRequest.encode({ id: 't0' }).finish(), { timeoutMs: 10_000 }),
        );
        await client.close();
        assert.equal(res.shim_pid, pid);
      } finally {
        if (running(pid)) process.kill(pid, 'SIGTERM');
        await until(() => !running(pid), 'the t0 daemon exits on SIGTERM');
      }
    },
  );

  it('the daemon serves Connect on containerd.task.v2.Task and v3, and exits on Shutdown, removing its socket', async () => {
    const pid = daemons[0];
    assert.ok(pid !== undefined);
    // Tolerates the start bug (see the todo above) so that the daemon's own behaviour is checked here.
    await until(() => existsSync(expectedSocket('t1')), 'the daemon socket exists');
    const client = await TtrpcClient.connect(`unix://${expectedSocket('t1')}`, { dial: platformDial });
    try {
      const req = task.ConnectRequest.encode({ id: 't1' }).finish();
      for (const service of ['containerd.task.v2.Task', 'containerd.task.v3.Task']) {
        const res = task.ConnectResponse.decode(await client.call(service, 'Connect', req, { timeoutMs: 10_000 }));
        assert.equal(res.shim_pid, pid, `${service}: shim pid`);
        assert.equal(res.task_pid, 0, `${service}: task pid`);
      }
      await client.call('containerd.task.v2.Task', 'Shutdown', task.ShutdownRequest.encode({ id: 't1' }).finish(), { timeoutMs: 10_000 })
        .catch(() => undefined); // the shim may exit before it answers (containerd ignores `ttrpc: closed`)
      // The daemon closes the connection once idle, and removes its socket before that: containerd runs
      // `delete` on the disconnect, and the sh `delete` (shim-wrapper.sh) then finds the socket gone.
      await client.closed;
      assert.equal(existsSync(expectedSocket('t1')), false, 'the socket is gone when the daemon closes the connection');
    } finally {
      await client.close();
    }
    await until(() => !running(pid), 'the daemon exits after Shutdown');
    assert.equal(existsSync(expectedSocket('t1')), false, 'the socket is removed');
  });

  it('delete exits 0 with a DeleteResponse (exit status 255, exited_at set) on stdout, and is idempotent', async () => {
    const bundle = bundles[0];
    assert.ok(bundle !== undefined);
    for (let i = 0; i < 2; i++) {
      const before = Date.now();
      const r = await runShim(flags('t1', '-bundle', bundle, 'delete'), bundle, socketDir);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      const d = task.DeleteResponse.decode(r.stdout);
      assert.equal(d.exit_status, 255);
      assert.equal(d.pid, 0);
      assert.ok(d.exited_at, 'exited_at is set');
      const ms = (d.exited_at.seconds ?? 0) * 1000 + Math.floor((d.exited_at.nanos ?? 0) / 1e6);
      assert.ok(ms >= Math.floor(before / 1000) * 1000, 'exited_at is now');
    }
  });

  it('delete while the daemon still runs stops it and removes its socket', async () => {
    const { bundle, pid } = await start('t2');
    assert.ok(running(pid));
    const r = await runShim(flags('t2', '-bundle', bundle, 'delete'), bundle, socketDir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(task.DeleteResponse.decode(r.stdout).exit_status, 255);
    await until(() => !running(pid), 'the daemon is stopped by delete');
    assert.equal(existsSync(expectedSocket('t2')), false);
  });

  it('start without -id fails with a message on stderr and nothing on stdout', async () => {
    const bundle = await makeBundle();
    bundles.push(bundle);
    const r = await runShim(['-namespace', 'ns1', '-address', ADDRESS, 'start'], bundle, socketDir);
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout.length, 0);
    assert.match(r.stderr, /-id is required/);
  });

  it('Node\'s start whose socket fits sun_path but its temporary name does not: a clear error naming the limit, exit at once, nothing left', async () => {
    const bundle = await makeBundle();
    bundles.push(bundle);
    // <dir>/<64 hex> is 105 bytes (fits 107); the temporary name adds .<pid> (>= 2 digits), which does not.
    const dir = join(tmpdir(), 'd'.repeat(40 - tmpdir().length - 1));
    const env: NodeJS.ProcessEnv = { ...process.env, LCOW_SHIM_SOCKET_DIR: dir };
    for (const k of ['TTRPC_ADDRESS', 'NODE_OPTIONS', 'NODE_TEST_CONTEXT']) delete env[k];
    // Node's start itself (the sh start refuses such a dir before anything runs).
    const r = spawnSync(process.execPath, ['--no-warnings', BIN, ...flags('long-tmp', 'start')], { cwd: bundle, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    try {
      assert.equal(r.signal, null, 'start exited by itself (a listening server kept it alive before)');
      assert.equal(r.status, 1);
      assert.equal(r.stdout.length, 0);
      assert.match(r.stderr.toString(), /unix socket path is \d+ bytes, the limit is 107/);
      assert.equal(existsSync(join(bundle, 'address')), false);
      assert.equal(existsSync(join(bundle, 'shim.pid')), false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an unknown flag exits 2 naming it; -v prints the version', async () => {
    const bundle = await makeBundle();
    bundles.push(bundle);
    const bad = await runShim(['-bogus', 'start'], bundle, socketDir);
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout.length, 0);
    assert.match(bad.stderr, /bogus/);
    const v = await runShim(['-v'], bundle, socketDir);
    assert.equal(v.code, 0);
    assert.match(v.stdout.toString(), /containerd-shim-lcow-v1[\s\S]*Version: \d+\.\d+\.\d+/);
  });
});
