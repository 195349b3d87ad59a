import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, ShimError } from '../../../src/errdefs/index.js';
import { HcsError, type ComputeSystem } from '../../../src/hcs/index.js';
import { Counter, hr } from '../../fixtures/computecore-double.js';
import { useComputecoreDouble } from './harness.js';

const h = useComputecoreDouble();
const DOC: ComputeSystem = { Owner: 'o', SchemaVersion: { Major: 2, Minor: 1 } };
const RESULT_ERROR = JSON.stringify({
  Error: hr(0x80370102),
  ErrorMessage: 'The virtual machine could not be started because a required feature is not installed.',
  ErrorEvents: [
    { Message: 'Hypervisor not running', StackTrace: '', Provider: '17103e3f-3c6e-4677-bb17-3b267eaf5ba1', EventId: 12010, Flags: 0, Source: 'vmwp' },
  ],
});

test('a failing wait becomes HcsError with the result document evidence, document freed once', async () => {
  const { dbl } = h;
  const sys = await (await h.api()).createComputeSystem('s', DOC);
  dbl.script('HcsStartComputeSystem', { waitHr: hr(0x80370102), doc: RESULT_ERROR });
  await assert.rejects(sys.start(), (err: unknown) => {
    assert.ok(err instanceof HcsError);
    assert.equal(err.hresult, 0x80370102);
    assert.equal(err.code, ErrorCode.Unknown);
    assert.equal(err.operation, 'HcsStartComputeSystem');
    assert.equal(err.systemId, 's');
    assert.equal(err.events.length, 1);
    assert.equal(err.events[0]?.EventId, 12010);
    assert.match(err.message, /required feature is not installed.*\(hresult 0x80370102\) \[Hypervisor not running\]/);
    return true;
  });
  assert.equal(dbl.counter(Counter.Frees), 1);
  assert.equal(dbl.counter(Counter.LiveAllocs), 0);
  assert.equal(dbl.counter(Counter.OpsClosed), dbl.counter(Counter.OpsCreated));
  await sys.close();
});

test('an immediately refused call fetches the error document with HcsGetOperationResult', async () => {
  const { dbl } = h;
  dbl.script('HcsCreateComputeSystem', {
    callHr: hr(0xc037010d),
    waitHr: hr(0xc037010d),
    doc: '{"Error":-1070137075,"ErrorMessage":"bad json"}',
  });
  await assert.rejects((await h.api()).createComputeSystem('bad', DOC), (err: unknown) => {
    assert.ok(err instanceof HcsError);
    assert.equal(err.code, ErrorCode.InvalidArgument);
    assert.match(err.message, /^hcs::HcsCreateComputeSystem bad: bad json \(hresult 0xc037010d\)$/);
    return true;
  });
  assert.equal(dbl.callsOf('HcsGetOperationResult').length, 1);
  assert.equal(dbl.callsOf('HcsWaitForOperationResult').length, 0);
  assert.equal(dbl.counter(Counter.Frees), 1);
  assert.equal(dbl.counter(Counter.SystemsClosed), 0, 'no handle was returned, none closed');
  assert.equal(dbl.counter(Counter.OpsClosed), 1);
});

test('a create whose wait fails closes the handle HCS returned', async () => {
  const { dbl } = h;
  dbl.script('HcsCreateComputeSystem', { waitHr: hr(0x8037010f) });
  await assert.rejects((await h.api()).createComputeSystem('dup', DOC), (err: unknown) => err instanceof HcsError && err.code === ErrorCode.AlreadyExists);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(dbl.callsOf('HcsCloseComputeSystem').length, 1);
  assert.equal(dbl.callsOf('HcsSetComputeSystemCallback').length, 0);
});

test('a non-JSON failure document is kept as the message', async () => {
  const sys = await (await h.api()).createComputeSystem('t', DOC);
  h.dbl.script('HcsModifyComputeSystem', { waitHr: hr(0x80070057), doc: 'plain text failure' });
  await assert.rejects(sys.modify({ ResourcePath: 'x', RequestType: 'Add' }), (err: unknown) =>
    err instanceof HcsError && err.code === ErrorCode.InvalidArgument && /plain text failure/.test(err.message) && err.events.length === 0,
  );
  await sys.close();
});

test('a wait that elapses is DeadlineExceeded, tries HcsCancelOperation and still closes the operation', async () => {
  const { dbl } = h;
  const sys = await (await h.api()).createComputeSystem('slow', DOC);
  dbl.script('HcsGetComputeSystemProperties', { delayMs: 5000, doc: '{"Id":"slow"}' });
  await assert.rejects(sys.properties({}, { timeoutMs: 30 }), (err: unknown) => err instanceof HcsError && err.code === ErrorCode.DeadlineExceeded && err.hresult === 0x80370118);
  assert.equal(dbl.callsOf('HcsCancelOperation').length, 1);
  assert.equal(dbl.counter(Counter.OpsClosed), dbl.counter(Counter.OpsCreated));
  assert.equal(dbl.counter(Counter.LiveAllocs), 0);
  await sys.close();
});

test('abort rejects with Canceled at once; the operation is closed only after the native wait returns', async () => {
  const { dbl } = h;
  const sys = await (await h.api()).createComputeSystem('abort', DOC);
  dbl.script('HcsGetComputeSystemProperties', { delayMs: 300, doc: '{"Id":"abort"}' });
  const ac = new AbortController();
  const pending = sys.properties({}, { signal: ac.signal, timeoutMs: 10_000 });
  setTimeout(() => ac.abort(new Error('caller gave up')), 20);
  await assert.rejects(pending, (err: unknown) => err instanceof ShimError && err.code === ErrorCode.Canceled);
  assert.equal(dbl.counter(Counter.OpsClosed), dbl.counter(Counter.OpsCreated) - 1, 'wait still in flight, operation open');
  await sys.close(); // waits for the native wait before closing the system handle
  assert.equal(dbl.counter(Counter.OpsClosed), dbl.counter(Counter.OpsCreated));
  assert.equal(dbl.counter(Counter.Frees), 1, 'the late document is still freed');
  const names = dbl.calls().map((c) => c.fn);
  assert.ok(names.lastIndexOf('HcsCloseOperation') < names.indexOf('HcsCloseComputeSystem'));
  // an already-aborted signal never reaches HCS
  await assert.rejects((await h.api()).createComputeSystem('never', DOC, { signal: AbortSignal.abort() }), (err: unknown) => err instanceof ShimError && err.code === ErrorCode.Canceled);
  assert.equal(dbl.callsOf('HcsCreateComputeSystem').filter((c) => c.str[0] === 'never').length, 0);
});

test('shutdown/terminate treat already-stopped, does-not-exist and pending (both forms) as success', async () => {
  const { dbl } = h;
  const sys = await (await h.api()).createComputeSystem('stop', DOC);
  for (const code of [0xc0370110, 0x80370110, 0xc037010e, 0x8037010e, 0xc0370103, 0x80070490]) {
    dbl.script('HcsShutDownComputeSystem', { callHr: hr(code) });
    await sys.shutdown();
    dbl.script('HcsTerminateComputeSystem', { callHr: hr(code) });
    await sys.terminate();
  }
  dbl.script('HcsTerminateComputeSystem', { callHr: hr(0x80070005) });
  await assert.rejects(sys.terminate(), (err: unknown) => err instanceof HcsError && err.code === ErrorCode.FailedPrecondition);
  assert.equal(dbl.counter(Counter.OpsClosed), dbl.counter(Counter.OpsCreated));
  await sys.close();
});

test('a properties document that is not JSON is an error naming the call', async () => {
  const sys = await (await h.api()).createComputeSystem('p', DOC);
  h.dbl.script('HcsGetComputeSystemProperties', { doc: 'not json' });
  await assert.rejects(sys.properties(), (err: unknown) => err instanceof HcsError && /unexpected result document "not json"/.test(err.message));
  assert.equal(h.dbl.counter(Counter.LiveAllocs), 0);
  await sys.close();
});

test('an aborted create rejects at once and closes the late handle after the native wait returns', async () => {
  const { dbl } = h;
  dbl.script('HcsCreateComputeSystem', { delayMs: 200 });
  const ac = new AbortController();
  const p = (await h.api()).createComputeSystem('late', DOC, { signal: ac.signal });
  setTimeout(() => ac.abort(), 10);
  await assert.rejects(p, (err: unknown) => err instanceof ShimError && err.code === ErrorCode.Canceled);
  assert.equal(dbl.counter(Counter.SystemsClosed), 0, 'not closed under the running wait');
  for (let i = 0; i < 250 && dbl.counter(Counter.SystemsClosed) === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(dbl.counter(Counter.SystemsClosed), 1);
  assert.equal(dbl.callsOf('HcsCloseComputeSystem')[0]?.str[0], 'late');
  assert.equal(dbl.counter(Counter.OpsClosed), dbl.counter(Counter.OpsCreated));
});
