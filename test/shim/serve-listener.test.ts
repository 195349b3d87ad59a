/**
 * serve's own listening socket (serve-listener.ts, listen-socket.ts): linked into place only once it listens,
 * never replacing what is there; connections that arrive before the Task service is registered wait, in order,
 * with what they sent; for the sh `start`: its own socket path, the bundle's address and shim.pid, the ready line,
 * and nothing at all when it cannot; a serve that fails before serving refuses at once.
 */
import assert from 'node:assert/strict';
import { existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { listenLinked } from '../../src/shim/listen-socket.js';
import { READY_FD_ENV, serveListener, type ListenRequest } from '../../src/shim/serve-listener.js';

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
  const req = (socket: string): ListenRequest => ({ socket, bundle: join(dir, 'no-bundle'), ownSocket: () => assert.fail('ownSocket called') });
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
    const l = await serveListener(req(path), env);
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

  it('for the sh start (a ready fd): writes address and shim.pid into the bundle, then "listening <pid> <address>", and closes the fd; takes both variables out of the environment', async () => {
    const file = join(dir, 'ready');
    const fd = openSync(file, 'w');
    const bundle = join(dir, 'ready-bundle');
    mkdirSync(bundle);
    const env: NodeJS.ProcessEnv = { [READY_FD_ENV]: String(fd), OTHER: 'kept' };
    const path = join(dir, 'ready.sock');
    const l = await serveListener({ socket: path, bundle, ownSocket: () => assert.fail('-socket was given') }, env);
    try {
      assert.equal(readFileSync(file, 'utf8'), `listening ${process.pid} unix://${path}\n`);
      assert.throws(() => fstatSync(fd), { code: 'EBADF' }, 'the fd is closed');
      assert.deepEqual(env, { OTHER: 'kept' });
      assert.equal(readFileSync(join(bundle, 'address'), 'utf8'), `unix://${path}`, 'as Node\'s start writes it: no newline');
      assert.equal(readFileSync(join(bundle, 'shim.pid'), 'utf8'), String(process.pid));
      assert.deepEqual(readdirSync(bundle).sort(), ['address', 'shim.pid'], 'no temporary file left');
      assert.equal(l.socket, path);
      assert.equal(l.byShStart, true);
    } finally {
      l.server.close();
    }
  });

  it('for the sh start without -socket: listens where Node\'s start would (ownSocket); without a ready fd, -socket is required', async () => {
    const fd = openSync(join(dir, 'ready-own'), 'w');
    const bundle = join(dir, 'own-bundle');
    mkdirSync(bundle);
    const own = join(dir, 'own.sock');
    const l = await serveListener({ socket: '', bundle, ownSocket: () => own }, { [READY_FD_ENV]: String(fd) });
    try {
      assert.equal(l.socket, own);
      assert.ok(statSync(own).isSocket());
      assert.equal(readFileSync(join(dir, 'ready-own'), 'utf8'), `listening ${process.pid} unix://${own}\n`);
      assert.equal(readFileSync(join(bundle, 'address'), 'utf8'), `unix://${own}`);
    } finally {
      l.server.close();
    }
    await assert.rejects(serveListener({ socket: '', bundle, ownSocket: () => own }, {}), /serve needs -socket/);
  });

  it('for the sh start, a bundle it cannot write: throws, says nothing, leaves no file and no socket', async () => {
    for (const blocked of ['address', 'shim.pid']) {
      const ready = join(dir, `ready-${blocked}`);
      const fd = openSync(ready, 'w');
      const bundle = join(dir, `blocked-${blocked}`);
      mkdirSync(join(bundle, blocked, 'in-the-way'), { recursive: true }); // rename(2) cannot replace a non-empty directory
      const path = join(dir, `blocked-${blocked}.sock`);
      await assert.rejects(serveListener({ socket: path, bundle, ownSocket: () => path }, { [READY_FD_ENV]: String(fd) }), { code: /^(EISDIR|ENOTEMPTY|EEXIST)$/ }, blocked);
      assert.equal(readFileSync(ready, 'utf8'), '', `${blocked}: nothing said`);
      assert.throws(() => fstatSync(fd), { code: 'EBADF' }, `${blocked}: the ready fd is closed`);
      assert.deepEqual(readdirSync(bundle), [blocked], `${blocked}: no address, shim.pid or temporary file left`);
      assert.equal(existsSync(path), false, `${blocked}: no socket left`);
      assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(`blocked-${blocked}.sock`)), []);
    }
  });

  it('a socket path too long for sun_path (with the temporary suffix): InvalidArgument naming the limit, nothing made', async () => {
    const base = join(dir, 'long');
    const long = join(base, 'x'.repeat(106 - base.length - 1)); // 106 bytes: fits, but not with ".<pid>"
    assert.equal(long.length, 106);
    await assert.rejects(listenLinked(long), /unix socket path is \d+ bytes, the limit is 107/);
    assert.equal(existsSync(join(dir, 'long')), false);
  });

  it('abandon (serve failed before serving): refuses at once, closes what waits, leaves the dead socket', async () => {
    const path = join(dir, 'abandoned');
    const l = await serveListener(req(path), {});
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
    await assert.rejects(serveListener(req(''), {}), /serve needs -socket/);
  });
});
