import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { ErrorCode, GrpcCode, ShimError } from '../../src/errdefs/index.js';
import { ttrpc } from '../../src/proto/index.js';
import {
  HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
  NAMESPACE_METADATA_KEY,
  TtrpcClient,
  TtrpcClosedError,
  TtrpcStatusError,
  encodeFrame,
} from '../../src/ttrpc/index.js';
import { RawReader, hex, socketPair, toHex, writeChunked } from './wire.js';
import { platformDial } from '../fakes/platform-dial.js';

const CONNECT_DATA =
  '0a17636f6e7461696e6572642e7461736b2e76322e5461736b1207436f6e6e6563741a040a0274312a250a1a636f6e7461696e6572642d6e616d6573706163652d7474727063120764656661756c74';

interface Peer {
  client: TtrpcClient;
  /** The server end, driven by hand. */
  sock: Socket;
  reader: RawReader;
}

const teardown: Array<() => void> = [];
afterEach(() => {
  for (const f of teardown.splice(0)) f();
});

async function peer(): Promise<Peer> {
  const [clientSock, serverSock, cleanup] = await socketPair();
  const client = new TtrpcClient(clientSock);
  teardown.push(() => {
    void client.close();
    serverSock.destroy();
    cleanup();
  });
  return { client, sock: serverSock, reader: new RawReader(serverSock) };
}

const reply = (streamId: number, resp: ttrpc.Response.$Properties): Buffer =>
  encodeFrame(streamId, MessageType.Response, 0, ttrpc.Response.encode(resp).finish());

describe('TtrpcClient against a hand-driven peer', () => {
  it('sends the reference Connect request byte for byte and reads the reference OK reply fed byte by byte', async () => {
    const p = await peer();
    const call = p.client.call('containerd.task.v2.Task', 'Connect', hex('0a027431'), {
      metadata: { [NAMESPACE_METADATA_KEY]: 'default' },
    });
    const frame = await p.reader.next();
    assert.equal(toHex(encodeFrame(frame.streamId, frame.type, frame.flags, frame.data)), `0000004f000000010100${CONNECT_DATA}`);
    writeChunked(p.sock, hex('0000000a 00000001 02 00 0a00 1206 08d209 10ae2c'), 1);
    assert.equal(toHex(await call), '08d20910ae2c');
  });

  it('uses odd, strictly increasing stream ids starting at 1, and sends timeout_nano only with a timeout', async () => {
    const p = await peer();
    const calls = [p.client.call('s', 'A', new Uint8Array(0)), p.client.call('s', 'B', new Uint8Array(0), { timeoutMs: 2000 })];
    const f1 = await p.reader.next();
    const f3 = await p.reader.next();
    assert.deepEqual([f1.streamId, f3.streamId, f1.flags, f3.flags], [1, 3, 0, 0]);
    assert.equal(Object.hasOwn(ttrpc.Request.decode(f1.data), 'timeout_nano'), false);
    assert.equal(ttrpc.Request.decode(f3.data).timeout_nano, 2_000_000_000);
    p.sock.write(Buffer.concat([reply(1, {}), reply(3, {})]));
    await Promise.all(calls);
    void p.client.call('s', 'C', new Uint8Array(0)).catch(() => undefined);
    assert.equal((await p.reader.next()).streamId, 5);
  });

  it('rejects with TtrpcStatusError for the reference error reply', async () => {
    const p = await peer();
    const call = p.client.call('containerd.task.v2.Task', 'Foo', new Uint8Array(0));
    await p.reader.next();
    p.sock.write(hex('00000010 00000001 02 00 0a0e080c120a6d6574686f6420466f6f'));
    await assert.rejects(call, (err: unknown) => {
      assert.ok(err instanceof TtrpcStatusError);
      assert.equal(err.grpcCode, GrpcCode.Unimplemented);
      assert.equal(err.code, ErrorCode.NotImplemented);
      assert.equal(err.message, 'method Foo');
      return true;
    });
  });

  it('matches out-of-order replies to their calls', async () => {
    const p = await peer();
    const a = p.client.call('s', 'A', hex('aa'));
    const b = p.client.call('s', 'B', hex('bb'));
    const c = p.client.call('s', 'C', hex('cc'));
    for (let i = 0; i < 3; i++) await p.reader.next();
    p.sock.write(Buffer.concat([reply(5, { payload: hex('05') }), reply(1, { payload: hex('01') }), reply(3, { status: { code: 5, message: 'gone' } })]));
    assert.equal(toHex(await a), '01');
    await assert.rejects(b, { code: ErrorCode.NotFound, message: 'gone' });
    assert.equal(toHex(await c), '05');
  });

  it('treats a status with code 0 and an empty Response frame as success', async () => {
    const p = await peer();
    const a = p.client.call('s', 'A', new Uint8Array(0));
    const b = p.client.call('s', 'B', new Uint8Array(0));
    p.sock.write(Buffer.concat([reply(1, { status: { code: 0, message: '' }, payload: hex('01') }), encodeFrame(3, MessageType.Response, 0, new Uint8Array(0))]));
    assert.equal(toHex(await a), '01');
    assert.equal((await b).length, 0);
  });

  it('fails only the call whose reply is oversized; the next call works', async () => {
    const p = await peer();
    const big = p.client.call('s', 'Big', new Uint8Array(0));
    const header = Buffer.alloc(HEADER_LENGTH);
    header.writeUInt32BE(MAX_MESSAGE_LENGTH + 1, 0);
    header.writeUInt32BE(1, 4);
    header.writeUInt8(MessageType.Response, 8);
    p.sock.write(Buffer.concat([header, Buffer.alloc(MAX_MESSAGE_LENGTH + 1)]));
    await assert.rejects(big, { code: ErrorCode.ResourceExhausted });
    const next = p.client.call('s', 'Small', new Uint8Array(0));
    p.sock.write(reply(3, { payload: hex('33') }));
    assert.equal(toHex(await next), '33');
  });

  it('fails every pending call with Unavailable when the peer closes mid-frame', async () => {
    const p = await peer();
    const a = p.client.call('s', 'A', new Uint8Array(0));
    const b = p.client.call('s', 'B', new Uint8Array(0));
    await p.reader.next();
    p.sock.end(reply(1, { payload: hex('0102030405') }).subarray(0, 12));
    for (const call of [a, b]) {
      await assert.rejects(call, (err: unknown) => err instanceof TtrpcClosedError && err.code === ErrorCode.Unavailable);
    }
    const closed = await p.client.closed;
    assert.equal(closed.code, ErrorCode.Unavailable);
    assert.equal(p.client.isClosed, true);
    await assert.rejects(p.client.call('s', 'C', new Uint8Array(0)), { code: ErrorCode.Unavailable, message: 'ttrpc: closed' });
  });

  it('enforces the deadline locally and drops the late reply', async () => {
    const p = await peer();
    const slow = p.client.call('s', 'Slow', new Uint8Array(0), { timeoutMs: 20 });
    // Expect the rejection at once: on a loaded machine the deadline can pass before the request is read back,
    // and a rejection nobody awaits yet fails the test run as unhandled.
    const expired = assert.rejects(slow, { code: ErrorCode.DeadlineExceeded });
    assert.equal(ttrpc.Request.decode((await p.reader.next()).data).timeout_nano, 20_000_000);
    await expired;
    const next = p.client.call('s', 'Next', new Uint8Array(0));
    await p.reader.next();
    p.sock.write(Buffer.concat([reply(1, { payload: hex('01') }), reply(3, { payload: hex('03') })]));
    assert.equal(toHex(await next), '03');
  });

  it('stops waiting when the AbortSignal fires (Canceled), before or after sending', async () => {
    const p = await peer();
    const ac = new AbortController();
    const call = p.client.call('s', 'A', new Uint8Array(0), { signal: ac.signal });
    await p.reader.next();
    ac.abort(new Error('user gave up'));
    await assert.rejects(call, (err: unknown) => err instanceof ShimError && err.code === ErrorCode.Canceled);
    await assert.rejects(p.client.call('s', 'B', new Uint8Array(0), { signal: ac.signal }), { code: ErrorCode.Canceled });
  });

  it('refuses a request over 4 MiB and a non-positive timeout without sending anything', async () => {
    const p = await peer();
    await assert.rejects(p.client.call('s', 'A', new Uint8Array(MAX_MESSAGE_LENGTH)), { code: ErrorCode.ResourceExhausted });
    await assert.rejects(p.client.call('s', 'A', new Uint8Array(0), { timeoutMs: 0 }), { code: ErrorCode.InvalidArgument });
    const ok = p.client.call('s', 'B', new Uint8Array(0));
    const frame = await p.reader.next();
    assert.equal(ttrpc.Request.decode(frame.data).method, 'B');
    p.sock.write(reply(frame.streamId, {}));
    await ok;
  });

  it('ignores Data frames, unknown types and replies for streams it never opened', async () => {
    const p = await peer();
    const call = p.client.call('s', 'A', new Uint8Array(0));
    p.sock.write(Buffer.concat([
      encodeFrame(1, MessageType.Data, 1, hex('00')),
      encodeFrame(1, 0x09, 0, hex('00')),
      reply(99, { payload: hex('99') }),
      reply(1, { payload: hex('01') }),
    ]));
    assert.equal(toHex(await call), '01');
  });

  it('close() fails pending calls and resolves closed', async () => {
    const p = await peer();
    const call = p.client.call('s', 'A', new Uint8Array(0));
    const closed = await p.client.close();
    assert.ok(closed instanceof TtrpcClosedError);
    await assert.rejects(call, { code: ErrorCode.Unavailable });
  });
});

describe('TtrpcClient.connect', () => {
  it('fails with Unavailable when nobody listens', async () => {
    await assert.rejects(TtrpcClient.connect('unix:///nonexistent/ttrpc-test.sock', { dial: platformDial }), { code: ErrorCode.Unavailable });
  });

  it('fails with Canceled when the signal is already aborted', async () => {
    await assert.rejects(TtrpcClient.connect('/nonexistent.sock', { dial: platformDial, signal: AbortSignal.abort() }), { code: ErrorCode.Canceled });
  });
});
