/**
 * serve's early stage (serve-early.ts), run before the shim's bundle loads: it listens exactly as serve would
 * (the ready line, the variables taken, connections queued in order) and hands the listener to serve once; any
 * failure leaves everything as without the stage, so serve's own serveListener does what it always did.
 * Through real containerds: test/integration/ctr-run.test.ts (the daemon logs listened-early=true).
 */
import assert from 'node:assert/strict';
import { fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { serveEarly, takeEarlyListener } from '../../src/shim/serve-early.js';
import { createTransport, platformServeMode } from '../../src/transport/index.js';
import { dial, dialError } from './support/dial-unix.js';
import { READY_FD_ENV, serveListener } from '../../src/shim/serve-listener.js';

function connections(server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

async function until(probe: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await probe()) return;
    await sleep(10);
  }
  throw new Error(`gave up waiting: ${what}`);
}

const serveArgs = (socket: string): string[] =>
  ['-namespace', 'default', '-id', 'early', '-address', '/run/x/containerd.sock', '-publish-binary', '/usr/bin/containerd', '-socket', socket, '-debug', 'serve'];

describe('serve\'s early stage', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'serve-early-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('listens, says "listening <pid>" on the ready fd, takes the variables; serve takes the listener once, with what waited, in order', async () => {
    const path = join(dir, 'a');
    const file = join(dir, 'ready-a');
    const fd = openSync(file, 'w');
    const env: NodeJS.ProcessEnv = { [READY_FD_ENV]: String(fd), OTHER: 'kept' };
    assert.equal(await serveEarly(serveArgs(path), env), true);
    assert.equal(readFileSync(file, 'utf8'), `listening ${process.pid}\n`);
    assert.throws(() => fstatSync(fd), { code: 'EBADF' }, 'the ready fd is closed');
    assert.deepEqual(env, { OTHER: 'kept' });
    // containerd dials while the bundle loads: the connections wait with what they sent.
    const early = await Promise.all([0, 1].map(() => dial(path)));
    early.forEach((c, i) => c.write(`request ${i}`));
    const l = takeEarlyListener(path);
    assert.ok(l !== undefined);
    await until(async () => (await connections(l.server)) === 2, 'both connections accepted');
    assert.equal(takeEarlyListener(path), undefined, 'taken once');
    try {
      const got: Array<Promise<string>> = [];
      l.handOver((conn) => got.push(new Promise((resolve) => conn.once('data', (d: Buffer) => resolve(d.toString())))));
      assert.deepEqual(await Promise.all(got), ['request 0', 'request 1']);
    } finally {
      for (const c of early) c.destroy();
      l.server.close();
    }
  });

  it('a listen that fails leaves the environment as it was: serve\'s own serveListener fails the same way, or signals', async () => {
    const path = join(dir, 'taken');
    writeFileSync(path, 'something else');
    const file = join(dir, 'ready-taken');
    const fd = openSync(file, 'w');
    const env: NodeJS.ProcessEnv = { [READY_FD_ENV]: String(fd) };
    assert.equal(await serveEarly(serveArgs(path), env), false);
    assert.deepEqual(env, { [READY_FD_ENV]: String(fd) }, 'the ready fd is still serve\'s to signal');
    assert.equal(readFileSync(file, 'utf8'), '', 'nothing said');
    assert.equal(takeEarlyListener(path), undefined);
    const asServe = { ...env };
    await assert.rejects(serveListener(path, env), { code: 'EEXIST' }, 'serve reports it as before');
    assert.equal(readFileSync(path, 'utf8'), 'something else');
    // Where serve can listen, its own listener signals the fd the early stage left open.
    const free = join(dir, 'free');
    const l = await serveListener(free, asServe);
    try {
      assert.equal(readFileSync(file, 'utf8'), `listening ${process.pid}\n`);
      (await dial(free)).destroy();
    } finally {
      l.server.close();
    }
  });

  it('does nothing for other command lines (start, delete, flags containerd does not write)', async () => {
    const path = join(dir, 'other');
    for (const argv of [[...serveArgs(path).slice(0, -1), 'start'], [...serveArgs(path).slice(0, -1), 'delete'], ['--help'], ['-socket', path, '-v', 'serve']]) {
      assert.equal(await serveEarly(argv, {}), false, argv.join(' '));
    }
    assert.equal(takeEarlyListener(path), undefined);
    assert.equal(await dialError(path), 'ENOENT');
  });

  it('listens only where serve would (the transport\'s listener-fd mode): not on Windows, where serve listens once serving', () => {
    for (const platform of ['linux', 'win32'] as const) assert.equal(platformServeMode(platform), createTransport({ platform }).serveMode, platform);
    assert.equal(platformServeMode('win32'), 'ready-handshake');
  });

  it('a listener on another socket than serve\'s flags name is abandoned, not used', async () => {
    const path = join(dir, 'mine');
    assert.equal(await serveEarly(serveArgs(path), {}), true);
    assert.equal(takeEarlyListener(join(dir, 'theirs')), undefined);
    assert.equal(await dialError(path), 'ECONNREFUSED', 'abandoned: refused at once');
    assert.equal(takeEarlyListener(path), undefined, 'gone from the slot');
  });
});
