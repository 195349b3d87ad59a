/**
 * The Wine tier: the packaged containerd-shim-lcow-v1.exe (not the Linux bundle) run under Wine 8, with the
 * computecore double built as a PE DLL and every Windows-side peer played by driver.ts under the official
 * Windows node.exe (Linux processes cannot reach Wine's named pipes). What cannot run here: Hyper-V sockets
 * (Wine has no AF_HYPERV; the Winsock listener keeps its Linux double, test/transport/hvsock-winsock.test.ts).
 * Timeouts are generous and nothing is timed: Wine starts slowly on a loaded machine.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { containerd } from '../../src/proto/index.js';
import { PACKAGE_EXE, ensurePackage } from '../package/ensure-package.js';
import { buildDoubleDll, buildDriver, ensureWinePrefix, killWine, runDriver, runWine, winPath, type Driver } from './wine-env.js';

const scratch = mkdtempSync(join(tmpdir(), 'lcow-wine-'));
let dll = '';
let driver: Driver;

const shim = (args: readonly string[], env: NodeJS.ProcessEnv = {}) => runWine(scratch, [PACKAGE_EXE, ...args], { env });

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

  after(() => {
    killWine();
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
    const bundle = bundleDir('start');
    const r = await shim(['-namespace', 'wine', '-id', 's1', '-address', winPath(join(scratch, 'containerd.sock')), '-publish-binary', 'containerd', '-bundle', winPath(bundle), 'start']);
    const pipe = '\\\\.\\pipe\\ProtectedPrefix\\Administrators\\containerd-shim-wine-s1-pipe';
    assert.equal(r.code, 0, `${r.stderr}\npanic.log: ${readIf(join(bundle, 'panic.log'))}`);
    assert.equal(r.stdout, pipe);
    assert.equal(readFileSync(join(bundle, 'address'), 'utf8'), pipe);
    const pid = Number(readFileSync(join(bundle, 'shim.pid'), 'utf8'));
    assert.ok(Number.isInteger(pid) && pid > 0, `shim.pid: ${pid}`);
    const res = await runDriver(scratch, driver, ['connect', pipe, 's1']);
    assert.equal(res['shimPid'], pid, 'Connect reports the serve process that start recorded');
    // Shutdown with no task left: serve exits and its pipe is gone.
    await assert.rejects(runDriver(scratch, driver, ['connect', pipe, 's1']), /ENOENT|Unavailable|dial/);
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
