/**
 * The Windows hvsocket transport (koffi + Winsock) run on Linux against test/fixtures/ws2_32-double.c:
 * the same declarations, the same `.async` calls, the same WSA error handling as on Windows.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { LinuxGcsVsockPort } from '../../src/gcs/protocol/index.js';
import { ErrorCode, ShimError } from '../../src/errdefs/index.js';
import {
  WindowsTransport,
  WinsockError,
  WsaError,
  asWinsockError,
  vsockServiceId,
  type Connection,
} from '../../src/transport/index.js';
import { WsCounter, buildWs2Double } from '../fixtures/ws2_32-double.js';
import { until } from '../fixtures/wait.js';

const dbl = buildWs2Double();
after(() => dbl.dispose());
const transport = new WindowsTransport({ winsockLibrary: dbl.path });
const VM = '5e0a0c1d-0000-4000-8000-0000000000aa';
let nextPort = 0x40000100;
const address = (port = nextPort++) => ({ vmId: VM, serviceId: vsockServiceId(port) });

/** The "guest": connects to where the double bound the SOCKADDR_HV the transport encoded. */
function guestDial(addr: { vmId: string; serviceId: string }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ path: dbl.socketPath(addr.vmId, addr.serviceId), allowHalfOpen: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function readAll(s: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (b: Buffer) => parts.push(b));
    s.once('end', () => resolve(Buffer.concat(parts).toString()));
    s.once('error', reject);
  });
}

describe('hvsocket listener over Winsock (C double)', { timeout: 30_000 }, () => {
  test('binds the SOCKADDR_HV of (runtime id, VsockServiceID(port)); WSAStartup runs once', async () => {
    const a = { vmId: VM, serviceId: vsockServiceId(LinuxGcsVsockPort) };
    assert.equal(a.serviceId, '40000000-facb-11e6-bd58-64006a7986d3');
    const l = await transport.listenHvSocket(a);
    const l2 = await transport.listenHvSocket(address());
    assert.equal(l.address, `hvsock://${VM}/40000000-facb-11e6-bd58-64006a7986d3`);
    const accepted = l.accept();
    const guest = await guestDial(a); // reaches the path the double derived from the 36 address bytes
    const conn = await accepted;
    assert.equal(dbl.counter(WsCounter.Startups), 1);
    conn.destroy();
    guest.destroy();
    await l.close();
    await l2.close();
  });

  test('bytes both ways, short reads reassembled, and half-close in both directions', async () => {
    const a = address();
    const l = await transport.listenHvSocket(a);
    const accepted = l.accept();
    const guest = await guestDial(a);
    const conn = await accepted;
    dbl.setRecvChunk(3);
    try {
      const payload = 'hello from the guest: ' + 'x'.repeat(5000);
      const got = readAll(conn);
      guest.end(payload); // the guest shuts down its send side: EOF for us, our send side stays open
      assert.equal(await got, payload);
      const back = readAll(guest);
      conn.end('reply after EOF'); // shutdown(SD_SEND): the guest reads the reply, then EOF
      assert.equal(await back, 'reply after EOF');
    } finally {
      dbl.setRecvChunk(0);
      conn.destroy();
      guest.destroy();
      await l.close();
    }
  });

  test('end() is stdin EOF: the guest sees EOF and can still answer', async () => {
    const a = address();
    const l = await transport.listenHvSocket(a);
    const accepted = l.accept();
    const guest = await guestDial(a);
    const conn = await accepted;
    const guestGot = readAll(guest);
    conn.end('stdin bytes');
    assert.equal(await guestGot, 'stdin bytes');
    const got = readAll(conn);
    guest.end('stdout after stdin EOF');
    assert.equal(await got, 'stdout after stdin EOF');
    await l.close();
  });

  test('a large write goes through (send may take part of a chunk)', async () => {
    const a = address();
    const l = await transport.listenHvSocket(a);
    const accepted = l.accept();
    const guest = await guestDial(a);
    const conn = await accepted;
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    const got = new Promise<number>((resolve) => {
      let n = 0;
      guest.on('data', (b: Buffer) => (n += b.length));
      guest.once('end', () => resolve(n));
    });
    conn.end(big);
    assert.equal(await got, big.length);
    guest.destroy();
    await l.close();
  });

  test('closing the listener aborts the pending native accept (WSAEINTR), frees the pool thread', async () => {
    const l = await transport.listenHvSocket(address());
    const live = dbl.counter(WsCounter.LiveSockets);
    const pending = l.accept();
    await until('the native accept to block', () => dbl.counter(WsCounter.InFlight) === 1);
    await l.close();
    const err = await pending.then(
      () => assert.fail('accept resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ShimError);
    assert.equal(err.code, ErrorCode.Unavailable);
    assert.equal(asWinsockError(err)?.wsaCode, WsaError.WSAEINTR);
    assert.equal(asWinsockError(err)?.call, 'accept');
    assert.equal(dbl.counter(WsCounter.InFlight), 0);
    assert.equal(dbl.counter(WsCounter.LiveSockets), live - 1);
    await assert.rejects(l.accept(), (e: ShimError) => e.code === ErrorCode.Unavailable);
    await l.close(); // idempotent
  });

  test('an aborted accept is Canceled; the connection the native accept still gets goes to the next caller', async () => {
    const a = address();
    const l = await transport.listenHvSocket(a);
    const ac = new AbortController();
    const first = l.accept(ac.signal);
    ac.abort(new Error('caller gave up'));
    await assert.rejects(first, (e: ShimError) => e.code === ErrorCode.Canceled);
    await assert.rejects(l.accept(AbortSignal.abort()), (e: ShimError) => e.code === ErrorCode.Canceled);
    const guest = await guestDial(a);
    guest.end('queued');
    await until('the native accept to complete', () => dbl.counter(WsCounter.Accepts) > 0);
    const conn = await l.accept();
    assert.equal(await readAll(conn), 'queued');
    conn.destroy();
    guest.destroy();
    await l.close();
  });

  test('concurrent accepts get one connection each', async () => {
    const a = address();
    const l = await transport.listenHvSocket(a);
    const accepts = [l.accept(), l.accept(), l.accept()];
    const guests = await Promise.all([0, 1, 2].map(async (i) => {
      const g = await guestDial(a);
      g.end(`guest ${i}`);
      return g;
    }));
    const conns = await Promise.all(accepts);
    const texts = await Promise.all(conns.map((c) => readAll(c)));
    assert.deepEqual([...texts].sort(), ['guest 0', 'guest 1', 'guest 2']);
    for (const s of [...guests, ...conns]) s.destroy();
    await l.close();
  });

  test('errors carry the WSA code and map to containerd codes; a failed listen leaks no socket', async () => {
    const live = dbl.counter(WsCounter.LiveSockets);
    dbl.failNext('bind', WsaError.WSAEACCES);
    await assert.rejects(transport.listenHvSocket(address()), (e: unknown) => {
      assert.ok(e instanceof WinsockError);
      assert.equal(e.call, 'bind');
      assert.equal(e.wsaCode, 10013);
      assert.equal(e.code, ErrorCode.FailedPrecondition);
      assert.match(e.message, /bind hvsock:\/\/.*: winsock error 10013/);
      return true;
    });
    dbl.failNext('socket', WsaError.WSAEAFNOSUPPORT);
    await assert.rejects(transport.listenHvSocket(address()), (e: WinsockError) => e.call === 'socket' && e.wsaCode === 10047);
    dbl.failNext('listen', WsaError.WSAENOBUFS);
    await assert.rejects(transport.listenHvSocket(address()), (e: WinsockError) => e.code === ErrorCode.ResourceExhausted);
    assert.equal(dbl.counter(WsCounter.LiveSockets), live);

    const a = address();
    const l = await transport.listenHvSocket(a);
    await assert.rejects(transport.listenHvSocket(a), (e: WinsockError) => {
      assert.equal(e.wsaCode, WsaError.WSAEADDRINUSE);
      assert.equal(e.code, ErrorCode.AlreadyExists);
      return true;
    });
    await l.close();
  });

  test('bad GUIDs are rejected before any native call', async () => {
    const live = dbl.counter(WsCounter.LiveSockets);
    await assert.rejects(transport.listenHvSocket({ vmId: 'not-a-guid', serviceId: vsockServiceId(1) }), (e: ShimError) => {
      assert.equal(e.code, ErrorCode.InvalidArgument);
      assert.match(e.message, /not-a-guid/);
      return true;
    });
    assert.equal(dbl.counter(WsCounter.LiveSockets), live);
  });

  test('a recv failure destroys the stream with the WSA code; destroy closes a socket whose recv is blocked', async () => {
    const a = address();
    const l = await transport.listenHvSocket(a);
    let accepted = l.accept();
    let guest = await guestDial(a);
    let conn: Connection = await accepted;
    dbl.failNext('recv', WsaError.WSAECONNRESET);
    const err = await new Promise<Error>((resolve) => {
      conn.once('error', resolve);
      conn.resume();
    });
    assert.equal(asWinsockError(err)?.wsaCode, 10054);
    assert.equal((err as ShimError).code, ErrorCode.Unavailable);
    guest.destroy();

    accepted = l.accept();
    guest = await guestDial(a);
    conn = await accepted;
    const live = dbl.counter(WsCounter.LiveSockets);
    conn.resume(); // a recv now blocks on a pool thread
    await until('the native recv to block', () => dbl.counter(WsCounter.InFlight) === 1);
    conn.destroy();
    await until('the blocked recv to return', () => dbl.counter(WsCounter.InFlight) === 0);
    assert.equal(dbl.counter(WsCounter.LiveSockets), live - 1);
    guest.destroy();
    await l.close();
  });

  test('a write after our own shutdown fails with WSAESHUTDOWN through the stream', async () => {
    const a = address();
    const l = await transport.listenHvSocket(a);
    const accepted = l.accept();
    const guest = await guestDial(a);
    const conn = await accepted;
    await new Promise<void>((resolve) => conn.end(resolve));
    // Writable refuses writes after end() itself; the native check is exercised through a raw send failure:
    dbl.failNext('send', WsaError.WSAECONNABORTED);
    const c2accepted = l.accept();
    const g2 = await guestDial(a);
    const c2 = await c2accepted;
    const err = await new Promise<Error>((resolve) => {
      c2.once('error', resolve);
      c2.write('x');
    });
    assert.equal(asWinsockError(err)?.wsaCode, WsaError.WSAECONNABORTED);
    for (const s of [guest, g2, conn]) s.destroy();
    await l.close();
  });
});
