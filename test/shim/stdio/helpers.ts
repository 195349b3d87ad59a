// Test support for the stdio tests (holds no tests): temp dirs, FIFOs, socket pairs, stream collectors.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'stdio-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Makes a FIFO with the mkfifo command (what containerd's cio does with mkfifo(2)). */
export function mkfifo(path: string): string {
  execFileSync('mkfifo', ['-m', '0600', path]);
  return path;
}

/**
 * Two connected unix sockets standing in for a guest stream connection: [shim end, guest end]. Both allow
 * half-open connections, like vsock/hvsock streams with CloseWrite.
 */
export async function streamPair(dir: string, name: string): Promise<[Socket, Socket]> {
  const path = join(dir, `${name}.sock`);
  const server = createServer({ allowHalfOpen: true });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const shim = createConnection({ path, allowHalfOpen: true });
  await new Promise<void>((resolve) => shim.once('connect', resolve));
  const guest = await accepted;
  server.close();
  return [shim, guest];
}

/** Collects a readable to its end. `ended` tells whether 'end' (EOF) was seen, as opposed to an error. */
export function collect(r: Readable): Promise<{ data: Buffer; ended: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    r.on('data', (c: Buffer) => chunks.push(c));
    r.once('end', () => resolve({ data: Buffer.concat(chunks), ended: true }));
    r.once('error', () => resolve({ data: Buffer.concat(chunks), ended: false }));
  });
}

/** A deterministic, non-repeating-looking payload (so a reordered or lost chunk is noticed). */
export function pattern(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** Lets pending I/O callbacks run a few times (to show that something has NOT happened yet). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((resolve) => setTimeout(resolve, 5));
}
