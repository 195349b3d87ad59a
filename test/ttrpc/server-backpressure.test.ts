/**
 * Server flow control (PROTOCOL.md, "Flow control"): a peer that sends requests and never reads the replies,
 * or keeps many calls running, makes the server stop reading its connection instead of buffering without
 * bound; nothing is lost when the peer reads again; closing frees everything.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ttrpc } from '../../src/proto/index.js';
import { FLOW_LIMITS, FrameDecoder, MessageType, TtrpcServer, encodeFrame, type RpcContext } from '../../src/ttrpc/index.js';
import { gate, socketPair } from './wire.js';
import { until } from '../fixtures/wait.js';

function request(streamId: number, method: string, payload: Uint8Array): Buffer {
  return encodeFrame(streamId, MessageType.Request, 0, ttrpc.Request.encode({ service: 'test.Svc', method, payload }).finish());
}

/** Polls `f` until it returns the same value `times` times in a row 50 ms apart (bounded); returns it. */
async function settledValue<T>(f: () => T, times = 6): Promise<T> {
  let last = f();
  let same = 0;
  for (let i = 0; i < 400 && same < times; i++) {
    await sleep(50);
    const v = f();
    same = JSON.stringify(v) === JSON.stringify(last) ? same + 1 : 0;
    last = v;
  }
  return last;
}

const saved = { ...FLOW_LIMITS };
const teardown: Array<() => void> = [];
afterEach(() => {
  Object.assign(FLOW_LIMITS, saved);
  for (const f of teardown.splice(0)) f();
});

async function serve(handlers: Record<string, (p: Uint8Array, ctx: RpcContext) => Promise<Uint8Array>>): Promise<{ server: TtrpcServer; sock: Socket }> {
  const server = new TtrpcServer();
  server.register('test.Svc', handlers);
  const [sock, peer, cleanup] = await socketPair();
  server.handleConnection(peer);
  teardown.push(() => {
    sock.destroy();
    server.close();
    cleanup();
  });
  return { server, sock };
}

/** Counts the Response frames (by stream id) arriving on `sock` once reading starts. */
function countReplies(sock: Socket): Set<number> {
  const ids = new Set<number>();
  const decoder = new FrameDecoder();
  sock.on('data', (chunk: Buffer) => {
    for (const ev of decoder.decode(chunk)) if (ev.kind === 'frame' && ev.frame.type === MessageType.Response) ids.add(ev.frame.streamId);
  });
  return ids;
}

describe('ttrpc server flow control', () => {
  it('stops reading a client that never reads its replies, holds at most ~the high-water mark, and loses nothing once it reads', async () => {
    let served = 0;
    const reply = new Uint8Array(1000).fill(7);
    const { server, sock } = await serve({ Echo: async () => (served++, reply) });
    sock.pause(); // the client never reads
    const total = 20_000; // 20 MB of replies if all were buffered
    const frames = Array.from({ length: total }, (_, i) => request(2 * i + 1, 'Echo', new Uint8Array(8)));
    sock.write(Buffer.concat(frames));
    const servedWhilePaused = await settledValue(() => served);
    const [flow] = server.flows();
    assert.ok(flow !== undefined);
    assert.ok(servedWhilePaused < total, `the server stopped reading (served ${servedWhilePaused} of ${total})`);
    assert.equal(flow.paused, true);
    // Bound: the high-water mark, plus the replies of the calls one read (≤ 64 KiB of requests) started.
    const perRead = Math.ceil((64 * 1024) / (frames[0]?.length ?? 1));
    const bound = FLOW_LIMITS.replyHighWaterBytes + perRead * (reply.length + 16);
    assert.ok(flow.replyBytes <= bound, `replies held: ${flow.replyBytes} bytes (bound ${bound})`);
    // The client reads again: every request is answered exactly once.
    const ids = countReplies(sock);
    sock.resume();
    await until(`all ${total} replies arrived (${ids.size})`, () => ids.size === total);
    assert.equal(served, total);
    await until('reading resumed', () => server.flows()[0]?.paused === false);
  });

  it('keeps at most maxCallsInFlight calls running; the rest wait, in order, and run as calls finish', async () => {
    FLOW_LIMITS.maxCallsInFlight = 4;
    const g = gate<Uint8Array>();
    const started: number[] = [];
    const { server, sock } = await serve({ Slow: (p) => (started.push(p[0] ?? 0), g.promise) });
    const ids = countReplies(sock);
    sock.write(Buffer.concat(Array.from({ length: 10 }, (_, i) => request(2 * i + 1, 'Slow', Uint8Array.of(i)))));
    await until('four calls started', () => started.length === 4);
    assert.deepEqual(await settledValue(() => started.length, 4), 4);
    const flow = server.flows()[0];
    assert.deepEqual({ ...flow, backlog: undefined }, { paused: true, callsInFlight: 4, requestBytes: 4, replyBytes: 0, backlog: undefined });
    assert.ok((flow?.backlog ?? 0) <= 6); // the frames of the chunk read last wait (a later chunk stays unread)
    g.open(new Uint8Array(0));
    await until('all ten answered', () => ids.size === 10);
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('bounds the request bytes held by running calls (maxRequestBytesInFlight)', async () => {
    FLOW_LIMITS.maxRequestBytesInFlight = 1000;
    const g = gate<Uint8Array>();
    let started = 0;
    const { server, sock } = await serve({ Slow: () => (started++, g.promise) });
    const ids = countReplies(sock);
    sock.write(Buffer.concat(Array.from({ length: 8 }, (_, i) => request(2 * i + 1, 'Slow', new Uint8Array(400)))));
    assert.equal(await settledValue(() => started, 4), 3, '400 + 400 + 400 reaches 1000: the third call is the last one read');
    assert.equal(server.flows()[0]?.requestBytes, 1200);
    g.open(new Uint8Array(0));
    await until('all eight answered', () => ids.size === 8);
  });

  it('closing a paused connection frees it: calls aborted, nothing kept, the server forgets it', async () => {
    FLOW_LIMITS.maxCallsInFlight = 2;
    const aborted: unknown[] = [];
    const { server, sock } = await serve({
      Hang: (_p, ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => (aborted.push(ctx.signal.reason), reject(ctx.signal.reason)))),
    });
    sock.write(Buffer.concat(Array.from({ length: 50 }, (_, i) => request(2 * i + 1, 'Hang', new Uint8Array(10)))));
    await until('two calls running', () => server.flows()[0]?.callsInFlight === 2);
    assert.equal(server.flows()[0]?.paused, true);
    sock.destroy();
    await until('the connection is gone', () => server.connectionCount === 0);
    assert.equal(aborted.length, 2);
  });
});

describe('ttrpc frame decoder memory', () => {
  it('holds only the bytes that arrived of a frame announced at 4 MiB (not the announced size)', () => {
    const before = process.memoryUsage().arrayBuffers;
    const decoders = Array.from({ length: 50 }, () => new FrameDecoder());
    const header = Buffer.from('003fffff000000010100', 'hex'); // 4 MiB - 1 announced, stream 1, Request
    for (const d of decoders) assert.deepEqual(d.decode(Buffer.concat([header, Buffer.alloc(100)])), []);
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 8 << 20, `50 partial 4 MiB frames hold ${grown} bytes (200 MiB if preallocated)`);
    assert.equal(decoders.every((d) => !d.idle), true);
  });
});
