/**
 * A Listener over a node:net server (unix socket or named pipe): connections queue until accept()
 * takes them, one per accept, in arrival order.
 *
 * accept() contract (types.ts): rejects Canceled when its signal aborts, Unavailable when the listener
 * closes while it waits (or is already closed). close() is idempotent, fails pending accepts, destroys
 * queued connections nobody accepted, and runs the caller's cleanup (e.g. unlinking the socket file).
 */
import type { Server } from 'node:net';
import { unavailable } from '../errdefs/index.js';
import { AcceptQueue } from './accept-queue.js';
import type { Connection, Listener } from './types.js';

/** Connections that arrive while nobody accepts wait here; beyond this they are refused (closed). */
export const MAX_QUEUED_CONNECTIONS = 64;

export class SocketListener implements Listener {
  readonly address: string;
  private readonly server: Server;
  private readonly connections: AcceptQueue;
  private closing: Promise<void> | undefined;
  private readonly cleanup: () => Promise<void>;

  /** `server` must already be listening; `cleanup` runs once after the server stops. */
  constructor(server: Server, address: string, cleanup: () => Promise<void> = async () => {}) {
    this.server = server;
    this.address = address;
    this.cleanup = cleanup;
    this.connections = new AcceptQueue(address, MAX_QUEUED_CONNECTIONS);
    server.on('connection', (sock) => this.connections.offer(sock));
    // A server error after listen (rare: EMFILE on accept) must not crash the process; later accepts fail.
    server.on('error', (err) => this.connections.failWaiters(unavailable(`listener ${address} failed: ${err.message}`, err)));
  }

  accept(signal?: AbortSignal): Promise<Connection> {
    return this.connections.accept(signal);
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.connections.close();
    this.connections.failWaiters(unavailable(`listener ${this.address} closed while waiting for a connection`));
    // The listening socket closes at once; connections already accepted belong to their acceptor, so the
    // close callback (which waits for them) is not awaited.
    this.server.close();
    await this.cleanup();
  }
}
