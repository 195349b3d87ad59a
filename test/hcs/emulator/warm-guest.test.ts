/**
 * The emulator's pre-loaded guest agent (warm-guest.ts, src/guest/warm-boot.ts), with the real agent: it is
 * spawned when the emulator is created with `warmBootFiles`, does nothing (no dial, no VM dir, only its
 * channel) until a Start hands it the VM, then boots as an agent spawned at Start does; a VM it does not suit
 * boots a fresh agent and the pre-loaded one is discarded; it never outlives the process that made it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createEmulatorHcsApi } from '../../../src/hcs/emulator/index.js';
import type { HcsApi, HcsSystem } from '../../../src/hcs/index.js';
import { createTransport, emulatedVmDir, vsockServiceId, type Connection, type Listener } from '../../../src/transport/index.js';
import { lcowDocument, tempDir, testLogger, uniqueId } from './helpers.js';
import { procStat, processes, running } from '../../fixtures/procfs.js';

const REAL_GUEST = fileURLToPath(new URL('../../../src/guest/main.js', import.meta.url));
const EMULATOR = fileURLToPath(new URL('../../../src/hcs/emulator/index.js', import.meta.url));

/** Pids of live processes whose parent is `ppid` and whose command line names the agent. */
function agentChildren(ppid: number): number[] {
  return processes((args, pid) => procStat(pid)?.ppid === ppid && args.join('\0').includes(REAL_GUEST) && running(pid));
}

async function until<T>(probe: () => T | undefined, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`gave up waiting: ${what}`);
    await sleep(20);
  }
}

/**
 * Whether `pid` already runs Node (setpriv, when used, has exec'd it): until then its environment and cwd are
 * setpriv's, and while the exec swaps the process's memory /proc/PID/environ reads empty.
 */
function runsNode(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === process.execPath;
  } catch {
    return false; // gone
  }
}

const seen = new Set<number>();
/** The pre-loaded agent just made, once it runs Node: this process's agent child not seen before. */
async function warmPid(): Promise<number> {
  const pid = await until(() => agentChildren(process.pid).find((p) => !seen.has(p) && runsNode(p)), 'the pre-loaded agent');
  seen.add(pid);
  return pid;
}

/** Kinds of the process's open fds (socket, pipe, /dev/null, …). */
function fdTargets(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`).replace(/\[\d+\]$/, '');
    } catch {
      return 'gone';
    }
  });
}

interface Booted {
  sys: HcsSystem;
  vmDir: string;
  listeners: Listener[];
  log: Connection;
  gcs: Connection;
}

/** hcsshim's start sequence: listen on 1/109/0x40000000, start, serve entropy, accept log and GCS. */
async function boot(api: HcsApi, vmRoot: string, bootDir: string, terminateOnClose = true): Promise<Booted> {
  const sys = await api.createComputeSystem(uniqueId('warm'), { ...lcowDocument(bootDir), ShouldTerminateOnLastHandleClosed: terminateOnClose });
  const runtimeId = (await sys.properties()).RuntimeId as string;
  const tr = createTransport({ platform: 'linux', emulatorRoot: vmRoot });
  const listeners = (await Promise.all(
    [1, 109, 0x40000000].map((port) => tr.listenHvSocket({ vmId: runtimeId, serviceId: vsockServiceId(port) })),
  )) as [Listener, Listener, Listener];
  await sys.start();
  const entropy = await listeners[0].accept(AbortSignal.timeout(20_000));
  entropy.end(randomBytes(512));
  const log = await listeners[1].accept(AbortSignal.timeout(20_000));
  const gcs = await listeners[2].accept(AbortSignal.timeout(20_000));
  return { sys, vmDir: emulatedVmDir(runtimeId, vmRoot), listeners, log, gcs };
}

async function firstLogLine(conn: Connection): Promise<Record<string, unknown>> {
  let buf = '';
  while (!buf.includes('\n')) buf += ((await once(conn, 'data')) as [Buffer])[0].toString();
  return JSON.parse(buf.slice(0, buf.indexOf('\n'))) as Record<string, unknown>;
}

async function shutDown(b: Booted): Promise<void> {
  await b.sys.terminate();
  await b.sys.waitExit();
  b.log.destroy();
  b.gcs.destroy();
  for (const l of b.listeners) await l.close();
  await b.sys.close();
}

describe('emulator: the pre-loaded guest agent (real agent)', { skip: existsSync(REAL_GUEST) ? false : 'src/guest/main.js is not built' }, () => {
  let root: string;
  let vmRoot: string;
  let bootDir: string;
  before(async () => {
    root = await tempDir('lcow-emu-warm-');
    vmRoot = join(root, 'vm');
    bootDir = join(root, 'LinuxBootFiles');
    await mkdir(bootDir);
    await writeFile(join(bootDir, 'kernel'), 'emulator kernel marker\n');
    await writeFile(join(bootDir, 'initrd.img'), JSON.stringify({ format: 'containerd-shim-lcow-v1/emulator-boot-files@1', guestEntry: REAL_GUEST }));
  });
  after(async () => {
    for (const pid of agentChildren(process.pid)) process.kill(pid, 'SIGKILL');
    await rm(root, { recursive: true, force: true });
  });

  it('waits with only its channel until Start, then boots as the VM\'s agent: same process, entropy, JSON log on 109, GCS dialed', async () => {
    // The host's Node start-up settings do not reach the agent (a VM's gcs sees nothing of the host).
    const hostCerts = process.env['NODE_EXTRA_CA_CERTS'];
    process.env['NODE_EXTRA_CA_CERTS'] = '/nonexistent/host-ca.pem';
    let api: HcsApi;
    try {
      api = createEmulatorHcsApi({ root: vmRoot, log: testLogger(), warmBootFiles: bootDir });
    } finally {
      if (hostCerts === undefined) delete process.env['NODE_EXTRA_CA_CERTS'];
      else process.env['NODE_EXTRA_CA_CERTS'] = hostCerts;
    }
    const pid = await warmPid();
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    assert.equal(environ.some((e) => e.startsWith('NODE_EXTRA_CA_CERTS=')), false, 'no NODE_EXTRA_CA_CERTS');
    assert.ok(environ.some((e) => e.startsWith('PATH=')), 'the rest of the environment is kept');
    await sleep(300); // time to do something it should not
    const before = fdTargets(pid);
    assert.equal(before.filter((t) => t.startsWith('socket:')).length, 1, `only the channel: ${before.join(', ')}`);
    assert.equal(readlinkSync(`/proc/${pid}/cwd`), '/');
    assert.equal(existsSync(vmRoot) && readdirSync(vmRoot).length > 0, false, 'no VM dir yet');

    // boot() gets the entropy connection: the VM's environment (LCOW_GUEST_ENTROPY_PORT) reached the process.
    const b = await boot(api, vmRoot, bootDir);
    const record = JSON.parse(readFileSync(join(b.vmDir, 'system.json'), 'utf8')) as { Guest?: { Pid: number } };
    assert.equal(record.Guest?.Pid, pid, 'the pre-loaded process is the VM\'s agent');
    const line = await firstLogLine(b.log);
    assert.equal(line['msg'], 'guest agent starting');
    assert.equal(line['vmDir'], b.vmDir);
    assert.equal(readlinkSync(`/proc/${pid}/cwd`), b.vmDir);
    await shutDown(b);
    assert.equal(running(pid), false);
    assert.equal(existsSync(b.vmDir), false);
    assert.deepEqual(agentChildren(process.pid).filter((p) => !seen.has(p)), [], 'used once: no second agent was pre-loaded');
  });

  it('Create then Close without Start runs no agent for that VM; the pre-loaded one has still done nothing', async () => {
    const api = createEmulatorHcsApi({ root: vmRoot, log: testLogger(), warmBootFiles: bootDir });
    const pid = await warmPid();
    const sys = await api.createComputeSystem(uniqueId('warm-noboot'), lcowDocument(bootDir));
    const vmDir = emulatedVmDir((await sys.properties()).RuntimeId as string, vmRoot);
    await sys.close(); // terminate-on-close: the created VM is stopped and its dir removed
    assert.equal(existsSync(vmDir), false);
    assert.deepEqual(agentChildren(process.pid).filter((p) => !seen.has(p)), [], 'no agent besides the pre-loaded one');
    assert.ok(running(pid));
    assert.equal(readlinkSync(`/proc/${pid}/cwd`), '/');
    assert.equal(fdTargets(pid).filter((t) => t.startsWith('socket:')).length, 1, 'it dialed nothing');
    process.kill(pid, 'SIGKILL');
    await until(() => (running(pid) ? undefined : true), 'the pre-loaded agent to go');
  });

  it('a VM it does not suit (not terminated on last close: no pdeathsig) boots a fresh agent and discards it', async () => {
    const api = createEmulatorHcsApi({ root: vmRoot, log: testLogger(), warmBootFiles: bootDir });
    const pid = await warmPid();
    const b = await boot(api, vmRoot, bootDir, false);
    const record = JSON.parse(readFileSync(join(b.vmDir, 'system.json'), 'utf8')) as { Guest?: { Pid: number } };
    assert.notEqual(record.Guest?.Pid, pid);
    assert.equal((await firstLogLine(b.log))['msg'], 'guest agent starting');
    await until(() => (running(pid) ? undefined : true), 'the discarded agent to go');
    await shutDown(b);
  });

  it('never outlives the process that made it, and exits by itself when its channel closes', async () => {
    // A process that makes an emulator with a pre-loaded agent, prints the agent's pid and exits.
    const script = join(root, 'owner.mjs');
    await writeFile(script, [
      `import { readdirSync, readFileSync } from 'node:fs';`,
      `const { createEmulatorHcsApi } = await import(${JSON.stringify(pathToFileURL(EMULATOR).href)});`,
      `createEmulatorHcsApi({ root: ${JSON.stringify(vmRoot)}, warmBootFiles: ${JSON.stringify(bootDir)} });`,
      `for (let i = 0; i < 1000; i++) {`,
      `  const kids = readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).filter((p) => { try { const s = readFileSync('/proc/' + p + '/stat', 'utf8'); return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === process.pid && readFileSync('/proc/' + p + '/cmdline', 'utf8').includes(${JSON.stringify(REAL_GUEST)}); } catch { return false; } });`,
      `  if (kids.length > 0) { process.stdout.write(kids[0] + '\\n'); process.exit(0); }`,
      `  await new Promise((r) => setTimeout(r, 20));`,
      `}`,
      `process.exit(1);`,
    ].join('\n'));
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0);
    const pid = Number(out.trim());
    assert.ok(pid > 0);
    await until(() => (running(pid) ? undefined : true), 'the orphaned pre-loaded agent to go');

    // Without setpriv: the channel closing is what ends it (the agent's own rule, src/guest/warm-boot.ts).
    const bare = spawn(process.execPath, ['--no-warnings', REAL_GUEST], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, LCOW_GUEST_AWAIT_BOOT: '1', NODE_OPTIONS: '' },
    });
    await sleep(300);
    bare.disconnect();
    const [bareCode] = (await once(bare, 'exit')) as [number];
    assert.equal(bareCode, 0);
  });

  it('a malformed boot message is an error (exit 1), not a guess', async () => {
    const bare = spawn(process.execPath, ['--no-warnings', REAL_GUEST], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, LCOW_GUEST_AWAIT_BOOT: '1', NODE_OPTIONS: '' },
    });
    let err = '';
    bare.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    bare.send({ lcowGuestBoot: 'run', args: ['-v4'], env: {}, cwd: 'relative/dir' });
    const [code] = (await once(bare, 'exit')) as [number];
    assert.equal(code, 1);
    assert.match(err, /malformed boot message/);
  });
});
