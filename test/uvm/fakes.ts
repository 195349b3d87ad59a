/**
 * Hand-written fakes for the uvm tests: an in-memory HcsApi/HcsSystem and a Transport whose hvsocket
 * listeners the test (playing the guest) connects to by vsock port.
 */
import { Duplex } from 'node:stream';
import { ErrorCode, ShimError } from '../../src/errdefs/index.js';
import type {
  HcsCallOptions,
  ComputeSystem,
  HcsApi,
  HcsSystem,
  HostInfo,
  ModifySettingRequest,
  SystemExit,
  SystemProperties,
} from '../../src/hcs/index.js';
import type { Connection, HvSocketAddress, Listener, Transport } from '../../src/transport/index.js';

/** Two connected in-memory duplex streams (end() on one is EOF on the other). */
export function duplexPair(): [Duplex, Duplex] {
  let a!: Duplex;
  let b!: Duplex;
  const make = (peer: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk, _enc, cb) {
        peer().push(chunk);
        cb();
      },
      final(cb) {
        peer().push(null);
        cb();
      },
    });
  a = make(() => b);
  b = make(() => a);
  return [a, b];
}

export class FakeListener implements Listener {
  readonly address: string;
  closed = false;
  private readonly queue: Connection[] = [];
  private waiter?: { resolve: (c: Connection) => void; reject: (e: unknown) => void };

  constructor(readonly addr: HvSocketAddress) {
    this.address = `hvsock://${addr.vmId}/${addr.serviceId}`;
  }

  /** The guest dials: returns the guest's end. Throws when the listener is closed (like ECONNREFUSED). */
  connect(): Duplex {
    if (this.closed) throw new Error(`connection refused: ${this.address}`);
    const [host, guest] = duplexPair();
    if (this.waiter) {
      this.waiter.resolve(host);
      this.waiter = undefined;
    } else this.queue.push(host);
    return guest;
  }

  accept(signal?: AbortSignal): Promise<Connection> {
    if (this.closed) return Promise.reject(new ShimError(ErrorCode.Unavailable, 'listener closed'));
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.waiter = undefined;
        reject(new ShimError(ErrorCode.Canceled, 'accept canceled', { cause: signal?.reason }));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = { resolve, reject };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.waiter?.reject(new ShimError(ErrorCode.Unavailable, 'listener closed'));
    this.waiter = undefined;
  }
}

export class FakeTransport implements Transport {
  readonly platform = 'linux' as const;
  readonly listeners: FakeListener[] = [];
  readonly dials: string[] = [];
  failListenOn?: string;

  async listenHvSocket(address: HvSocketAddress): Promise<Listener> {
    if (address.serviceId === this.failListenOn) throw new ShimError(ErrorCode.Unavailable, 'bind failed');
    const l = new FakeListener(address);
    this.listeners.push(l);
    return l;
  }

  async dial(address: string): Promise<Connection> {
    this.dials.push(address);
    if (address.includes('missing')) throw Object.assign(new Error('no such pipe'), { code: 'ENOENT' });
    return duplexPair()[0];
  }

  /** The latest listener for a vsock port (service id `<port hex>-facb-…`). */
  listenerFor(port: number): FakeListener | undefined {
    const prefix = port.toString(16).padStart(8, '0');
    return this.listeners.filter((l) => l.addr.serviceId.startsWith(prefix)).at(-1);
  }
}

export class FakeHcsSystem implements HcsSystem {
  readonly calls: string[] = [];
  /** Runs inside start(): the test's guest. */
  onStart?: () => void | Promise<void>;
  startError?: Error;
  /** When true, start never resolves (unless aborted). */
  hangStart = false;
  terminateError?: Error;
  private exitResolve!: (e: SystemExit) => void;
  private readonly exited: Promise<SystemExit>;
  exitedAlready = false;

  constructor(readonly id: string, readonly runtimeId: string | undefined) {
    this.exited = new Promise((r) => (this.exitResolve = r));
  }

  /** The VM dies on its own. */
  crash(hresult = 0x80370106): void {
    if (this.exitedAlready) return;
    this.exitedAlready = true;
    this.calls.push('exit');
    this.exitResolve({ hresult, unexpected: true });
  }

  async start(opts?: HcsCallOptions): Promise<void> {
    this.calls.push('start');
    if (this.startError) throw this.startError;
    if (this.hangStart) {
      await new Promise((_, reject) => opts?.signal?.addEventListener('abort', () => reject(opts.signal?.reason)));
    }
    await this.onStart?.();
  }
  async shutdown(): Promise<void> {
    this.calls.push('shutdown');
  }
  async terminate(): Promise<void> {
    this.calls.push('terminate');
    if (this.terminateError) throw this.terminateError;
    if (!this.exitedAlready) {
      this.exitedAlready = true;
      this.calls.push('exit');
      this.exitResolve({ hresult: 0, unexpected: false });
    }
  }
  waitExit(): Promise<SystemExit> {
    return this.exited;
  }
  async properties(): Promise<SystemProperties> {
    this.calls.push('properties');
    return this.runtimeId === undefined ? { Id: this.id } : { Id: this.id, RuntimeId: this.runtimeId };
  }
  async modify(request: ModifySettingRequest): Promise<void> {
    this.calls.push(`modify ${request.ResourcePath ?? ''}`);
  }
  async close(): Promise<void> {
    this.calls.push('close');
  }
}

export class FakeHcsApi implements HcsApi {
  readonly backend = 'emulator' as const;
  readonly created: Array<{ id: string; document: ComputeSystem }> = [];
  systems: FakeHcsSystem[] = [];
  createError?: Error;
  runtimeId: string | undefined = '11111111-2222-3333-4444-555555555555';

  constructor(public info: HostInfo = { osBuild: 20348, logicalProcessors: 8, pathFlavour: 'windows', arch: 'amd64' }) {}

  async hostInfo(): Promise<HostInfo> {
    return this.info;
  }
  async createComputeSystem(id: string, document: ComputeSystem): Promise<HcsSystem> {
    if (this.createError) throw this.createError;
    this.created.push({ id, document });
    const s = new FakeHcsSystem(id, this.runtimeId);
    this.systems.push(s);
    return s;
  }
  async openComputeSystem(): Promise<HcsSystem> {
    throw new ShimError(ErrorCode.NotImplemented, 'fake');
  }
  async enumerateComputeSystems(): Promise<[]> {
    return [];
  }
}
