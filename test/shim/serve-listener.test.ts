/**
 * serve's own listening socket (serve-listener.ts, listen-socket.ts): linked into place only once it listens,
 * never replacing what is there; connections that arrive before the Task service is registered wait, in order,
 * with what they sent; the ready line for the sh `start`; a serve that fails before serving refuses at once.
 */
import assert from 'node:assert/strict';
import { existsSync, fstatSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { listenLinked } from '../../src/shim/listen-socket.js';
import { READY_FD_ENV, serveListener } from '../../src/shim/serve-listener.js';

function dial(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = connect(path);
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

function dialError(path: string): Promise<string> {
  return dial(path).then((c) => (c.destroy(), 'connected'), (err: NodeJS.ErrnoException) => err.code ?? 'unknown');
}

describe('serve\'s listening socket', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'serve-listener-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('listenLinked: a socket, mode 0600, in a new 0700 directory, under the path only; no temporary name left', async () => {
    const sockets = join(dir, 'new', 's');
    const path = join(sockets, 'a');
    const server = await listenLinked(path);
    try {
      assert.ok(statSync(path).isSocket());
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(statSync(sockets).mode & 0o777, 0o700);
      assert.deepEqual(readdirSync(sockets), ['a']);
      (await dial(path)).destroy();
    } finally {
      server.close();
    }
  });

  it('listenLinked never replaces what is at the path: EEXIST, the file untouched, nothing left', async () => {
    const path = join(dir, 'taken');
    writeFileSync(path, 'a stale something');
    await assert.rejects(listenLinked(path), { code: 'EEXIST' });
    assert.equal(readFileSync(path, 'utf8'), 'a stale something');
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('taken')), ['taken']);
  });

  it('queues early connections with what they sent, hands them over in order, then serves later ones; drops those that left', async () => {
    const path = join(dir, 'queue');
    const env: NodeJS.ProcessEnv = {};
    const l = await serveListener(path, env);
    try {
      const early = await Promise.all([0, 1, 2].map(() => dial(path)));
      early.forEach((c, i) => c.write(`request ${i}`));
      const gone = await dial(path);
      await sleep(50);
      gone.destroy();
      await sleep(50);
      const got: Array<Promise<string>> = [];
      const accept = (conn: Socket): void => {
        got.push(new Promise((resolve) => conn.once('data', (d: Buffer) => resolve(d.toString()))));
      };
      l.handOver(accept);
      l.server.on('connection', accept); // what TtrpcServer.serve does
      assert.deepEqual(await Promise.all(got), ['request 0', 'request 1', 'request 2'], 'in order, bytes kept; the one that left is not there');
      const later = await dial(path);
      later.write('later');
      await sleep(50);
      assert.equal(got.length, 4);
      assert.equal(await got[3], 'later');
      for (const c of [...early, later]) c.destroy();
    } finally {
      l.server.close();
    }
  });

  it('writes "listening <pid>" to the ready fd and closes it; takes both variables out of the environment', async () => {
    const file = join(dir, 'ready');
    const fd = openSync(file, 'w');
    const env: NodeJS.ProcessEnv = { [READY_FD_ENV]: String(fd), OTHER: 'kept' };
    const l = await serveListener(join(dir, 'ready.sock'), env);
    try {
      assert.equal(readFileSync(file, 'utf8'), `listening ${process.pid}\n`);
      assert.throws(() => fstatSync(fd), { code: 'EBADF' }, 'the fd is closed');
      assert.deepEqual(env, { OTHER: 'kept' });
    } finally {
      l.server.close();
    }
  });

  it('abandon (serve failed before serving): refuses at once, closes what waits, leaves the dead socket', async () => {
    const path = join(dir, 'abandoned');
    const l = await serveListener(path, {});
    const waiting = await dial(path);
    const closed = new Promise<void>((resolve) => waiting.once('close', () => resolve()));
    waiting.on('error', () => undefined);
    await sleep(50);
    l.abandon();
    await closed;
    assert.ok(existsSync(path), 'the path stays: containerd 1.6 would retry a missing one for 100 s');
    assert.equal(await dialError(path), 'ECONNREFUSED');
  });

  it('refuses to run without -socket or an inherited socket', async () => {
    await assert.rejects(serveListener('', {}), /serve needs -socket/);
  });
});
