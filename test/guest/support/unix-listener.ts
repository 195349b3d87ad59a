/** A minimal transport Listener over a unix socket path, standing in for the host's emulated vsock listener. */
import { createServer, type Server, type Socket } from 'node:net';
import { rm } from 'node:fs/promises';
import type { Listener } from '../../../src/transport/types.js';

export class UnixListener implements Listener {
  private readonly queue: Socket[] = [];
  private waiters: { resolve(s: Socket): void; reject(e: Error): void }[] = [];
  private closed = false;

  private constructor(
    readonly address: string,
    private readonly server: Server,
  ) {
    server.on('connection', (s) => {
      const w = this.waiters.shift();
      if (w) w.resolve(s);
      else this.queue.push(s);
    });
  }

  static async listen(path: string): Promise<UnixListener> {
    await rm(path, { force: true });
    const server = createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    return new UnixListener(path, server);
  }

  accept(signal?: AbortSignal): Promise<Socket> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(new Error(`listener ${this.address} closed`));
    return new Promise((resolve, reject) => {
      const w = { resolve, reject };
      this.waiters.push(w);
      signal?.addEventListener('abort', () => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error('accept aborted'));
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters) w.reject(new Error(`listener ${this.address} closed`));
    this.waiters = [];
    // Stop listening now; the callback of close() would wait for every accepted connection to end.
    this.server.close();
    await rm(this.address, { force: true });
  }
}
