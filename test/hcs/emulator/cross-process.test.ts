/**
 * HCS is machine-wide: a system created by one process can be opened, enumerated and terminated by
 * another (the shim's `delete` after the shim crashed). These tests create systems in a second process
 * (owner-process.ts), SIGKILL it, and clean up from this one through system.json.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { ErrorCode, HResult, isErrorCode } from '../../../src/errdefs/index.js';
import { HcsError, type HcsApi } from '../../../src/hcs/index.js';
import { createEmulatorHcsApi } from '../../../src/hcs/emulator/index.js';
import { emulatedVmDir } from '../../../src/transport/index.js';
import { buildBootFiles, tempDir, testLogger, uniqueId } from './helpers.js';
import { isLive as alive, processes, procStat } from '../../fixtures/procfs.js';
import { until } from '../../fixtures/wait.js';

const OWNER = fileURLToPath(new URL('./owner-process.js', import.meta.url));
const FAKE_GUEST = fileURLToPath(new URL('./fake-guest.js', import.meta.url));
const hasSetpriv = spawnSync('sh', ['-c', 'command -v setpriv']).status === 0;

interface Owner {
  proc: ChildProcess;
  runtimeId: string;
  vmDir: string;
}


/** Live processes whose process group is `pgid`. */
function groupMembers(pgid: number): number[] {
  return processes((_, pid) => {
    const s = procStat(pid);
    return s !== undefined && s.pgid === pgid && s.state !== 'Z';
  });
}


const notFound = (e: unknown): boolean =>
  e instanceof HcsError && e.hresult === HResult.ErrComputeSystemDoesNotExist && isErrorCode(e, ErrorCode.NotFound);

describe('emulator: systems are visible across processes (system.json)', { timeout: 60_000 }, () => {
  let root: string;
  let vmRoot: string;
  let boot: string;
  let fakeRunc: string;
  let runcLog: string;
  let api: HcsApi;
  const owners: ChildProcess[] = [];
  before(async () => {
    root = await tempDir('lcow-emu-xp-');
    vmRoot = join(root, 'vm');
    boot = await buildBootFiles(join(root, 'out'));
    runcLog = join(root, 'runc.log');
    fakeRunc = join(root, 'fake-runc');
    await writeFile(fakeRunc, `#!/bin/sh\necho "$*" >> '${runcLog}'\n`);
    await chmod(fakeRunc, 0o755);
    api = createEmulatorHcsApi({ root: vmRoot, log: testLogger(), runcBinary: fakeRunc });
  });
  afterEach(() => {
    for (const p of owners.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function startOwner(id: string, terminateOnLastHandleClosed: boolean, start = true): Promise<Owner> {
    const args = { root: vmRoot, id, bootDir: boot, guestEntry: FAKE_GUEST, terminateOnLastHandleClosed, start };
    const env = { ...process.env };
    delete env['NODE_TEST_CONTEXT'];
    const proc = spawn(process.execPath, ['--no-warnings', OWNER, JSON.stringify(args)], { stdio: ['pipe', 'pipe', 'inherit'], env });
    owners.push(proc);
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: proc.stdout! }).once('line', resolve);
      proc.once('exit', (code) => reject(new Error(`owner exited (${code}) before reporting`)));
    });
    const { runtimeId } = JSON.parse(first) as { runtimeId: string };
    return { proc, runtimeId, vmDir: emulatedVmDir(runtimeId, vmRoot) };
  }

  async function crash(o: Owner): Promise<void> {
    o.proc.kill('SIGKILL');
    await new Promise((r) => (o.proc.exitCode !== null || o.proc.signalCode !== null ? r(undefined) : o.proc.once('exit', r)));
  }

  const guestPid = async (o: Owner): Promise<number> => {
    const rec = JSON.parse(await readFile(join(o.vmDir, 'system.json'), 'utf8')) as { Guest?: { Pid: number } };
    assert.ok(rec.Guest !== undefined, 'the record names the guest agent once started');
    return rec.Guest.Pid;
  };

  it('records the system at create; another process enumerates and opens it while its owner lives', async () => {
    const id = uniqueId('xp-live');
    const o = await startOwner(id, true);
    const rec = JSON.parse(await readFile(join(o.vmDir, 'system.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(rec['Id'], id);
    assert.equal(rec['RuntimeId'], o.runtimeId);
    assert.equal(rec['State'], 'Running');
    assert.equal((rec['OwnerProcess'] as { Pid: number }).Pid, o.proc.pid);
    const rows = await api.enumerateComputeSystems({ Ids: [id] });
    assert.deepEqual(rows, [{ Id: id, SystemType: 'VirtualMachine', Owner: 'emulator-test', RuntimeId: o.runtimeId, State: 'Running' }]);
    const h = await api.openComputeSystem(id);
    const props = await h.properties({ PropertyTypes: ['Statistics', 'TerminateOnLastHandleClosed'] });
    assert.equal(props.State, 'Running');
    assert.equal(props.RuntimeId, o.runtimeId);
    assert.equal(props['TerminateOnLastHandleClosed'], true);
    assert.ok((props['Statistics'] as { Processor?: unknown }).Processor !== undefined, 'CPU time of the live agent');
    await assert.rejects(h.start(), (e) => e instanceof HcsError && e.hresult === HResult.E_NOTIMPL);
    await assert.rejects(h.modify({ ResourcePath: 'VirtualMachine/Devices/Plan9/Shares', RequestType: 'Add', Settings: {} }),
      (e) => e instanceof HcsError && e.hresult === HResult.E_NOTIMPL);
    // The owner stops it: this process's waitExit sees the VM dir go.
    const exited = h.waitExit();
    o.proc.stdin!.end('terminate\n');
    const exit = await exited;
    assert.equal(exit.unexpected, false);
    assert.equal(existsSync(o.vmDir), false);
    assert.equal((await h.properties()).State, 'Stopped');
    await h.close();
    await h.close(); // idempotent
    await assert.rejects(h.properties(), (e) => e instanceof HcsError && e.hresult === HResult.ErrInvalidHandle);
    await assert.rejects(api.openComputeSystem(id), notFound);
  });

  it('after the owner is SIGKILLed: Stopped (its handles are gone); terminate kills what is left and removes everything', async () => {
    const id = uniqueId('xp-crash');
    const o = await startOwner(id, true);
    const guest = await guestPid(o);
    await until('the fake guest started its sleeper', () => groupMembers(guest).length >= 2);
    const sleeper = groupMembers(guest).find((p) => p !== guest)!;
    const runcRoot = join(o.vmDir, 'runc');
    await mkdir(join(runcRoot, 'c1'), { recursive: true });
    await writeFile(join(runcRoot, 'c1', 'state.json'), '{}');
    await crash(o);
    if (hasSetpriv) await until('the agent died with its owner (pdeathsig)', () => !alive(guest));
    assert.ok(existsSync(o.vmDir), 'nothing cleaned the VM dir yet');

    assert.deepEqual((await api.enumerateComputeSystems({ Ids: [id] })).map((r) => r.State), ['Stopped']);
    const h = await api.openComputeSystem(id);
    const props = await h.properties();
    assert.equal(props.State, 'Stopped');
    assert.equal(props.ExitType, 'ForcedExit');
    await h.terminate({ timeoutMs: 10_000 });
    await until('the agent is gone', () => !alive(guest));
    await until('what the agent started in its group is gone', () => !alive(sleeper));
    assert.equal(existsSync(o.vmDir), false, 'the VM dir is removed');
    assert.deepEqual((await readFile(runcLog, 'utf8')).trim().split('\n').sort(), [
      `--root ${runcRoot} delete -f c1`,
      `--root ${runcRoot} kill c1 KILL`,
    ]);
    const exit = await h.waitExit();
    assert.deepEqual(exit, { hresult: 0, unexpected: false, data: JSON.stringify({ Status: 0, ExitType: 'ForcedExit' }) });
    await h.terminate(); // idempotent
    await h.close();
    await assert.rejects(api.openComputeSystem(id), notFound);
    assert.deepEqual(await api.enumerateComputeSystems({ Ids: [id] }), []);
  });

  it('without terminate-on-close the agent outlives its owner: Running, until terminate kills its process group', async () => {
    const id = uniqueId('xp-keep');
    const o = await startOwner(id, false);
    const guest = await guestPid(o);
    await until('the fake guest started its sleeper', () => groupMembers(guest).length >= 2);
    await crash(o);
    await sleep(200);
    assert.ok(alive(guest), 'no pdeathsig without the flag');
    const h = await api.openComputeSystem(id);
    assert.equal((await h.properties()).State, 'Running');
    await h.terminate({ timeoutMs: 10_000 });
    await until('the agent and its group are gone', () => groupMembers(guest).length === 0);
    assert.equal(existsSync(o.vmDir), false);
    assert.equal((await h.properties()).State, 'Stopped');
    await h.close();
  });

  it('shutdown of a foreign system asks the agent to stop (SIGTERM), then cleans up', async () => {
    const id = uniqueId('xp-shutdown');
    const o = await startOwner(id, false);
    const guest = await guestPid(o);
    await crash(o);
    const h = await api.openComputeSystem(id);
    await h.shutdown({ timeoutMs: 10_000 });
    await until('the agent is gone', () => !alive(guest));
    assert.equal(existsSync(o.vmDir), false);
    const exit = await h.waitExit();
    assert.equal(JSON.parse(exit.data ?? '{}').ExitType, 'GracefulExit');
    await h.close();
  });

  it('a system that was never started is Created while its owner lives, and terminates to nothing', async () => {
    const id = uniqueId('xp-created');
    const o = await startOwner(id, false, false);
    const h = await api.openComputeSystem(id);
    assert.equal((await h.properties()).State, 'Created');
    await crash(o);
    assert.equal((await h.properties()).State, 'Created');
    await h.terminate();
    assert.equal(existsSync(o.vmDir), false);
    await h.close();
  });

  it('never signals a recycled pid: a record naming a live process with another start time', async () => {
    const bystander = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    await new Promise((r) => bystander.once('spawn', r));
    try {
      for (const op of ['terminate', 'shutdown'] as const) {
        const { id, vmDir } = await forgeRecord({ Pid: bystander.pid!, StartTime: '1' });
        const h = await api.openComputeSystem(id);
        assert.equal((await h.properties()).State, 'Stopped', 'owner gone and terminate-on-close set');
        await h[op]({ timeoutMs: 10_000 });
        assert.ok(alive(bystander.pid!), `${op} left the unrelated process alone`);
        assert.equal(existsSync(vmDir), false);
        await h.close();
      }
    } finally {
      bystander.kill('SIGKILL');
    }
  });

  it('ignores what is not a record; validates ids; an unknown id is HCS_E_SYSTEM_NOT_FOUND (0xC037010E)', async () => {
    await mkdir(join(vmRoot, 'not-a-uuid'), { recursive: true });
    await writeFile(join(vmRoot, 'not-a-uuid', 'system.json'), JSON.stringify({ Id: 'x' }));
    const badDir = join(vmRoot, '00000000-0000-4000-8000-000000000001');
    await mkdir(badDir, { recursive: true });
    await writeFile(join(badDir, 'system.json'), '{"Id": "garbage", trailing');
    const otherDir = join(vmRoot, '00000000-0000-4000-8000-000000000002');
    await mkdir(otherDir, { recursive: true });
    const { record } = await forgeRecord({ Pid: 2, StartTime: '1' }, false);
    await writeFile(join(otherDir, 'system.json'), JSON.stringify(record)); // RuntimeId does not match the dir
    await assert.rejects(api.openComputeSystem('x'), notFound);
    await assert.rejects(api.openComputeSystem('garbage'), notFound);
    await assert.rejects(api.openComputeSystem(record.Id), notFound);
    await assert.rejects(api.openComputeSystem(''), (e) => e instanceof HcsError && e.hresult === HResult.E_INVALIDARG);
    await assert.rejects(api.openComputeSystem('a\0b'), (e) => e instanceof HcsError && e.hresult === HResult.E_INVALIDARG);
    assert.equal((await api.enumerateComputeSystems()).some((r) => ['x', 'garbage', record.Id].includes(r.Id)), false);
    await rm(join(vmRoot, 'not-a-uuid'), { recursive: true });
    await rm(badDir, { recursive: true });
    await rm(otherDir, { recursive: true });
  });

  /** Writes a record by hand: owner = a pid that is certainly not its process (start time '1'). */
  async function forgeRecord(guest: { Pid: number; StartTime: string }, write = true) {
    const runtimeId = randomUUID();
    const vmDir = emulatedVmDir(runtimeId, vmRoot);
    const id = uniqueId('forged');
    const record = {
      Format: 'containerd-shim-lcow-v1/emulated-system@1', Id: id, Owner: 'emulator-test', RuntimeId: runtimeId,
      SystemType: 'VirtualMachine', State: 'Running', TerminateOnLastHandleClosed: true, MemoryMB: 256, ProcessorCount: 1,
      OwnerProcess: { Pid: process.pid, StartTime: '1' }, Guest: guest, RuncBinary: fakeRunc,
    };
    if (write) {
      await mkdir(vmDir, { recursive: true, mode: 0o700 });
      await writeFile(join(vmDir, 'system.json'), JSON.stringify(record));
    }
    return { id, vmDir, record };
  }
});
