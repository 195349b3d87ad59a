import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { ErrorCode, GrpcCode, notFound } from '../../src/errdefs/index.js';
import {
  NAMESPACE_METADATA_KEY,
  TtrpcClient,
  TtrpcServer,
  TtrpcStatusError,
  listenUnix,
  metadataValue,
} from '../../src/ttrpc/index.js';
import type { RpcContext } from '../../src/ttrpc/index.js';
import { gate, hex, tempDir, toHex } from './wire.js';
import { platformDial } from '../fakes/platform-dial.js';

const teardown: Array<() => void | Promise<unknown>> = [];
afterEach(async () => {
  for (const f of teardown.splice(0).reverse()) await f();
});

interface Rig {
  server: TtrpcServer;
  listener: Server;
  path: string;
  dir: string;
  client: TtrpcClient;
  seen: RpcContext[];
  hold: ReturnType<typeof gate<void>>;
}

async function rig(): Promise<Rig> {
  const { dir, cleanup } = tempDir();
  teardown.push(cleanup);
  const path = join(dir, 'run', 'shim.sock');
  const listener = await listenUnix(`unix://${path}`);
  const server = new TtrpcServer();
  const seen: RpcContext[] = [];
  const hold = gate<void>();
  server.register('test.Svc', {
    Echo: async (payload, ctx) => {
      seen.push(ctx);
      return payload;
    },
    /** Replies after a delay of payload[0] ms: later requests can finish first. */
    Delay: (payload) => new Promise((resolve) => setTimeout(() => resolve(payload), payload[0] ?? 0)),
    Hold: async (payload, ctx) => {
      seen.push(ctx);
      await hold.promise;
      return payload;
    },
    WaitAbort: (_p, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
    Missing: async () => {
      throw notFound('no such task');
    },
  });
  server.serve(listener);
  const client = await TtrpcClient.connect(`unix://${path}`, { dial: platformDial });
  teardown.push(() => {
    server.close();
    return client.close();
  });
  return { server, listener, path, dir, client, seen, hold };
}

describe('client ↔ server over a unix socket', () => {
  it('creates the socket 0600 in a directory created 0700', async () => {
    const r = await rig();
    assert.equal(statSync(r.path).mode & 0o777, 0o600);
    assert.ok(statSync(r.path).isSocket());
    assert.equal(statSync(join(r.dir, 'run')).mode & 0o777, 0o700);
  });

  it('round-trips a call with metadata visible to the handler', async () => {
    const r = await rig();
    const out = await r.client.call('test.Svc', 'Echo', hex('cafe'), {
      metadata: [[NAMESPACE_METADATA_KEY, 'default'], ['X-Multi', '1'], ['x-multi', '2']],
      timeoutMs: 5000,
    });
    assert.equal(toHex(out), 'cafe');
    const ctx = r.seen[0]!;
    assert.equal(metadataValue(ctx.metadata, NAMESPACE_METADATA_KEY), 'default');
    assert.deepEqual(ctx.metadata.get('x-multi'), ['1', '2']);
    assert.ok(ctx.deadline !== undefined && ctx.deadline > Date.now());
  });

  it('carries 64 concurrent calls on one connection, each answered with its own payload', async () => {
    const r = await rig();
    const calls = Array.from({ length: 64 }, (_, i) => r.client.call('test.Svc', 'Delay', Uint8Array.of((64 - i) % 8, i)));
    const out = await Promise.all(calls);
    out.forEach((p, i) => assert.deepEqual([...p], [(64 - i) % 8, i]));
  });

  it('surfaces status errors with gRPC and errdefs codes', async () => {
    const r = await rig();
    await assert.rejects(r.client.call('test.Svc', 'Missing', new Uint8Array(0)), (err: unknown) =>
      err instanceof TtrpcStatusError && err.grpcCode === GrpcCode.NotFound && err.code === ErrorCode.NotFound && err.message === 'no such task');
    await assert.rejects(r.client.call('nope.Svc', 'X', new Uint8Array(0)), { code: ErrorCode.NotImplemented, message: 'service nope.Svc' });
    await assert.rejects(r.client.call('test.Svc', 'X', new Uint8Array(0)), { code: ErrorCode.NotImplemented, message: 'method X' });
  });

  it('ends a call that outlives its deadline with DeadlineExceeded', async () => {
    const r = await rig();
    await assert.rejects(r.client.call('test.Svc', 'WaitAbort', new Uint8Array(0), { timeoutMs: 30 }), { code: ErrorCode.DeadlineExceeded });
  });

  it('graceful shutdown stops accepting, finishes the in-flight call, then closes the connection', async () => {
    const r = await rig();
    const inflight = r.client.call('test.Svc', 'Hold', hex('01'));
    while (r.seen.length === 0) await new Promise((res) => setImmediate(res));
    let shutDown = false;
    const shutdown = r.server.shutdown().then(() => (shutDown = true));
    await assert.rejects(TtrpcClient.connect(r.path, { dial: platformDial }), { code: ErrorCode.Unavailable });
    assert.equal(shutDown, false);
    r.hold.open();
    assert.equal(toHex(await inflight), '01');
    await shutdown;
    assert.equal((await r.client.closed).code, ErrorCode.Unavailable);
  });

  it('close() drops connections at once: pending calls fail Unavailable, handlers see their signal abort', async () => {
    const r = await rig();
    const inflight = r.client.call('test.Svc', 'Hold', hex('01'));
    while (r.seen.length === 0) await new Promise((res) => setImmediate(res));
    r.server.close();
    await assert.rejects(inflight, { code: ErrorCode.Unavailable });
    assert.equal(r.seen[0]!.signal.aborted, true);
    assert.throws(() => r.server.serve(createServer()), { code: ErrorCode.FailedPrecondition });
  });
});

describe('listenUnix', () => {
  it('replaces a stale socket nobody answers on', async () => {
    const { dir, cleanup } = tempDir();
    teardown.push(cleanup);
    const path = join(dir, 'stale.sock');
    // A crashed server: a process that listens and is SIGKILLed leaves the socket file behind.
    const code = `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
    spawnSync(process.execPath, ['-e', code], { stdio: 'ignore' });
    assert.ok(statSync(path).isSocket());
    const fresh = await listenUnix(path);
    teardown.push(() => new Promise((res) => fresh.close(res)));
    const client = await TtrpcClient.connect(path, { dial: platformDial });
    await client.close();
  });

  it('refuses a socket a live server answers on (AlreadyExists), and a path that is not a socket', async () => {
    const { dir, cleanup } = tempDir();
    teardown.push(cleanup);
    const path = join(dir, 'live.sock');
    const live = await listenUnix(path);
    teardown.push(() => new Promise((res) => live.close(res)));
    await assert.rejects(listenUnix(path), { code: ErrorCode.AlreadyExists });
    const file = join(dir, 'plain');
    writeFileSync(file, 'x');
    await assert.rejects(listenUnix(file), { code: ErrorCode.AlreadyExists });
    assert.equal(statSync(file).isFile(), true);
  });

  it('keeps an existing directory as it is and rejects over-long paths', async () => {
    const { dir, cleanup } = tempDir();
    teardown.push(cleanup);
    mkdirSync(join(dir, 'open'), { mode: 0o755 });
    const srv = await listenUnix(join(dir, 'open', 's.sock'));
    teardown.push(() => new Promise((res) => srv.close(res)));
    assert.equal(statSync(join(dir, 'open')).mode & 0o777, 0o755);
    await assert.rejects(listenUnix(join(dir, 'x'.repeat(120))), { code: ErrorCode.InvalidArgument });
  });
});
