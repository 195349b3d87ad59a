// Test support (holds no tests): a real ttrpc server on a unix socket that plays containerd's
// containerd.services.events.ttrpc.v1.Events service, plus a log capture.
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/log/index.js';
import type { Logger } from '../../../src/log/index.js';
import { containerd, google } from '../../../src/proto/index.js';
import { NAMESPACE_METADATA_KEY, TtrpcServer, listenUnix } from '../../../src/ttrpc/index.js';
import type { RpcContext } from '../../../src/ttrpc/index.js';

export type Envelope = containerd.services.events.ttrpc.v1.Envelope;

export interface Received {
  readonly envelope: Envelope;
  /** The containerd-namespace-ttrpc metadata values sent with the call. */
  readonly namespaceMetadata: readonly string[] | undefined;
  /** 1-based count of Forward calls when this one arrived (attempts included). */
  readonly call: number;
}

/**
 * What the server does with the n-th Forward call (1-based): answer (return), fail (throw a ShimError),
 * or hang (return a promise that never settles / waits for the call's signal).
 */
export type ForwardBehaviour = (envelope: Envelope, call: number, ctx: RpcContext) => Promise<void> | void;

export class FakeEventsServer {
  /** Every Forward call in arrival order (failed attempts included). */
  readonly calls: Received[] = [];
  /** Only the calls that were answered OK, in order. */
  readonly delivered: Received[] = [];
  behaviour: ForwardBehaviour = () => undefined;
  private server: TtrpcServer | undefined;
  private listener: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private waiters: Array<() => void> = [];

  private constructor(
    readonly path: string,
    private readonly dir: string,
  ) {}

  static async start(): Promise<FakeEventsServer> {
    const dir = mkdtempSync(join(tmpdir(), 'events-test-'));
    const s = new FakeEventsServer(join(dir, 'containerd.sock.ttrpc'), dir);
    await s.listen();
    return s;
  }

  /** containerd's TTRPC_ADDRESS form. */
  get address(): string {
    return `unix://${this.path}`;
  }

  async listen(): Promise<void> {
    const server = new TtrpcServer();
    server.register('containerd.services.events.ttrpc.v1.Events', {
      Forward: async (payload, ctx) => {
        const envelope = containerd.services.events.ttrpc.v1.ForwardRequest.decode(payload).envelope;
        if (envelope === null || envelope === undefined) throw new Error('ForwardRequest without envelope');
        const rec: Received = {
          envelope: envelope as Envelope,
          namespaceMetadata: ctx.metadata.get(NAMESPACE_METADATA_KEY),
          call: this.calls.length + 1,
        };
        this.calls.push(rec);
        await this.behaviour(rec.envelope, rec.call, ctx);
        this.delivered.push(rec);
        this.notify();
        return google.protobuf.Empty.encode({}).finish();
      },
    });
    const listener = await listenUnix(this.path);
    listener.on('connection', (sock: Socket) => {
      this.sockets.add(sock);
      sock.once('close', () => this.sockets.delete(sock));
    });
    server.serve(listener);
    this.server = server;
    this.listener = listener;
  }

  /** Kills every open connection (the listener stays up). */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  /** Stops listening and closes every connection. */
  stop(): void {
    this.server?.close();
    this.listener?.close();
    this.server = undefined;
    this.listener = undefined;
  }

  async restart(): Promise<void> {
    this.stop();
    await this.listen();
  }

  /** Resolves once `count` calls were answered OK. */
  async waitDelivered(count: number): Promise<void> {
    while (this.delivered.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  dispose(): void {
    this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** A debug-level logger whose lines (logrus text) are collected in `lines`. */
export function captureLog(): { log: Logger; lines: string[]; has(level: string, text: string): boolean } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  const log = createLogger({ level: 'debug', stream });
  return { log, lines, has: (level, text) => lines.some((l) => l.includes(`level=${level}`) && l.includes(text)) };
}

/** Polls `cond` on the event loop until true (no wall-clock assertion; the test runner's timeout bounds it). */
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((resolve) => setTimeout(resolve, 5));
}
