/**
 * The accept side every Listener shares: connections that arrive while nobody waits queue (like a kernel
 * backlog) until accept() takes them, one per accept, in arrival order; waiters are served first come, first
 * served. Contract (types.ts): accept() rejects Canceled when its signal aborts and Unavailable once the queue
 * is closed. Beyond `maxQueued`, or after close, an arriving connection is destroyed.
 */
import { ErrorCode, ShimError, unavailable } from '../errdefs/index.js';
import type { Connection } from './types.js';

interface Waiter {
  resolve(conn: Connection): void;
  reject(err: Error): void;
}

export class AcceptQueue {
  private readonly queue: { conn: Connection; /** removes the queue's own listener */ detach: () => void }[] = [];
  private readonly waiters: Waiter[] = [];
  private closed = false;

  constructor(private readonly address: string, private readonly maxQueued: number) {}

  get hasWaiters(): boolean {
    return this.waiters.length > 0;
  }

  /** A new connection: to the first waiter, else into the queue, else (closed or full) destroyed. */
  offer(conn: Connection): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve(conn);
      return;
    }
    if (this.closed || this.queue.length >= this.maxQueued) {
      conn.destroy();
      return;
    }
    // A queued connection stays queued even if its peer has already written and closed: the acceptor still
    // reads what was sent, then EOF. An error while queued only closes it.
    const ignore = (): void => {};
    conn.on('error', ignore);
    this.queue.push({ conn, detach: () => conn.off('error', ignore) });
  }

  /** The next connection; `onWait` runs once this call has to wait (e.g. to start a native accept). */
  accept(signal?: AbortSignal, onWait?: () => void): Promise<Connection> {
    if (signal?.aborted === true) return Promise.reject(this.canceled(signal));
    if (this.closed) return Promise.reject(unavailable(`listener ${this.address} is closed`));
    const queued = this.queue.shift();
    if (queued !== undefined) {
      queued.detach();
      return Promise.resolve(queued.conn);
    }
    return new Promise<Connection>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(this.canceled(signal));
      };
      const waiter: Waiter = {
        resolve: (conn) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(conn);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      onWait?.();
    });
  }

  /** Rejects everyone waiting now; later accepts still work unless the queue is closed. */
  failWaiters(err: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  /** No more connections: queued ones nobody accepted are destroyed, later accepts fail. Waiters stay (see failWaiters). */
  close(): void {
    this.closed = true;
    for (const { conn } of this.queue.splice(0)) conn.destroy();
  }

  private canceled(signal: AbortSignal | undefined): ShimError {
    return new ShimError(ErrorCode.Canceled, `accept on ${this.address} canceled`, { cause: signal?.reason });
  }
}
