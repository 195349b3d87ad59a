/**
 * The Wine tier: the packaged containerd-shim-lcow-v1.exe (not the Linux bundle) run under Wine 8, with the
 * computecore double built as a PE DLL and every Windows-side peer played by driver.ts under the official
 * Windows node.exe (Linux processes cannot reach Wine's named pipes). What cannot run here: Hyper-V sockets
 * (Wine has no AF_HYPERV; the Winsock listener keeps its Linux double, test/transport/hvsock-winsock.test.ts).
 * Timeouts are generous and nothing is timed: Wine starts slowly on a loaded machine.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { containerd, google } from '../../src/proto/index.js';
import { PACKAGE_EXE, ensurePackage } from '../package/ensure-package.js';
import { bootstrapParamsBytes } from '../shim/support/bootstrap-bytes.js';
import { buildDoubleDll, buildDriver, ensureWinePrefix, killWine, runDriver, runWine, winPath, type Driver } from './wine-env.js';

const scratch = mkdtempSync(join(tmpdir(), 'lcow-wine-'));
let dll = '';
let driver: Driver;
/** Wine processes a test leaves running on purpose; killWine() ends them after the suite. */
const background: Array<Promise<unknown>> = [];

const shim = (args: readonly string[], env: NodeJS.ProcessEnv = {}, stdinFile?: string) =>
  runWine(scratch, [PACKAGE_EXE, ...args], { env, ...(stdinFile ? { stdinFile } : {}) });
const pipeOf = (id: string): string => `\\\\.\\pipe\\ProtectedPrefix\\Administrators\\containerd-shim-wine-${id}-pipe`;
const logPipeOf = (id: string): string => `\\\\.\\pipe\\containerd-shim-wine-${id}-log`;

/** What containerd writes to `start`'s stdin: the runtime options as a protobuf Any. */
function optionsFile(name: string, o: { log_level?: string; debug?: boolean }): string {
  const value = containerd.runhcs.v1.Options.encode(o).finish();
  const path = join(scratch, name);
  writeFileSync(path, google.protobuf.Any.encode({ type_url: 'containerd.runhcs.v1.Options', value }).finish());
  return path;
}

/** What containerd 2.3+ writes to `start`'s stdin: BootstrapParams (LOG_LEVEL_INFO is 0, the default). */
function bootstrapFile(name: string, id: string, logLevel: number): string {
  const path = join(scratch, name);
  writeFileSync(path, bootstrapParamsBytes({ id, namespace: 'wine', logLevel }));
  return path;
}

/**
 * `start` for task `id` in namespace wine; asserts it printed the pipe (a BootstrapResult holding it, when stdin
 * held BootstrapParams) and returns the bundle and shim pid.
 */
async function startShim(id: string, extra: readonly string[] = [], stdinFile?: string, bootstrap = false): Promise<{ bundle: string; pid: number }> {
  const bundle = bundleDir(id);
  const r = await shim(['-namespace', 'wine', '-id', id, '-address', winPath(join(scratch, 'containerd.sock')), '-publish-binary', 'containerd', '-bundle', winPath(bundle), ...extra, 'start'], {}, stdinFile);
  assert.equal(r.code, 0, `${r.stderr}\npanic.log: ${readIf(join(bundle, 'panic.log'))}`);
  assert.equal(bootstrap ? containerd.runtime.bootstrap.v1.BootstrapResult.decode(r.stdoutBytes).address : r.stdout, pipeOf(id));
  return { bundle, pid: Number(readFileSync(join(bundle, 'shim.pid'), 'utf8')) };
}

function bundleDir(name: string): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('the packaged shim under Wine', { timeout: 900_000 }, () => {
  before(async () => {
    ensurePackage();
    await ensureWinePrefix(scratch);
    dll = buildDoubleDll(scratch);
    driver = await buildDriver(join(scratch, 'driver'));
  });

  after(async () => {
    killWine(); // ends the processes left running on purpose (background) and any serve a failure left
    await Promise.allSettled(background);
    rmSync(scratch, { recursive: true, force: true });
  });

  test('--version and --help', async () => {
    const v = await shim(['--version']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /containerd-shim-lcow-v1:\n {2}Version: .+\n {2}Runtime: io\.containerd\.lcow\.v1\n/);
    const h = await shim(['--help']);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /start \| delete \| serve/);
  });

  test('delete loads koffi.node from beside the exe and terminates the task VM through the computecore double', async () => {
    const bundle = bundleDir('delete');
    const callLog = join(scratch, 'delete-calls.log');
    const r = await shim(['-namespace', 'wine', '-id', 'd1', '-bundle', winPath(bundle), 'delete'], {
      LCOW_COMPUTECORE_PATH: winPath(dll),
      DOUBLE_CALL_LOG: winPath(callLog),
      DOUBLE_PROPERTIES_DOC: '{"Id":"d1@vm","State":"Stopped"}',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /Cannot find the native Koffi module/);
    assert.match(r.stderr, /terminated the utility VM the shim left behind/);
    const res = containerd.task.v2.DeleteResponse.decode(r.stdoutBytes);
    assert.equal(res.exit_status, 255);
    const calls = readFileSync(callLog, 'utf8').trim().split('\n');
    for (const want of ['HcsOpenComputeSystem\td1@vm', 'HcsGetComputeSystemProperties\td1@vm', 'HcsTerminateComputeSystem\td1@vm', 'HcsCloseComputeSystem\td1@vm']) {
      assert.ok(calls.includes(want), `${want} missing from ${calls.join(' | ')}`);
    }
  });

  test('delete without computecore.dll says so (koffi loaded, the DLL is what is missing)', async () => {
    const r = await shim(['-namespace', 'wine', '-id', 'd2', '-bundle', winPath(bundleDir('delete2')), 'delete']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /computecore\.dll not found/);
    assert.doesNotMatch(r.stderr, /Koffi/);
  });

  test('start prints the pipe address and writes address + shim.pid; serve answers Connect and Shutdown from a Windows client', async () => {
    const { bundle, pid } = await startShim('s1', [], optionsFile('s1.options', { log_level: 'debug' }));
    assert.equal(readFileSync(join(bundle, 'address'), 'utf8'), pipeOf('s1'));
    assert.ok(Number.isInteger(pid) && pid > 0, `shim.pid: ${pid}`);
    const identity = JSON.parse(readFileSync(join(bundle, 'shim.identity'), 'utf8')) as { pid: number; startTime: string; image: string };
    assert.equal(identity.pid, pid);
    assert.match(identity.image, /\\containerd-shim-lcow-v1\.exe$/i);
    assert.match(identity.startTime, /^\d+$/);
    const res = await runDriver(scratch, driver, ['connect', pipeOf('s1'), 's1', logPipeOf('s1')]);
    assert.equal(res['shimPid'], pid, 'Connect reports the serve process that start recorded');
    // The log pipe: the older connection was closed when the newer one came; the newer one got the log at
    // the level the runtime options on stdin asked for (debug, without -debug), up to the shim's exit.
    assert.doesNotMatch(String(res['firstLog']), /task Shutdown/);
    assert.match(String(res['secondLog']), /level=debug msg="task Shutdown"/);
    assert.match(String(res['secondLog']), /level=info msg="shim exiting" .*reason=shutdown/);
    // Shutdown with no task left: serve exits and its pipe is gone.
    await assert.rejects(runDriver(scratch, driver, ['connect', pipeOf('s1'), 's1']), /ENOENT|Unavailable|dial/);
  });

  // The one rule (src/shim/log-level.ts) on the Windows start → serve path: runtime options log_level >
  // containerd 2.3+'s bootstrap level > -debug > info. "task Shutdown" is logged at debug.
  for (const c of [
    { id: 's2', what: 'log_level=info in the runtime options overrides -debug and debug', extra: ['-debug'], stdin: () => optionsFile('s2.options', { log_level: 'info', debug: true }), debugLines: false },
    { id: 's4', what: 'containerd 2.3+ BootstrapParams at info override -debug', extra: ['-debug'], stdin: () => bootstrapFile('s4.params', 's4', 0), bootstrap: true, debugLines: false },
    { id: 's5', what: 'containerd 2.3+ BootstrapParams at debug, no -debug', extra: [], stdin: () => bootstrapFile('s5.params', 's5', -4), bootstrap: true, debugLines: true },
    { id: 's6', what: 'containerd 1.6 (no stdin) with -debug', extra: ['-debug'], stdin: () => undefined, debugLines: true },
  ]) {
    test(`shim log level: ${c.what}`, async () => {
      await startShim(c.id, c.extra, c.stdin(), c.bootstrap === true);
      const res = await runDriver(scratch, driver, ['connect', pipeOf(c.id), c.id, logPipeOf(c.id)]);
      const log = String(res['secondLog']);
      assert.match(log, /msg="shim exiting"/);
      if (c.debugLines) assert.match(log, /level=debug msg="task Shutdown"/);
      else assert.doesNotMatch(log, /level=debug/);
    });
  }

  test('delete signals only the serve start recorded (creation time + image), never a process that reuses its pid; echoes panic.log', async () => {
    const { bundle, pid } = await startShim('s3');
    // Another Windows process, and a shim.pid naming it: what a pid reused after the shim died looks like.
    const holdPidFile = join(scratch, 'hold.pid');
    background.push(runWine(scratch, [driver.nodeExe, driver.script, 'hold', winPath(holdPidFile), '600000'], { env: { LCOW_WINE_DRIVER: '1' } }));
    for (let i = 0; i < 600 && !existsSync(holdPidFile); i++) await sleep(100);
    const holdPid = Number(readFileSync(holdPidFile, 'utf8'));
    writeFileSync(join(bundle, 'shim.pid'), String(holdPid));
    const refused = await shim(['-namespace', 'wine', '-id', 's3', '-bundle', winPath(bundle), 'delete']);
    assert.equal(refused.code, 0, refused.stderr);
    assert.match(refused.stderr, /not signalling the process in shim\.pid/);
    assert.notEqual((await runDriver(scratch, driver, ['identity', String(holdPid)]))['identity'], null, 'the other process still runs');
    assert.notEqual((await runDriver(scratch, driver, ['identity', String(pid)]))['identity'], null, 'serve still runs');

    writeFileSync(join(bundle, 'shim.pid'), String(pid));
    appendFileSync(join(bundle, 'panic.log'), 'boom: the daemon wrote this to stderr\n');
    const deleted = await shim(['-namespace', 'wine', '-id', 's3', '-bundle', winPath(bundle), 'delete']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.doesNotMatch(deleted.stderr, /not signalling/);
    assert.match(deleted.stderr, /level=warn msg="found shim panic logs" log=".*boom: the daemon wrote this to stderr/);
    assert.equal((await runDriver(scratch, driver, ['identity', String(pid)]))['identity'], null, 'serve is gone');
    await assert.rejects(runDriver(scratch, driver, ['connect', pipeOf('s3'), 's3']), /ENOENT|Unavailable|dial/);
  });

  test('HCS create/start/properties/exit event/terminate/close through computecore.dll (koffi, kernel32 LocalFree)', async () => {
    const res = await runDriver(scratch, driver, ['hcs', winPath(dll)]);
    assert.equal(res['state'], 'Running');
    assert.equal(res['fired'], 0);
    assert.deepEqual(res['exit'], { hresult: 0, data: '{"Status":0,"ExitType":"UnexpectedExit"}', unexpected: true });
    const calls = res['calls'] as string[];
    for (const fn of ['HcsCreateComputeSystem', 'HcsSetComputeSystemCallback', 'HcsStartComputeSystem', 'HcsGetComputeSystemProperties', 'HcsTerminateComputeSystem', 'HcsCloseComputeSystem']) {
      assert.ok(calls.includes(fn), `${fn} not called: ${calls.join(', ')}`);
    }
    assert.equal(calls.includes('LocalFree'), false, 'result documents are freed by kernel32, not the double');
    const created = res['created'] as Array<{ id: string; doc: string }>;
    assert.equal(created[0]?.id, 'w1@vm');
    assert.deepEqual(JSON.parse(created[0]?.doc ?? '{}'), { Owner: 'wine', SchemaVersion: { Major: 2, Minor: 1 } });
    assert.equal(res['opsCreated'], res['opsClosed'], 'every operation closed');
    assert.equal(res['badOpCloses'], 0);
    assert.equal(res['systemsClosed'], 1);
  });

  test('the stdout pipe client redials a reader that went away and loses nothing written after', async () => {
    const res = await runDriver(scratch, driver, ['stdio-redial']);
    const conns = res['conns'] as string[];
    assert.equal(conns[0], 'one\n');
    assert.equal(conns.slice(1).join(''), 'two\nthree\n');
  });

  test('binary:// logger: the shim serves binary-<id>-stdout|stderr|wait and the binary gets CONTAINER_* and the bytes', async () => {
    const res = await runDriver(scratch, driver, ['binary-logger', driver.script, 'b1']);
    const out = String(res['out']);
    assert.match(out, /^id=b1 ns=wine systemroot=[A-Za-z]:\\windows$/im, 'CONTAINER_* and SYSTEMROOT');
    assert.match(out, /^CONTAINER_STDOUT: to stdout$/m);
    assert.match(out, /^CONTAINER_STDERR: to stderr$/m);
    assert.deepEqual(res['warnings'], []);
  });
});

function readIf(p: string): string {
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}
