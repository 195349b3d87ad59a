/**
 * The built executable (scripts/build-steps/shim-wrapper.sh, laid out by 30-code-cache.mjs): one file that is
 * a POSIX sh script and a CommonJS module. sh answers `delete` after a clean release itself, without starting
 * Node, and execs Node on the same file for every other command line; Node runs the code-cached bundle and
 * loads no ESM module (Node's ESM loader cost `delete` ~14 ms of CPU before our code ran). Checked on the real build in dist/: a `node` on PATH
 * that only records its arguments tells whether the script handed over, the generated protobuf decoder reads
 * the reply, and Node's own list of loaded internal modules (read by a preloaded probe) shows no ESM loading.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { containerd } from '../../src/proto/index.js';

const BIN_DIR = resolve('dist/bin');
const EXE = join(BIN_DIR, 'containerd-shim-lcow-v1');
const BUNDLED = existsSync(join(BIN_DIR, 'containerd-shim-lcow-v1.cjs.cache'));
const GONE_PID = '2147483646'; // above pid_max: no such process
/** When the daemon of releasedBundle() released its task (ms since the epoch; released-marker.ts). */
const RELEASED_AT = 1_764_530_000_456;
/** The socket name `start` gives the task of deleteArgs() (src/transport/shim-address.ts). */
const OWN_SOCKET_NAME = createHash('sha256').update('/run/containerd/containerd.sock/wrapper-ns/wrapper-id').digest('hex');

interface Run {
  readonly status: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  /** The arguments the fake `node` got, or undefined when the script did not start Node. */
  readonly node: string[] | undefined;
}

describe('the shim executable', { skip: !BUNDLED && 'dist/ was built without the bundle and code cache' }, () => {
  let dir = '';
  let fakeBin = '';
  let nodeLog = '';
  let n = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shim-wrapper-'));
    fakeBin = join(dir, 'fake-bin');
    nodeLog = join(dir, 'node-args');
    await mkdir(fakeBin);
    await writeFile(join(fakeBin, 'node'), '#!/bin/sh\nprintf \'%s\\n\' "$@" > "$FAKE_NODE_LOG"\nexit 7\n');
    await chmod(join(fakeBin, 'node'), 0o755);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs `exe` with a `node` on PATH that records its arguments and exits 7. */
  async function run(args: string[], exe = EXE, env: NodeJS.ProcessEnv = {}): Promise<Run> {
    await rm(nodeLog, { force: true });
    const r = spawnSync(exe, args, { env: { PATH: `${fakeBin}:/usr/bin:/bin`, FAKE_NODE_LOG: nodeLog, ...env }, timeout: 30_000 });
    const node = existsSync(nodeLog) ? (await readFile(nodeLog, 'utf8')).split('\n').slice(0, -1) : undefined;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString(), node };
  }

  it('hands Node a fixed glibc mmap threshold (128 KiB), keeping one the environment already sets', async () => {
    const envBin = join(dir, 'env-bin');
    const seen = join(dir, 'node-env');
    await mkdir(envBin, { recursive: true });
    await writeFile(join(envBin, 'node'), '#!/bin/sh\nprintf \'%s\' "${MALLOC_MMAP_THRESHOLD_-unset}" > "$SEEN"\nexit 7\n');
    await chmod(join(envBin, 'node'), 0o755);
    const threshold = (extra: Record<string, string>): string => {
      const r = spawnSync(EXE, ['--version'], { env: { PATH: `${envBin}:/usr/bin:/bin`, SEEN: seen, ...extra }, timeout: 30_000 });
      assert.equal(r.status, 7, r.stderr.toString());
      return readFileSync(seen, 'utf8');
    };
    assert.equal(threshold({}), '131072');
    assert.equal(threshold({ MALLOC_MMAP_THRESHOLD_: '65536' }), '65536');
    assert.equal(threshold({ MALLOC_MMAP_THRESHOLD_: '' }), '');
  });

  /** A bundle as the daemon leaves it after a clean release: marker = shim.pid (gone) + release time, socket removed. */
  async function releasedBundle(marker = `${GONE_PID}\n${RELEASED_AT}\n`): Promise<string> {
    const bundle = join(dir, `bundle-${++n}`);
    await mkdir(bundle);
    await writeFile(join(bundle, 'config.json'), '{}');
    await writeFile(join(bundle, 'shim.pid'), GONE_PID);
    await writeFile(join(bundle, 'shim-released'), marker);
    await writeFile(join(bundle, 'address'), `unix://${join(dir, `gone-${n}.sock`)}`);
    return bundle;
  }

  const deleteArgs = (bundle: string, ...extra: string[]): string[] =>
    ['-namespace', 'wrapper-ns', '-address', '/run/containerd/containerd.sock', '-publish-binary', '/usr/bin/containerd', ...extra, '-id', 'wrapper-id', '-bundle', bundle, 'delete'];

  it('is a POSIX sh script and a CommonJS module; sh execs Node on the file itself, the command line unchanged', async () => {
    const text = readFileSync(EXE, 'utf8');
    assert.match(text, /^#!\/bin\/sh\n":" \/\*\n/);
    const shPart = text.slice(0, text.indexOf('\n*/\n') + 1);
    assert.ok(shPart.length > 100 && !shPart.slice(8).includes('*/'), 'the sh part is one JavaScript comment');
    assert.equal(spawnSync('sh', ['-n'], { input: shPart }).status, 0, 'sh -n: the sh part parses');
    assert.deepEqual(JSON.parse(readFileSync(join(BIN_DIR, 'package.json'), 'utf8')), { type: 'commonjs' });
    const r = await run(['--version']);
    assert.equal(r.status, 7);
    assert.deepEqual(r.node, ['--no-warnings', EXE, '--version']);
  });

  it('found through a symlink (install.sh, ab.sh), it hands Node that path without readlink(1), and Node runs its bundle from there', async () => {
    const linkDir = join(dir, 'link-dir');
    await mkdir(linkDir, { recursive: true });
    const link = join(linkDir, 'containerd-shim-lcow-v1');
    await symlink(EXE, link);
    // A package.json that says "module" where the link is: Node takes the scope of the real path (bin/package.json).
    await writeFile(join(linkDir, 'package.json'), '{"type":"module"}');
    const noReadlink = join(dir, 'no-readlink-bin');
    await mkdir(noReadlink, { recursive: true });
    const r = await run(['-namespace', 'x', '-id', 'y', 'start'], link, { PATH: `${fakeBin}:${noReadlink}` });
    assert.deepEqual(r.node, ['--no-warnings', link, '-namespace', 'x', '-id', 'y', 'start']);
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_OPTIONS;
    delete env.NODE_TEST_CONTEXT;
    const real = spawnSync(link, ['--version'], { env, timeout: 60_000 });
    assert.equal(real.status, 0, real.stderr.toString());
    assert.match(real.stdout.toString(), /^containerd-shim-lcow-v1:\n {2}Version: /);
    const released = spawnSync(link, deleteArgs(await releasedBundle(`${GONE_PID}\n`)), { env, timeout: 60_000 });
    assert.equal(released.status, 0, released.stderr.toString());
    assert.equal(containerd.task.v2.DeleteResponse.decode(released.stdout).exit_status, 255);
  });

  it('run by Node, it does --version and a released delete without loading an ESM module', async () => {
    const probe = join(dir, 'probe.cjs');
    await writeFile(probe, "process.on('exit', () => process.stderr.write('ESM-MODULES:' + process.moduleLoadList.filter((m) => m.includes('/esm/')).join(',') + '\\n'));\n");
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_OPTIONS;
    delete env.NODE_TEST_CONTEXT;
    for (const args of [['--version'], deleteArgs(await releasedBundle())]) {
      const r = spawnSync(process.execPath, ['--no-warnings', '--require', probe, EXE, ...args], { env, timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr.toString());
      const esm = (r.stderr.toString().split('\n').find((l) => l.startsWith('ESM-MODULES:')) ?? 'ESM-MODULES:').slice(12).split(',').filter(Boolean);
      assert.ok(esm.length > 0, 'the probe saw Node\'s module list'); // esm/utils loads at bootstrap
      assert.ok(!esm.some((m) => m.includes('module_job')), `ESM modules loaded for ${args.join(' ')}: ${esm.join(', ')}`);
    }
  });

  it('answers delete after a clean release without Node or date(1): the bytes Node\'s delete prints, exited_at the release time', async () => {
    const noDate = join(dir, 'no-date-bin');
    await mkdir(noDate, { recursive: true });
    for (const [extra, at] of [[[], RELEASED_AT], [['-debug'], RELEASED_AT], [[], 1_764_530_000_000], [[], 1_764_530_000_007], [[], 1000]] as const) {
      const marker = `${GONE_PID}\n${at}\n`;
      const r = await run(deleteArgs(await releasedBundle(marker), ...extra), EXE, { PATH: `${fakeBin}:${noDate}` });
      assert.equal(r.node, undefined, 'Node was not started');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      const resp = containerd.task.v2.DeleteResponse.decode(r.stdout);
      assert.equal(resp.exit_status, 255);
      assert.equal(resp.pid, 0);
      assert.equal(Number(resp.exited_at?.seconds ?? 0) * 1000 + (resp.exited_at?.nanos ?? 0) / 1e6, at, 'exited_at is the release time');
      const viaNode = spawnSync(process.execPath, ['--no-warnings', EXE, ...deleteArgs(await releasedBundle(marker), ...extra)], { timeout: 60_000 });
      assert.equal(viaNode.status, 0, viaNode.stderr.toString());
      assert.deepEqual(r.stdout, viaNode.stdout, `the same bytes as Node's delete (release time ${at})`);
    }
  });

  it('a marker without a release time (an older daemon\'s), or with one it does not take: exited_at now, from date(1), as Node\'s delete', async () => {
    for (const marker of [GONE_PID, `${GONE_PID}\n`, `${GONE_PID}\n\n`, `${GONE_PID}\n0123\n`, `${GONE_PID}\n999\n`, `${GONE_PID}\n${'9'.repeat(17)}\n`, `${GONE_PID}\n${RELEASED_AT}x\n`]) {
      const before = Date.now();
      const r = await run(deleteArgs(await releasedBundle(marker)));
      const after = Date.now();
      assert.equal(r.node, undefined, `${JSON.stringify(marker)}: Node was not started`);
      assert.equal(r.status, 0, r.stderr);
      const resp = containerd.task.v2.DeleteResponse.decode(r.stdout);
      assert.equal(resp.exit_status, 255);
      const at = Number(resp.exited_at?.seconds ?? 0) * 1000 + Math.floor((resp.exited_at?.nanos ?? 0) / 1e6);
      assert.ok(at >= before - 1 && at <= after + 1, `${JSON.stringify(marker)}: exited_at ${at} within [${before}, ${after}]`);
      const viaNode = spawnSync(process.execPath, ['--no-warnings', EXE, ...deleteArgs(await releasedBundle(marker))], { timeout: 60_000 });
      assert.equal(viaNode.status, 0, viaNode.stderr.toString());
      const nodeResp = containerd.task.v2.DeleteResponse.decode(viaNode.stdout);
      const nodeAt = Number(nodeResp.exited_at?.seconds ?? 0) * 1000 + Math.floor((nodeResp.exited_at?.nanos ?? 0) / 1e6);
      assert.ok(nodeAt >= before, `${JSON.stringify(marker)}: Node's delete says now too (${nodeAt})`);
      assert.deepEqual(r.stdout.subarray(0, 4), viaNode.stdout.subarray(0, 4), 'same fields: exit_status, then exited_at\'s tag');
    }
  });

  /** A bundle whose marker and shim.pid name a live process (a daemon still exiting), and that process. */
  async function exitingDaemonBundle(): Promise<{ bundle: string; daemon: ChildProcess; socket: string }> {
    const bundle = await releasedBundle();
    const daemon = spawn('sleep', ['60'], { stdio: 'ignore' });
    await new Promise((resolveSpawn, reject) => daemon.once('spawn', resolveSpawn).once('error', reject));
    await writeFile(join(bundle, 'shim.pid'), String(daemon.pid));
    await writeFile(join(bundle, 'shim-released'), String(daemon.pid));
    return { bundle, daemon, socket: (await readFile(join(bundle, 'address'), 'utf8')).slice('unix://'.length) };
  }

  /** run() without blocking this process (spawnSync would), so the test can change the bundle meanwhile. */
  function runAsync(args: string[]): Promise<Run> {
    return new Promise((resolveRun, reject) => {
      const child = spawn(EXE, args, { env: { PATH: `${fakeBin}:/usr/bin:/bin`, FAKE_NODE_LOG: nodeLog }, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.once('error', reject);
      child.once('close', (status) => {
        const node = existsSync(nodeLog) ? readFileSync(nodeLog, 'utf8').split('\n').slice(0, -1) : undefined;
        resolveRun({ status, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString(), node });
      });
    });
  }

  it('answers delete while the daemon is still exiting once its socket is gone: the process is not waited for', async () => {
    const { bundle, daemon } = await exitingDaemonBundle();
    try {
      const r = await run(deleteArgs(bundle));
      assert.equal(r.node, undefined, 'Node was not started');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(containerd.task.v2.DeleteResponse.decode(r.stdout).exit_status, 255);
      assert.equal(daemon.exitCode === null && daemon.signalCode === null, true, 'the daemon still runs: sh did not wait for it');
    } finally {
      daemon.kill('SIGKILL');
    }
  });

  it('while the daemon is still exiting with its socket there, waits for the socket to go', async () => {
    const { bundle, daemon, socket } = await exitingDaemonBundle();
    try {
      await writeFile(socket, '');
      await rm(nodeLog, { force: true });
      const answered = runAsync(deleteArgs(bundle));
      await sleep(50); // well inside the ~0.5 s sh waits
      await rm(socket);
      const r = await answered;
      assert.equal(r.node, undefined, 'Node was not started');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(containerd.task.v2.DeleteResponse.decode(r.stdout).exit_status, 255);
    } finally {
      daemon.kill('SIGKILL');
    }
  });

  it('answers delete at once for a container that joined a pod\'s shim: the pod\'s daemon serves on, its socket stays', async () => {
    const { bundle, daemon, socket } = await exitingDaemonBundle();
    try {
      await writeFile(socket, ''); // the pod daemon's socket (join-pod.ts wrote its address and pid here)
      const r = await run(deleteArgs(bundle));
      assert.equal(r.node, undefined, 'Node was not started');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(containerd.task.v2.DeleteResponse.decode(r.stdout).exit_status, 255);
      assert.ok(existsSync(socket), 'the pod daemon\'s socket is left alone');
    } finally {
      daemon.kill('SIGKILL');
    }
  });

  it('hands a pod container\'s delete to Node when something is at its own socket path (Node removes it) or sh cannot name that path', async () => {
    const ownName = OWN_SOCKET_NAME;
    const socketDir = join(dir, 'own-socket-dir');
    await mkdir(socketDir, { recursive: true });
    const cases: Array<[string, (socket: string) => Promise<unknown>, ((bundle: string) => string[]) | undefined, NodeJS.ProcessEnv]> = [
      ['its own path beside the pod\'s socket', (socket) => writeFile(join(dirname(socket), ownName), ''), undefined, {}],
      ['its own path in LCOW_SHIM_SOCKET_DIR', () => writeFile(join(socketDir, ownName), ''), undefined, { LCOW_SHIM_SOCKET_DIR: socketDir }],
      ['an -address filepath.Join would clean', async () => undefined,
        (b) => ['-namespace', 'wrapper-ns', '-address', '/run/containerd//containerd.sock', '-publish-binary', '/usr/bin/containerd', '-id', 'wrapper-id', '-bundle', b, 'delete'], {}],
    ];
    for (const [what, change, args, env] of cases) {
      const { bundle, daemon, socket } = await exitingDaemonBundle();
      try {
        await writeFile(socket, '');
        await change(socket);
        const argv = args?.(bundle) ?? deleteArgs(bundle);
        const r = await run(argv, EXE, env);
        assert.deepEqual(r.node, ['--no-warnings', EXE, ...argv], what);
        assert.equal(r.status, 7, what);
      } finally {
        daemon.kill('SIGKILL');
        await rm(join(dir, ownName), { force: true });
        await rm(join(socketDir, ownName), { force: true });
      }
    }
  });

  /** Points <bundle>/address at a socket file with the name `start` gives this task's own socket, made here. */
  async function ownSocketLeft(bundle: string): Promise<void> {
    const own = join(dir, `own-${++n}`, OWN_SOCKET_NAME);
    await mkdir(dirname(own), { recursive: true });
    await writeFile(own, '');
    await writeFile(join(bundle, 'address'), `unix://${own}`);
  }

  it('hands delete to Node whenever there may be something to clean or to say', async () => {
    const cases: Array<[string, (bundle: string) => Promise<string[] | void>]> = [
      ['no released marker', (b) => rm(join(b, 'shim-released'))],
      ['a marker naming another pid', (b) => writeFile(join(b, 'shim-released'), '12345')],
      ['a marker that is not a pid', (b) => writeFile(join(b, 'shim-released'), '-1')],
      ['the daemon still running with its own socket there after ~0.5 s', async (b) => {
        await writeFile(join(b, 'shim.pid'), String(process.pid));
        await writeFile(join(b, 'shim-released'), String(process.pid));
        await ownSocketLeft(b);
      }],
      ['the daemon gone, its own socket still there', ownSocketLeft],
      ['no address file', (b) => rm(join(b, 'address'))],
      ['a panic.log to echo', (b) => writeFile(join(b, 'panic.log'), 'panic: boom\n')],
      ['a flag containerd does not write', async (b) => deleteArgs(b, '-unknown', 'x')],
      ['-name=value form', async (b) => ['-namespace=wrapper-ns', '-id', 'wrapper-id', '-bundle', b, 'delete']],
      ['no namespace', async (b) => ['-id', 'wrapper-id', '-bundle', b, 'delete']],
      ['a flag without its value', async (b) => ['-namespace', 'wrapper-ns', '-id', 'wrapper-id', '-bundle', b, '-address', 'delete']],
    ];
    for (const [what, change] of cases) {
      const bundle = await releasedBundle();
      const args = (await change(bundle)) ?? deleteArgs(bundle);
      const r = await run(args);
      assert.deepEqual(r.node, ['--no-warnings', EXE, ...args], what);
      assert.equal(r.status, 7, what);
      assert.equal(r.stdout.length, 0, `${what}: the script itself printed nothing`);
    }
  });
});
