import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { HResult } from '../../../src/errdefs/index.js';
import { createEmulatorHcsApi } from '../../../src/hcs/emulator/index.js';
import { type HcsApi, type HcsSystem } from '../../../src/hcs/index.js';
import { createTransport, emulatedVmDir, vsockServiceId, type Connection, type Listener } from '../../../src/transport/index.js';
import { isLive as alive } from '../../fixtures/procfs.js';
import { until } from '../../fixtures/wait.js';
import { captureLogger } from '../../fakes/capture-logger.js';
import { buildBootFiles, lcowDocument, tempDir, testLogger, uniqueId } from './helpers.js';

const FAKE_GUEST = fileURLToPath(new URL('./fake-guest.js', import.meta.url));
const REAL_GUEST = fileURLToPath(new URL('../../../src/guest/main.js', import.meta.url));
const isRoot = process.getuid?.() === 0;

/** True when the process exists and is not a zombie (an orphan's zombie waits for a reaper that may be slow). */

/** Reads one newline-terminated line (without destroying the stream). */
async function readLine(conn: Connection): Promise<string> {
  let buf = '';
  for (;;) {
    const i = buf.indexOf('\n');
    if (i >= 0) return buf.slice(0, i);
    const [chunk] = (await once(conn, 'data')) as [Buffer];
    buf += chunk.toString();
  }
}

interface Booted {
  sys: HcsSystem;
  runtimeId: string;
  vmDir: string;
  listeners: Listener[];
  log: Connection;
  gcs: Connection;
}

/** hcsshim's start sequence: listen on 1/109/0x40000000, start, serve entropy, accept log and GCS. */
async function boot(api: HcsApi, vmRoot: string, bootDir: string, id = uniqueId('boot')): Promise<Booted> {
  const sys = await api.createComputeSystem(id, lcowDocument(bootDir));
  const runtimeId = (await sys.properties()).RuntimeId as string;
  const tr = createTransport({ platform: 'linux', emulatorRoot: vmRoot });
  const [entropyL, logL, gcsL] = await Promise.all(
    [1, 109, 0x40000000].map((port) => tr.listenHvSocket({ vmId: runtimeId, serviceId: vsockServiceId(port) })),
  ) as [Listener, Listener, Listener];
  await sys.start();
  assert.equal((await sys.properties()).State, 'Running');
  const entropy = await entropyL.accept(AbortSignal.timeout(20_000));
  entropy.end(randomBytes(512));
  const log = await logL.accept(AbortSignal.timeout(20_000));
  const gcs = await gcsL.accept(AbortSignal.timeout(20_000));
  return { sys, runtimeId, vmDir: emulatedVmDir(runtimeId, vmRoot), listeners: [entropyL, logL, gcsL], log, gcs };
}

async function closeAll(b: Booted): Promise<void> {
  b.log.destroy();
  b.gcs.destroy();
  for (const l of b.listeners) await l.close();
  await b.sys.close();
}

describe('emulator: booting a guest (fake agent)', () => {
  let root: string;
  let vmRoot: string;
  let bootDir: string;
  let api: HcsApi;
  before(async () => {
    root = await tempDir('lcow-emu-boot-');
    vmRoot = join(root, 'vm');
    bootDir = await buildBootFiles(join(root, 'out'));
    api = createEmulatorHcsApi({ root: vmRoot, guestEntry: FAKE_GUEST, log: testLogger() });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('boots: entropy on port 1, log on 109, GCS on 0x40000000; terminate kills the group, unmounts and removes the VM dir', async () => {
    const b = await boot(api, vmRoot, bootDir);
    const report = JSON.parse(await readLine(b.gcs)) as { argv: string[]; entropy: number; sleeperPid: number; pid: number; memoryMB: string };
    assert.deepEqual(report.argv, ['-v4', '-log-format', 'json', '-loglevel', 'debug']);
    assert.equal(report.entropy, 512);
    assert.equal(report.memoryMB, '1024');
    const logLine = JSON.parse(await readLine(b.log)) as { msg: string; pid: number };
    assert.equal(logLine.msg, 'fake guest up');
    assert.equal(logLine.pid, report.pid);
    assert.ok(alive(report.pid) && alive(report.sleeperPid));

    let bindSource: string | undefined;
    if (isRoot) {
      // What a guest leaves behind: a bind mount below rootfs, over a host directory holding data.
      bindSource = join(root, 'host-data');
      await mkdir(bindSource, { recursive: true });
      await writeFile(join(bindSource, 'keep.txt'), 'precious');
      const target = join(b.vmDir, 'rootfs', 'mnt', 'data');
      await mkdir(target, { recursive: true });
      execFileSync('mount', ['--bind', bindSource, target]);
      execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(b.vmDir, 'rootfs', 'mnt')]); // stacked on top of the bind's parent
    }

    await b.sys.terminate();
    const exit = await b.sys.waitExit();
    assert.equal(exit.unexpected, false);
    assert.equal(exit.hresult, 0);
    assert.equal(JSON.parse(exit.data ?? '{}').ExitType, 'ForcedExit');
    assert.equal(alive(report.pid), false, 'the agent is gone');
    await until('its process group is gone (SIGKILL delivered)', () => !alive(report.sleeperPid));
    assert.equal(existsSync(b.vmDir), false, 'the VM dir is removed');
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    assert.equal(mounts.includes(b.vmDir), false, 'nothing stays mounted under the VM dir');
    if (bindSource !== undefined) assert.equal(await readFile(join(bindSource, 'keep.txt'), 'utf8'), 'precious');
    assert.equal((await b.sys.properties()).State, 'Stopped');
    await closeAll(b);
  });

  it('reports an unexpected exit when the agent crashes (HCS_E_UNEXPECTED_EXIT) and cleans up', async () => {
    process.env['FAKE_GUEST_MODE'] = 'crash';
    let b: Booted;
    try {
      b = await boot(api, vmRoot, bootDir);
    } finally {
      delete process.env['FAKE_GUEST_MODE'];
    }
    const exit = await b.sys.waitExit();
    assert.equal(exit.unexpected, true);
    assert.equal(exit.hresult, HResult.HCS_E_UNEXPECTED_EXIT);
    assert.equal(JSON.parse(exit.data ?? '{}').ExitType, 'UnexpectedExit');
    assert.equal(existsSync(b.vmDir), false);
    const p = await b.sys.properties();
    assert.equal(p.State, 'Stopped');
    assert.equal(p.ExitType, 'UnexpectedExit');
    await b.sys.terminate(); // already stopped: success
    await closeAll(b);
  });

  for (const how of ['terminate', 'the agent SIGKILLed (a crash)'] as const) {
    it(`kills the runc containers while the agent's process group (their runc run/exec parents) still lives: ${how}`, async () => {
      // The fake guest's sleeper plays a container's `runc run` parent; the fake runc records whether it is
      // alive (not a zombie) when the container is killed (if not, the container's processes are left to the
      // host's init, which may be slow to reap them).
      const runcLog = join(root, `runc-order-${how.length}.log`);
      const sleeperFile = join(root, `sleeper-${how.length}.pid`);
      const fakeRunc = join(root, `fake-runc-order-${how.length}`);
      await writeFile(fakeRunc, `#!/bin/sh\nst=$(cut -d' ' -f3 "/proc/$(cat '${sleeperFile}')/stat" 2>/dev/null); if [ -n "$st" ] && [ "$st" != Z ]; then s=alive; else s=dead; fi\necho "$3 $s" >> '${runcLog}'\n`);
      await chmod(fakeRunc, 0o755);
      const { logger, lines } = captureLogger();
      const orderApi = createEmulatorHcsApi({ root: vmRoot, guestEntry: FAKE_GUEST, log: logger, runcBinary: fakeRunc });
      const b = await boot(orderApi, vmRoot, bootDir);
      try {
        const report = JSON.parse(await readLine(b.gcs)) as { pid: number; sleeperPid: number };
        await writeFile(sleeperFile, String(report.sleeperPid));
        await mkdir(join(b.vmDir, 'runc', 'c1'), { recursive: true });
        await writeFile(join(b.vmDir, 'runc', 'c1', 'state.json'), '{}');
        if (how === 'terminate') await b.sys.terminate();
        else process.kill(report.pid, 'SIGKILL');
        await b.sys.waitExit();
        assert.deepEqual((await readFile(runcLog, 'utf8')).trim().split('\n'), ['kill alive', 'delete alive']);
        // terminate: the cleanup starts once the agent is sent SIGKILL, overlapping the kernel's teardown of it,
        // not when its exit is seen; a crash is seen first. Either way the exit is reported after both.
        const at = (msg: string): number => lines.findIndex((l) => l.message === msg);
        const cleanup = at('HCS emulator: cleaning up after the guest agent');
        const exited = at('HCS emulator: guest agent exited');
        const stopped = at(how === 'terminate' ? 'HCS emulator: emulated utility VM stopped' : 'HCS emulator: emulated utility VM exited unexpectedly (guest agent exited)');
        assert.ok(cleanup >= 0 && exited >= 0 && stopped >= 0, lines.map((l) => l.message).join('\n'));
        if (how === 'terminate') assert.ok(cleanup < exited, 'the cleanup began before the agent\'s exit was seen');
        else assert.ok(exited < cleanup, 'a crash: the cleanup began once the agent\'s exit was seen');
        assert.ok(stopped > cleanup && stopped > exited);
        await until('the process group is killed after the containers (SIGKILL delivered)', () => !alive(report.sleeperPid));
        assert.equal(existsSync(b.vmDir), false);
      } finally {
        await b.sys.terminate().catch(() => undefined);
        await closeAll(b);
      }
    });
  }

  it('shuts down gracefully (SIGTERM, agent exits 0)', async () => {
    const b = await boot(api, vmRoot, bootDir);
    const report = JSON.parse(await readLine(b.gcs)) as { pid: number; sleeperPid: number };
    await b.sys.shutdown({ timeoutMs: 20_000 });
    const exit = await b.sys.waitExit();
    assert.deepEqual({ unexpected: exit.unexpected, hresult: exit.hresult }, { unexpected: false, hresult: 0 });
    assert.equal(JSON.parse(exit.data ?? '{}').ExitType, 'GracefulExit');
    assert.equal(alive(report.pid), false);
    await until('the sleeper is gone (SIGKILL delivered)', () => !alive(report.sleeperPid));
    assert.equal(existsSync(b.vmDir), false);
    await closeAll(b);
  });

  it('closing the last handle terminates a VM whose document asked for it', async () => {
    const b = await boot(api, vmRoot, bootDir);
    const report = JSON.parse(await readLine(b.gcs)) as { pid: number };
    const exited = b.sys.waitExit();
    await b.sys.close();
    assert.equal((await exited).unexpected, false);
    assert.equal(alive(report.pid), false);
    assert.equal(existsSync(b.vmDir), false);
    await closeAll(b);
  });

  it('start fails with HCS_E_CONNECT_FAILED when nobody listens on the log port vsockexec dials', async () => {
    const sys = await api.createComputeSystem(uniqueId('nolisten'), lcowDocument(bootDir));
    await assert.rejects(sys.start(), (e: unknown) => (e as { hresult?: number }).hresult === HResult.HCS_E_CONNECT_FAILED && /109\.sock/.test(String(e)));
    assert.equal((await sys.properties()).State, 'Created');
    await sys.close();
  });
});

describe('emulator: booting the real guest agent (src/guest/main.js)', { skip: existsSync(REAL_GUEST) ? false : 'src/guest/main.js is not built' }, () => {
  let root: string;
  let vmRoot: string;
  let bootDir: string;
  before(async () => {
    root = await tempDir('lcow-emu-real-');
    vmRoot = join(root, 'vm');
    bootDir = await buildBootFiles(join(root, 'out'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('boots the guest, which takes entropy, logs JSON on port 109 and dials the GCS; terminate cleans up', async () => {
    const api = createEmulatorHcsApi({ root: vmRoot, log: testLogger() }); // default entry: the built src/guest/main.js
    const b = await boot(api, vmRoot, bootDir);
    const line = JSON.parse(await readLine(b.log)) as Record<string, unknown>;
    assert.ok(typeof line['msg'] === 'string' && typeof line['level'] === 'string', 'logrus-style JSON on the log stream');
    await b.sys.terminate();
    const exit = await b.sys.waitExit();
    assert.equal(exit.unexpected, false);
    assert.equal(existsSync(b.vmDir), false);
    await closeAll(b);
  });
});
