import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, ShimError } from '../../src/errdefs/index.js';
import { COMPUTECORE_NOT_FOUND, createHcsApi, ensureBackendThreadpool, ensureThreadpoolSize, type HcsBackendName } from '../../src/hcs/index.js';
import { computecoreHostInfo } from '../../src/hcs/computecore/api.js';
import { buildComputecoreDouble } from '../fixtures/computecore-double.js';

const isCode = (code: ErrorCode, re: RegExp) => (err: unknown) => err instanceof ShimError && err.code === code && re.test(err.message);

test('an unknown backend is InvalidArgument naming it (from options or env)', async () => {
  await assert.rejects(createHcsApi({ backend: 'vmcompute' as HcsBackendName }), isCode(ErrorCode.InvalidArgument, /unknown HCS backend "vmcompute"/));
  await assert.rejects(createHcsApi({ env: { LCOW_HCS_BACKEND: 'qemu' } }), isCode(ErrorCode.InvalidArgument, /"qemu"/));
});

test('computecore on Linux without a library path is Unavailable and says how to get one', async () => {
  await assert.rejects(
    createHcsApi({ backend: 'computecore', env: {}, platform: 'linux' }),
    isCode(ErrorCode.Unavailable, /"computecore" is unavailable on linux: set LCOW_COMPUTECORE_PATH/),
  );
});

test('a library that cannot be loaded gives the clear computecore.dll error', async () => {
  await assert.rejects(createHcsApi({ backend: 'computecore', libraryPath: '/nonexistent/computecore.dll' }), (err: unknown) => {
    assert.ok(err instanceof ShimError);
    assert.equal(err.code, ErrorCode.Unavailable);
    assert.ok(err.message.startsWith(COMPUTECORE_NOT_FOUND), err.message);
    assert.match(err.message, /\/nonexistent\/computecore\.dll/);
    assert.equal(
      COMPUTECORE_NOT_FOUND,
      'computecore.dll not found: HCS needs Windows 10 1809 / Server 2019 or later with Hyper-V enabled',
    );
    return true;
  });
});

test('win32 defaults to computecore from %SystemRoot%\\System32', async () => {
  await assert.rejects(
    createHcsApi({ env: { SystemRoot: 'Z:\\NoWindows' }, platform: 'win32' }),
    isCode(ErrorCode.Unavailable, /computecore\.dll not found.*Z:\\NoWindows\\System32\\computecore\.dll/),
  );
});

test('LCOW_HCS_BACKEND and LCOW_COMPUTECORE_PATH select the double on Linux', async () => {
  const dbl = buildComputecoreDouble();
  try {
    const api = await createHcsApi({ env: { LCOW_HCS_BACKEND: 'computecore', LCOW_COMPUTECORE_PATH: dbl.path }, platform: 'linux' });
    assert.equal(api.backend, 'computecore');
    const info = await api.hostInfo();
    assert.equal(info.pathFlavour, 'windows');
    assert.ok(info.logicalProcessors >= 1);
  } finally {
    dbl.dispose();
  }
});

test('Linux defaults to the emulator, loaded lazily (or Unavailable naming it while it is missing)', async () => {
  try {
    const api = await createHcsApi({ env: {}, platform: 'linux', emulator: {} });
    assert.equal(api.backend, 'emulator');
  } catch (err) {
    assert.ok(err instanceof ShimError);
    assert.equal(err.code, ErrorCode.Unavailable);
    assert.match(err.message, /HCS backend "emulator" is unavailable/);
  }
});

test('hostInfo derives the build from os.release() and maps the architecture', () => {
  assert.deepEqual(
    { ...computecoreHostInfo('10.0.20348', 'x64'), logicalProcessors: 0 },
    { osBuild: 20348, logicalProcessors: 0, pathFlavour: 'windows', arch: 'amd64' },
  );
  assert.equal(computecoreHostInfo('10.0.17763', 'arm64').arch, 'arm64');
  assert.equal(computecoreHostInfo('garbage', 'x64').osBuild, 0);
});

test('ensureThreadpoolSize raises but never lowers UV_THREADPOOL_SIZE', () => {
  const env: NodeJS.ProcessEnv = {};
  assert.equal(ensureThreadpoolSize(32, env), 32);
  assert.equal(env['UV_THREADPOOL_SIZE'], '32');
  env['UV_THREADPOOL_SIZE'] = '64';
  assert.equal(ensureThreadpoolSize(32, env), 64);
  assert.equal(env['UV_THREADPOOL_SIZE'], '64');
  env['UV_THREADPOOL_SIZE'] = 'junk';
  assert.equal(ensureThreadpoolSize(5000, env), 1024);
});

test('ensureBackendThreadpool raises the pool for computecore only: the emulator keeps libuv\'s default', () => {
  const linux: NodeJS.ProcessEnv = {};
  assert.equal(ensureBackendThreadpool({ env: linux, platform: 'linux' }), undefined);
  assert.equal(linux['UV_THREADPOOL_SIZE'], undefined);
  const emulatorOnWindows: NodeJS.ProcessEnv = { LCOW_HCS_BACKEND: 'emulator' };
  assert.equal(ensureBackendThreadpool({ env: emulatorOnWindows, platform: 'win32' }), undefined);
  assert.equal(emulatorOnWindows['UV_THREADPOOL_SIZE'], undefined);
  const windows: NodeJS.ProcessEnv = {};
  assert.equal(ensureBackendThreadpool({ env: windows, platform: 'win32' }), 32);
  assert.equal(windows['UV_THREADPOOL_SIZE'], '32');
  const doubleOnLinux: NodeJS.ProcessEnv = { LCOW_HCS_BACKEND: 'computecore', UV_THREADPOOL_SIZE: '8' };
  assert.equal(ensureBackendThreadpool({ env: doubleOnLinux, platform: 'linux' }), 32);
  assert.equal(doubleOnLinux['UV_THREADPOOL_SIZE'], '32');
});
