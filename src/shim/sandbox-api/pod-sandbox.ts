import { join } from 'node:path';
import { whenSettled } from '../../async/index.js';
import { alreadyExists, failedPrecondition, invalidArgument, notFound } from '../../errdefs/index.js';
import { Field, type Logger } from '../../log/index.js';
import { effectiveAnnotations, expandAnnotations, type GuestContainer, type RuntimeOptions, type Sandbox, type SandboxFactory } from '../../sandbox/index.js';
import { checkRuntimeOptions } from '../create/sandbox-options.js';
import type { TaskStats } from '../task/types.js';
import { podInfraSpec, preparePodInfraRootfs } from './pod-infra.js';
import { podStats } from './pod-metrics.js';

/**
 * The Sandbox API's logic for the one pod this shim serves (containerd's "shim" sandboxer): one sandbox =
 * one utility VM, created through the sandbox layer (CreateLCOW) at StartSandbox, with the pod registered in
 * the guest by its sandbox container (pod-infra.ts: created, never started); the pod's containers are
 * created in it by the Task service (TaskService asks `vm()`), with no pause container and no pause process.
 *
 * States (enum + guards; every other transition is refused with the error named):
 *
 *   (none) ──CreateSandbox──▶ Created ──StartSandbox──▶ Running ──StopSandbox / VM exit──▶ Stopped
 *   Running ──StartSandbox failed──▶ Created (what it acquired is released; a retry may follow)
 *   Created ──StopSandbox──▶ Stopped (no VM to release)
 *   any ──ShutdownSandbox──▶ Shutdown (stops first; the daemon exits once the Task service has no task)
 *
 *   CreateSandbox when created: AlreadyExists.  StartSandbox unless Created: FailedPrecondition.
 *   Any call before CreateSandbox or naming another id: NotFound.  After Shutdown: NotFound.
 *   StopSandbox when Stopped: no-op (containerd retries it).
 *
 * Acquisition (StartSandbox): the utility VM, then the pod's sandbox container in it (its rootfs written
 * first). Teardown (StopSandbox, ShutdownSandbox, the daemon's exit), the reverse: the pod's containers are
 * killed (the Task service: their inits exit and their exits are published), then the sandbox container is
 * removed from the guest (the pod with it), then the utility VM is closed (guest agent, VM, its disks and
 * directories: Sandbox.close). A StopSandbox during StartSandbox waits for the start to settle; the start
 * then releases what it acquired itself, in the same reverse order, as it does when it fails half-way. The
 * rootfs of each container is released by its own Task Delete, as in pause mode.
 */
export enum PodSandboxState {
  Created = 'created',
  Running = 'running',
  Stopped = 'stopped',
  Shutdown = 'shutdown',
}

/** What the Task service does for the pod: kill every container left in it (errors are logged); read their stats. */
export interface PodWorkloads {
  killAll(): Promise<void>;
  /** The guest's statistics of each running pod container (one that exits meanwhile is left out). */
  podStats(): Promise<TaskStats[]>;
}

export interface PodSandboxDeps {
  /** The id the shim was started for; the only sandbox it serves. */
  readonly shimId: string;
  readonly log: Logger;
  readonly sandboxes: SandboxFactory;
  readonly workloads: PodWorkloads;
  /** The runtime options the shim was started with (defaults when none); throws for options it refuses. */
  readonly options?: () => RuntimeOptions;
  /** Writes the sandbox container's rootfs (default preparePodInfraRootfs; tests inject a fake). */
  readonly prepareInfraRootfs?: (dir: string) => Promise<void>;
  /** Asks the daemon to exit once nothing is left (ShutdownSandbox). */
  readonly requestExit: () => void;
  /**
   * ShutdownSandbox tore the sandbox down without an error: its VM is closed and gone (or never started), so
   * `delete` has nothing to clean up after this daemon in `bundle` (the released marker: released-marker.ts).
   * Does not throw: a marker that cannot be written is logged by the daemon (task-logic-factory.ts).
   */
  readonly onReleased?: (bundle: string) => void;
  readonly now?: () => Date;
}

export interface PodSandboxCreate {
  readonly id: string;
  readonly bundle: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly netnsPath: string;
  /** PodSandboxConfig.hostname ("" or absent: the VM's name). */
  readonly hostname?: string;
}

export interface PodSandboxExit {
  readonly exitStatus: number;
  readonly exitedAt: Date;
}

export interface PodSandboxStatus {
  readonly id: string;
  /** CRI's PodSandboxState names: SANDBOX_READY while the VM runs, SANDBOX_NOTREADY otherwise. */
  readonly state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
  readonly createdAt?: Date;
  readonly exitedAt?: Date;
  readonly info: Record<string, string>;
}

/** Exit status of a sandbox stopped through StopSandbox / of a VM that exited on its own (crash). */
export const STOPPED_EXIT_STATUS = 0;
export const VM_LOST_EXIT_STATUS = 255;
/** How long the sandbox container's removal may take before the VM is closed anyway (it never ran). */
const INFRA_SHUTDOWN_MS = 5_000;
/** The sandbox container's rootfs in the bundle (containerd's own `rootfs` there must stay empty: it removes it with rmdir). */
const INFRA_ROOTFS = 'sandbox-rootfs';

/** What a StartSandbox acquired, in acquisition order. */
interface Held {
  vm?: Sandbox;
  infra?: GuestContainer;
}

export class PodSandbox {
  private state: PodSandboxState | undefined;
  private req: PodSandboxCreate | undefined;
  private sandbox: Sandbox | undefined;
  private infra: GuestContainer | undefined;
  private starting: Promise<void> | undefined;
  private stopRequested = false;
  private startedAt: Date | undefined;
  private exit: PodSandboxExit | undefined;
  private stopping: Promise<void> | undefined;
  private readonly exited: Promise<PodSandboxExit>;
  private resolveExit!: (e: PodSandboxExit) => void;

  constructor(private readonly d: PodSandboxDeps) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  private get now(): Date {
    return this.d.now?.() ?? new Date();
  }

  /** The sandbox named `id` (NotFound for another id, before CreateSandbox, or after ShutdownSandbox). */
  private check(id: string): PodSandboxState {
    if (id === '') throw invalidArgument('sandbox_id is required');
    if (id !== this.d.shimId) throw notFound(`sandbox ${id}: this shim serves sandbox ${this.d.shimId}`);
    if (this.state === undefined || this.state === PodSandboxState.Shutdown) throw notFound(`sandbox ${id} not found`);
    return this.state;
  }

  get current(): PodSandboxState | undefined {
    return this.state;
  }

  /** The running pod's utility VM, for the Task service; undefined unless Running. */
  vm(): Sandbox | undefined {
    return this.state === PodSandboxState.Running ? this.sandbox : undefined;
  }

  /** Created through the Sandbox API and not shut down: the daemon stays up. */
  active(): boolean {
    return this.state !== undefined && this.state !== PodSandboxState.Shutdown;
  }

  create(r: PodSandboxCreate): void {
    if (r.id === '') throw invalidArgument('sandbox_id is required');
    if (r.id !== this.d.shimId) throw invalidArgument(`sandbox ${r.id}: this shim was started for sandbox ${this.d.shimId}`);
    if (this.state !== undefined) throw alreadyExists(`sandbox ${r.id} already exists`);
    this.req = r;
    this.state = PodSandboxState.Created;
  }

  async start(id: string): Promise<{ createdAt: Date }> {
    const state = this.check(id);
    if (state !== PodSandboxState.Created) throw failedPrecondition(`sandbox ${id} is ${state}, not created`);
    this.state = PodSandboxState.Running; // guards a concurrent second StartSandbox
    const run = this.acquire(id);
    this.starting = whenSettled(run); // the start's own caller gets its outcome
    return run;
  }

  /** The VM, then the pod in it; on failure or a stop meanwhile, releases what it got (reverse order). */
  private async acquire(id: string): Promise<{ createdAt: Date }> {
    const r = this.req!;
    const log = this.d.log.child({ [Field.ContainerId]: id });
    const held: Held = {};
    try {
      // as a pause container's Create: the runtime options' defaults under the pod's annotations
      const options = this.d.options?.() ?? {};
      checkRuntimeOptions(options, log);
      const annotations = expandAnnotations(effectiveAnnotations(r.annotations, options));
      held.vm = await this.d.sandboxes({ taskId: id, bundle: r.bundle, spec: { annotations }, annotations, options, log });
      const rootfs = join(r.bundle, INFRA_ROOTFS);
      if (!this.stopRequested) await (this.d.prepareInfraRootfs ?? preparePodInfraRootfs)(rootfs);
      if (!this.stopRequested) {
        held.infra = await held.vm.createContainer(id, podInfraSpec({ id, rootfs, hostname: r.hostname ?? '', annotations }));
      }
    } catch (err) {
      await this.release(held, log);
      if (this.state === PodSandboxState.Running) this.state = PodSandboxState.Created;
      throw err;
    }
    if (this.stopRequested) {
      // stopped or shut down while starting: the stop waited for this start and left its VM to it
      await this.release(held, log);
      throw failedPrecondition(`sandbox ${id} was stopped while starting`);
    }
    const sandbox = held.vm;
    this.sandbox = sandbox;
    this.infra = held.infra;
    this.startedAt = this.now;
    void sandbox.waitExit().then(() => {
      if (this.exit === undefined && this.stopping === undefined) {
        log.warn('the utility VM of the sandbox exited on its own');
        this.finish(VM_LOST_EXIT_STATUS);
      }
    });
    log.info('sandbox started', { vm: `${id}@vm` });
    return { createdAt: this.startedAt };
  }

  /** Releases a start's acquisitions in reverse order; errors are logged (the start's own error wins). */
  private async release(held: Held, log: Logger): Promise<void> {
    await held.infra?.shutdown(INFRA_SHUTDOWN_MS).catch((err: Error) => log.warn('removing the sandbox container failed', { error: err.message }));
    await held.vm?.close().catch((err: Error) => log.warn('closing the utility VM of a failed start failed', { error: err.message }));
  }

  private finish(exitStatus: number): void {
    if (this.exit !== undefined) return;
    this.exit = { exitStatus, exitedAt: this.now };
    if (this.state === PodSandboxState.Running || this.state === PodSandboxState.Created) this.state = PodSandboxState.Stopped;
    this.resolveExit(this.exit);
  }

  /** StopSandbox: the containers, then the VM (see the teardown order above). Idempotent. */
  async stop(id: string): Promise<void> {
    const state = this.check(id);
    if (state === PodSandboxState.Stopped) return;
    await this.teardown();
  }

  private teardown(): Promise<void> {
    this.stopRequested = true;
    this.stopping ??= (async () => {
      await this.starting; // a start in flight releases what it acquired itself once it sees the stop
      if (this.sandbox !== undefined) {
        await this.d.workloads.killAll().catch((err: Error) => this.d.log.warn('kill of the pod containers failed', { error: err.message }));
        await this.infra?.shutdown(INFRA_SHUTDOWN_MS).catch((err: Error) => this.d.log.warn('removing the sandbox container failed', { error: err.message }));
        await this.sandbox.close();
      }
      this.finish(STOPPED_EXIT_STATUS);
    })();
    return this.stopping;
  }

  /** WaitSandbox: resolves once the sandbox is stopped (StopSandbox or the VM's own exit). */
  async wait(id: string): Promise<PodSandboxExit> {
    this.check(id);
    return this.exited;
  }

  status(id: string): PodSandboxStatus {
    const state = this.check(id);
    return {
      id,
      state: state === PodSandboxState.Running ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY',
      ...(this.startedAt ? { createdAt: this.startedAt } : {}),
      ...(this.exit ? { exitedAt: this.exit.exitedAt } : {}),
      info: { state, vm: `${id}@vm` },
    };
  }

  platform(id: string): { os: string; architecture: string } {
    this.check(id);
    return { os: 'linux', architecture: 'amd64' };
  }

  /**
   * SandboxMetrics: the pod's usage, summed over its running containers (pod-metrics.ts). NotFound unless
   * the sandbox runs: before StartSandbox and after StopSandbox there is no pod to measure (containerd's
   * pause-container controller answers NotFound without a sandbox task too).
   */
  async metrics(id: string): Promise<{ timestamp: Date; stats: TaskStats }> {
    const state = this.check(id);
    if (state !== PodSandboxState.Running || this.sandbox === undefined) throw notFound(`sandbox ${id} is ${state}, not running: no metrics`);
    const timestamp = this.now;
    return { timestamp, stats: podStats(await this.d.workloads.podStats()) };
  }

  ping(id: string): void {
    const state = this.check(id);
    if (state !== PodSandboxState.Running) throw failedPrecondition(`sandbox ${id} is ${state}, not running`);
  }

  /** ShutdownSandbox: stops what runs, forgets the sandbox and lets the daemon exit. */
  async shutdown(id: string): Promise<void> {
    this.check(id);
    await this.teardown();
    this.state = PodSandboxState.Shutdown;
    if (this.req !== undefined) this.d.onReleased?.(this.req.bundle);
    // containerd only closes its connection after this reply (ShimManager.Delete) and does not tolerate a
    // closed connection instead of it: the daemon exits once its peers are gone (serve.ts)
    setImmediate(() => this.d.requestExit());
  }

  /** The daemon is exiting: release the VM (errors are logged). */
  async dispose(): Promise<void> {
    if (this.sandbox === undefined) return;
    await this.teardown().catch((err: Error) => this.d.log.warn('sandbox teardown on exit failed', { error: err.message }));
  }
}
