import { alreadyExists, failedPrecondition, invalidArgument, notFound } from '../../errdefs/index.js';
import { Field, type Logger } from '../../log/index.js';
import type { RuntimeOptions, Sandbox, SandboxFactory } from '../../sandbox/index.js';

/**
 * The Sandbox API's logic for the one pod this shim serves (containerd's "shim" sandboxer): one sandbox =
 * one utility VM, created through the sandbox layer (CreateLCOW) at StartSandbox; the pod's containers are
 * created in it by the Task service (TaskService asks `vm()`), with no pause container and no pause process.
 *
 * States (enum + guards; every other transition is refused with the error named):
 *
 *   (none) ──CreateSandbox──▶ Created ──StartSandbox──▶ Running ──StopSandbox / VM exit──▶ Stopped
 *   Created ──StopSandbox──▶ Stopped (no VM to release)
 *   any ──ShutdownSandbox──▶ Shutdown (stops first; the daemon exits once the Task service has no task)
 *
 *   CreateSandbox when created: AlreadyExists.  StartSandbox unless Created: FailedPrecondition.
 *   Any call before CreateSandbox or naming another id: NotFound.  After Shutdown: NotFound.
 *   StopSandbox when Stopped: no-op (containerd retries it).
 *
 * Teardown (StopSandbox), the reverse of acquisition: the pod's containers are killed first (the Task
 * service: their inits exit and their exits are published), then the utility VM is closed (guest agent,
 * VM, its disks and directories: Sandbox.close). The rootfs of each container is released by its own
 * Task Delete, as in pause mode.
 */
export enum PodSandboxState {
  Created = 'created',
  Running = 'running',
  Stopped = 'stopped',
  Shutdown = 'shutdown',
}

/** What the Task service does for a stopping pod: kill every container left in it (errors are logged). */
export interface PodWorkloads {
  killAll(): Promise<void>;
}

export interface PodSandboxDeps {
  /** The id the shim was started for; the only sandbox it serves. */
  readonly shimId: string;
  readonly log: Logger;
  readonly sandboxes: SandboxFactory;
  readonly workloads: PodWorkloads;
  /** The runtime options the shim was started with (defaults when none). */
  readonly options?: RuntimeOptions;
  /** Asks the daemon to exit once nothing is left (ShutdownSandbox). */
  readonly requestExit: () => void;
  readonly now?: () => Date;
}

export interface PodSandboxCreate {
  readonly id: string;
  readonly bundle: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly netnsPath: string;
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

export class PodSandbox {
  private state: PodSandboxState | undefined;
  private req: PodSandboxCreate | undefined;
  private sandbox: Sandbox | undefined;
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
    const r = this.req!;
    const log = this.d.log.child({ [Field.ContainerId]: id });
    this.state = PodSandboxState.Running; // guards a concurrent second StartSandbox
    let sandbox: Sandbox;
    try {
      sandbox = await this.d.sandboxes({
        taskId: id, bundle: r.bundle, spec: { annotations: { ...r.annotations } }, annotations: r.annotations,
        options: this.d.options ?? {}, log,
      });
    } catch (err) {
      this.state = PodSandboxState.Created;
      throw err;
    }
    this.sandbox = sandbox;
    this.startedAt = this.now;
    if (this.state !== PodSandboxState.Running) {
      // stopped or shut down while the VM was being created: release it now
      await sandbox.close();
      throw failedPrecondition(`sandbox ${id} was stopped while starting`);
    }
    void sandbox.waitExit().then(() => {
      if (this.exit === undefined && this.stopping === undefined) {
        log.warn('the utility VM of the sandbox exited on its own');
        this.finish(VM_LOST_EXIT_STATUS);
      }
    });
    log.info('sandbox started', { vm: `${id}@vm` });
    return { createdAt: this.startedAt };
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
    this.stopping ??= (async () => {
      if (this.sandbox !== undefined) {
        await this.d.workloads.killAll().catch((err: Error) => this.d.log.warn('kill of the pod containers failed', { error: err.message }));
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

  ping(id: string): void {
    const state = this.check(id);
    if (state !== PodSandboxState.Running) throw failedPrecondition(`sandbox ${id} is ${state}, not running`);
  }

  /** ShutdownSandbox: stops what runs, forgets the sandbox and lets the daemon exit. */
  async shutdown(id: string): Promise<void> {
    this.check(id);
    await this.teardown();
    this.state = PodSandboxState.Shutdown;
    // containerd only closes its connection after this reply (ShimManager.Delete) and does not tolerate a
    // closed connection instead of it: exit once the reply is on its way
    setImmediate(() => this.d.requestExit());
  }

  /** The daemon is exiting: release the VM (errors are logged). */
  async dispose(): Promise<void> {
    if (this.sandbox === undefined) return;
    await this.teardown().catch((err: Error) => this.d.log.warn('sandbox teardown on exit failed', { error: err.message }));
  }
}
