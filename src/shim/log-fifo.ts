import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';

/** What the writer keeps while containerd is away or slow; older lines are dropped (and counted) beyond it. */
export const LOG_FIFO_QUEUE_BYTES = 1 << 20;
/** How often queued lines are retried while they cannot be written. */
export const LOG_FIFO_RETRY_MS = 200;

/**
 * The shim daemon's end of the bundle's `log` FIFO (Linux), which containerd reads and copies to its own
 * stderr. containerd may go away (restart, crash) and come back: this writer never blocks the shim, never
 * fails, and delivers again as soon as a reader is there.
 *
 * - The FIFO is opened O_WRONLY|O_NONBLOCK (ENXIO while nobody reads: retried later) and written with
 *   non-blocking writeSync calls, so the event loop and libuv's thread pool never wait on containerd.
 * - EPIPE means the reader is gone; the descriptor stays usable (a FIFO's write end serves the next reader),
 *   so it is kept and the line queued. EAGAIN (pipe full, reader slow) queues the rest of the line. Any other
 *   error closes the descriptor; the FIFO is opened afresh on the next attempt.
 * - Queued lines are retried on every new line and every LOG_FIFO_RETRY_MS (unref'd timer, running only
 *   while something is queued). The queue holds at most LOG_FIFO_QUEUE_BYTES: beyond that the oldest lines go,
 *   and once writing works again a line says how many were dropped.
 * - end() tries one last flush and closes the descriptor.
 *
 * States: disconnected (no fd) ⇄ connected (fd); every write error but EAGAIN/EPIPE → disconnected.
 */
export class LogFifoWriter extends Writable {
  private fd: number | undefined;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly path: string,
    fd?: number,
  ) {
    super({ decodeStrings: true });
    this.fd = fd;
  }

  /** Lines waiting for a reader (for tests and diagnostics). */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.enqueue(chunk);
    this.flush();
    cb(); // Never backpressure the logger: the queue is bounded instead.
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.flush();
    this.stopTimer();
    this.closeFd();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.stopTimer();
    this.closeFd();
    cb(err);
  }

  private enqueue(chunk: Buffer): void {
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    while (this.queuedBytes > LOG_FIFO_QUEUE_BYTES && this.queue.length > 1) {
      const old = this.queue.shift() as Buffer;
      this.queuedBytes -= old.length;
      this.dropped++;
    }
  }

  /** Writes what is queued, as far as the pipe takes it; arms the retry timer for the rest. */
  private flush(): void {
    if (this.queue.length > 0 && this.open()) {
      if (this.dropped > 0) {
        this.queue.unshift(Buffer.from(droppedLine(this.dropped)));
        this.queuedBytes += (this.queue[0] as Buffer).length;
        this.dropped = 0;
      }
      while (this.queue.length > 0) {
        const head = this.queue[0] as Buffer;
        const n = this.writeSome(head);
        this.queuedBytes -= n;
        if (n < head.length) {
          if (n > 0) this.queue[0] = head.subarray(n);
          break;
        }
        this.queue.shift();
      }
    }
    if (this.queue.length > 0) this.startTimer();
    else this.stopTimer();
  }

  private open(): boolean {
    if (this.fd !== undefined) return true;
    try {
      this.fd = openSync(this.path, constants.O_WRONLY | constants.O_NONBLOCK);
      return true;
    } catch {
      return false; // ENXIO: no reader yet; ENOENT: the bundle is gone. Retried later either way.
    }
  }

  /** Bytes written (0 when the pipe is full or has no reader). */
  private writeSome(data: Buffer): number {
    if (this.fd === undefined) return 0;
    try {
      return writeSync(this.fd, data);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EPIPE') this.closeFd();
      return 0;
    }
  }

  private startTimer(): void {
    if (this.timer !== undefined || this.destroyed) return;
    this.timer = setInterval(() => this.flush(), LOG_FIFO_RETRY_MS);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private closeFd(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      closeSync(fd);
    } catch {
      // already closed: nothing to release
    }
  }
}

function droppedLine(n: number): string {
  return `time="${new Date().toISOString()}" level=warning msg="shim log: ${n} lines dropped while containerd was not reading the log"\n`;
}

/**
 * The writer for the FIFO at `path`, when a reader (containerd) has it open now; undefined when there is no
 * FIFO or nobody reads it (the shim then logs to stderr).
 */
export function openLogFifo(path: string): LogFifoWriter | undefined {
  try {
    return new LogFifoWriter(path, openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    return undefined;
  }
}
