import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { ErrorCode, GrpcCode, ShimError } from '../../src/errdefs/index.js';
import { google, ttrpc } from '../../src/proto/index.js';
import {
  HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
  NAMESPACE_METADATA_KEY,
  TtrpcClosedError,
  TtrpcServer,
  encodeFrame,
  metadataValue,
  unmarshalPayload,
} from '../../src/ttrpc/index.js';
import type { Frame, RpcContext } from '../../src/ttrpc/index.js';
import { RawReader, gate, hex, socketPair, toHex, writeChunked } from './wire.js';

const CONNECT_FRAME = hex(
  '0000004f 00000001 01 00 0a17636f6e7461696e6572642e7461736b2e76322e5461736b1207436f6e6e6563741a040a0274312a250a1a636f6e7461696e6572642d6e616d6573706163652d7474727063120764656661756c74',
);

function requestFrame(streamId: number, req: ttrpc.Request.$Properties, type: number = MessageType.Request): Buffer {
  return encodeFrame(streamId, type, 0, ttrpc.Request.encode(req).finish());
}

function statusOf(frame: Frame): { code: number; message: string } {
  const resp = ttrpc.Response.decode(frame.data);
  return { code: resp.status?.code ?? 0, message: resp.status?.message ?? '' };
}

interface Session {
  server: TtrpcServer;
  sock: Socket;
  reader: RawReader;
  contexts: RpcContext[];
  slow: ReturnType<typeof gate<Uint8Array>>;
}

const teardown: Array<() => void> = [];
afterEach(() => {
  for (const f of teardown.splice(0)) f();
});

async function session(): Promise<Session> {
  const server = new TtrpcServer();
  const contexts: RpcContext[] = [];
  const slow = gate<Uint8Array>();
  server.register('containerd.task.v2.Task', {
    Connect: async (payload, ctx) => {
      contexts.push(ctx);
      assert.equal(toHex(payload), '0a027431'); // ConnectRequest{id: "t1"}
      return hex('08d209 10ae2c'); // ConnectResponse{shim_pid: 1234, task_pid: 5678}
    },
  });
  server.register('test.Svc', {
    Echo: async (payload, ctx) => (contexts.push(ctx), payload),
    Empty: async () => new Uint8Array(0),
    Fail: async () => {
      throw new Error('boom');
    },
    Throws: () => {
      throw new ShimError(ErrorCode.FailedPrecondition, 'sync throw');
    },
    Slow: () => slow.promise,
    WaitAbort: (_p, ctx) => {
      contexts.push(ctx);
      return new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    },
    Decode: async (payload) => {
      const st = unmarshalPayload(payload, (b) => google.rpc.Status.decode(b));
      return google.rpc.Status.encode(st).finish();
    },
  });
  const [sock, peer, cleanup] = await socketPair();
  server.handleConnection(peer);
  teardown.push(() => {
    sock.destroy();
    server.close();
    cleanup();
  });
  return { server, sock, reader: new RawReader(sock), contexts, slow };
}

describe('TtrpcServer on a raw connection', () => {
  it('refuses a handler table entry that is not a function', () => {
    const server = new TtrpcServer();
    assert.throws(() => server.register('s', { M: 1 as never }), { code: ErrorCode.InvalidArgument });
    server.register('s', {});
    assert.throws(() => server.register('s', {}), { code: ErrorCode.AlreadyExists });
  });

  it('answers the reference Connect request (fed byte by byte) with the OK reply, status left out', async () => {
    const s = await session();
    writeChunked(s.sock, CONNECT_FRAME, 1);
    const frame = await s.reader.next();
    assert.equal(toHex(encodeFrame(frame.streamId, frame.type, frame.flags, frame.data)), '00000008000000010200' + '120608d20910ae2c');
    const ctx = s.contexts[0];
    assert.ok(ctx !== undefined);
    assert.equal(ctx.service, 'containerd.task.v2.Task');
    assert.equal(ctx.method, 'Connect');
    assert.equal(ctx.streamId, 1);
    assert.equal(ctx.deadline, undefined);
    assert.equal(metadataValue(ctx.metadata, NAMESPACE_METADATA_KEY), 'default');
  });

  it('answers an unknown method with the reference error frame (Unimplemented "method Foo")', async () => {
    const s = await session();
    s.sock.write(requestFrame(1, { service: 'test.Svc', method: 'Echo' }));
    await s.reader.next();
    s.sock.write(requestFrame(3, { service: 'containerd.task.v2.Task', method: 'Foo' }));
    const frame = await s.reader.next();
    assert.equal(toHex(encodeFrame(frame.streamId, frame.type, frame.flags, frame.data)), '00000010000000030200' + '0a0e080c120a6d6574686f6420466f6f');
  });

  it('answers method Nope with the bytes a Go v1.1.1 server sends, and an unknown service with "service <name>"', async () => {
    const s = await session();
    s.sock.write(requestFrame(1, { service: 'test.Svc', method: 'Nope' }));
    assert.equal(toHex((await s.reader.next()).data), '0a0f080c120b6d6574686f64204e6f7065');
    s.sock.write(requestFrame(3, { service: 'nope.Svc', method: 'Echo' }));
    assert.deepEqual(statusOf(await s.reader.next()), { code: GrpcCode.Unimplemented, message: 'service nope.Svc' });
  });

  it('answers in completion order: a slow stream 1 after a fast stream 3', async () => {
    const s = await session();
    s.sock.write(Buffer.concat([
      requestFrame(1, { service: 'test.Svc', method: 'Slow' }),
      requestFrame(3, { service: 'test.Svc', method: 'Echo', payload: hex('03') }),
    ]));
    const first = await s.reader.next();
    assert.equal(first.streamId, 3);
    assert.equal(toHex(ttrpc.Response.decode(first.data).payload), '03');
    s.slow.open(hex('01'));
    const second = await s.reader.next();
    assert.equal(second.streamId, 1);
    assert.equal(toHex(ttrpc.Response.decode(second.data).payload), '01');
  });

  it('sends a 0-byte Response for an empty reply', async () => {
    const s = await session();
    s.sock.write(requestFrame(1, { service: 'test.Svc', method: 'Empty' }));
    const frame = await s.reader.next();
    assert.deepEqual([frame.streamId, frame.type, frame.flags, frame.data.length], [1, MessageType.Response, 0, 0]);
  });

  it('maps handler errors through toStatus (async and sync throws)', async () => {
    const s = await session();
    s.sock.write(requestFrame(1, { service: 'test.Svc', method: 'Fail' }));
    assert.deepEqual(statusOf(await s.reader.next()), { code: GrpcCode.Unknown, message: 'boom' });
    s.sock.write(requestFrame(3, { service: 'test.Svc', method: 'Throws' }));
    assert.deepEqual(statusOf(await s.reader.next()), { code: GrpcCode.FailedPrecondition, message: 'sync throw' });
  });

  it('accepts a Request of exactly 4 MiB, answers 4 MiB + 1 with ResourceExhausted on its stream and goes on', async () => {
    const s = await session();
    const big = exactRequest(MAX_MESSAGE_LENGTH);
    s.sock.write(encodeFrame(1, MessageType.Request, 0, big));
    const ok = await s.reader.next();
    assert.equal(ok.streamId, 1);
    assert.equal(ttrpc.Response.decode(ok.data).payload.length, ttrpc.Request.decode(big).payload.length);

    const header = Buffer.alloc(HEADER_LENGTH);
    header.writeUInt32BE(MAX_MESSAGE_LENGTH + 1, 0);
    header.writeUInt32BE(3, 4);
    header.writeUInt8(MessageType.Request, 8);
    s.sock.write(header);
    writeChunked(s.sock, Buffer.alloc(MAX_MESSAGE_LENGTH + 1, 0x7a), 1 << 20);
    const tooBig = await s.reader.next();
    assert.equal(tooBig.streamId, 3);
    assert.deepEqual(statusOf(tooBig), {
      code: GrpcCode.ResourceExhausted,
      message: 'message length 4194305 exceed maximum message size of 4194304',
    });

    s.sock.write(requestFrame(5, { service: 'test.Svc', method: 'Echo', payload: hex('05') }));
    const next = await s.reader.next();
    assert.equal(next.streamId, 5);
    assert.equal(toHex(ttrpc.Response.decode(next.data).payload), '05');
  });

  it('answers an undecodable Request with InvalidArgument and keeps the connection', async () => {
    const s = await session();
    s.sock.write(encodeFrame(1, MessageType.Request, 0, hex('0aff01')));
    const bad = statusOf(await s.reader.next());
    assert.equal(bad.code, GrpcCode.InvalidArgument);
    assert.match(bad.message, /^unmarshal request error: .+/);
    s.sock.write(requestFrame(3, { service: 'test.Svc', method: 'Echo', payload: hex('aa') }));
    assert.equal(toHex(ttrpc.Response.decode((await s.reader.next()).data).payload), 'aa');
  });

  it('answers a payload the handler cannot decode with Internal and keeps the connection', async () => {
    const s = await session();
    s.sock.write(requestFrame(1, { service: 'test.Svc', method: 'Decode', payload: hex('0aff') }));
    const bad = statusOf(await s.reader.next());
    assert.equal(bad.code, GrpcCode.Internal);
    assert.match(bad.message, /^ttrpc: error unmarshalling payload: .+/);
    const good = google.rpc.Status.encode({ code: 9, message: 'x' }).finish();
    s.sock.write(requestFrame(3, { service: 'test.Svc', method: 'Decode', payload: good }));
    assert.equal(toHex(ttrpc.Response.decode((await s.reader.next()).data).payload), toHex(good));
  });

  it('answers an even stream id with InvalidArgument on that id', async () => {
    const s = await session();
    s.sock.write(requestFrame(2, { service: 'test.Svc', method: 'Echo' }));
    const frame = await s.reader.next();
    assert.equal(frame.streamId, 2);
    assert.deepEqual(statusOf(frame), { code: GrpcCode.InvalidArgument, message: 'StreamID must be odd for client initiated streams' });
  });

  it('rejects a re-used or lower stream id (ttrpc ≥ 1.2 rule)', async () => {
    const s = await session();
    s.sock.write(requestFrame(5, { service: 'test.Svc', method: 'Echo' }));
    assert.equal((await s.reader.next()).streamId, 5);
    for (const id of [5, 3]) {
      s.sock.write(requestFrame(id, { service: 'test.Svc', method: 'Echo' }));
      const frame = await s.reader.next();
      assert.equal(frame.streamId, id);
      assert.deepEqual(statusOf(frame), { code: GrpcCode.InvalidArgument, message: 'StreamID cannot be re-used and must increment' });
    }
    s.sock.write(requestFrame(7, { service: 'test.Svc', method: 'Echo' }));
    assert.deepEqual(statusOf(await s.reader.next()), { code: 0, message: '' });
  });

  it('ignores Data frames and unknown message types', async () => {
    const s = await session();
    s.sock.write(Buffer.concat([
      encodeFrame(1, MessageType.Data, 0x01, hex('0102')),
      encodeFrame(3, 0x7f, 0, hex('ff')),
      requestFrame(5, { service: 'test.Svc', method: 'Echo', payload: hex('55') }),
    ]));
    const frame = await s.reader.next();
    assert.equal(frame.streamId, 5);
    assert.equal(toHex(ttrpc.Response.decode(frame.data).payload), '55');
  });

  it('answers DeadlineExceeded when the handler outlives timeout_nano, and aborts its signal', async () => {
    const s = await session();
    s.sock.write(requestFrame(1, { service: 'test.Svc', method: 'WaitAbort', timeout_nano: 20_000_000 }));
    const frame = await s.reader.next();
    assert.deepEqual(statusOf(frame), { code: GrpcCode.DeadlineExceeded, message: 'context deadline exceeded' });
    const ctx = s.contexts[0];
    assert.ok(ctx?.deadline !== undefined);
    assert.equal(ctx.signal.aborted, true);
    assert.equal((ctx.signal.reason as ShimError).code, ErrorCode.DeadlineExceeded);
  });

  it('gives the handler every metadata value, keys lower-cased', async () => {
    const s = await session();
    s.sock.write(requestFrame(1, {
      service: 'test.Svc',
      method: 'Echo',
      metadata: [{ key: 'X-Rep', value: 'a' }, { key: 'x-rep', value: 'b' }, { key: NAMESPACE_METADATA_KEY, value: 'k8s.io' }],
    }));
    await s.reader.next();
    assert.deepEqual(s.contexts[0]?.metadata.get('x-rep'), ['a', 'b']);
    assert.equal(metadataValue(s.contexts[0]!.metadata, NAMESPACE_METADATA_KEY), 'k8s.io');
  });

  it('survives a peer that closes mid-frame and aborts that peer\'s running calls', async () => {
    const s = await session();
    s.sock.write(requestFrame(1, { service: 'test.Svc', method: 'WaitAbort' }));
    while (s.contexts.length === 0) await new Promise((r) => setImmediate(r));
    s.sock.end(requestFrame(3, { service: 'test.Svc', method: 'Echo' }).subarray(0, 13));
    await s.reader.closed();
    const ctx = s.contexts[0]!;
    if (!ctx.signal.aborted) await new Promise((r) => ctx.signal.addEventListener('abort', r));
    assert.ok(ctx.signal.reason instanceof TtrpcClosedError);
    while (s.server.connectionCount > 0) await new Promise((r) => setImmediate(r));

    const [sock2, peer2, cleanup2] = await socketPair();
    teardown.push(() => (sock2.destroy(), cleanup2()));
    s.server.handleConnection(peer2);
    const reader2 = new RawReader(sock2);
    sock2.write(requestFrame(1, { service: 'test.Svc', method: 'Echo', payload: hex('0b') }));
    assert.equal(toHex(ttrpc.Response.decode((await reader2.next()).data).payload), '0b');
  });
});

describe('TtrpcServer.whenNoConnections', () => {
  const settled = async (p: Promise<void>): Promise<boolean> => {
    let done = false;
    void p.then(() => (done = true));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    return done;
  };

  it('resolves at once with no connection, and only once the last peer has closed', async () => {
    assert.equal(await settled(new TtrpcServer().whenNoConnections()), true);
    const s = await session();
    const [sock2, peer2, cleanup2] = await socketPair();
    teardown.push(() => (sock2.destroy(), cleanup2()));
    s.server.handleConnection(peer2);
    const gone = s.server.whenNoConnections();
    s.sock.end();
    await s.reader.closed();
    assert.equal(await settled(gone), false, 'one peer is still connected');
    sock2.end();
    await gone;
    assert.equal(s.server.connectionCount, 0);
    // the server still serves: a new connection is answered, and a new wait waits for it
    const [sock3, peer3, cleanup3] = await socketPair();
    teardown.push(() => (sock3.destroy(), cleanup3()));
    s.server.handleConnection(peer3);
    assert.equal(await settled(s.server.whenNoConnections()), false);
    const reader3 = new RawReader(sock3);
    sock3.write(requestFrame(1, { service: 'test.Svc', method: 'Echo', payload: hex('0c') }));
    assert.equal(toHex(ttrpc.Response.decode((await reader3.next()).data).payload), '0c');
  });

  it('resolves when the server closes the connections itself', async () => {
    const s = await session();
    const gone = s.server.whenNoConnections();
    assert.equal(await settled(gone), false);
    s.server.close();
    await gone;
  });
});

/** A Request (test.Svc/Echo) whose encoding is exactly `size` bytes. */
function exactRequest(size: number): Uint8Array {
  let payloadLen = size - 32;
  for (;;) {
    const bytes = ttrpc.Request.encode({ service: 'test.Svc', method: 'Echo', payload: new Uint8Array(payloadLen) }).finish();
    if (bytes.length === size) return bytes;
    payloadLen += size - bytes.length;
  }
}
