/**
 * The Sandbox API pod's sandbox container (pod-infra.ts): the pause ELF byte layout, the spec's shape, the
 * namespace paths containerd derives from sandbox pid 0, and, with the real runc, what Microsoft's GCS does
 * with the spec (`runc create`, which looks the executable up in the rootfs at create time): created from the
 * prepared rootfs, refused from an empty one; started, the ELF waits for a signal.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PAUSE_ELF_SIZE, pauseElf } from '../../src/shim/sandbox-api/pause-elf.js';
import { POD_INFRA_PROCESS, podInfraSpec, preparePodInfraRootfs, withoutSandboxPidNamespaces } from '../../src/shim/sandbox-api/pod-infra.js';

const NEEDS_ROOT_X64 = process.getuid?.() !== 0 ? 'needs root (runc)' : process.arch !== 'x64' ? 'the ELF is x86-64' : false;

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe('pod infra: the pause ELF', () => {
  it('is an ELF64 x86-64 executable with one R+X PT_LOAD over the whole file, entry at the code', () => {
    const b = pauseElf();
    assert.equal(b.length, PAUSE_ELF_SIZE);
    assert.equal(b.length, 129);
    assert.deepEqual([...b.subarray(0, 8)], [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
    assert.equal(b.readUInt16LE(16), 2, 'ET_EXEC');
    assert.equal(b.readUInt16LE(18), 62, 'EM_X86_64');
    assert.equal(b.readBigUInt64LE(24), 0x400078n, 'e_entry');
    assert.equal(b.readBigUInt64LE(32), 64n, 'e_phoff');
    assert.deepEqual([b.readUInt16LE(52), b.readUInt16LE(54), b.readUInt16LE(56)], [64, 56, 1]);
    assert.deepEqual([b.readUInt32LE(64), b.readUInt32LE(68)], [1, 5], 'PT_LOAD, PF_R|PF_X');
    assert.equal(b.readBigUInt64LE(64 + 32), 129n, 'p_filesz');
    assert.deepEqual([...b.subarray(120)], [0xb8, 0x22, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7]);
  });

  it('runs, waits for a signal and ends by it', { skip: process.arch !== 'x64' || process.platform !== 'linux' ? 'x86-64 Linux only' : false }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pause-elf-'));
    try {
      await preparePodInfraRootfs(dir);
      const file = join(dir, 'pause');
      assert.equal(statSync(file).mode & 0o777, 0o755);
      const p = spawn(file, [], { stdio: 'ignore' });
      const ended = new Promise<NodeJS.Signals | null>((resolve) => p.once('exit', (_c, s) => resolve(s)));
      await new Promise((r) => p.once('spawn', r));
      // it is still there (blocked in pause) until it gets the signal
      assert.match(readFileSync(`/proc/${p.pid}/stat`, 'utf8').replace(/^.*\) /s, ''), /^[SR] /);
      p.kill('SIGTERM');
      assert.equal(await ended, 'SIGTERM');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pod infra: spec', () => {
  it('a sandbox of its own id, the pod hostname and annotations, /pause, read-only root, no network namespace', () => {
    const s = podInfraSpec({ id: 'p1', rootfs: '/b/rootfs', hostname: 'web', annotations: { x: 'y', 'io.kubernetes.cri.container-type': 'container' } });
    assert.deepEqual(s.annotations, { x: 'y', 'io.kubernetes.cri.container-type': 'sandbox', 'io.kubernetes.cri.sandbox-id': 'p1' });
    assert.equal(s.hostname, 'web');
    assert.deepEqual(s.root, { path: '/b/rootfs', readonly: true });
    assert.deepEqual((s.process as { args: string[] }).args, [POD_INFRA_PROCESS]);
    const ns = (s.linux as { namespaces: Array<{ type: string }> }).namespaces.map((n) => n.type);
    assert.equal(ns.includes('network'), false);
  });

  it('namespace paths of sandbox pid 0 become namespaces of the container\'s own; others pass', () => {
    const spec = {
      linux: {
        namespaces: [
          { type: 'ipc', path: '/proc/0/ns/ipc' }, { type: 'uts', path: '/proc/0/ns/uts' }, { type: 'pid', path: '/proc/0/ns/pid' },
          { type: 'mount' }, { type: 'network', path: '/proc/12/ns/net' }, { type: 'cgroup', path: '/proc/0/ns/../x' },
        ],
        other: 1,
      },
    };
    const out = withoutSandboxPidNamespaces(spec);
    assert.deepEqual(out.linux.namespaces, [
      { type: 'ipc' }, { type: 'uts' }, { type: 'pid' }, { type: 'mount' }, { type: 'network', path: '/proc/12/ns/net' }, { type: 'cgroup', path: '/proc/0/ns/../x' },
    ]);
    assert.equal(out.linux.other, 1);
    assert.equal(spec.linux.namespaces[0]?.path, '/proc/0/ns/ipc', 'the input is not changed');
    const untouched = { linux: { namespaces: [{ type: 'pid' }] } };
    assert.equal(withoutSandboxPidNamespaces(untouched), untouched);
    assert.deepEqual(withoutSandboxPidNamespaces({}), {});
  });
});

/**
 * `runc create`: the container's stdio is runc init's, which outlives runc, so nothing is piped (a pipe would
 * stay open until the container ends); runc's own errors go to its --log file.
 */
function runcCreate(root: string, dir: string, id: string): Promise<{ code: number; log: string }> {
  const logFile = join(dir, 'runc.log');
  return new Promise((resolve, reject) => {
    const p = spawn('runc', ['--root', root, '--log', logFile, 'create', '--bundle', dir, id], { stdio: 'ignore' });
    p.once('error', reject);
    p.once('exit', (code) => resolve({ code: code ?? 1, log: (() => { try { return readFileSync(logFile, 'utf8'); } catch { return ''; } })() }));
  });
}

describe('pod infra: the spec through the real runc (what the GCS does with it)', { skip: NEEDS_ROOT_X64 }, () => {
  async function bundle(prepare: boolean): Promise<{ dir: string; root: string; id: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'pod-infra-'));
    const rootfs = join(dir, 'rootfs');
    if (prepare) await preparePodInfraRootfs(rootfs);
    else await preparePodInfraRootfs(rootfs).then(() => rmSync(join(rootfs, 'pause')));
    const spec = podInfraSpec({ id: 'p1', rootfs, hostname: 'infra', annotations: {} });
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
    return { dir, root: join(dir, 'runc-state'), id: `infra-${process.pid}-${dir.slice(-6)}` };
  }

  it('runc create succeeds (created, nothing started); runc start runs /pause until killed', async () => {
    const b = await bundle(true);
    try {
      const created = await runcCreate(b.root, b.dir, b.id);
      assert.equal(created.code, 0, created.log);
      const state = JSON.parse((await run('runc', ['--root', b.root, 'state', b.id])).stdout) as { status: string; pid: number };
      assert.equal(state.status, 'created');
      assert.equal((await run('runc', ['--root', b.root, 'start', b.id])).code, 0);
      const running = JSON.parse((await run('runc', ['--root', b.root, 'state', b.id])).stdout) as { status: string; pid: number };
      assert.equal(running.status, 'running');
      // runc start returns once it released the init, which then execs: wait for the exec (no time bound asserted)
      const cmdline = (): string => readFileSync(`/proc/${running.pid}/cmdline`, 'utf8');
      for (let i = 0; i < 500 && cmdline() !== `${POD_INFRA_PROCESS}\0`; i++) await sleep(20);
      assert.equal(cmdline(), `${POD_INFRA_PROCESS}\0`);
    } finally {
      await run('runc', ['--root', b.root, 'delete', '--force', b.id]);
      rmSync(b.dir, { recursive: true, force: true });
    }
  });

  it('without /pause in the rootfs runc create fails: the executable is looked up at create time', async () => {
    const b = await bundle(false);
    try {
      const created = await runcCreate(b.root, b.dir, b.id);
      assert.notEqual(created.code, 0);
      assert.match(created.log, /pause/);
    } finally {
      await run('runc', ['--root', b.root, 'delete', '--force', b.id]);
      rmSync(b.dir, { recursive: true, force: true });
    }
  });
});
