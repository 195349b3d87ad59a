/**
 * The guest agent's V8 start-up snapshot (guest-snapshot.ts, scripts/build-steps/40-guest-snapshot.mjs), with
 * the built bundle and blob of dist/bin: the emulator starts the agent from the blob (pre-loaded and spawned
 * at Start alike) when its record matches, and the agent then boots as the bundle's does, with its own pid,
 * VM dir and environment; a missing, rewritten or foreign blob is not used (said once, with why), and a blob
 * corrupted behind an unchanged record kills only the pre-loaded agent: the VM boots from the entry.
 * Each case works on its own copy of the build (timestamps kept), as the emulator decides once per entry.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { cpSync, existsSync, readFileSync, readlinkSync, statSync, utimesSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createEmulatorHcsApi } from '../../../src/hcs/emulator/index.js';
import { guestNodeArgs } from '../../../src/hcs/emulator/guest-snapshot.js';
import type { HcsApi } from '../../../src/hcs/index.js';
import type { LogEntry } from '../../../src/log/index.js';
import { createTransport, emulatedVmDir, vsockServiceId, type Connection, type Listener } from '../../../src/transport/index.js';
import { captureLogger } from '../../fakes/capture-logger.js';
import { lcowDocument, tempDir, uniqueId } from './helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/', import.meta.url));
const FILES = ['lcow-guest.cjs', 'lcow-guest.cjs.snapshot', 'lcow-guest.cjs.snapshot.json', 'LinuxBootFiles'];

/** A copy of the build's agent, blob, record and boot files under `dir`/bin (timestamps kept, as `cp -a`). */
function copyBuild(dir: string): { bootDir: string; entry: string; blob: string } {
  for (const f of FILES) cpSync(join(BIN, f), join(dir, 'bin', f), { recursive: true, preserveTimestamps: true });
  const entry = join(dir, 'bin', 'lcow-guest.cjs');
  return { bootDir: join(dir, 'bin', 'LinuxBootFiles'), entry, blob: `${entry}.snapshot` };
}

/** hcsshim's start sequence (listen on 1/109/0x40000000, start, entropy); the agent's first log line and its pid. */
async function bootOnce(api: HcsApi, vmRoot: string, bootDir: string): Promise<{ line: Record<string, unknown>; pid: number; vmDir: string; cmdline: string[] }> {
  const sys = await api.createComputeSystem(uniqueId('snap'), lcowDocument(bootDir));
  const runtimeId = (await sys.properties()).RuntimeId as string;
  const tr = createTransport({ platform: 'linux', emulatorRoot: vmRoot });
  const listeners: Listener[] = [];
  const conns: Connection[] = [];
  try {
    for (const port of [1, 109, 0x40000000]) listeners.push(await tr.listenHvSocket({ vmId: runtimeId, serviceId: vsockServiceId(port) }));
    await sys.start();
    const entropy = await listeners[0]!.accept(AbortSignal.timeout(20_000));
    entropy.end(randomBytes(512));
    const log = await listeners[1]!.accept(AbortSignal.timeout(20_000));
    conns.push(log);
    conns.push(await listeners[2]!.accept(AbortSignal.timeout(20_000))); // the agent dialed the GCS port
    let buf = '';
    while (!buf.includes('\n')) buf += ((await once(log, 'data')) as [Buffer])[0].toString();
    const vmDir = emulatedVmDir(runtimeId, vmRoot);
    const pid = (JSON.parse(readFileSync(join(vmDir, 'system.json'), 'utf8')) as { Guest: { Pid: number } }).Guest.Pid;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.equal(readlinkSync(`/proc/${pid}/cwd`), vmDir, 'the agent runs in its VM dir');
    return { line: JSON.parse(buf.slice(0, buf.indexOf('\n'))) as Record<string, unknown>, pid, vmDir, cmdline };
  } finally {
    await sys.terminate().catch(() => undefined);
    await sys.waitExit();
    for (const c of conns) c.destroy();
    for (const l of listeners) await l.close();
    await sys.close();
  }
}

const said = (lines: LogEntry[], re: RegExp): LogEntry[] => lines.filter((l) => re.test(l.message));

describe('emulator: the guest agent\'s start-up snapshot (the built blob)', () => {
  let root: string;
  before(async () => {
    assert.ok(existsSync(join(BIN, 'lcow-guest.cjs.snapshot')), 'the build made the blob (dist/bin/lcow-guest.cjs.snapshot)');
    root = await tempDir('lcow-emu-snapshot-');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('starts the agent from the blob, pre-loaded and spawned at Start, as its own process (pid, VM dir, environment)', async () => {
    const { bootDir, entry, blob } = copyBuild(join(root, 'ok'));
    const { logger, lines } = captureLogger();
    assert.deepEqual(guestNodeArgs(entry, logger), ['--snapshot-blob', blob, '--no-warnings', entry]);
    const vmRoot = join(root, 'vm0');
    for (const warmBootFiles of [bootDir, undefined]) {
      const api = createEmulatorHcsApi({ root: vmRoot, log: logger, ...(warmBootFiles === undefined ? {} : { warmBootFiles }) });
      const { line, pid, vmDir, cmdline } = await bootOnce(api, vmRoot, bootDir);
      assert.equal(line['msg'], 'guest agent starting');
      assert.equal(line['startup'], 'snapshot', 'the agent was deserialized from the blob');
      assert.equal(line['pid'], pid, 'its own pid, not the build\'s');
      assert.equal(line['vmDir'], vmDir, 'its VM dir from its environment');
      assert.deepEqual(cmdline.slice(cmdline.indexOf('--snapshot-blob'), cmdline.indexOf(entry) + 1), ['--snapshot-blob', blob, '--no-warnings', entry]);
      // Spawned at Start, the /bin/gcs arguments follow the entry (a pre-loaded agent is handed them).
      if (warmBootFiles === undefined) assert.deepEqual(cmdline.slice(cmdline.indexOf(entry) + 1, -1), ['-v4', '-log-format', 'json', '-loglevel', 'debug']);
    }
    assert.equal(said(lines, /pre-loading a guest agent/)[0]?.['snapshot'], true);
    assert.equal(said(lines, /not using|snapshot failed/).length, 0);
  });

  const unusable: [string, (entry: string, blob: string) => void, RegExp][] = [
    ['missing', (_e, blob) => rmSync(blob), /^$/],
    ['rewritten (size and mtime differ)', (_e, blob) => writeFileSync(blob, 'not a snapshot'), /the blob changed/],
    ['made by another node', (_e, blob) => {
      const rec = JSON.parse(readFileSync(`${blob}.json`, 'utf8')) as { node: { version: string } };
      rec.node.version = 'v0.0.1';
      writeFileSync(`${blob}.json`, JSON.stringify(rec));
    }, /made by node v0\.0\.1/],
    ['for another bundle (the entry changed)', (entry) => writeFileSync(entry, readFileSync(entry, 'utf8') + '\n'), /changed since it was made/],
    ['without its record', (_e, blob) => rmSync(`${blob}.json`), /cannot be read/],
  ];
  for (const [i, [name, spoil, why]] of unusable.entries()) {
    it(`a blob ${name} is not used: the agent loads its entry, and the emulator says why once`, async () => {
      const dir = join(root, `u${i}`); // short: the VM's sockets live under it (sun_path)
      const { bootDir, entry, blob } = copyBuild(dir);
      spoil(entry, blob);
      const { logger, lines } = captureLogger();
      assert.deepEqual(guestNodeArgs(entry, logger), ['--no-warnings', entry]);
      const api = createEmulatorHcsApi({ root: join(dir, 'vm'), log: logger, warmBootFiles: bootDir });
      const { line, cmdline } = await bootOnce(api, join(dir, 'vm'), bootDir);
      assert.equal(line['msg'], 'guest agent starting');
      assert.equal(line['startup'], undefined, 'loaded from its entry');
      assert.equal(cmdline.includes('--snapshot-blob'), false);
      const notes = said(lines, /start-up snapshot/);
      assert.equal(notes.length, 1, `said once: ${notes.map((l) => l.message).join(' | ')}`);
      if (name === 'missing') assert.equal(notes[0]?.level, 'debug');
      else assert.match(String(notes[0]?.['reason']), why);
    });
  }

  it('the built agent loads no node:fs/promises (its readline modules: ~0.45 MB for its life), from the blob or from its bundle', async () => {
    const dir = join(root, 'mods');
    const { entry, blob } = copyBuild(dir);
    const probe = join(dir, 'probe.cjs');
    writeFileSync(probe, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'modules.json'))}, JSON.stringify(process.moduleLoadList)));\n`);
    for (const fromBlob of [true, false]) {
      rmSync(join(dir, 'modules.json'), { force: true });
      // as the emulator pre-loads it: the wait flag and an IPC channel; ready, then the channel closes and it exits
      const args = [...(fromBlob ? ['--snapshot-blob', blob] : []), '--require', probe, '--no-warnings', entry];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LCOW_GUEST_AWAIT_BOOT: '1' } });
      let stderr = '';
      child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('message', (m: { lcowGuestBoot?: string }) => { if (m.lcowGuestBoot === 'ready') child.disconnect(); });
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0, stderr);
      const modules = JSON.parse(readFileSync(join(dir, 'modules.json'), 'utf8')) as string[];
      assert.ok(modules.includes('NativeModule net'), 'the probe saw the agent\'s modules');
      assert.deepEqual(modules.filter((m) => /fs\/promises|readline/.test(m)), [], fromBlob ? 'from the blob' : 'from its bundle');
    }
  });

  it('a blob corrupted behind an unchanged record: the pre-loaded agent dies, the VM boots from the entry, the blob is not used again', async () => {
    const dir = join(root, 'c');
    const { bootDir, entry, blob } = copyBuild(dir);
    const st = statSync(blob);
    writeFileSync(blob, Buffer.alloc(st.size, 0x5a)); // same size
    utimesSync(blob, st.atime, st.mtime); // same mtime: the record still matches
    const { logger, lines } = captureLogger();
    const api = createEmulatorHcsApi({ root: join(dir, 'vm'), log: logger, warmBootFiles: bootDir });
    const { line, cmdline } = await bootOnce(api, join(dir, 'vm'), bootDir);
    assert.equal(line['msg'], 'guest agent starting');
    assert.equal(line['startup'], undefined);
    assert.equal(cmdline.includes('--snapshot-blob'), false);
    assert.equal(said(lines, /start-up snapshot failed/).length, 1);
    assert.deepEqual(guestNodeArgs(entry, logger), ['--no-warnings', entry]);
  });
});
