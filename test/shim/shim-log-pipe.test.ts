/**
 * The Windows log pipe's sink (shim-log-pipe.ts), over the Linux transport's Listener (a unix socket stands
 * in for \\.\pipe\containerd-shim-<ns>-<id>-log; the Wine tier runs the real pipe): nothing blocks without a
 * client, the newest connection wins and the older one is closed, a client that does not read cannot stall
 * the shim, end() closes both sides.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { LogPipeSink, MAX_QUEUED_BYTES, openShimLogPipe } from '../../src/shim/shim-log-pipe.js';
import { createTransport } from '../../src/transport/index.js';
import { until } from '../fixtures/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'log-pipe-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

async function sink(): Promise<{ s: LogPipeSink; path: string }> {
  const path = join(dir, `log-${n++}.sock`);
  const s = await openShimLogPipe(createTransport({ platform: 'linux' }), 'ns', 'id', path);
  assert.ok(s !== undefined);
  return { s, path };
}

interface Client {
  readonly sock: Socket;
  text: string;
  closed: boolean;
}

function client(path: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    const c: Client = { sock, text: '', closed: false };
    sock.on('data', (b: Buffer) => (c.text += b.toString()));
    sock.on('close', () => (c.closed = true));
    sock.once('error', reject);
    sock.once('connect', () => resolve(c));
  });
}

function write(s: LogPipeSink, text: string): Promise<void> {
  return new Promise((resolve, reject) => s.write(text, (err) => (err ? reject(err) : resolve())));
}

describe('shim log pipe sink', () => {
  test('without a client writes complete at once and are dropped; a client then gets what comes after', async () => {
    const { s, path } = await sink();
    await write(s, 'lost\n');
    assert.equal(s.dropped, 1);
    const c = await client(path);
    await until('accepted', () => s.accepted === 1);
    await write(s, 'kept\n');
    await until('delivered', () => c.text === 'kept\n');
    await new Promise<void>((r) => s.end(r));
    await until('the client sees the end', () => c.closed);
  });

  test('a reconnect (containerd restarted) takes over: the older connection is closed and gets nothing more', async () => {
    const { s, path } = await sink();
    const a = await client(path);
    await until('a accepted', () => s.accepted === 1);
    await write(s, 'to a\n');
    await until('a got its line', () => a.text === 'to a\n');
    const b = await client(path);
    await until('a closed when b came', () => a.closed);
    await write(s, 'to b\n');
    await until('b got the next line', () => b.text === 'to b\n');
    assert.equal(a.text, 'to a\n');
    s.destroy();
    await until('b closed on destroy', () => b.closed);
  });

  test('a client that does not read cannot stall the shim: past the queue limit lines are dropped', async () => {
    const { s, path } = await sink();
    const c = await client(path);
    c.sock.pause();
    await until('accepted', () => s.accepted === 1);
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < (4 * MAX_QUEUED_BYTES) / line.length; i++) await write(s, line); // each completes at once
    assert.ok(s.dropped > 0, 'lines beyond the limit were dropped');
    s.destroy();
  });

  test('a pipe that cannot be served leaves the shim without a log, saying why on stderr', async () => {
    const bad = await openShimLogPipe(createTransport({ platform: 'linux' }), 'ns', 'id', join(dir, 'no-such-dir', 'log.sock'));
    assert.equal(bad, undefined);
  });
});
