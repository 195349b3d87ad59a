import { alreadyExists, failedPrecondition, invalidArgument, notFound } from '../../errdefs/index.js';
import { Field, type Logger } from '../../log/index.js';
import type { EventPublisher } from '../events/index.js';
import { settlesWithin } from '../../async/index.js';
import { SIGKILL, type GuestContainer, type Sandbox } from '../../sandbox/index.js';
import { Exec } from './exec.js';
import { ExecState } from './exec-state.js';
import { Freezer } from './freezer.js';
import { pauseGuard, pausedStatus } from './pause-state.js';
import type { ExitInfo, Mount, ProcessListEntry, ProcessState, ResourcesKind, StdioPaths, TaskStats } from './types.js';
import { vmResources } from './vm-resources.js';
import type { PlatformTransport } from '../../transport/index.js';

/** How long after a SIGKILL of the init the utility VM is closed if the init has not exited (hcsshim: 30 s). */
export const KILL_WATCHDOG_MS = 30_000;

/** How long the init's exit waits for the container's teardown and for the execs' exits (hcsshim: 30 s). */
export const TEARDOWN_TIMEOUT_MS = 30_000;
/** How long delete looks for the VM's exit after closing it (close waits for it; this only confirms). */
const VM_EXIT_CONFIRM_MS = 1_000;

export interface TaskInit {
  readonly id: string;
  readonly bundle: string;
  readonly namespace: string;
  readonly rootfs: readonly Mount[];
  readonly stdio: StdioPaths;
  readonly sandbox: Sandbox;
  /**
   * True for the task whose init owns the utility VM (a standalone task, or a pod's sandbox task): its
   * exit or deletion closes the VM. A pod's workload task only shuts its container down.
   */
  readonly ownsSandbox: boolean;
  readonly container: GuestContainer;
  readonly events: EventPublisher;
  readonly log: Logger;
  /** The platform's transport (chosen once in entry.ts): opens each process's stdio endpoints. */
  readonly transport: PlatformTransport;
  /** runhcs io_retry_timeout_in_sec × 1000, when set: handed to every process's stdio. */
  readonly ioRetryTimeoutMs?: number;
  /** The SIGKILL watchdog's delay; default KILL_WATCHDOG_MS (tests shorten it). */
  readonly killWatchdogMs?: number;
  /** Releases host resources of the task (rootfs mounts) once it is deleted. */
  readonly release: () => Promise<void>;
}


/**
 * An LCOW task: one container in a utility VM (its own, or its pod's), its init process and its execs.
 * When the init exits: every exec's exit is published first, the container is shut down and, when the task
 * owns the VM, the VM closed; then the init's TaskExit goes out and `closed` resolves (Wait on the task
 * returns after that).
 */
export class LcowTask {
  private readonly execs = new Map<string, Exec>();
  private readonly exitPublished = new Map<string, Promise<void>>();
  private resolveClosed!: () => void;
  /** Resolves when the init has exited and the task's VM is torn down. */
  readonly closed: Promise<void> = new Promise((r) => (this.resolveClosed = r));
  private deleted = false;
  private killWatchdog: NodeJS.Timeout | undefined;
  private releasedAll = false;
  private readonly freezer: Freezer;

  private constructor(
    private readonly t: TaskInit,
    readonly init: Exec,
  ) {
    this.execs.set('', init);
    this.freezer = new Freezer(t.container, () => init.state === ExecState.Exited, t.log);
    void this.watchInit();
    void this.watchSandbox();
  }

  static async create(t: TaskInit): Promise<LcowTask> {
    const init = await Exec.create({
      containerId: t.id, execId: '', bundle: t.bundle, stdio: t.stdio, namespace: t.namespace, log: t.log, transport: t.transport,
      ...(t.ioRetryTimeoutMs === undefined ? {} : { ioRetryTimeoutMs: t.ioRetryTimeoutMs }),
    });
    const task = new LcowTask(t, init);
    t.events.publish({
      type: 'create', containerId: t.id, bundle: t.bundle, rootfs: [...t.rootfs],
      io: { ...t.stdio }, checkpoint: '', pid: 0,
    });
    return task;
  }

  get id(): string {
    return this.t.id;
  }

  /** The utility VM the task's container runs in (its own, or its pod's). */
  get sandbox(): Sandbox {
    return this.t.sandbox;
  }

  /** Every process of the task (the init first), for DiagTasks. */
  processes(): Exec[] {
    return [...this.execs.values()];
  }

  get bundle(): string {
    return this.t.bundle;
  }

  exec(execId: string): Exec {
    const e = this.execs.get(execId);
    if (e === undefined) throw notFound(`process does not exist ${execId}`);
    return e;
  }

  async start(execId: string): Promise<number> {
    const e = this.exec(execId);
    if (execId !== '') pauseGuard.startExec(this.freezer.state);
    const pid = await e.start(this.t.container);
    if (execId === '') this.t.events.publish({ type: 'start', containerId: this.id, pid });
    else this.t.events.publish({ type: 'exec-started', containerId: this.id, execId, pid });
    return pid;
  }

  async createExec(execId: string, stdio: StdioPaths, spec: Record<string, unknown>): Promise<void> {
    if (execId === '') throw invalidArgument('exec id must not be empty');
    if (this.execs.has(execId)) throw alreadyExists(`id ${execId}: process already exists`);
    if (this.init.state !== ExecState.Running) {
      throw failedPrecondition(`task ${this.id}: cannot exec in a task in state ${this.init.state}`);
    }
    pauseGuard.exec(this.freezer.state);
    const e = await Exec.create({
      containerId: this.id, execId, bundle: this.t.bundle, stdio, spec, namespace: this.t.namespace, log: this.t.log, transport: this.t.transport,
      ...(this.t.ioRetryTimeoutMs === undefined ? {} : { ioRetryTimeoutMs: this.t.ioRetryTimeoutMs }),
    });
    this.execs.set(execId, e);
    this.exitPublished.set(execId, e.exited.then(() => this.publishExit(e)));
    this.t.events.publish({ type: 'exec-added', containerId: this.id, execId });
  }

  /**
   * TaskExit. An exec that never started publishes nothing (hcsshim's exitFromCreated); the init always
   * does, once the task's VM is closed, even when it never started (pid 0), as hcsshim's closeHost.
   */
  private publishExit(e: Exec): void {
    if (!e.ran && e !== this.init) return;
    const x = e.exitInfo();
    this.t.events.publish({
      type: 'exit', containerId: this.id, id: e.execId || this.id, pid: x.pid, exitStatus: x.exitStatus,
      exitedAt: x.exitedAt ?? new Date(),
    });
  }

  private async watchInit(): Promise<void> {
    await this.init.exited;
    const log = this.t.log;
    await this.freezer.thawAfterExit();
    // Execs die with the container's init; give them a moment to report, then force the rest.
    const others = [...this.execs.values()].filter((e) => e !== this.init);
    await settlesWithin(Promise.all(others.map((e) => e.exited)), 2000);
    for (const e of others) await e.forceExit(1);
    await Promise.all([...this.exitPublished.values()]);
    try {
      await this.t.container.shutdown(TEARDOWN_TIMEOUT_MS, { vmClosing: this.t.ownsSandbox });
    } catch (err) {
      log.debug('container shutdown after init exit failed', { error: (err as Error).message });
    }
    if (this.t.ownsSandbox) await this.closeSandbox();
    this.publishExit(this.init);
    this.resolveClosed();
  }

  private async watchSandbox(): Promise<void> {
    await this.t.sandbox.waitExit();
    if (this.init.state === ExecState.Exited) return;
    this.t.log.warn('the utility VM exited: every process of the task is marked exited with status 1', {
      [Field.UvmId]: this.t.sandbox.id,
    });
    for (const e of this.execs.values()) if (e !== this.init) await e.forceExit(1);
    await this.init.forceExit(1);
  }

  /** State of a process: while the task is paused (or pausing) every process reads so, as with runc-v2. */
  state(execId: string): ProcessState {
    const snap = this.exec(execId).snapshot();
    const paused = this.init.state === ExecState.Running ? pausedStatus(this.freezer.state) : undefined;
    return paused === undefined ? snap : { ...snap, status: paused };
  }

  /** Pause: freezes the container in the guest (freezer.ts), then /tasks/paused. */
  async pause(): Promise<void> {
    await this.freezer.pause(this.init.state);
    this.t.events.publish({ type: 'paused', containerId: this.id });
  }

  /** Resume: thaws the container in the guest, then /tasks/resumed. */
  async resume(): Promise<void> {
    await this.freezer.resume(this.init.state);
    this.t.events.publish({ type: 'resumed', containerId: this.id });
  }

  /**
   * Kill (hcsshim's KillExec): `all` signals every running exec first (failures logged), then the init.
   * A SIGKILL of the init arms a watchdog: if the init has not exited KILL_WATCHDOG_MS later, the guest is
   * taken to be misbehaving and the utility VM is closed (which ends every process of the task).
   */
  async kill(execId: string, signal: number, all: boolean): Promise<void> {
    if (all && execId !== '') throw failedPrecondition('cannot signal all processes with a non-empty exec id');
    const target = this.exec(execId);
    const supported = this.t.sandbox.signalProcessSupported;
    if (all) {
      for (const e of this.execs.values()) {
        if (e === this.init || e.state !== ExecState.Running) continue;
        await e.kill(signal, supported).catch((err: Error) => {
          this.t.log.warn('failed to kill exec in task', { [Field.ExecId]: e.execId, error: err.message });
        });
      }
    }
    if (signal === SIGKILL && execId === '') this.armKillWatchdog();
    await target.kill(signal, supported);
  }

  private armKillWatchdog(): void {
    if (this.killWatchdog !== undefined || this.init.state === ExecState.Exited) return;
    const ms = this.t.killWatchdogMs ?? KILL_WATCHDOG_MS;
    this.killWatchdog = setTimeout(() => {
      this.t.log.warn('the init did not exit after SIGKILL: closing the utility VM', { [Field.UvmId]: this.t.sandbox.id, timeoutMs: ms });
      this.t.sandbox.close().catch((err: Error) => this.t.log.warn('closing the utility VM failed', { error: err.message }));
    }, ms);
    void this.init.exited.then(() => clearTimeout(this.killWatchdog));
  }

  /** Deletes an exec or the task, each with its TaskDelete (hcsshim: ID = the exec id); the init must not be running. */
  async delete(execId: string): Promise<ExitInfo> {
    const e = this.exec(execId);
    if (execId === '' && e.state === ExecState.Running) pauseGuard.delete(this.freezer.state);
    if (e.state === ExecState.Running) throw failedPrecondition(`cannot delete a running process`);
    if (execId !== '') {
      this.execs.delete(execId);
      this.exitPublished.delete(execId);
      const x = e.exitInfo();
      this.t.events.publish({
        type: 'delete', containerId: this.id, id: execId, pid: x.pid, exitStatus: x.exitStatus,
        ...(x.exitedAt ? { exitedAt: x.exitedAt } : {}),
      });
      return x;
    }
    if (e.state === ExecState.Created) await e.forceExit(0);
    await settlesWithin(this.closed, TEARDOWN_TIMEOUT_MS);
    if (!this.deleted) {
      this.deleted = true;
      // Released: the VM this task owns (none for a pod workload) closed and exited, then the rootfs.
      const vmGone = !this.t.ownsSandbox
        || ((await this.closeSandbox()) && (await settlesWithin(this.t.sandbox.waitExit(), VM_EXIT_CONFIRM_MS)));
      await this.t.release();
      this.releasedAll = vmGone;
      const x = e.exitInfo();
      this.t.events.publish({
        type: 'delete', containerId: this.id, id: this.id, pid: x.pid, exitStatus: x.exitStatus,
        exitedAt: x.exitedAt ?? new Date(),
      });
    }
    return e.exitInfo();
  }

  get isDeleted(): boolean {
    return this.deleted;
  }

  /** True once the task is deleted with its VM closed and exited and its host resources released. */
  get released(): boolean {
    return this.releasedAll;
  }

  /** Wait: an exec's exit, or for the init the task's full teardown. */
  async wait(execId: string): Promise<ExitInfo> {
    const e = this.exec(execId);
    if (execId !== '') return e.wait();
    await this.closed;
    return e.exitInfo();
  }

  async pids(): Promise<ProcessListEntry[]> {
    if (this.init.state !== ExecState.Running) return this.init.pid ? [{ pid: this.init.pid, execId: '' }] : [];
    const byPid = new Map([...this.execs.values()].map((e) => [e.pid, e.execId] as const));
    const list = await this.t.container.processList();
    return list.map((p) => {
      const execId = byPid.get(p.pid);
      return execId === undefined ? p : { ...p, execId };
    });
  }

  async stats(): Promise<TaskStats> {
    if (this.init.state !== ExecState.Running) throw failedPrecondition(`task ${this.id} is not running`);
    return this.t.container.statistics();
  }

  /**
   * Update (hcsshim hcsTask.Update): a task that owns its utility VM updates the VM (memory, processor
   * limits, CPU group: Sandbox.update); a pod's workload gets its LinuxResources as ContainerConstraints.
   */
  async update(resources: Record<string, unknown> | undefined, kind: ResourcesKind, annotations: Readonly<Record<string, string>>): Promise<void> {
    if (resources === undefined) throw invalidArgument('update: resources are required');
    if (this.init.state !== ExecState.Running) throw failedPrecondition(`task ${this.id} is not running`);
    if (this.t.ownsSandbox) {
      await this.t.sandbox.update(vmResources(resources, kind), annotations);
      return;
    }
    if (kind !== 'linux') throw invalidArgument('update: a container in a pod takes LinuxResources, not WindowsResources');
    await this.t.container.update(resources);
  }

  /** Tears everything down now (shim exiting on a signal). A pod's sandbox task goes first: the VM takes its workloads with it. */
  async dispose(): Promise<void> {
    clearTimeout(this.killWatchdog);
    for (const e of this.execs.values()) await e.forceExit(e.state === ExecState.Exited ? e.exitInfo().exitStatus : 255);
    if (this.t.ownsSandbox) await this.closeSandbox(); // a pod's workloads are disposed of after its VM is gone
    await this.t.release().catch((err: Error) => this.t.log.warn('releasing the task rootfs failed', { error: err.message }));
  }

  /** Closes the VM this task owns; false (logged) when that failed. */
  private async closeSandbox(): Promise<boolean> {
    return this.t.sandbox.close().then(
      () => true,
      (err: Error) => (this.t.log.warn('closing the utility VM failed', { error: err.message }), false),
    );
  }
}
