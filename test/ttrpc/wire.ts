// Test support for the ttrpc tests: real unix socket pairs, hex helpers and a raw frame reader.
// (Not a test file itself; it holds no tests.)
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameDecoder } from '../../src/ttrpc/index.js';
import type { DecodeEvent, Frame } from '../../src/ttrpc/index.js';

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A fresh private temp dir, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ttrpc-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Two connected unix sockets: [client end, server end]. */
export async function socketPair(): Promise<[Socket, Socket, () => void]> {
  const { dir, cleanup } = tempDir();
  const path = join(dir, 's.sock');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = createConnection(path);
  await new Promise<void>((resolve) => client.once('connect', resolve));
  const peer = await accepted;
  server.close();
  return [client, peer, cleanup];
}

/** Sends bytes in chunks of `size` (1 = byte by byte), each its own write. */
export function writeChunked(sock: Socket, bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) sock.write(bytes.subarray(i, i + size));
}

/** Reads frames (and oversized events) off a socket, in arrival order. */
export class RawReader {
  private readonly decoder = new FrameDecoder();
  private readonly queue: DecodeEvent[] = [];
  private waiters: Array<() => void> = [];
  ended = false;

  constructor(sock: Socket) {
    sock.on('data', (chunk: Buffer) => {
      this.queue.push(...this.decoder.decode(chunk));
      this.wake();
    });
    sock.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  /** The next whole frame; rejects if the socket closes first. */
  async next(): Promise<Frame> {
    for (;;) {
      const ev = this.queue.shift();
      if (ev !== undefined) {
        if (ev.kind === 'frame') return ev.frame;
        throw new Error(`unexpected oversized event for stream ${ev.streamId}`);
      }
      if (this.ended) throw new Error('socket closed');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Resolves when the socket has closed. */
  async closed(): Promise<void> {
    while (!this.ended) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** A promise with its resolver outside: a gate a test opens when it wants. */
export function gate<T = void>(): { promise: Promise<T>; open: (v: T) => void } {
  let open: (v: T) => void = () => undefined;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}
