/**
 * `delete` after a shim daemon died (process tier, the real binary as containerd runs it): it terminates
 * the task's utility VM `<id>@vm` left in the emulator root (found through system.json), unmounts
 * `<bundle>/rootfs`, reports both on stderr, and still answers a DeleteResponse with exit 0. The VM is
 * forged here: a record whose owner has exited and whose "guest agent" is a `sleep` of this test.
 * Binary: env LCOW_SHIM_BIN, else dist/bin/containerd-shim-lcow-v1.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { containerd } from '../../src/proto/index.js';
import { running } from '../fixtures/procfs.js';

const BIN = resolve(process.env.LCOW_SHIM_BIN ?? 'dist/bin/containerd-shim-lcow-v1');
const isRoot = process.getuid?.() === 0;

function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}


function runDelete(id: string, bundle: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(BIN, ['-namespace', 'ns1', '-address', '/tmp/x.sock', '-id', id, '-bundle', bundle, 'delete'],
      { cwd: bundle, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code, stdout: Buffer.concat(out), stderr: err }));
  });
}

describe('delete cleans up after a dead shim daemon (real binary)', { skip: !existsSync(BIN) && `no binary at ${BIN}`, timeout: 60_000 }, () => {
  let tmp: string;
  let vmRoot: string;
  let env: NodeJS.ProcessEnv;
  let runcLog: string;
  let fakeRunc: string;
  const procs: ChildProcess[] = [];
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'shim-delete-'));
    vmRoot = join(tmp, 'vm');
    env = { LCOW_EMULATOR_ROOT: vmRoot, LCOW_SHIM_SOCKET_DIR: join(tmp, 's') };
    await mkdir(join(tmp, 's'), { recursive: true });
    runcLog = join(tmp, 'runc.log');
    fakeRunc = join(tmp, 'fake-runc');
    await writeFile(fakeRunc, `#!/bin/sh\necho "$*" >> '${runcLog}'\n`);
    await chmod(fakeRunc, 0o755);
  });
  after(async () => {
    for (const p of procs) p.kill('SIGKILL');
    if (isRoot) for (let i = 0; i < 3; i++) execFileSync('sh', ['-c', `grep -o ' ${tmp}[^ ]*' /proc/mounts | xargs -r -n1 umount -l || true`]);
    await rm(tmp, { recursive: true, force: true });
  });

  /** A VM dir + system.json for `<id>@vm`; the owner is "dead" (right pid, wrong start time). */
  async function forgeVm(id: string, guest: ChildProcess, opts: { ownerAlive?: boolean; terminateOnClose?: boolean } = {}) {
    const runtimeId = randomUUID();
    const vmDir = join(vmRoot, runtimeId);
    await mkdir(join(vmDir, 'runc', 'c1'), { recursive: true, mode: 0o700 });
    await writeFile(join(vmDir, 'runc', 'c1', 'state.json'), '{}');
    const record = {
      Format: 'containerd-shim-lcow-v1/emulated-system@1', Id: `${id}@vm`, Owner: 'containerd-shim-lcow-v1', RuntimeId: runtimeId,
      SystemType: 'VirtualMachine', State: 'Running', TerminateOnLastHandleClosed: opts.terminateOnClose ?? true, MemoryMB: 256,
      ProcessorCount: 1, OwnerProcess: { Pid: process.pid, StartTime: opts.ownerAlive === true ? startTime(process.pid) : '1' },
      Guest: { Pid: guest.pid, StartTime: startTime(guest.pid!) }, RuncBinary: fakeRunc,
    };
    await writeFile(join(vmDir, 'system.json'), JSON.stringify(record));
    return vmDir;
  }

  async function sleeper(): Promise<ChildProcess> {
    const p = spawn('sleep', ['120'], { detached: true, stdio: 'ignore' });
    procs.push(p);
    await new Promise((r) => p.once('spawn', r));
    return p;
  }

  async function bundleFor(id: string): Promise<string> {
    const bundle = join(tmp, 'bundles', id);
    await mkdir(join(bundle, 'rootfs'), { recursive: true });
    await writeFile(join(bundle, 'shim.pid'), '999999999'); // a daemon that is gone
    return bundle;
  }

  it('terminates the orphaned utility VM, unmounts <bundle>/rootfs, answers, and is idempotent', async () => {
    const guest = await sleeper();
    const vmDir = await forgeVm('t-dead', guest);
    const bundle = await bundleFor('t-dead');
    if (isRoot) {
      execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(bundle, 'rootfs')]);
      execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(bundle, 'rootfs')]); // stacked twice
    }
    const r = await runDelete('t-dead', bundle, env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(containerd.task.v2.DeleteResponse.decode(r.stdout).exit_status, 255);
    assert.match(r.stderr, /terminated the utility VM/);
    assert.equal(running(guest.pid!), false, 'the agent (its process group) was killed');
    assert.equal(existsSync(vmDir), false, 'the VM dir is gone');
    assert.deepEqual((await readFile(runcLog, 'utf8')).trim().split('\n').sort(),
      [`--root ${vmDir}/runc delete -f c1`, `--root ${vmDir}/runc kill c1 KILL`]);
    if (isRoot) {
      assert.match(r.stderr, /unmounted the task rootfs/);
      assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(join(bundle, 'rootfs')), false, 'nothing mounted at <bundle>/rootfs');
    }
    const again = await runDelete('t-dead', bundle, env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, '', 'nothing left to do, nothing to say');
    assert.equal(containerd.task.v2.DeleteResponse.decode(again.stdout).exit_status, 255);
  });

  it('trusts a released marker naming the daemon in shim.pid: no VM or mount is looked for', async () => {
    const guest = await sleeper();
    const vmDir = await forgeVm('t-released', guest);
    const bundle = await bundleFor('t-released');
    await writeFile(join(bundle, 'shim-released'), '999999999');
    const r = await runDelete('t-released', bundle, env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(containerd.task.v2.DeleteResponse.decode(r.stdout).exit_status, 255);
    assert.ok(running(guest.pid!), 'the marker said the VM was gone: delete did not look');
    assert.ok(existsSync(vmDir));
    // A marker naming another daemon is ignored: the full cleanup runs.
    await writeFile(join(bundle, 'shim-released'), '123');
    const full = await runDelete('t-released', bundle, env);
    assert.equal(full.code, 0, full.stderr);
    assert.match(full.stderr, /terminated the utility VM/);
    assert.equal(running(guest.pid!), false);
    assert.equal(existsSync(vmDir), false);
  });

  it('leaves a VM with the same id alone while a live process holds it', async () => {
    const guest = await sleeper();
    const vmDir = await forgeVm('t-live', guest, { ownerAlive: true, terminateOnClose: true });
    const bundle = await bundleFor('t-live');
    const r = await runDelete('t-live', bundle, env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /belongs to another live process; leaving it/);
    assert.ok(running(guest.pid!));
    assert.ok(existsSync(vmDir));
    await rm(vmDir, { recursive: true });
  });
});
