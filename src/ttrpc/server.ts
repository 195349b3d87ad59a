import type { Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCode, ShimError } from '../errdefs/index.js';
import { rootLogger } from '../log/index.js';
import type { Logger } from '../log/index.js';
import type { ServiceMethods } from './rpc-context.js';
import { ServerConnection, type ConnectionFlow } from './server-connection.js';
import { ServiceRegistry } from './service-registry.js';

export interface TtrpcServerOptions {
  /** Where the server logs (debug level only: failed calls, socket errors). Default: the root logger. */
  readonly logger?: Logger;
}

/**
 * A ttrpc server: a method table plus the connections it serves. Listening is the caller's business
 * (`listenUnix`, or a net.Server built on an inherited fd); hand it over with `serve`.
 *
 * States: serving → shutting-down (shutdown(): listeners closed, connections close once idle) → closed.
 *         Any state → closed with close() (everything torn down now).
 */
export class TtrpcServer {
  private readonly registry = new ServiceRegistry();
  private readonly connections = new Set<ServerConnection>();
  private readonly listeners = new Map<Server, (conn: Duplex) => void>();
  private state: 'serving' | 'shutting-down' | 'closed' = 'serving';
  private drained: Array<() => void> = [];
  private noConnections: Array<() => void> = [];
  private readonly log: () => Logger;

  constructor(opts: TtrpcServerOptions = {}) {
    const logger = opts.logger;
    this.log = logger === undefined ? rootLogger : () => logger;
  }

  /** Registers a service's unary methods under its full name (e.g. `containerd.task.v2.Task`). */
  register(service: string, methods: ServiceMethods): void {
    this.registry.register(service, methods);
  }

  /** Serves every connection an already-listening net.Server accepts, until shutdown/close. */
  serve(server: Server): void {
    this.assertServing();
    const onConnection = (conn: Duplex): void => this.handleConnection(conn);
    server.on('connection', onConnection);
    server.once('close', () => this.listeners.delete(server));
    this.listeners.set(server, onConnection);
  }

  /** Serves one connection (any duplex byte stream). Refused (destroyed) once shutdown has begun. */
  handleConnection(conn: Duplex): void {
    if (this.state !== 'serving') {
      conn.destroy();
      return;
    }
    const connection = new ServerConnection(conn, this.registry, this.log, (c) => this.forget(c));
    this.connections.add(connection);
  }

  /**
   * Graceful stop: stop accepting, let in-flight calls finish and be answered, close each connection
   * as it becomes idle; resolves when none is left. If `signal` aborts first, falls back to close().
   */
  async shutdown(signal?: AbortSignal): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'shutting-down';
    this.closeListeners();
    const done = new Promise<void>((resolve) => this.drained.push(resolve));
    const onAbort = (): void => this.close();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted === true) this.close();
    for (const c of this.connections) c.closeWhenIdle();
    this.resolveIfDrained();
    await done;
    signal?.removeEventListener('abort', onAbort);
    this.state = 'closed';
  }

  /** Immediate stop: close listeners and every connection; running handlers see their signal abort. */
  close(): void {
    this.state = 'closed';
    this.closeListeners();
    for (const c of [...this.connections]) c.destroy();
    this.resolveIfDrained();
  }

  /** Number of open connections (for tests and diagnostics). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Resolves once no connection is open (at once when none is): e.g. after the peer was told to go, whether
   * the peer closed or the server did. Serving goes on; new connections are not waited for.
   */
  whenNoConnections(): Promise<void> {
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.noConnections.push(resolve));
  }

  /** What each open connection holds: flow-control state (for tests and diagnostics). */
  flows(): ConnectionFlow[] {
    return [...this.connections].map((c) => c.flow);
  }

  private forget(c: ServerConnection): void {
    this.connections.delete(c);
    if (this.connections.size === 0) {
      const waiters = this.noConnections;
      this.noConnections = [];
      for (const w of waiters) w();
    }
    this.resolveIfDrained();
  }

  private resolveIfDrained(): void {
    if (this.state === 'serving' || this.connections.size > 0) return;
    const waiters = this.drained;
    this.drained = [];
    for (const w of waiters) w();
  }

  private closeListeners(): void {
    for (const [server, onConnection] of this.listeners) {
      server.off('connection', onConnection);
      server.close(() => undefined); // The callback swallows "not running"; connections are ours to close.
    }
    this.listeners.clear();
  }

  private assertServing(): void {
    if (this.state !== 'serving') throw new ShimError(ErrorCode.FailedPrecondition, 'ttrpc: server closed');
  }
}
