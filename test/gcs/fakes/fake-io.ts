import type { Duplex } from 'node:stream';
import { ErrorCode, ShimError } from '../../../src/errdefs/index.js';
import type { Listener } from '../../../src/transport/types.js';
import { duplexPair } from './memory-duplex.js';

/** A fake vsock network for stdio: the host side listens per port, the fake guest dials. */
export class FakeIoNetwork {
  readonly listenedPorts: number[] = [];
  readonly listeners = new Map<number, FakeListener>();
  /** Set to make ioListen fail (every port, or only `failPort`). */
  failListen = false;
  failPort: number | undefined;

  readonly ioListen = async (port: number): Promise<Listener> => {
    if (this.failListen || this.failPort === port) throw new ShimError(ErrorCode.Unavailable, `listen ${port} refused`);
    if (this.listeners.has(port)) throw new ShimError(ErrorCode.AlreadyExists, `port ${port} in use`);
    this.listenedPorts.push(port);
    const l = new FakeListener(port, () => this.listeners.delete(port));
    this.listeners.set(port, l);
    return l;
  };

  /** Dials a listening port; throws if nothing listens there. */
  dial(port: number): Duplex {
    const l = this.listeners.get(port);
    if (!l) throw new Error(`nothing listens on port 0x${port.toString(16)}`);
    const [host, guest] = duplexPair();
    l.enqueue(host);
    return guest;
  }
}

export class FakeListener implements Listener {
  readonly address: string;
  closed = false;
  private queue: Duplex[] = [];
  private waiters: { resolve(c: Duplex): void; reject(e: Error): void }[] = [];

  constructor(port: number, private readonly onClose: () => void) {
    this.address = `fake://${port}`;
  }

  enqueue(conn: Duplex): void {
    const w = this.waiters.shift();
    if (w) w.resolve(conn);
    else this.queue.push(conn);
  }

  accept(signal?: AbortSignal): Promise<Duplex> {
    if (this.closed) return Promise.reject(new ShimError(ErrorCode.Unavailable, 'listener closed'));
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (signal?.aborted) return Promise.reject(new ShimError(ErrorCode.Canceled, 'accept canceled'));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(new ShimError(ErrorCode.Canceled, 'accept canceled', { cause: signal?.reason }));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push({
        resolve: (c) => (signal?.removeEventListener('abort', onAbort), resolve(c)),
        reject: (e) => (signal?.removeEventListener('abort', onAbort), reject(e)),
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    for (const w of this.waiters.splice(0)) w.reject(new ShimError(ErrorCode.Unavailable, 'listener closed'));
  }
}
