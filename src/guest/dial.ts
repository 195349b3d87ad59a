/**
 * Dialling the host. In the emulated VM a host vsock port is a unix socket <vmDir>/vsock/<port>.sock that
 * the host listens on; the guest connects to it (as the real guest dials vsock CID_HOST:port).
 */
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DialOptions {
  /** Attempts in total (≥ 1). */
  attempts: number;
  /** Pause between attempts. */
  intervalMs: number;
  /** Keep the socket readable after the peer half-closes (stdin, where EOF is the signal). */
  allowHalfOpen?: boolean;
  /** Stop early when aborted. */
  signal?: AbortSignal;
}

export function dialOnce(path: string, allowHalfOpen = false): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ path, allowHalfOpen });
    const onError = (err: Error): void => {
      sock.destroy();
      reject(err);
    };
    sock.once('error', onError);
    sock.once('connect', () => {
      sock.off('error', onError);
      resolve(sock);
    });
  });
}

/** Dials `path`, retrying on any connect error (no listener yet, socket file not yet created...). */
export async function dialWithRetry(path: string, opts: DialOptions): Promise<Socket> {
  let lastErr: unknown;
  for (let i = 0; i < Math.max(1, opts.attempts); i++) {
    if (opts.signal?.aborted) break;
    try {
      return await dialOnce(path, opts.allowHalfOpen);
    } catch (err) {
      lastErr = err;
    }
    if (i + 1 < opts.attempts) await sleep(opts.intervalMs);
  }
  throw new Error(`dial ${path}: ${(lastErr as Error | undefined)?.message ?? 'aborted'}`, { cause: lastErr });
}
