import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HResult } from '../../../src/errdefs/index.js';
import { Counter, hr } from '../../fixtures/computecore-double.js';
import { HCS_EVENT_SERVICE_DISCONNECT, HCS_EVENT_SYSTEM_EXITED, useComputecoreDouble } from './harness.js';

const h = useComputecoreDouble();

test('an exit fired from a foreign thread reaches waitExit (unexpected: nobody asked it to stop)', async () => {
  const sys = await (await h.api()).createComputeSystem('crash-ü', { Owner: 'o' });
  try {
    const data = JSON.stringify({ Status: hr(0x80370106), ExitType: 'UnexpectedExit' });
    assert.equal(h.dbl.fireEvent(h.systemPointer('crash-ü'), HCS_EVENT_SYSTEM_EXITED, data, 20), 0);
    const exit = await sys.waitExit();
    assert.deepEqual(exit, { hresult: 0x80370106, data, unexpected: true });
    // The double counts a delivery once the callback has returned on its thread, which may be just after
    // JS has already seen the event: wait (bounded) for the count rather than racing it.
    for (let i = 0; i < 200 && h.dbl.counter(Counter.CallbacksDelivered) < 1; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(h.dbl.counter(Counter.CallbacksDelivered), 1);
    await sys.close();
    assert.deepEqual(await sys.waitExit(), exit, 'resolves once; the same exit after close');
  } finally {
    await sys.close(); // idempotent; a failed assertion must not leave a callback keeping the process alive
  }
});

test('a requested graceful exit is not unexpected; events are routed to their own system', async () => {
  const api = await h.api();
  const a = await api.createComputeSystem('a', { Owner: 'o' });
  const b = await api.createComputeSystem('b', { Owner: 'o' });
  await a.shutdown();
  h.dbl.fireEvent(h.systemPointer('a'), HCS_EVENT_SYSTEM_EXITED, '{"Status":0,"ExitType":"GracefulExit"}', 5);
  h.dbl.fireEvent(h.systemPointer('b'), HCS_EVENT_SERVICE_DISCONNECT, null, 5);
  const [ea, eb] = await Promise.all([a.waitExit(), b.waitExit()]);
  assert.deepEqual(ea, { hresult: 0, data: '{"Status":0,"ExitType":"GracefulExit"}', unexpected: false });
  assert.equal(eb.hresult, HResult.HCS_E_SERVICE_DISCONNECT);
  assert.equal(eb.unexpected, true);
  await Promise.all([a.close(), b.close()]);
});

test('close does not deadlock with a callback in flight, and the in-flight event is still delivered', async () => {
  const sys = await (await h.api()).createComputeSystem('inflight', { Owner: 'o' });
  // The double's callback thread blocks inside the JS callback relay until the main thread runs it;
  // its HcsCloseComputeSystem joins that thread. A synchronous close here would hang forever.
  assert.equal(h.dbl.fireEvent(h.systemPointer('inflight'), HCS_EVENT_SYSTEM_EXITED, '{"Status":0}', 0), 0);
  await sys.close();
  assert.equal(h.dbl.counter(Counter.CallbacksDelivered), 1);
  assert.equal(h.dbl.counter(Counter.SystemsClosed), 1);
  assert.deepEqual(await sys.waitExit(), { hresult: 0, data: '{"Status":0}', unexpected: true });
});

test('close without any exit event settles waitExit with a clean, expected exit', async () => {
  const sys = await (await h.api()).createComputeSystem('quiet', { Owner: 'o' });
  await sys.close();
  assert.deepEqual(await sys.waitExit(), { hresult: 0, unexpected: false });
});

test('a registered callback keeps the process alive until close; then the process can exit', async () => {
  // A child process creates a system and waits for an exit fired 300 ms later from a foreign thread.
  // Nothing else is ref'd in the child: without the keep-alive it would exit before the event.
  const here = path.dirname(fileURLToPath(import.meta.url));
  const barrel = path.resolve(here, '../../../src/hcs/index.js');
  const fixture = path.resolve(here, '../../fixtures/computecore-double.js');
  const dir = mkdtempSync(path.join(tmpdir(), 'hcs-keepalive-'));
  try {
    const script = path.join(dir, 'child.mjs');
    writeFileSync(
      script,
      `import { createHcsApi } from ${JSON.stringify(barrel)};
import { buildComputecoreDouble } from ${JSON.stringify(fixture)};
const dbl = buildComputecoreDouble();
const api = await createHcsApi({ backend: 'computecore', libraryPath: dbl.path });
const sys = await api.createComputeSystem('child', { Owner: 'o' });
const reg = dbl.callsOf('HcsSetComputeSystemCallback')[0];
dbl.fireEvent(reg.num[3], 1, '{"Status":7}', 300);
sys.waitExit().then(async (e) => { console.log('exit ' + e.hresult); await sys.close(); console.log('closed'); });
`,
    );
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, [script], { cwd: process.cwd(), env: { ...process.env, LCOW_TEST_COMPUTECORE_DOUBLE: h.dbl.path }, timeout: 20_000 }, (err, out) =>
        resolve({ code: err === null ? 0 : (child.exitCode ?? -1), stdout: out }),
      );
    });
    assert.equal(stdout, 'exit 7\nclosed\n');
    assert.equal(code, 0, 'the child exits on its own once the system is closed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
