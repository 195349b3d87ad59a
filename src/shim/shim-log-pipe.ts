/**
 * The shim's own log on Windows (hcsshim runhcs `serve`, debug type NPIPE): the shim SERVES
 * \\.\pipe\containerd-shim-<namespace>-<id>-log and containerd connects to it, and connects again after it
 * restarts. Text goes to the newest connection only: when a new one arrives the old one is closed (runhcs does
 * the same). Nothing ever blocks the shim: with no client, or a client that does not read (more than
 * MAX_QUEUED_BYTES waiting), lines are dropped and counted.
 *
 * Linux has no such pipe: there the shim writes the bundle's `log` FIFO containerd opened (shim-log.ts). serve.ts
 * picks one by the transport's platform; the pipe itself is the transport's (Listener over a named pipe).
 */
import { Writable } from 'node:stream';
import { namedPipeShimLogAddress, type Connection, type Listener, type PlatformTransport } from '../transport/index.js';

/** What a slow or stuck reader may have queued before further lines are dropped. */
export const MAX_QUEUED_BYTES = 1 << 20;

export class LogPipeSink extends Writable {
  /** Lines dropped because nobody was connected or the reader fell behind. */
  dropped = 0;
  /** Connections accepted so far (containerd reconnects after its restart). */
  accepted = 0;
  private current: Connection | undefined;
  private readonly listener: Listener;

  constructor(listener: Listener) {
    super();
    this.listener = listener;
    void this.acceptLoop();
  }

  get address(): string {
    return this.listener.address;
  }

  private async acceptLoop(): Promise<void> {
    for (;;) {
      let conn: Connection;
      try {
        conn = await this.listener.accept();
      } catch {
        return; // the listener closed: the sink is ending
      }
      this.accepted++;
      conn.on('error', () => {}); // a client that vanishes is just gone
      conn.on('close', () => {
        if (this.current === conn) this.current = undefined;
      });
      conn.resume(); // nothing is read from the client; do not let its bytes pile up
      const old = this.current;
      this.current = conn;
      old?.destroy();
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (error?: Error | null) => void): void {
    const c = this.current;
    if (c !== undefined && !c.destroyed && c.writableLength < MAX_QUEUED_BYTES) c.write(chunk);
    else this.dropped++;
    cb();
  }

  override _final(cb: (error?: Error | null) => void): void {
    const c = this.current;
    this.current = undefined;
    const closeListener = (): void => void this.listener.close().then(() => cb(), cb);
    if (c === undefined || c.destroyed) closeListener();
    else c.end(closeListener);
  }

  override _destroy(error: Error | null, cb: (error?: Error | null) => void): void {
    this.current?.destroy();
    this.current = undefined;
    void this.listener.close().finally(() => cb(error));
  }
}

/** Serves the log pipe of task `id` in `namespace`; a pipe that cannot be served leaves the shim without a log. */
export async function openShimLogPipe(transport: PlatformTransport, namespace: string, id: string, address = namedPipeShimLogAddress(namespace, id)): Promise<LogPipeSink | undefined> {
  try {
    return new LogPipeSink(await transport.listen(address));
  } catch (err) {
    process.stderr.write(`shim log pipe ${address}: ${(err as Error).message}\n`); // stderr is <bundle>\panic.log
    return undefined;
  }
}
