import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LOG_FIFO_QUEUE_BYTES, LogFifoWriter, openLogFifo } from '../../src/shim/log-fifo.js';
import { openReader, readUntil } from '../fixtures/log-fifo-reader.js';

function write(w: LogFifoWriter, line: string): Promise<void> {
  return new Promise((resolve, reject) => w.write(line, (err) => (err ? reject(err) : resolve())));
}

describe('the shim log FIFO writer', () => {
  let dir: string;
  let n = 0;
  const fifo = (): string => {
    const p = join(dir, `log-${n++}`);
    execFileSync('mkfifo', [p]);
    return p;
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lcow-logfifo-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is undefined without a reader or without a FIFO (the shim logs to stderr then)', () => {
    assert.equal(openLogFifo(fifo()), undefined);
    assert.equal(openLogFifo(join(dir, 'missing')), undefined);
  });

  it('survives its reader going away: no error, lines kept, and delivered in order once a new reader is there', async () => {
    const path = fifo();
    let r = openReader(path);
    const w = openLogFifo(path);
    assert.ok(w);
    const errors: Error[] = [];
    w.on('error', (e: Error) => errors.push(e));
    await write(w, 'one\n');
    assert.equal(await readUntil(r, (t) => t.includes('one\n')), 'one\n');
    closeSync(r); // containerd stops
    await write(w, 'two while away\n'); // EPIPE inside: kept, not fatal
    await write(w, 'three while away\n');
    assert.ok(w.pendingBytes > 0, 'the lines wait for a reader');
    assert.equal(w.writable, true);
    r = openReader(path); // containerd is back
    await write(w, 'four\n');
    const text = await readUntil(r, (t) => t.includes('four\n'));
    assert.equal(text, 'two while away\nthree while away\nfour\n');
    assert.equal(w.pendingBytes, 0);
    assert.deepEqual(errors, []);
    await new Promise<void>((resolve) => w.end(resolve));
    closeSync(r);
  });

  it('a line logged while nobody reads arrives without another line once a reader opens (retry timer)', async () => {
    const path = fifo();
    let r = openReader(path);
    const w = openLogFifo(path);
    assert.ok(w);
    closeSync(r);
    await write(w, 'logged while containerd restarts\n');
    r = openReader(path);
    assert.equal(await readUntil(r, (t) => t.endsWith('\n')), 'logged while containerd restarts\n');
    await new Promise<void>((resolve) => w.end(resolve));
    closeSync(r);
  });

  it('opens the FIFO itself when it was created without a reader', async () => {
    const path = fifo();
    const w = new LogFifoWriter(path);
    await write(w, 'early\n');
    const r = openReader(path);
    assert.equal(await readUntil(r, (t) => t.endsWith('\n')), 'early\n');
    await new Promise<void>((resolve) => w.end(resolve));
    closeSync(r);
  });

  it('never blocks on a reader that does not read: the queue is bounded, the drop is reported, then lines flow again', async () => {
    const path = fifo();
    const r = openReader(path);
    const w = openLogFifo(path);
    assert.ok(w);
    const line = `${'x'.repeat(999)}\n`;
    const total = 4 * (LOG_FIFO_QUEUE_BYTES / line.length); // ~4 MiB against a 64 KiB pipe and a 1 MiB queue
    for (let i = 0; i < total; i++) await write(w, line); // each write returns at once: nothing waits for the reader
    assert.ok(w.pendingBytes <= LOG_FIFO_QUEUE_BYTES, `queued ${w.pendingBytes} bytes`);
    await write(w, 'last\n');
    const text = await readUntil(r, (t) => t.endsWith('last\n'));
    assert.match(text, /level=warning msg="shim log: \d+ lines dropped while containerd was not reading the log"/);
    assert.ok(text.endsWith('last\n'));
    await new Promise<void>((resolve) => w.end(resolve));
    closeSync(r);
  });

  it('end() closes the descriptor: the reader sees EOF', async () => {
    const path = fifo();
    const r = openReader(path);
    const w = openLogFifo(path);
    assert.ok(w);
    await write(w, 'bye\n');
    await new Promise<void>((resolve) => w.end(resolve));
    assert.equal(await readUntil(r, (t) => t.endsWith('\n')), 'bye\n');
    const buf = Buffer.alloc(16);
    assert.equal(readSync(r, buf), 0, 'EOF: no writer left');
    closeSync(r);
  });

  it('a regular file in place of the FIFO is written like one (no crash)', async () => {
    const path = join(dir, 'plain');
    writeFileSync(path, '');
    const w = openLogFifo(path);
    assert.ok(w);
    await write(w, 'plain\n');
    await new Promise<void>((resolve) => w.end(resolve));
  });
});
