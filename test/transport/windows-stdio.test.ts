/** Windows-only logic that runs anywhere: the redial schedule, the redialling writer, the pipe names. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, ShimError } from '../../src/errdefs/index.js';
import {
  RedialWriter,
  backoffDelays,
  binaryLoggerPipe,
  createTransport,
  ioRetryBudgetMs,
  namedPipeShimAddress,
  namedPipeShimLogAddress,
  unixShimSocketPath,
} from '../../src/transport/index.js';
import { dialPath } from '../../src/transport/dial.js';

const take = (n: number, it: Iterable<number>): number[] => {
  const out: number[] = [];
  for (const v of it) {
    if (out.length >= n) break;
    out.push(v);
  }
  return out;
};

describe('redial backoff schedule', () => {
  test('200 ms, doubling, capped at one minute, forever when the budget is 0', () => {
    assert.deepEqual(take(12, backoffDelays()), [200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000, 60000]);
  });

  test('a budget ends the schedule, the last wait shortened so the waits sum to the budget', () => {
    assert.deepEqual([...backoffDelays({ totalMs: 1000 })], [200, 400, 400]);
    assert.deepEqual([...backoffDelays({ totalMs: 200 })], [200]);
    const long = [...backoffDelays({ totalMs: ioRetryBudgetMs(300) })];
    assert.equal(long.reduce((a, b) => a + b, 0), 300_000);
    assert.ok(long.every((d) => d <= 60_000));
  });

  test('bad settings are InvalidArgument', () => {
    assert.throws(() => [...backoffDelays({ initialMs: 0 })], (e: ShimError) => e.code === ErrorCode.InvalidArgument);
    assert.throws(() => [...backoffDelays({ totalMs: -1 })], (e: ShimError) => e.code === ErrorCode.InvalidArgument);
    assert.throws(() => ioRetryBudgetMs(-5), /io_retry_timeout_in_sec/);
  });
});

describe('pipe names', () => {
  test('shim, log and logging-binary pipes', () => {
    assert.equal(namedPipeShimAddress('k8s.io', 'abc'), '\\\\.\\pipe\\ProtectedPrefix\\Administrators\\containerd-shim-k8s.io-abc-pipe');
    assert.equal(namedPipeShimLogAddress('default', 't1'), '\\\\.\\pipe\\containerd-shim-default-t1-log');
    assert.equal(binaryLoggerPipe('c1', 'wait'), '\\\\.\\pipe\\binary-c1-wait');
    assert.throws(() => namedPipeShimAddress('ns', 'a\\b'), (e: ShimError) => e.code === ErrorCode.InvalidArgument);
    assert.throws(() => namedPipeShimAddress('', 'x'), (e: ShimError) => e.code === ErrorCode.InvalidArgument);
  });

  test('each transport names its own shim address', () => {
    const win = createTransport({ platform: 'win32' });
    assert.equal(win.shimAddress('default', 't1', '\\\\.\\pipe\\containerd-containerd'), '\\\\.\\pipe\\ProtectedPrefix\\Administrators\\containerd-shim-default-t1-pipe');
    const lin = createTransport({ platform: 'linux' });
    assert.equal(lin.shimAddress('default', 't1', '/run/containerd/containerd.sock'), `unix://${unixShimSocketPath('/run/containerd/containerd.sock', 'default', 't1')}`);
    assert.equal(lin.serveMode, 'listener-fd');
  });

  test('the Windows transport refuses non-pipe stdio paths', async () => {
    const win = createTransport({ platform: 'win32' });
    await assert.rejects(win.openStdioWriter('/tmp/fifo'), (e: ShimError) => e.code === ErrorCode.InvalidArgument);
    await assert.rejects(win.openStdioReader('/tmp/fifo'), (e: ShimError) => e.code === ErrorCode.InvalidArgument);
  });
});

describe('RedialWriter (unix sockets standing in for containerd\'s pipes)', { timeout: 30_000 }, () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'redial-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  /** A reader that collects what each connection received. */
  function reader(path: string): Promise<{ server: Server; conns: Socket[]; received: string[] }> {
    const conns: Socket[] = [];
    const received: string[] = [];
    const server = createServer((s) => {
      const i = conns.push(s) - 1;
      received[i] = '';
      s.on('data', (b) => (received[i] += b.toString()));
    });
    return new Promise((resolve) => server.listen(path, () => resolve({ server, conns, received })));
  }

  test('the reader leaves and comes back: the writer redials on the schedule and nothing is lost', async () => {
    const path = join(dir, 'stdout-1.sock');
    let r = await reader(path);
    const slept: number[] = [];
    let gate: () => void = () => {};
    const w = new RedialWriter(await dialPath(path), {
      address: path,
      redial: () => dialPath(path),
      sleep: async (ms) => {
        slept.push(ms);
        if (slept.length === 3) await new Promise<void>((res) => (gate = res)); // reader is back after the 3rd wait
      },
    });
    await new Promise<void>((res) => w.write('one\n', () => res()));
    await new Promise((res) => setTimeout(res, 20));
    assert.equal(r.received[0], 'one\n');
    for (const c of r.conns) c.destroy();
    await new Promise<void>((res) => r.server.close(() => res()));
    const second = new Promise<Error | null | undefined>((res) => w.write('two\n', res));
    while (slept.length < 3) await new Promise((res) => setTimeout(res, 5));
    r = await reader(path);
    gate();
    assert.equal((await second) ?? undefined, undefined);
    assert.deepEqual(slept.slice(0, 3), [200, 400, 800]);
    await new Promise<void>((res) => w.end('three\n', () => res()));
    await new Promise((res) => setTimeout(res, 20));
    assert.equal(r.received.join(''), 'two\nthree\n');
    r.server.close();
  });

  test('the budget runs out: the write fails Unavailable naming the endpoint and the attempts', async () => {
    const path = join(dir, 'stdout-2.sock');
    const r = await reader(path);
    const slept: number[] = [];
    const w = new RedialWriter(await dialPath(path), {
      address: path,
      redial: () => dialPath(path),
      totalMs: 1000,
      sleep: async (ms) => void slept.push(ms),
    });
    w.on('error', () => {});
    await new Promise((res) => setTimeout(res, 20));
    for (const c of r.conns) c.destroy();
    await new Promise<void>((res) => r.server.close(() => res()));
    await new Promise((res) => setTimeout(res, 20));
    const err = await new Promise<Error | null | undefined>((res) => w.write('lost\n', res));
    assert.ok(err instanceof ShimError);
    assert.equal(err.code, ErrorCode.Unavailable);
    assert.match(err.message, /stdout-2\.sock/);
    assert.match(err.message, /3 attempt/);
    assert.deepEqual(slept, [200, 400, 400]);
  });
});
