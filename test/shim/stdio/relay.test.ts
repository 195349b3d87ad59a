import assert from 'node:assert/strict';
import { closeSync, constants, createReadStream, createWriteStream, openSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { openUpstreamIO, relayStdio } from '../../../src/shim/stdio/index.js';
import type { UpstreamIO } from '../../../src/shim/stdio/index.js';
import { captureLog } from '../events/fake-events-server.js';
import { collect, mkfifo, pattern, settle, streamPair, tempDir, until } from './helpers.js';
import { createTransport } from '../../../src/transport/index.js';

const destroyAll = (...streams: Array<{ destroy(): unknown }>): void => streams.forEach((s) => s.destroy());
/** A regression must fail, not hang: the sockets and servers keep the event loop alive. */
const T = { timeout: 30_000 };
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A FIFO set as ctr makes it, opened by the shim. */
async function fifoSet(opts: { terminal?: boolean; stdin?: boolean } = {}): Promise<{ dir: string; paths: Record<'stdin' | 'stdout' | 'stderr', string>; up: UpstreamIO; logs: ReturnType<typeof captureLog> }> {
  const t = tempDir();
  cleanup.push(t.cleanup);
  const paths = {
    stdin: opts.stdin === false ? '' : mkfifo(join(t.dir, 'c1-stdin')),
    stdout: mkfifo(join(t.dir, 'c1-stdout')),
    stderr: opts.terminal === true ? '' : mkfifo(join(t.dir, 'c1-stderr')),
  };
  const logs = captureLog();
  const up = await openUpstreamIO({ ...paths, terminal: opts.terminal === true }, { containerId: 'c1', namespace: 'default', log: logs.log, transport: createTransport() });
  cleanup.push(() => up.close());
  return { dir: t.dir, paths, up, logs };
}

describe('relayStdio over real FIFOs', () => {
  it('copies client stdin to the guest and half-closes the guest stdin at the client EOF', T, async () => {
    const { dir, paths, up, logs } = await fifoSet();
    const [shimIn, guestIn] = await streamPair(dir, 'stdin');
    cleanup.push(() => destroyAll(shimIn, guestIn));
    const relay = relayStdio(up, { stdin: shimIn }, { log: logs.log });
    const got = collect(guestIn);
    const client = createWriteStream(paths.stdin); // ctr's side: opens for writing, writes, closes.
    const input = pattern(200_000, 7);
    client.end(input);
    const r = await got;
    assert.equal(r.ended, true, 'the guest saw EOF');
    assert.ok(r.data.equals(input), `guest got ${r.data.length} of ${input.length} bytes`);
    // Half-close, not close: the guest can still write on that connection and the shim end reads it.
    const back = collect(shimIn);
    guestIn.end('still-open');
    assert.equal((await back).data.toString(), 'still-open');
    await up.closeStdin(); // CloseIO after EOF: nothing left to do, idempotent.
    await up.closeStdin();
    await relay.done;
  });

  it('CloseIO (upstream.closeStdin) drops nothing: the copy runs to the client EOF, then the guest stdin is half-closed', T, async () => {
    const { dir, paths, up, logs } = await fifoSet();
    const [shimIn, guestIn] = await streamPair(dir, 'stdin');
    cleanup.push(() => destroyAll(shimIn, guestIn));
    relayStdio(up, { stdin: shimIn }, { log: logs.log });
    const got = collect(guestIn);
    // ctr's side, as a non-blocking socket on the FIFO (the shim's reader is open, so O_NONBLOCK succeeds): an
    // fs stream would park a blocking write(2) in the thread pool, which can outlive the test.
    const client = new Socket({ fd: openSync(paths.stdin, constants.O_WRONLY | constants.O_NONBLOCK), readable: false, writable: true });
    client.on('error', () => undefined);
    cleanup.push(() => void client.destroy());
    // More than a FIFO holds (64 KiB): when CloseIO comes, most of it is still in the FIFO or the client's
    // buffer — ctr sends CloseIO when its own stdin ends, before its copy into the FIFO has finished.
    const input = pattern(1 << 20, 3);
    client.write(input);
    await up.closeStdin();
    await up.closeStdin();
    await settle();
    assert.equal(guestIn.readableEnded, false, 'no EOF while the client still has its writer open');
    client.end();
    const r = await got;
    assert.equal(r.ended, true, 'the guest saw EOF');
    assert.ok(r.data.equals(input), `guest got ${r.data.length} of ${input.length} bytes`);
  });

  it('CloseIO before the relay starts (before Start) still delivers what the client wrote and closed', T, async () => {
    const { dir, paths, up, logs } = await fifoSet();
    // ctr writes and closes (less than the FIFO holds, so a non-blocking write takes it all at once).
    const fd = openSync(paths.stdin, constants.O_WRONLY | constants.O_NONBLOCK);
    const input = pattern(40_000, 5);
    assert.equal(writeSync(fd, input), input.length);
    closeSync(fd);
    await up.closeStdin();
    const [shimIn, guestIn] = await streamPair(dir, 'stdin');
    cleanup.push(() => destroyAll(shimIn, guestIn));
    relayStdio(up, { stdin: shimIn }, { log: logs.log });
    const r = await collect(guestIn);
    assert.equal(r.ended, true);
    assert.ok(r.data.equals(input), `guest got ${r.data.length} of ${input.length} bytes`);
  });

  it('CloseIO on a stdin FIFO no client ever opened ends the guest stdin (no hang)', T, async () => {
    const { dir, up, logs } = await fifoSet();
    const [shimIn, guestIn] = await streamPair(dir, 'stdin');
    cleanup.push(() => destroyAll(shimIn, guestIn));
    relayStdio(up, { stdin: shimIn }, { log: logs.log });
    const got = collect(guestIn);
    await settle();
    assert.equal(guestIn.readableEnded, false);
    await up.closeStdin();
    assert.deepEqual(await got, { data: Buffer.alloc(0), ended: true });
  });

  it('ends the guest stdin at once when the client gave no stdin', T, async () => {
    const { dir, up, logs } = await fifoSet({ stdin: false });
    assert.equal(up.stdin, undefined);
    const [shimIn, guestIn] = await streamPair(dir, 'stdin');
    cleanup.push(() => destroyAll(shimIn, guestIn));
    relayStdio(up, { stdin: shimIn }, { log: logs.log });
    assert.deepEqual(await collect(guestIn), { data: Buffer.alloc(0), ended: true });
  });

  it('copies 1 MiB of stdout and of stderr completely, to a slow client, before done resolves', T, async () => {
    const { dir, paths, up, logs } = await fifoSet();
    const [shimOut, guestOut] = await streamPair(dir, 'stdout');
    const [shimErr, guestErr] = await streamPair(dir, 'stderr');
    cleanup.push(() => [shimOut, guestOut, shimErr, guestErr].forEach((s) => s.destroy()));
    const relay = relayStdio(up, { stdout: shimOut, stderr: shimErr }, { log: logs.log });
    let done = false;
    void relay.done.then(() => (done = true));
    // The client reads with a tiny buffer and pauses now and then.
    const outClient = createReadStream(paths.stdout, { highWaterMark: 4096 });
    const errClient = createReadStream(paths.stderr, { highWaterMark: 4096 });
    cleanup.push(() => destroyAll(outClient, errClient));
    outClient.on('data', () => {
      outClient.pause();
      setImmediate(() => outClient.resume());
    });
    const outGot = collect(outClient);
    const errGot = collect(errClient);
    const out = pattern(1 << 20, 1);
    const err = pattern(1 << 20, 2);
    guestOut.write(out);
    guestErr.write(err);
    await settle();
    assert.equal(done, false, 'done must wait for the guest EOFs');
    guestOut.end();
    await settle();
    assert.equal(done, false, 'done must wait for both outputs');
    guestErr.end();
    await relay.done;
    // The relay ended the FIFOs itself: the client sees EOF after every byte, with no upstream.close().
    const [o, e] = await Promise.all([outGot, errGot]);
    assert.equal(o.ended && e.ended, true);
    assert.ok(o.data.equals(out), `stdout: ${o.data.length} of ${out.length} bytes, in order`);
    assert.ok(e.data.equals(err), `stderr: ${e.data.length} of ${err.length} bytes, in order`);
  });

  it('terminal mode: no stderr upstream, stdout relayed; the client gets EOF', T, async () => {
    const { dir, paths, up, logs } = await fifoSet({ terminal: true });
    assert.equal(up.terminal, true);
    assert.equal(up.stderr, undefined);
    const [shimOut, guestOut] = await streamPair(dir, 'stdout');
    cleanup.push(() => destroyAll(shimOut, guestOut));
    const relay = relayStdio(up, { stdout: shimOut }, { log: logs.log });
    // The client's open must complete while the shim still holds the FIFO, as ctr's does (it opens before
    // Create); an open racing the shim's close would block in the thread pool forever.
    const reader = createReadStream(paths.stdout);
    await new Promise((resolve) => reader.once('open', resolve));
    const got = collect(reader);
    guestOut.end('tty output\r\n');
    await relay.done;
    assert.deepEqual(await got, { data: Buffer.from('tty output\r\n'), ended: true });
  });

  it('keeps writing into the FIFO when the client went away (runc keeps both ends open): no error', T, async () => {
    const { dir, paths, up, logs } = await fifoSet();
    const client = createReadStream(paths.stdout);
    await new Promise((resolve) => client.once('open', resolve));
    client.destroy();
    const [shimOut, guestOut] = await streamPair(dir, 'stdout');
    cleanup.push(() => destroyAll(shimOut, guestOut));
    const relay = relayStdio(up, { stdout: shimOut }, { log: logs.log });
    guestOut.end(pattern(16 * 1024, 3)); // Fits the pipe buffer.
    await relay.done;
    assert.equal(logs.lines.some((l) => l.includes('level=warn')), false);
  });

  it('logs (never throws) an upstream write error (EPIPE) and still drains the guest output to EOF', T, async () => {
    const t = tempDir();
    cleanup.push(t.cleanup);
    const logs = captureLog();
    // An upstream whose client is gone: a socket whose peer closed (what a dead logging binary looks like).
    const [clientEnd, peer] = await streamPair(t.dir, 'client');
    peer.destroy();
    await new Promise((resolve) => clientEnd.once('end', resolve));
    const [shimOut, guestOut] = await streamPair(t.dir, 'stdout');
    cleanup.push(() => [clientEnd, shimOut, guestOut].forEach((s) => s.destroy()));
    const relay = relayStdio({ stdout: clientEnd }, { stdout: shimOut }, { log: logs.log });
    const big = pattern(4 << 20, 4);
    let flushed = false;
    guestOut.end(big, () => (flushed = true));
    await relay.done;
    await until(() => flushed);
    await until(() => logs.has('warn', 'writing stdout upstream failed'));
    assert.ok(logs.lines.some((l) => /EPIPE|ECONNRESET|write after end|destroyed/.test(l)));
  });

  it('ends an upstream output shared by stdout and stderr only after both reached EOF', T, async () => {
    const merged = new PassThrough();
    const got = collect(merged);
    const gOut = new PassThrough();
    const gErr = new PassThrough();
    const relay = relayStdio({ stdout: merged, stderr: merged }, { stdout: gOut, stderr: gErr }, { log: captureLog().log });
    gOut.end('out;');
    await settle();
    assert.equal(merged.writableEnded, false);
    gErr.end('err;');
    await relay.done;
    const r = await got;
    assert.equal(r.ended, true);
    assert.deepEqual(r.data.toString().split(';').sort(), ['', 'err', 'out']);
  });

  it('treats a guest output that fails as EOF: done resolves, the client gets what was sent and EOF', T, async () => {
    const up = new PassThrough();
    const got = collect(up);
    const g = new PassThrough();
    const logs = captureLog();
    const relay = relayStdio({ stdout: up }, { stdout: g }, { log: logs.log });
    g.write('partial');
    await settle();
    g.destroy(new Error('connection reset by guest'));
    await relay.done;
    assert.deepEqual(await got, { data: Buffer.from('partial'), ended: true });
    await until(() => logs.has('warn', 'guest stdout failed'));
  });
});
