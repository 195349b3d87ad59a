/**
 * The upstream side of a process's stdio: containerd's client endpoints (stdin to read, stdout/stderr to
 * write), opened from the strings of Create/Exec. The relay (relay.ts) connects them to the guest's streams.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from '../../async/index.js';
import { dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ErrorCode, ShimError, invalidArgument } from '../../errdefs/index.js';
import { Field, logTeardown } from '../../log/index.js';
import type { Logger } from '../../log/index.js';
import type { PlatformTransport } from '../../transport/index.js';
import { startBinaryLogger } from './binary-logger.js';
import { openPipeReader, openPipeWriter, releasePipeReader } from './open-pipe.js';
import type { StdioPaths } from './stdio-paths.js';
import { fifoPath, parseStdioMode } from './stdio-uri.js';


export interface UpstreamOptions {
  readonly containerId: string;
  readonly namespace: string;
  readonly log: Logger;
  /** The platform's transport (entry.ts chooses it once): how FIFOs / named pipes are opened. */
  readonly transport: PlatformTransport;
  /** binary://: how long to wait for the logger's readiness signal. Default 10000. */
  readonly binaryReadyTimeoutMs?: number;
  /** binary://: SIGTERM → SIGKILL grace on close. Default 12000. */
  readonly binaryTermTimeoutMs?: number;
  /** Windows: how long stdout/stderr redial a reader that went away (io_retry_timeout_in_sec; 0 = forever). */
  readonly ioRetryTimeoutMs?: number;
}

/** The opened endpoints. A stream is absent when its string was "" (or unused, e.g. stderr with a terminal). */
export interface UpstreamIO {
  readonly stdin?: Readable;
  readonly stdout?: Writable;
  readonly stderr?: Writable;
  readonly terminal: boolean;
  /**
   * CloseIO: the client wrote all of its stdin. Nothing already written is dropped: `stdin` keeps delivering
   * it and then ends (EOF) once the client's writers are closed, like runc's shim closing its own write end.
   * Idempotent; never rejects; a no-op without stdin.
   */
  closeStdin(): Promise<void>;
  /** Destroys every stream (and stops a logging binary). Idempotent; never rejects. */
  close(): Promise<void>;
}

/**
 * Opens the endpoints. Throws InvalidArgument for a terminal with a stderr (hcsshim refuses it), a bad URI or
 * an unknown scheme; the open's own error (e.g. NotFound) when an endpoint cannot be opened. Nothing stays
 * open when it throws.
 */
export async function openUpstreamIO(paths: StdioPaths, opts: UpstreamOptions): Promise<UpstreamIO> {
  if (paths.terminal && paths.stderr !== '') throw invalidArgument('if using terminal, stderr must be empty');
  const mode = parseStdioMode(paths.stdout);
  const log = opts.log.child({ [Field.ContainerId]: opts.containerId });
  const opened: Array<Readable | Writable> = [];
  const cleanups: Array<() => Promise<void>> = [];
  const track = <T extends Readable | Writable>(s: T, name: string): T => {
    // A stream error must never become an uncaught exception: log it here, the relay reports its own.
    s.on('error', (err: Error) => log.debug('stdio: upstream stream error', { stream: name, error: err.message }));
    opened.push(s);
    return s;
  };
  const close = async (): Promise<void> => {
    // A logging binary first gets an orderly EOF on its pipes (its close() ends them), then everything goes.
    await Promise.all(cleanups.map((c) => c().catch(logTeardown(log, 'stdio: stopping the logging binary'))));
    for (const s of opened) s.destroy();
  };
  const writerOpts = opts.ioRetryTimeoutMs === undefined ? {} : { retryTimeoutMs: opts.ioRetryTimeoutMs };
  try {
    const stdin = paths.stdin === '' ? undefined : track(await openPipeReader(opts.transport, fifoPath(paths.stdin)), 'stdin');
    let stdout: Writable | undefined;
    let stderr: Writable | undefined;
    switch (mode.kind) {
      case 'fifo':
        if (paths.stdout !== '') stdout = track(await openPipeWriter(opts.transport, fifoPath(paths.stdout), writerOpts), 'stdout');
        if (paths.stderr !== '') stderr = track(await openPipeWriter(opts.transport, fifoPath(paths.stderr), writerOpts), 'stderr');
        break;
      case 'file':
        // runc: stdout and stderr both go to the file (stderr unused with a terminal).
        await mkdir(dirname(mode.path), { recursive: true, mode: 0o755 });
        stdout = track(await openAppend(mode.path), 'stdout');
        if (!paths.terminal) stderr = track(await openAppend(mode.path), 'stderr');
        break;
      case 'binary': {
        const logger = await startBinaryLogger({
          path: mode.path,
          args: mode.args,
          containerId: opts.containerId,
          namespace: opts.namespace,
          log,
          transport: opts.transport,
          readyTimeoutMs: opts.binaryReadyTimeoutMs,
          termTimeoutMs: opts.binaryTermTimeoutMs,
        });
        cleanups.push(() => logger.close());
        stdout = track(logger.stdout, 'stdout');
        if (paths.terminal) logger.stderr.end();
        else stderr = track(logger.stderr, 'stderr');
        break;
      }
    }
    let closing: Promise<void> | undefined;
    let closingStdin: Promise<void> | undefined;
    const closeStdin = (): Promise<void> =>
      (closingStdin ??= stdin === undefined ? Promise.resolve() : releasePipeReader(opts.transport, fifoPath(paths.stdin)).catch((err: unknown) => {
        log.warn('stdio: CloseIO could not release the stdin endpoint', { error: String(err) });
      }));
    return { stdin, stdout, stderr, terminal: paths.terminal, closeStdin, close: () => (closing ??= close()) };
  } catch (err) {
    await close();
    throw ShimError.from(err, ErrorCode.Unknown);
  }
}

/** O_CREAT|O_WRONLY|O_APPEND, mode 0644; resolves once open (so open errors surface here). */
function openAppend(path: string): Promise<Writable> {
  return new Promise((resolve, reject) => {
    const s = createWriteStream(path, { flags: 'a', mode: 0o644 });
    const onError = (err: Error): void => reject(ShimError.from(err, ErrorCode.Unknown, `open stdio file ${path}`));
    s.once('error', onError);
    s.once('open', () => {
      s.off('error', onError);
      resolve(s);
    });
  });
}
