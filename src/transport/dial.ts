/** Dialing a local stream endpoint (unix socket path or named pipe) through node:net, with AbortSignal. */
import { createConnection } from 'node:net';
import { ErrorCode, ShimError } from '../errdefs/index.js';
import type { Connection } from './types.js';

/**
 * Connects to `path`. Rejects Canceled when `signal` aborts (the half-open socket is destroyed), and with
 * the errno's code otherwise (ENOENT → NotFound, ECONNREFUSED → Unavailable, ...), naming the path.
 */
export function dialPath(path: string, signal?: AbortSignal): Promise<Connection> {
  if (signal?.aborted === true) {
    return Promise.reject(new ShimError(ErrorCode.Canceled, `dial ${path} canceled`, { cause: signal.reason }));
  }
  return new Promise<Connection>((resolve, reject) => {
    const sock = createConnection({ path, allowHalfOpen: true });
    const onAbort = (): void => {
      sock.destroy();
      reject(new ShimError(ErrorCode.Canceled, `dial ${path} canceled`, { cause: signal?.reason }));
    };
    const onError = (err: Error): void => {
      signal?.removeEventListener('abort', onAbort);
      reject(ShimError.from(err, ErrorCode.Unavailable, `dial ${path}`));
    };
    sock.once('error', onError);
    sock.once('connect', () => {
      signal?.removeEventListener('abort', onAbort);
      sock.off('error', onError);
      resolve(sock);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
