/**
 * A raw host for unit tests: the guest's BridgeServer + GuestService (fake runc) on one end of a unix socket,
 * and a frame-level client on the other that sends exact bytes and collects responses / notifications.
 */
import { createServer, connect, type Socket } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeFrame, FrameDecoder, parseJsonBody, requestType, responseType, RPCNegotiateProtocol, type Frame } from '../../../src/gcs/protocol/index.js';
import { BridgeServer, ContainerManager, GuestService, Runc, silentLogger, VmModifier, VmPaths } from '../../../src/guest/index.js';
import { FakeRunc } from '../../fakes/fake-runc.js';
import { cleanupVmDir, tempDir } from './fixtures.js';

export interface Reply {
  type: number;
  id: number;
  body: Record<string, unknown>;
}

export class RawHost {
  readonly frames: Frame[] = [];
  private readonly decoder = new FrameDecoder({ maxMessageSize: 1 << 24 });
  private waiters: (() => void)[] = [];
  private nextId = 1;
  shutdownRequests: boolean[] = [];

  private constructor(
    readonly client: Socket,
    readonly server: BridgeServer,
    readonly paths: VmPaths,
    readonly runc: FakeRunc,
    readonly containers: ContainerManager,
  ) {
    client.on('data', (chunk: Buffer) => {
      this.frames.push(...this.decoder.decode(chunk));
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** start() then NegotiateProtocol at version 4, as a host does before any other request. */
  static async negotiated(vmDir: string, opts: { shutdownRace?: boolean } = {}): Promise<RawHost> {
    const host = await RawHost.start(vmDir, opts);
    await host.rpc(RPCNegotiateProtocol, { MinimumVersion: 4, MaximumVersion: 4 });
    return host;
  }

  static async start(vmDir: string, opts: { shutdownRace?: boolean } = {}): Promise<RawHost> {
    const paths = new VmPaths(vmDir);
    mkdirSync(paths.vsockDir, { recursive: true });
    mkdirSync(paths.runcRoot, { recursive: true });
    mkdirSync(paths.rootfs, { recursive: true }); // the VM's "/", as GuestAgent.run makes it
    const fake = new FakeRunc(join(vmDir, 'fake-runc'));
    const sockPath = join(vmDir, 'bridge.sock');
    const accepted = new Promise<Socket>((resolve) => {
      const srv = createServer((s) => {
        srv.close();
        resolve(s);
      });
      srv.listen(sockPath);
    });
    await sleep(10);
    const client = connect(sockPath);
    const serverSide = await accepted;
    const log = silentLogger();
    let bridge: BridgeServer | undefined;
    const runc = new Runc(paths.runcRoot, fake.binary);
    const containers = new ContainerManager(paths, runc, (n) => bridge?.notify(n), log, opts);
    const host = { shutdowns: [] as boolean[] };
    const service = new GuestService(containers, new VmModifier(paths, log), {
      shutdownVm: (forced) => {
        host.shutdowns.push(forced);
        return new Promise<never>(() => {});
      },
    }, log);
    bridge = new BridgeServer(serverSide, (req) => service.dispatch(req), log);
    const raw = new RawHost(client, bridge, paths, fake, containers);
    raw.shutdownRequests = host.shutdowns;
    return raw;
  }

  /** Writes raw bytes (optionally in chunks of `chunk` bytes). */
  async write(bytes: Buffer, chunk = 0): Promise<void> {
    if (!chunk) {
      this.client.write(bytes);
      return;
    }
    for (let i = 0; i < bytes.length; i += chunk) {
      this.client.write(bytes.subarray(i, i + chunk));
      await sleep(0);
    }
  }

  /** Waits for the first frame matching `pred`. */
  async waitFrame(pred: (f: Frame) => boolean): Promise<Reply> {
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return { type: f.type, id: f.id, body: parseJsonBody(f.body) };
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Sends a request for `proc` and waits for its response. */
  async rpc(proc: number, body: unknown, opts: { chunk?: number } = {}): Promise<Reply> {
    const id = this.nextId++;
    await this.write(encodeFrame(requestType(proc), id, body), opts.chunk);
    return this.waitFrame((f) => f.id === id && f.type === responseType(proc));
  }

  close(): void {
    this.client.destroy();
  }
}

/**
 * Inside a describe: a fresh VM dir and a RawHost negotiated on it, made before the suite's tests; after them
 * `beforeClose` (e.g. stopping its containers), then the host is closed and the VM dir removed.
 */
export function useNegotiatedHost(opts: { shutdownRace?: boolean; beforeClose?: (host: RawHost) => Promise<void> } = {}): { readonly vmDir: string; readonly host: RawHost } {
  let vmDir = '';
  let host: RawHost | undefined;
  before(async () => {
    vmDir = tempDir();
    host = await RawHost.negotiated(vmDir, { ...(opts.shutdownRace ? { shutdownRace: true } : {}) });
  });
  after(async () => {
    if (host !== undefined) {
      await opts.beforeClose?.(host);
      host.close();
    }
    cleanupVmDir(vmDir);
  });
  return {
    get vmDir() {
      return vmDir;
    },
    get host() {
      if (host === undefined) throw new Error('useNegotiatedHost: the host is made before the suite\'s tests');
      return host;
    },
  };
}
