import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, isErrorCode } from '../../src/errdefs/index.js';
import { createTransport, emulatedVsockPath, vsockServiceId, type Connection } from '../../src/transport/index.js';

const RID = '6b1e2a9c-0d1f-4c6e-8a55-9e0f3b7c2d11';

/** Reads to EOF without destroying the stream (a for-await loop would destroy it, killing the send side). */
async function readAll(conn: Connection): Promise<string> {
  const chunks: Buffer[] = [];
  conn.on('data', (c: Buffer) => chunks.push(c));
  await once(conn, 'end');
  return Buffer.concat(chunks).toString();
}

describe('unix transport', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'lcow-tr-'));
    await mkdir(join(root, RID), { mode: 0o700 });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is chosen on linux and reports platform linux', () => {
    assert.equal(createTransport({ platform: 'linux' }).platform, 'linux');
  });

  it('listens on the emulated vsock path, accepts a dialed connection and carries bytes both ways with half-close', async () => {
    const tr = createTransport({ platform: 'linux', emulatorRoot: root });
    const l = await tr.listenHvSocket({ vmId: RID, serviceId: vsockServiceId(0x40000000) });
    const path = emulatedVsockPath(RID, 0x40000000, root);
    assert.ok(existsSync(path));
    assert.match(l.address, /1073741824\.sock/);
    const [server, client] = await Promise.all([l.accept(), tr.dial(`unix://${path}`)]);
    client.end('ping');
    assert.equal(await readAll(server), 'ping');
    server.end('pong'); // the other direction still works after the peer's half-close
    assert.equal(await readAll(client), 'pong');
    await l.close();
    assert.equal(existsSync(path), false, 'close removes the socket file');
  });

  it('queues connections in arrival order, keeping data sent before accept', async () => {
    const tr = createTransport({ platform: 'linux', emulatorRoot: root });
    const l = await tr.listenHvSocket({ vmId: RID, serviceId: vsockServiceId(1) });
    const path = emulatedVsockPath(RID, 1, root);
    const clients: Connection[] = [];
    for (const word of ['first', 'second', 'third']) {
      const c = await tr.dial(path);
      c.end(word);
      await once(c, 'finish');
      clients.push(c);
    }
    await new Promise((r) => setTimeout(r, 20)); // all three are queued on the server side by now
    assert.equal(await readAll(await l.accept()), 'first');
    assert.equal(await readAll(await l.accept()), 'second');
    assert.equal(await readAll(await l.accept()), 'third');
    for (const c of clients) c.destroy();
    await l.close();
  });

  it('accept rejects Canceled on abort (before and while waiting) and the listener keeps working', async () => {
    const tr = createTransport({ platform: 'linux', emulatorRoot: root });
    const l = await tr.listenHvSocket({ vmId: RID, serviceId: vsockServiceId(109) });
    await assert.rejects(l.accept(AbortSignal.abort()), (e) => isErrorCode(e, ErrorCode.Canceled));
    const ac = new AbortController();
    const pending = l.accept(ac.signal);
    ac.abort();
    await assert.rejects(pending, (e) => isErrorCode(e, ErrorCode.Canceled));
    const [s, c] = await Promise.all([l.accept(), tr.dial(emulatedVsockPath(RID, 109, root))]);
    c.end('x');
    assert.equal(await readAll(s), 'x');
    c.destroy();
    await l.close();
  });

  it('close fails pending accepts with Unavailable, is idempotent, and later accepts fail too', async () => {
    const tr = createTransport({ platform: 'linux', emulatorRoot: root });
    const l = await tr.listenHvSocket({ vmId: RID, serviceId: vsockServiceId(7) });
    const p1 = assert.rejects(l.accept(), (e) => isErrorCode(e, ErrorCode.Unavailable));
    const p2 = assert.rejects(l.accept(), (e) => isErrorCode(e, ErrorCode.Unavailable));
    await Promise.all([l.close(), l.close(), p1, p2]);
    await assert.rejects(l.accept(), (e) => isErrorCode(e, ErrorCode.Unavailable));
    await assert.rejects(tr.dial(emulatedVsockPath(RID, 7, root)), (e) => isErrorCode(e, ErrorCode.NotFound));
  });

  it('close destroys queued connections nobody accepted', async () => {
    const tr = createTransport({ platform: 'linux', emulatorRoot: root });
    const l = await tr.listenHvSocket({ vmId: RID, serviceId: vsockServiceId(8) });
    const c = await tr.dial(emulatedVsockPath(RID, 8, root));
    const ended = once(c, 'end');
    c.resume();
    await new Promise((r) => setTimeout(r, 20)); // let the server see the connection
    await l.close();
    await ended; // the server side was destroyed: EOF
    c.destroy();
  });

  it('listening for a VM that does not exist is NotFound naming the runtime id', async () => {
    const tr = createTransport({ platform: 'linux', emulatorRoot: root });
    const other = '00000000-1111-4222-8333-444444444444';
    await assert.rejects(
      tr.listenHvSocket({ vmId: other, serviceId: vsockServiceId(1) }),
      (e) => isErrorCode(e, ErrorCode.NotFound) && String(e).includes(other),
    );
    await assert.rejects(
      tr.listenHvSocket({ vmId: RID, serviceId: 'e0e16197-dd56-4a10-9195-5ee7a155a838' }),
      (e) => isErrorCode(e, ErrorCode.InvalidArgument),
    );
  });

  it('replaces a stale socket file but refuses a live listener', async () => {
    const tr = createTransport({ platform: 'linux', emulatorRoot: root });
    const path = emulatedVsockPath(RID, 20, root);
    await mkdir(join(root, RID, 'vsock'), { recursive: true });
    // A stale socket: a server that listened and went away without unlinking (simulate with a plain bind).
    const stale = createServer();
    await new Promise<void>((r) => stale.listen(path, r));
    const handle = (stale as unknown as { _handle: { close(): void } | null })._handle;
    handle?.close(); // close the fd without unlinking the path
    const l = await tr.listenHvSocket({ vmId: RID, serviceId: vsockServiceId(20) });
    await assert.rejects(tr.listenHvSocket({ vmId: RID, serviceId: vsockServiceId(20) }), (e) => isErrorCode(e, ErrorCode.AlreadyExists));
    await l.close();
    stale.close();
  });

  it('dial: missing path NotFound, not a socket Unavailable, abort Canceled, too long InvalidArgument', async () => {
    const tr = createTransport({ platform: 'linux', emulatorRoot: root });
    await assert.rejects(tr.dial(join(root, 'nope.sock')), (e) => isErrorCode(e, ErrorCode.NotFound) && /nope\.sock/.test(String(e)));
    const file = join(root, 'plain-file');
    await writeFile(file, 'x');
    await assert.rejects(tr.dial(file), (e) => isErrorCode(e, ErrorCode.Unavailable) && /plain-file/.test(String(e)));
    await assert.rejects(tr.dial(join(root, 'x.sock'), AbortSignal.abort()), (e) => isErrorCode(e, ErrorCode.Canceled));
    await assert.rejects(tr.dial('/' + 'a'.repeat(200)), (e) => isErrorCode(e, ErrorCode.InvalidArgument));
  });

  it('serves a local unix socket with listen()', async () => {
    const tr = createTransport({ platform: 'linux' });
    const path = join(root, 'ttrpc.sock');
    const l = await tr.listen(`unix://${path}`);
    const [s, c] = await Promise.all([l.accept(), tr.dial(path)]);
    (c as Socket).end('hello');
    assert.equal(await readAll(s), 'hello');
    c.destroy();
    await l.close();
    assert.equal(existsSync(path), false);
  });
});

describe('windows transport (selected by platform)', () => {
  it('listenHvSocket without a loadable Winsock library is FailedPrecondition naming the library', async () => {
    const tr = createTransport({ platform: 'win32', winsockLibrary: '/nonexistent/no-such-ws2_32.dll' });
    assert.equal(tr.platform, 'windows');
    assert.equal(tr.serveMode, 'ready-handshake');
    await assert.rejects(
      tr.listenHvSocket({ vmId: RID, serviceId: vsockServiceId(1) }),
      (e) => isErrorCode(e, ErrorCode.FailedPrecondition) && /no-such-ws2_32\.dll/.test(String(e)),
    );
  });

  it('dial accepts named pipe paths only', async () => {
    const tr = createTransport({ platform: 'win32' });
    await assert.rejects(tr.dial('/tmp/x.sock'), (e) => isErrorCode(e, ErrorCode.InvalidArgument) && /named pipe/.test(String(e)));
    await assert.rejects(tr.listen('/tmp/x.sock'), (e) => isErrorCode(e, ErrorCode.InvalidArgument));
  });
});
