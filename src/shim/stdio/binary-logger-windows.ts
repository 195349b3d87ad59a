/**
 * The logging-binary protocol on Windows (hcsshim internal/cmd/io_binary.go, hcs-and-uvm.md §8.6):
 *
 *   the shim SERVES three named pipes  \\.\pipe\binary-<id>-stdout | -stderr | -wait
 *   exec <path> <k1> <v1> …            env exactly CONTAINER_ID, CONTAINER_NAMESPACE, CONTAINER_STDOUT,
 *                                      CONTAINER_STDERR, CONTAINER_WAIT (the three pipe names), plus
 *                                      SYSTEMROOT when the shim has it (Go's os/exec adds it on Windows: without
 *                                      it Winsock and other system DLLs fail to initialise in the child)
 *   readiness                          the binary dials the wait pipe and writes a byte or closes it;
 *                                      at most `readyTimeoutMs` (10 s)
 *   output                             the binary dials the stdout/stderr pipes; writes wait for that dial
 *   close                              end both pipes, wait for the binary to exit (≤ termTimeoutMs, 10 s
 *                                      in hcsshim; there is no SIGTERM on Windows), then kill it
 *
 * Pipe names and listening are injectable so the same code runs on Linux with unix sockets in tests.
 */
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { handledElsewhere, settlesWithin } from '../../async/index.js';
import { ErrorCode, ShimError } from '../../errdefs/index.js';
import { binaryLoggerPipe, type Connection, type Listener } from '../../transport/index.js';
import type { BinaryLogger, BinaryLoggerOptions } from './binary-logger-types.js';

export interface WindowsBinaryLoggerOptions extends BinaryLoggerOptions {
  /** Default binaryLoggerPipe (\\.\pipe\binary-<id>-<stream>). */
  readonly pipePath?: (id: string, stream: 'stdout' | 'stderr' | 'wait') => string;
  /** Default: the Windows transport's named-pipe listen. */
  readonly listen?: (path: string) => Promise<Listener>;
}

/** A Writable whose connection is the first client of `listener`; writes wait for it (hcsshim's pipe.Write). */
class AcceptedPipeWriter extends Writable {
  private readonly conn: Promise<Connection>;
  private readonly listener: Listener;
  private connected: Connection | undefined;

  constructor(listener: Listener) {
    super();
    this.listener = listener;
    this.conn = listener.accept().then((c) => {
      this.connected = c;
      c.on('error', () => {}); // surfaces through the next write's callback
      return c;
    });
    handledElsewhere(this.conn); // surfaces through the first write
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (error?: Error | null) => void): void {
    this.conn.then((c) => c.write(chunk, (err) => cb(err ?? null)), cb);
  }

  override _final(cb: (error?: Error | null) => void): void {
    if (this.connected === undefined) {
      void this.listener.close().then(() => cb(), cb);
      return;
    }
    this.connected.end(() => cb());
    void this.listener.close();
  }

  override _destroy(error: Error | null, cb: (error?: Error | null) => void): void {
    this.connected?.destroy();
    void this.listener.close().finally(() => cb(error));
  }
}

export async function startWindowsBinaryLogger(opts: WindowsBinaryLoggerOptions): Promise<BinaryLogger> {
  const pipePath = opts.pipePath ?? binaryLoggerPipe;
  const listen = opts.listen ?? ((p: string) => opts.transport.listen(p));
  const paths = { stdout: pipePath(opts.containerId, 'stdout'), stderr: pipePath(opts.containerId, 'stderr'), wait: pipePath(opts.containerId, 'wait') };
  const listeners: Listener[] = [];
  const closeAll = (): Promise<void> => Promise.all(listeners.map((l) => l.close())).then(() => undefined);
  try {
    for (const p of [paths.stdout, paths.stderr, paths.wait]) listeners.push(await listen(p));
  } catch (err) {
    await closeAll();
    throw ShimError.from(err, ErrorCode.Unknown, `logging binary ${opts.path}: cannot serve its pipes`);
  }
  const [outL, errL, waitL] = listeners as [Listener, Listener, Listener];
  const child = spawn(opts.path, [...opts.args], {
    stdio: 'ignore',
    windowsHide: true,
    env: {
      CONTAINER_ID: opts.containerId,
      CONTAINER_NAMESPACE: opts.namespace,
      CONTAINER_STDOUT: paths.stdout,
      CONTAINER_STDERR: paths.stderr,
      CONTAINER_WAIT: paths.wait,
      ...(process.env['SystemRoot'] ? { SYSTEMROOT: process.env['SystemRoot'] } : {}),
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitReady(child, waitL, opts.readyTimeoutMs ?? 10_000, opts.path);
  } catch (e) {
    child.kill();
    await closeAll();
    throw e;
  } finally {
    void waitL.close();
  }
  opts.log.debug('stdio: logging binary ready', { path: opts.path, pid: child.pid });
  const stdout = new AcceptedPipeWriter(outL);
  const stderr = new AcceptedPipeWriter(errL);
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    for (const s of [stdout, stderr]) s.end();
    if (child.exitCode === null && child.signalCode === null && !(await settlesWithin(exited, opts.termTimeoutMs ?? 10_000))) {
      opts.log.warn('stdio: logging binary did not exit after its pipes closed, killing it', { pid: child.pid });
      child.kill();
      await exited;
    }
    for (const s of [stdout, stderr]) s.destroy();
  };
  return { stdout, stderr, pid: child.pid ?? 0, close: () => (closing ??= close()) };
}

/** The binary dialed the wait pipe and wrote a byte or closed it; spawn errors and the timeout fail. */
function waitReady(child: ReturnType<typeof spawn>, wait: Listener, timeoutMs: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ac = new AbortController();
    const timer = setTimeout(() => {
      ac.abort();
      reject(new ShimError(ErrorCode.DeadlineExceeded, `failed to start binary logger ${path}: not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (err?: Error): void => {
      clearTimeout(timer);
      ac.abort();
      if (err === undefined) resolve();
      else reject(err);
    };
    child.once('error', (e) => done(ShimError.from(e, ErrorCode.Unknown, `failed to start binary logger ${path}`)));
    child.once('exit', (code) => done(new ShimError(ErrorCode.Unknown, `binary logger ${path} exited (status ${code}) before it was ready`)));
    wait.accept(ac.signal).then(
      (c) => {
        const ready = (): void => {
          c.destroy();
          done();
        };
        c.once('data', ready);
        c.once('end', ready);
        c.once('close', ready);
        c.on('error', () => {}); // 'close' follows and counts as ready, as the wait pipe's end does
      },
      () => {}, // aborted or closed: the timer or the child's fate decides
    );
  });
}
