import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, HResult, ShimError } from '../../src/errdefs/index.js';
import {
  Bridge,
  ComputeSystemNotificationV1,
  GcsBridgeClosedError,
  GcsProtocolError,
  GcsRpcError,
  RPCCreate,
  RPCExecuteProcess,
  RPCGetProperties,
  RPCNegotiateProtocol,
  RPCStart,
  RPCWaitForProcess,
  encodeFrame,
  hresultToWire,
  requestType,
  type ContainerNotification,
} from '../../src/gcs/index.js';
import { duplexPair } from './fakes/memory-duplex.js';
import { RawPeer, captureLogger } from './fakes/raw-peer.js';

function setup(opts: { timeoutMs?: number; onNotification?: (n: ContainerNotification) => void } = {}) {
  const [host, guest] = duplexPair();
  const logs = captureLogger();
  const bridge = new Bridge(host, { log: logs.log, ...opts });
  return { bridge, peer: new RawPeer(guest), logs };
}

const closedWith = (check?: (cause: unknown) => boolean) => (e: unknown) =>
  e instanceof GcsBridgeClosedError && e.code === ErrorCode.Unavailable && (check ? check(e.cause) : true);

test('ids start at 0 and count up; responses are paired by id in any order', { timeout: 10_000 }, async () => {
  const { bridge, peer } = setup();
  const calls = [0, 1, 2].map((n) => bridge.rpc<{ Result: number; N: number }>(RPCStart, { ContainerId: `c${n}`, ActivityId: '' }));
  await peer.waitForRequests(3);
  assert.deepEqual(peer.requests.map((r) => [r.id, r.body['ContainerId']]), [[0, 'c0'], [1, 'c1'], [2, 'c2']]);
  // Reply in reverse order, each echoing which request it answers.
  for (const r of [...peer.requests].reverse()) peer.reply(r.id, RPCStart, { Result: 0, N: r.id });
  const results = await Promise.all(calls);
  assert.deepEqual(results.map((r) => r.N), [0, 1, 2]);
  assert.equal(bridge.pendingCount, 0);
  bridge.close();
});

test('responses arriving one byte at a time', { timeout: 10_000 }, async () => {
  const { bridge, peer } = setup();
  const call = bridge.rpc<{ Result: number; Version: number }>(RPCNegotiateProtocol, { MinimumVersion: 4, MaximumVersion: 4 });
  await peer.waitForRequests(1);
  peer.reply(0, RPCNegotiateProtocol, { Result: 0, Version: 4 }, 1);
  assert.equal((await call).Version, 4);
  bridge.close();
});

test('Result != 0 rejects with GcsRpcError carrying the unsigned HRESULT, message and records', { timeout: 10_000 }, async () => {
  const { bridge, peer } = setup();
  const a = bridge.rpc(RPCCreate, { ContainerId: 'x', ActivityId: '' });
  const b = bridge.rpc(RPCWaitForProcess, { ContainerId: 'x', ActivityId: '' });
  await peer.waitForRequests(2);
  const records = [{ Result: hresultToWire(HResult.E_FAIL), Message: 'runc create failed', ModuleName: 'gcs', Line: 4294967295 }];
  peer.reply(0, RPCCreate, { Result: hresultToWire(HResult.E_FAIL), ErrorMessage: 'runc create failed', ErrorRecords: records });
  peer.reply(1, RPCWaitForProcess, { Result: hresultToWire(HResult.ErrElementNotFound), ErrorMessage: 'no such process' });
  await assert.rejects(a, (e: unknown) => {
    assert.ok(e instanceof GcsRpcError && e instanceof ShimError);
    assert.equal(e.result, 0x80004005);
    assert.equal(e.proc, RPCCreate);
    assert.equal(e.errorMessage, 'runc create failed');
    assert.deepEqual(e.errorRecords, records);
    assert.equal(e.code, ErrorCode.Unknown);
    assert.match(e.message, /Create failed: runc create failed \(0x80004005\)/);
    return true;
  });
  await assert.rejects(b, (e: unknown) => e instanceof GcsRpcError && e.code === ErrorCode.NotFound && e.result === 0x80070490);
  assert.equal(bridge.closed, false, 'an RPC failure does not close the bridge');
  bridge.close();
});

test('a response with an unknown id is a protocol error: bridge closes, every pending call fails', { timeout: 10_000 }, async () => {
  const { bridge, peer, logs } = setup();
  const calls = [bridge.rpc(RPCStart, {}), bridge.asyncRpc(RPCWaitForProcess, {})];
  await peer.waitForRequests(2);
  peer.reply(77, RPCStart, { Result: 0 });
  for (const c of calls) {
    await assert.rejects(c, closedWith((cause) => cause instanceof GcsProtocolError && cause.violation === 'unexpected-message'));
  }
  assert.ok((await bridge.wait()) instanceof GcsProtocolError);
  assert.match(logs.text(), /protocol error.*matches no pending request|matches no pending request.*protocol error/);
  assert.match(logs.text(), /id=77/);
  await assert.rejects(bridge.rpc(RPCStart, {}), closedWith());
});

test('a request or an unknown message type from the guest closes the bridge', { timeout: 10_000 }, async () => {
  for (const type of [requestType(RPCCreate), 0x40100101, 0x30100201]) {
    const { bridge, peer, logs } = setup();
    const call = bridge.rpc(RPCStart, {});
    await peer.waitForRequests(1);
    peer.writeRaw(encodeFrame(type, 0, {}));
    await assert.rejects(call, closedWith((c) => c instanceof GcsProtocolError));
    assert.match(logs.text(), /unexpected message|unknown notification/);
  }
});

test('container notifications are delivered; a malformed body is fatal', { timeout: 10_000 }, async () => {
  const got: ContainerNotification[] = [];
  const { bridge, peer } = setup({ onNotification: (n) => got.push(n) });
  const call = bridge.rpc(RPCStart, {});
  await peer.waitForRequests(1);
  peer.writeRaw(encodeFrame(ComputeSystemNotificationV1, 0, { ContainerId: 'c1', Type: 'GracefulExit', Operation: 'None', Result: 0 }), 3);
  peer.reply(0, RPCStart, { Result: 0 });
  await call;
  assert.deepEqual(got.map((n) => [n.ContainerId, n.Type]), [['c1', 'GracefulExit']]);
  peer.writeRaw(encodeFrame(ComputeSystemNotificationV1, 0, Buffer.from('not json')));
  assert.ok((await bridge.wait()) instanceof GcsProtocolError);
});

test('a notification handler that throws closes the bridge', { timeout: 10_000 }, async () => {
  const { bridge, peer } = setup({ onNotification: () => { throw new Error('boom'); } });
  peer.writeRaw(encodeFrame(ComputeSystemNotificationV1, 0, { ContainerId: 'c1' }));
  const reason = await bridge.wait();
  assert.match(String(reason?.message), /notification handler failed: boom/);
});

test('an RPC with no answer within the timeout kills the whole bridge', { timeout: 10_000 }, async () => {
  const { bridge, peer, logs } = setup({ timeoutMs: 30 });
  const waiting = bridge.asyncRpc(RPCWaitForProcess, {});
  const timed = bridge.rpc(RPCStart, {});
  await peer.waitForRequests(2);
  await assert.rejects(timed, closedWith((c) => c instanceof ShimError && c.code === ErrorCode.DeadlineExceeded));
  await assert.rejects(waiting, closedWith((c) => c instanceof ShimError && c.code === ErrorCode.DeadlineExceeded));
  assert.ok(bridge.closed);
  assert.match(logs.text(), /bridge message timeout/);
});

test('asyncRpc (long poll) is not subject to the bridge timeout', { timeout: 10_000 }, async () => {
  const { bridge, peer } = setup({ timeoutMs: 20 });
  const waiting = bridge.asyncRpc<{ Result: number; ExitCode: number }>(RPCWaitForProcess, { ProcessId: 1, TimeoutInMs: 0xffffffff });
  await peer.waitForRequests(1);
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(bridge.closed, false);
  peer.reply(0, RPCWaitForProcess, { Result: 0, ExitCode: 3 });
  assert.equal((await waiting).ExitCode, 3);
  bridge.close();
});

test('cancellable calls: abort rejects with Canceled, the late response is discarded and the bridge lives', { timeout: 10_000 }, async () => {
  const { bridge, peer } = setup();
  const ac = new AbortController();
  const call = bridge.rpc(RPCGetProperties, {}, { signal: ac.signal, allowCancel: true });
  await peer.waitForRequests(1);
  ac.abort();
  await assert.rejects(call, (e: unknown) => e instanceof ShimError && e.code === ErrorCode.Canceled);
  peer.reply(0, RPCGetProperties, { Result: 0 });
  const next = bridge.rpc(RPCStart, {});
  await peer.waitForRequests(2);
  peer.reply(1, RPCStart, { Result: 0 });
  await next;
  assert.equal(bridge.closed, false);
  bridge.close();
});

test('non-cancellable calls ignore an abort after sending; a pre-aborted signal sends nothing', { timeout: 10_000 }, async () => {
  const { bridge, peer } = setup();
  const ac = new AbortController();
  const call = bridge.rpc<{ Result: number; ProcessId: number }>(RPCExecuteProcess, {}, { signal: ac.signal });
  await peer.waitForRequests(1);
  ac.abort();
  peer.reply(0, RPCExecuteProcess, { Result: 0, ProcessId: 42 });
  assert.equal((await call).ProcessId, 42);
  await assert.rejects(bridge.rpc(RPCStart, {}, { signal: AbortSignal.abort() }), (e: unknown) => e instanceof ShimError && e.code === ErrorCode.Canceled);
  const after = bridge.rpc(RPCStart, {});
  await peer.waitForRequests(2);
  assert.equal(peer.requests.length, 2, 'the pre-aborted call was never written');
  peer.reply(peer.requests[1]!.id, RPCStart, { Result: 0 });
  await after;
  bridge.close();
});

test('peer closes mid-frame: every pending call fails with GcsBridgeClosedError', { timeout: 10_000 }, async () => {
  const { bridge, peer, logs } = setup();
  const calls = [bridge.rpc(RPCStart, {}), bridge.rpc(RPCCreate, {}), bridge.asyncRpc(RPCWaitForProcess, {})];
  await peer.waitForRequests(3);
  peer.writeRaw(encodeFrame(0x20100201, 0, { Result: 0 }).subarray(0, 21));
  peer.conn.end();
  for (const c of calls) await assert.rejects(c, closedWith((cause) => /mid-frame \(21 bytes/.test(String((cause as Error).message))));
  assert.match(logs.text(), /mid-frame/);
});

test('peer resets the connection: pending calls fail; clean EOF closes without a cause', { timeout: 10_000 }, async () => {
  {
    const { bridge, peer } = setup();
    const call = bridge.rpc(RPCStart, {});
    await peer.waitForRequests(1);
    peer.conn.destroy();
    await assert.rejects(call, closedWith());
  }
  {
    const { bridge, peer } = setup();
    const call = bridge.asyncRpc(RPCStart, {});
    await peer.waitForRequests(1);
    peer.conn.end();
    await assert.rejects(call, closedWith((cause) => cause === undefined));
    assert.equal(await bridge.wait(), undefined);
  }
});

test('an oversize frame from the guest closes the bridge with ResourceExhausted as the cause', { timeout: 10_000 }, async () => {
  const { bridge, peer } = setup();
  const call = bridge.rpc(RPCStart, {});
  await peer.waitForRequests(1);
  peer.writeRaw(encodeFrame(0x20100201, 0, Buffer.alloc(70000, 0x20)));
  await assert.rejects(call, closedWith((c) => c instanceof GcsProtocolError && c.code === ErrorCode.ResourceExhausted));
});

test('close() fails pending calls and later calls', { timeout: 10_000 }, async () => {
  const { bridge, peer } = setup();
  const call = bridge.rpc(RPCStart, {});
  await peer.waitForRequests(1);
  bridge.close();
  bridge.close();
  await assert.rejects(call, closedWith((c) => c === undefined));
  await assert.rejects(bridge.asyncRpc(RPCStart, {}), closedWith());
  assert.ok(peer.conn.destroyed);
});

test('round trip over a real unix socket, and the socket closing fails the pending call', { timeout: 10_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gcs-bridge-'));
  try {
    const path = join(dir, 'gcs.sock');
    const server = createServer();
    server.listen(path);
    await once(server, 'listening');
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const client = connect(path);
    await once(client, 'connect');
    const [guestSide] = await accepted;
    const bridge = new Bridge(client, { log: captureLogger().log });
    const peer = new RawPeer(guestSide);
    const first = bridge.rpc<{ Result: number; Version: number }>(RPCNegotiateProtocol, { MinimumVersion: 4, MaximumVersion: 4 });
    await peer.waitForRequests(1);
    peer.reply(0, RPCNegotiateProtocol, { Result: 0, Version: 4 }, 5);
    assert.equal((await first).Version, 4);
    const second = bridge.rpc(RPCStart, {});
    await peer.waitForRequests(2);
    guestSide.destroy();
    await assert.rejects(second, closedWith());
    server.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('onClose listeners run once with the reason; unsubscribed ones do not', { timeout: 10_000 }, async () => {
  const { bridge, peer } = setup();
  const seen: (Error | undefined)[] = [];
  bridge.onClose((e) => seen.push(e));
  const off = bridge.onClose(() => seen.push(new Error('unsubscribed listener ran')));
  off();
  peer.writeRaw(encodeFrame(0x20100201, 9, { Result: 0 }));
  await bridge.wait();
  assert.equal(seen.length, 1);
  assert.ok(seen[0] instanceof GcsProtocolError);
  const late = await new Promise<Error | undefined>((resolve) => bridge.onClose(resolve));
  assert.equal(late, seen[0]);
});
