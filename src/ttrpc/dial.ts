import { createConnection } from 'node:net';
import type { Socket } from 'node:net';
import { ErrorCode, ShimError, unavailable } from '../errdefs/index.js';

/**
 * Connects to a local stream socket path (a unix socket, or a named pipe on Windows).
 * Fails with Unavailable when nobody listens, Canceled when `signal` aborts first.
 */
export function dialPath(path: string, signal?: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const canceled = (): ShimError =>
      new ShimError(ErrorCode.Canceled, `ttrpc: dial ${path}: canceled`, { cause: signal?.reason });
    if (signal?.aborted === true) {
      reject(canceled());
      return;
    }
    const sock = createConnection(path);
    const onAbort = (): void => {
      sock.destroy();
      reject(canceled());
    };
    const onError = (err: Error): void => {
      signal?.removeEventListener('abort', onAbort);
      reject(unavailable(`ttrpc: dial ${path}: ${err.message}`, err));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.once('error', onError);
    sock.once('connect', () => {
      signal?.removeEventListener('abort', onAbort);
      sock.off('error', onError);
      resolve(sock);
    });
  });
}
