/**
 * The guest agent's life: read boot entropy, dial the host's GCS port (every 100 ms, for at most two minutes
 * — the host's own connection deadline), serve the bridge until the host drops it or asks the VM to shut
 * down, then stop every container, unmount what the guest mounted under <vmDir>/rootfs and return. Like
 * guests before hcsshim v0.15, it does not re-dial after a drop: a dropped bridge is the end of the VM.
 */
import { mkdir } from '../async/index.js';
import { LinuxGcsVsockPort } from '../gcs/protocol/index.js';
import { BridgeServer } from './bridge-server.js';
import { ContainerManager } from './container-manager.js';
import { dialWithRetry } from './dial.js';
import { readEntropy } from './entropy.js';
import type { GuestLogger } from './log.js';
import { VmModifier } from './modify.js';
import { unmountAll } from './mounts.js';
import { Runc } from './runc.js';
import { GuestService } from './guest-service.js';
import { VmPaths } from './vm-paths.js';

export interface AgentOptions {
  vmDir: string;
  entropyPort?: number;
  /** How long to keep dialling the GCS port (default 2 minutes). */
  dialTimeoutMs?: number;
  log: GuestLogger;
}

/** run() rejects with this when the host dropped the bridge (main exits 1, like logrus.Fatal). */
export class BridgeDroppedError extends Error {
  override name = 'BridgeDroppedError';
  constructor() {
    super('failed to serve gcs service: EOF');
  }
}

export class GuestAgent {
  readonly paths: VmPaths;
  private bridge: BridgeServer | undefined;
  private containers: ContainerManager | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: AgentOptions) {
    this.paths = new VmPaths(opts.vmDir);
  }

  /** Runs until the bridge closes or the VM is shut down; resolves after cleanup. */
  async run(): Promise<void> {
    const { log } = this.opts;
    await mkdir(this.paths.rootfs, { recursive: true });
    await mkdir(this.paths.runcRoot, { recursive: true, mode: 0o700 });
    if (this.opts.entropyPort !== undefined) await readEntropy(this.paths, this.opts.entropyPort, log);
    const gcsPath = this.paths.vsockPath(LinuxGcsVsockPort);
    const attempts = Math.ceil((this.opts.dialTimeoutMs ?? 120_000) / 100);
    const socket = await dialWithRetry(gcsPath, { attempts, intervalMs: 100 });
    log.info('connected to the host GCS port', { path: gcsPath });

    const runc = new Runc(this.paths.runcRoot);
    const shutdownRace = process.env['LCOW_GUEST_TEST_SHUTDOWN_RACE'] === '1';
    if (shutdownRace) log.warn('test mode: ShutdownGraceful answers after the exit notification (UnexpectedExit)');
    this.containers = new ContainerManager(this.paths, runc, (n) => this.bridge?.notify(n), log, { shutdownRace });
    const service = new GuestService(this.containers, new VmModifier(this.paths, log), { shutdownVm: (f) => this.shutdownVm(f) }, log);
    this.bridge = new BridgeServer(socket, (req) => service.dispatch(req), log);
    await this.bridge.closed;
    if (this.stopping !== undefined) {
      log.info('bridge connection closed');
      return this.stop();
    }
    // The host dropped the bridge: the GCS of hcsshim < v0.15 logs a fatal line and exits with status 1.
    // The emulated VM still stops its containers and unmounts (a real VM dies with its GCS anyway).
    log.fatal('failed to serve gcs service', { error: 'bridge connection closed by the host: EOF' });
    await this.stop();
    throw new BridgeDroppedError();
  }

  private async shutdownVm(forced: boolean): Promise<never> {
    this.opts.log.info('utility VM shutdown requested', { forced });
    await this.stop();
    return new Promise<never>(() => {}); // the VM powers off: no response
  }

  /** Stops containers, unmounts, closes the bridge. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const { log } = this.opts;
      await this.containers?.stopAll().catch((err: unknown) => log.error('stopping containers', { error: err }));
      const unmounted = await unmountAll(this.paths.rootfs).catch((err: unknown) => {
        log.error('unmounting the VM root', { error: err });
        return [];
      });
      if (unmounted.length) log.debug('unmounted', { count: unmounted.length });
      this.bridge?.close();
      log.info('guest agent stopped');
    })();
    return this.stopping;
  }
}
