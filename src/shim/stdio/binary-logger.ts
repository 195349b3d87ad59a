/**
 * containerd's logging-binary protocol on Linux (pkg/process/io.go NewBinaryIO / NewBinaryCmd):
 *
 *   exec <path> <k1> <v1> <k2> <v2> …      (from binary:///path?k1=v1&k2=v2)
 *   env   CONTAINER_ID=<id> CONTAINER_NAMESPACE=<ns>   (and nothing else)
 *   fd 0-2 /dev/null; fd 3 = the container's stdout (read end); fd 4 = its stderr (read end);
 *   fd 5 = a "wait" pipe: the binary writes a byte or closes it when it is ready to read.
 *
 * The shim waits for readiness (EOF counts, as in Go) at most `readyTimeoutMs` (hcsshim's 10 s). On close it
 * ends fds 3 and 4, sends SIGTERM so the logger can flush, and SIGKILLs it after `termTimeoutMs` (Go: 12 s).
 * Node's 'pipe' stdio entries are socketpairs: the binary sees ordinary stream fds.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { settlesWithin } from '../../async/index.js';
import { ErrorCode, ShimError } from '../../errdefs/index.js';
import type { Logger } from '../../log/index.js';
import type { BinaryLogger, BinaryLoggerOptions } from './binary-logger-types.js';

export type { BinaryLogger, BinaryLoggerOptions } from './binary-logger-types.js';

export async function startBinaryLogger(opts: BinaryLoggerOptions): Promise<BinaryLogger> {
  if (opts.transport.platform === 'windows') {
    // Windows speaks its own protocol (named pipes and environment variables): binary-logger-windows.ts.
    const { startWindowsBinaryLogger } = await import('./binary-logger-windows.js');
    return startWindowsBinaryLogger(opts);
  }
  const child = spawn(opts.path, [...opts.args], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
    env: { CONTAINER_ID: opts.containerId, CONTAINER_NAMESPACE: opts.namespace },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const [, , , out, err, wait] = child.stdio as unknown as [null, null, null, Socket, Socket, Socket];
  for (const s of [out, err, wait]) s?.on('error', (e: Error) => opts.log.debug('stdio: logging binary pipe error', { error: e.message }));
  if (child.pid === undefined) {
    const e = await spawnError;
    throw ShimError.from(e, ErrorCode.Unknown, `failed to start binary process ${opts.path}`);
  }
  try {
    await waitReady(child, wait, spawnError, opts.readyTimeoutMs ?? 10_000, opts.path);
  } catch (e) {
    child.kill('SIGKILL');
    out.destroy();
    err.destroy();
    throw e;
  } finally {
    wait.destroy();
  }
  opts.log.debug('stdio: logging binary ready', { path: opts.path, pid: child.pid });
  let closing: Promise<void> | undefined;
  return {
    stdout: out,
    stderr: err,
    pid: child.pid,
    close: () => (closing ??= stop(child, [out, err], exited, opts.termTimeoutMs ?? 12_000, opts.log)),
  };
}

/** Resolves on the first byte or EOF on the wait pipe; rejects on a spawn error or after the timeout. */
function waitReady(child: ChildProcess, wait: Socket, spawnError: Promise<Error>, timeoutMs: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new ShimError(ErrorCode.DeadlineExceeded, `logging binary ${path} (pid ${child.pid}) not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const ready = (): void => {
      clearTimeout(timer);
      resolve();
    };
    wait.once('data', ready);
    wait.once('end', ready);
    wait.once('close', ready);
    void spawnError.then((e) => {
      clearTimeout(timer);
      reject(ShimError.from(e, ErrorCode.Unknown, `logging binary ${path}`));
    });
  });
}

async function stop(child: ChildProcess, streams: Writable[], exited: Promise<void>, termTimeoutMs: number, log: Logger): Promise<void> {
  for (const s of streams) s.end();
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  if (!(await settlesWithin(exited, termTimeoutMs))) {
    log.warn('stdio: logging binary did not exit after SIGTERM, killing it', { pid: child.pid });
    child.kill('SIGKILL');
    await exited;
  }
  for (const s of streams) s.destroy();
}
