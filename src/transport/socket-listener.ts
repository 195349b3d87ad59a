/**
 * A Listener over a node:net server (unix socket or named pipe): connections queue until accept()
 * takes them, one per accept, in arrival order.
 *
 * accept() contract (types.ts): rejects Canceled when its signal aborts, Unavailable when the listener
 * closes while it waits (or is already closed). close() is idempotent, fails pending accepts, destroys
 * queued connections nobody accepted, and runs the caller's cleanup (e.g. unlinking the socket file).
 */
import type { Server, Socket } from 'node:net';
import { ErrorCode, ShimError, unavailable } from '../errdefs/index.js';
import type { Connection, Listener } from './types.js';

/** Connections that arrive while nobody accepts wait here; beyond this they are refused (closed). */
export const MAX_QUEUED_CONNECTIONS = 64;

interface Waiter {
  resolve(conn: Connection): void;
  reject(err: Error): void;
}

export class SocketListener implements Listener {
  readonly address: string;
  private readonly server: Server;
  private readonly queue: { sock: Socket; /** removes the queue's own listeners */ detach: () => void }[] = [];
  private readonly waiters: Waiter[] = [];
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly cleanup: () => Promise<void>;

  /** `server` must already be listening; `cleanup` runs once after the server stops. */
  constructor(server: Server, address: string, cleanup: () => Promise<void> = async () => {}) {
    this.server = server;
    this.address = address;
    this.cleanup = cleanup;
    server.on('connection', (sock) => this.onConnection(sock));
    // A server error after listen (rare: EMFILE on accept) must not crash the process; later accepts fail.
    server.on('error', (err) => this.failWaiters(unavailable(`listener ${address} failed: ${err.message}`, err)));
  }

  private onConnection(sock: Socket): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve(sock);
      return;
    }
    if (this.closed || this.queue.length >= MAX_QUEUED_CONNECTIONS) {
      sock.destroy();
      return;
    }
    // Like a kernel backlog, a queued connection stays queued even if its peer has already written and
    // closed: the acceptor still reads what was sent, then EOF. An error while queued only closes it.
    const ignore = (): void => {};
    sock.on('error', ignore);
    this.queue.push({ sock, detach: () => sock.off('error', ignore) });
  }

  accept(signal?: AbortSignal): Promise<Connection> {
    if (signal?.aborted === true) {
      return Promise.reject(new ShimError(ErrorCode.Canceled, `accept on ${this.address} canceled`, { cause: signal.reason }));
    }
    if (this.closed) return Promise.reject(unavailable(`listener ${this.address} is closed`));
    const queued = this.queue.shift();
    if (queued !== undefined) {
      queued.detach();
      return Promise.resolve(queued.sock);
    }
    return new Promise<Connection>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new ShimError(ErrorCode.Canceled, `accept on ${this.address} canceled`, { cause: signal?.reason }));
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
    });
  }

  private failWaiters(err: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    this.failWaiters(unavailable(`listener ${this.address} closed while waiting for a connection`));
    for (const { sock } of this.queue.splice(0)) sock.destroy();
    // The listening socket closes at once; connections already accepted belong to their acceptor, so the
    // close callback (which waits for them) is not awaited.
    this.server.close();
    await this.cleanup();
  }
}
