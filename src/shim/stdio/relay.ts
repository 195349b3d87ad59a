/**
 * The relay between the upstream endpoints (containerd's client) and the guest's per-stream connections:
 *
 *   upstream.stdin ──pipe──▶ guest.stdin     half-closed (end()) at the upstream EOF, after the last byte
 *   guest.stdout   ──pipe──▶ upstream.stdout ended on guest EOF
 *   guest.stderr   ──pipe──▶ upstream.stderr ended on guest EOF
 *
 * CloseIO never cuts the stdin copy: it only lets the upstream stdin reach its EOF (UpstreamIO.closeStdin),
 * so every byte the client wrote before CloseIO reaches the process, and only then is the guest's stdin
 * half-closed. The guest's stdout/stderr connections are closed by their owner (gcs Process) at their EOF:
 * the guest waits for that close before it reports the exit (PROTOCOL.md, stdio close handshake).
 *
 * `done` resolves once both guest outputs reached EOF and everything they produced was handed to the
 * upstream endpoints (their 'finish'): the exit path awaits it (with its own grace timeout) so that no output
 * is lost. Errors (EPIPE when the client went away, resets) are logged, never thrown; after an upstream
 * write error the guest output is still drained to EOF (and discarded) so the guest never stalls.
 * Backpressure is Readable.pipe's.
 */
import type { Readable, Writable } from 'node:stream';
import { rootLogger } from '../../log/index.js';
import type { Logger } from '../../log/index.js';
import type { UpstreamIO } from './upstream-io.js';

/** The guest side of one process's stdio (vsock/hvsock connections on Windows, sockets in the emulator). */
export interface GuestStdio {
  readonly stdin?: Writable;
  readonly stdout?: Readable;
  readonly stderr?: Readable;
}

export interface StdioRelay {
  /** Resolves when both output copies are complete. Never rejects. */
  readonly done: Promise<void>;
}

export interface RelayOptions {
  readonly log?: Logger;
}

export function relayStdio(upstream: Pick<UpstreamIO, 'stdin' | 'stdout' | 'stderr'>, guest: GuestStdio, opts: RelayOptions = {}): StdioRelay {
  const log = opts.log ?? rootLogger();
  relayStdin(upstream.stdin, guest.stdin, log);
  const sinks = new SinkSet(log);
  const copies = [
    copyOutput('stdout', guest.stdout, upstream.stdout, sinks, log),
    copyOutput('stderr', guest.stderr, upstream.stderr, sinks, log),
  ];
  const done = Promise.all(copies).then(() => sinks.allFinished());
  return { done };
}

function relayStdin(src: Readable | undefined, dst: Writable | undefined, log: Logger): void {
  if (dst === undefined) return;
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    if (src !== undefined) src.unpipe(dst);
    dst.end();
  };
  dst.on('error', (err: Error) => log.debug('stdio: guest stdin error', { error: err.message }));
  // No upstream stdin: nothing will ever come, so the process sees EOF at once.
  if (src === undefined) return close();
  src.on('error', (err: Error) => {
    log.debug('stdio: upstream stdin error, closing the guest stdin', { error: err.message });
    close();
  });
  // 'end' comes after the last byte was handed to dst; end() then queues the half-close behind it.
  src.once('end', close);
  src.pipe(dst, { end: false });
}

/**
 * The upstream writables, each ended once every guest output feeding it reached EOF (stdout and stderr may
 * share one writable, e.g. a caller that merges them).
 */
class SinkSet {
  private readonly feeders = new Map<Writable, number>();
  private readonly finished: Array<Promise<void>> = [];

  constructor(private readonly log: Logger) {}

  add(dst: Writable): void {
    this.feeders.set(dst, (this.feeders.get(dst) ?? 0) + 1);
  }

  /** One feeder of `dst` is done; the last one ends it. */
  release(dst: Writable): void {
    const left = (this.feeders.get(dst) ?? 1) - 1;
    this.feeders.set(dst, left);
    if (left === 0) this.finished.push(endAndWait(dst, this.log));
  }

  allFinished(): Promise<void> {
    return Promise.all(this.finished).then(() => undefined);
  }
}

function copyOutput(name: string, src: Readable | undefined, dst: Writable | undefined, sinks: SinkSet, log: Logger): Promise<void> {
  if (dst !== undefined) sinks.add(dst);
  if (src === undefined) {
    if (dst !== undefined) sinks.release(dst); // The client gets its EOF at once.
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => {
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      if (dst !== undefined) sinks.release(dst);
      resolve();
    };
    src.on('error', (err: Error) => {
      log.warn(`stdio: guest ${name} failed, ending the copy`, { error: err.message });
      finish();
    });
    src.once('end', finish);
    src.once('close', finish);
    if (src.readableEnded) return finish();
    if (dst === undefined) {
      src.resume(); // Nobody upstream: drain so the guest never blocks.
      return;
    }
    // The client is gone (write error, or the endpoint closed under us): keep draining, discard the rest.
    let gone = false;
    const onGone = (err?: Error): void => {
      if (gone || settled) return;
      gone = true;
      log.warn(`stdio: writing ${name} upstream failed (client gone?), discarding the rest`, { error: err?.message ?? 'closed' });
      src.unpipe(dst);
      src.resume();
    };
    dst.on('error', onGone);
    dst.once('close', () => onGone());
    src.pipe(dst, { end: false });
  });
}

/** Ends `dst` and resolves when all written data was flushed ('finish'), or it closed or failed. */
function endAndWait(dst: Writable, log: Logger): Promise<void> {
  if (dst.writableFinished || dst.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    dst.once('finish', () => resolve());
    dst.once('close', () => resolve());
    dst.once('error', () => resolve());
    try {
      dst.end();
    } catch (err) {
      log.debug('stdio: ending upstream stream failed', { error: String(err) });
      resolve();
    }
  });
}
