/**
 * `start` for a pod (process tier: the real binary, real sockets), as runhcs start.go: the sandbox gets a
 * shim of its own; each workload container's `start` joins it (Connect), prints the sandbox shim's address
 * and writes its pid and address into the workload's bundle, starting no daemon. Bad CRI annotations and a
 * pod whose shim is not running are errors naming what was wrong.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { containerd } from '../../src/proto/index.js';
import { TtrpcClient } from '../../src/ttrpc/index.js';
import { platformDial } from '../fakes/platform-dial.js';
import { processes } from '../fixtures/procfs.js';

const BIN = resolve(process.env.LCOW_SHIM_BIN ?? 'dist/bin/containerd-shim-lcow-v1');
const ADDRESS = '/tmp/x.sock';
const TYPE = 'io.kubernetes.cri.container-type';
const SBID = 'io.kubernetes.cri.sandbox-id';

function runShim(id: string, action: string, cwd: string, socketDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, LCOW_SHIM_SOCKET_DIR: socketDir };
    delete env.TTRPC_ADDRESS;
    const args = ['-namespace', 'k8s.io', '-address', ADDRESS, '-publish-binary', '/bin/true', '-id', id, action];
    const child = spawn(BIN, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Daemons (`serve`) started with this socket dir's address. */
function daemons(): number[] {
  return processes((args) => args.includes('serve') && args.includes('k8s.io') && args.some((a) => a.startsWith('pod-start-')));
}

describe('start for a pod: one shim per pod', { skip: !existsSync(BIN) && `no binary at ${BIN}`, timeout: 120_000 }, () => {
  let socketDir: string;
  const bundles: string[] = [];
  const podId = `pod-start-${process.pid}`;

  const bundle = async (annotations: Record<string, string>): Promise<string> => {
    const b = await mkdtemp(join(tmpdir(), 'shim-pod-bundle-'));
    bundles.push(b);
    const spec = { ociVersion: '1.0.2', process: { args: ['true'], cwd: '/' }, root: { path: 'rootfs' }, linux: {}, annotations };
    await writeFile(join(b, 'config.json'), JSON.stringify(spec));
    return b;
  };

  before(async () => {
    socketDir = await mkdtemp(join(tmpdir(), 'shim-pod-s-'));
  });
  after(async () => {
    for (const pid of daemons()) process.kill(pid, 'SIGKILL');
    for (const b of bundles) await rm(b, { recursive: true, force: true });
    await rm(socketDir, { recursive: true, force: true });
  });

  it('a workload whose pod has no shim yet is Unavailable, naming the pod', async () => {
    const r = await runShim('c0', 'start', await bundle({ [TYPE]: 'container', [SBID]: podId }), socketDir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`cannot reach the shim of pod ${podId}`));
    assert.equal(r.stdout, '');
  });

  it('bad CRI annotations fail start, naming them', async () => {
    const noId = await runShim('c0', 'start', await bundle({ [TYPE]: 'container' }), socketDir);
    assert.equal(noId.code, 1);
    assert.match(noId.stderr, /needs io\.kubernetes\.cri\.sandbox-id/);
    const mismatch = await runShim('p-x', 'start', await bundle({ [TYPE]: 'sandbox', [SBID]: 'p-y' }), socketDir);
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.stderr, /must match for a sandbox: 'p-x' != 'p-y'/);
  });

  it('the sandbox starts the pod\'s shim; its workloads get the same address and pid, and no daemon of their own', async () => {
    const sb = await bundle({ [TYPE]: 'sandbox', [SBID]: podId });
    const s = await runShim(podId, 'start', sb, socketDir);
    assert.equal(s.code, 0, s.stderr);
    const shimPid = Number.parseInt(await readFile(join(sb, 'shim.pid'), 'utf8'), 10);
    for (const id of ['c1', 'c2']) {
      const wb = await bundle({ [TYPE]: 'container', [SBID]: podId, 'io.kubernetes.cri.container-name': id });
      const w = await runShim(id, 'start', wb, socketDir);
      assert.equal(w.code, 0, w.stderr);
      assert.equal(w.stderr, '');
      assert.equal(w.stdout, s.stdout, 'the workload is served at the sandbox shim\'s address');
      assert.equal(await readFile(join(wb, 'address'), 'utf8'), s.stdout);
      assert.equal(Number.parseInt(await readFile(join(wb, 'shim.pid'), 'utf8'), 10), shimPid);
    }
    assert.deepEqual(daemons(), [shimPid]);
    // Shutdown with a workload's id leaves the pod's shim running; the sandbox's id ends it.
    const client = await TtrpcClient.connect(s.stdout, { dial: platformDial });
    const shutdown = (id: string) =>
      client.call('containerd.task.v2.Task', 'Shutdown', containerd.task.v2.ShutdownRequest.encode({ id }).finish(), { timeoutMs: 10_000 });
    await shutdown('c1');
    await sleep(200);
    assert.deepEqual(daemons(), [shimPid]);
    await shutdown(podId).catch(() => undefined); // the daemon may go before it answers
    await client.close();
    for (let i = 0; i < 200 && daemons().length > 0; i++) await sleep(25);
    assert.deepEqual(daemons(), []);
  });
});
