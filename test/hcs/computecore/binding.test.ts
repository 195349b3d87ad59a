import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../../src/errdefs/index.js';
import { HcsError, ResourcePaths, toHcsJson, type ComputeSystem, type ModifySettingRequest } from '../../../src/hcs/index.js';
import { Counter, hr } from '../../fixtures/computecore-double.js';
import { useComputecoreDouble } from './harness.js';

const h = useComputecoreDouble();
const ID = 'vm-ü-雪';
const DOC: ComputeSystem = {
  Owner: 'shim-ü-雪.exe',
  SchemaVersion: { Major: 2, Minor: 1 },
  VirtualMachine: { Devices: { Plan9: {}, Scsi: { '0': {} } } },
  ShouldTerminateOnLastHandleClosed: true,
};

test('each export is called with the right arguments; UTF-16 ids and JSON arrive intact', async () => {
  const { dbl } = h;
  const api = await h.api();
  assert.equal(api.backend, 'computecore');
  const props = `{"Id":"${ID}","State":"Running","RuntimeId":"5e0a0c1d-0000-4000-8000-0000000000aa","SystemType":"VirtualMachine","RuntimeOsType":"Linux","Owner":"shim-ü-雪.exe"}`;
  dbl.script('HcsGetComputeSystemProperties', { doc: props });
  dbl.script('HcsEnumerateComputeSystems', { doc: `[{"Id":"other"},{"Id":"${ID}","State":"Running"},{"NoId":1}]` });

  const sys = await api.createComputeSystem(ID, DOC, { timeoutMs: 12345 });
  assert.equal(sys.id, ID);
  await sys.start();
  const p = await sys.properties();
  const modify: ModifySettingRequest = {
    ResourcePath: ResourcePaths.scsiAttachment('0', 1),
    RequestType: 'Add',
    Settings: { Type: 'VirtualDisk', Path: 'C:\\layers\\ü\\雪.vhdx', ReadOnly: true },
  };
  await sys.modify(modify);
  const list = await api.enumerateComputeSystems();
  await sys.shutdown();
  await sys.terminate();
  await sys.close();
  await sys.close(); // idempotent

  assert.equal(p.Id, ID);
  assert.equal(p.RuntimeId, '5e0a0c1d-0000-4000-8000-0000000000aa');
  assert.equal(p.Owner, 'shim-ü-雪.exe');
  assert.deepEqual(list.map((s) => s.Id), ['other', ID]);

  const [create] = dbl.callsOf('HcsCreateComputeSystem');
  assert.equal(create?.str[0], ID);
  assert.equal(create?.str[1], toHcsJson(DOC));
  assert.equal(create?.num[1], 0n, 'security descriptor must be NULL');
  const waits = dbl.callsOf('HcsWaitForOperationResult');
  assert.equal(waits[0]?.num[1], 12345n, 'per-call timeout reaches the wait');
  assert.equal(waits[1]?.num[1], 240000n, 'default timeout');
  const [reg] = dbl.callsOf('HcsSetComputeSystemCallback');
  assert.equal(reg?.str[0], ID);
  assert.equal(reg?.num[0], 0n, 'HcsEventOptionNone');
  assert.ok((reg?.num[1] ?? 0n) > 0n && (reg?.num[1] ?? 0n) < 1000n, 'context is a small numeric id, not a pointer');
  assert.equal(reg?.num[2], 1n, 'a callback pointer is passed');
  for (const fn of ['HcsStartComputeSystem', 'HcsShutDownComputeSystem', 'HcsTerminateComputeSystem']) {
    const [c] = dbl.callsOf(fn);
    assert.equal(c?.str[0], ID, fn);
    assert.equal(c?.num[1], 0n, `${fn} options must be NULL`);
  }
  assert.equal(dbl.callsOf('HcsGetComputeSystemProperties')[0]?.str[1], '{}');
  const [mod] = dbl.callsOf('HcsModifyComputeSystem');
  assert.equal(mod?.str[1], toHcsJson(modify, 'ModifySettingRequest'));
  assert.equal(mod?.num[2], 0n, 'identity must be NULL');
  assert.equal(dbl.callsOf('HcsEnumerateComputeSystems')[0]?.str[1], '{}');
  assert.equal(dbl.callsOf('HcsCloseComputeSystem').length, 1);
  assert.equal(dbl.callsOf('HcsCreateOperation').every((c) => c.num[0] === 0n && c.num[1] === 0n), true);
  // shutdown/terminate are submitted without a wait (completion is the exit event)
  assert.equal(waits.length, 5);

  // result documents decoded and freed exactly once; every operation closed exactly once
  assert.equal(dbl.counter(Counter.Allocs), 2);
  assert.equal(dbl.counter(Counter.Frees), 2);
  assert.equal(dbl.counter(Counter.BadFrees), 0);
  assert.equal(dbl.counter(Counter.LiveAllocs), 0);
  assert.equal(dbl.counter(Counter.OpsCreated), 7);
  assert.equal(dbl.counter(Counter.OpsClosed), 7);
  assert.equal(dbl.counter(Counter.BadOpCloses), 0);
});

test('an operation runs create-op → call → wait → free → close-op, on the same handle', async () => {
  const { dbl } = h;
  const api = await h.api();
  const sys = await api.createComputeSystem('a', DOC);
  dbl.reset();
  dbl.script('HcsGetComputeSystemProperties', { doc: '{"Id":"a"}' });
  await sys.properties();
  const calls = dbl.calls();
  assert.deepEqual(
    calls.map((c) => c.fn),
    ['HcsCreateOperation', 'HcsGetComputeSystemProperties', 'HcsWaitForOperationResult', 'LocalFree', 'HcsCloseOperation'],
  );
  const op = calls[1]?.num[0];
  assert.ok(op !== undefined && op !== 0n);
  assert.equal(calls[2]?.num[0], op);
  assert.equal(calls[4]?.num[0], op);
  await sys.close();
});

test('open passes GENERIC_ALL and the id; not-found becomes HcsError NotFound', async () => {
  const { dbl } = h;
  const api = await h.api();
  const sys = await api.openComputeSystem(ID);
  assert.equal(dbl.callsOf('HcsOpenComputeSystem')[0]?.num[0], 0x10000000n);
  assert.equal(dbl.callsOf('HcsOpenComputeSystem')[0]?.str[0], ID);
  assert.equal(dbl.callsOf('HcsSetComputeSystemCallback').length, 1);
  await sys.close();

  dbl.script('HcsOpenComputeSystem', { callHr: hr(0xc037010e) });
  await assert.rejects(api.openComputeSystem('missing'), (err: unknown) => {
    assert.ok(err instanceof HcsError);
    assert.equal(err.code, ErrorCode.NotFound);
    assert.equal(err.hresult, 0xc037010e);
    assert.equal(err.systemId, 'missing');
    assert.equal(err.operation, 'HcsOpenComputeSystem');
    return true;
  });
});

test('a failed callback registration closes the new handle and reports the HRESULT', async () => {
  const { dbl } = h;
  const api = await h.api();
  dbl.script('HcsSetComputeSystemCallback', { callHr: hr(0x80370119) });
  await assert.rejects(api.openComputeSystem('x'), (err: unknown) => err instanceof HcsError && err.hresult === 0x80370119);
  assert.equal(dbl.counter(Counter.SystemsClosed), 1);
});

test('calls after close reject with HcsError instead of touching a freed handle', async () => {
  const api = await h.api();
  const sys = await api.createComputeSystem('c', DOC);
  await sys.close();
  await assert.rejects(sys.start(), (err: unknown) => err instanceof HcsError && /closed/.test(err.message));
  await assert.rejects(sys.terminate(), HcsError);
  assert.equal(h.dbl.callsOf('HcsStartComputeSystem').length, 0);
});
