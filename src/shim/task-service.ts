import { alreadyExists, failedPrecondition, invalidArgument, notFound, notImplemented } from '../errdefs/index.js';
import { Field, logTeardown, type Logger } from '../log/index.js';
import type { PlatformTransport } from '../transport/index.js';
import {
  CriAnnotation, GuestAnnotation, annotationBool, effectiveAnnotations, expandAnnotations, gcsCommandLineExtras, podRole, uvmOptionsFromAnnotations, type PodRole, type Sandbox, type SandboxFactory,
} from '../sandbox/index.js';
import { isLcowRootfs, parseLcowLayers } from './create/lcow-layers.js';
import { prepareRootfs, type HostRootfs } from './create/rootfs.js';
import { decodeRuntimeOptions } from './create/runtime-options.js';
import { checkRuntimeOptions } from './create/sandbox-options.js';
import { loadSpec } from './create/spec.js';
import { withoutSandboxPidNamespaces } from './sandbox-api/index.js';
import type { EventPublisher } from './events/index.js';
import { ExecState } from './task/exec-state.js';
import { LcowTask } from './task/task.js';
import type {
  CreateTaskOptions, ExecOptions, ExitInfo, ProcessListEntry, ProcessState, ResourcesKind, TaskLogic, TaskStats,
} from './task/types.js';

export interface TaskServiceDeps {
  /**
   * The id the shim was started for: a standalone task (the only one it serves) or a pod's sandbox, whose
   * workload containers `start` sends here too (one shim and one utility VM per pod, as runhcs).
   */
  readonly shimId: string;
  readonly namespace: string;
  readonly log: Logger;
  readonly events: EventPublisher;
  readonly sandboxes: SandboxFactory;
  /** The platform's transport (chosen once in entry.ts): opens the tasks' stdio endpoints. */
  readonly transport: PlatformTransport;
  /** The SIGKILL watchdog's delay (task.ts KILL_WATCHDOG_MS unless set; tests shorten it). */
  readonly killWatchdogMs?: number;
  /** Asks the daemon to exit (Shutdown with no task left). */
  readonly requestExit: (now: boolean) => void;
  /**
   * Called once the task of `bundle` is deleted with everything released (VM exited, rootfs released):
   * the daemon leaves the released marker there for `delete`. Does not throw: a marker that cannot be written
   * is logged by the daemon (task-logic-factory.ts), as PodSandbox's onReleased.
   */
  readonly onTaskReleased?: (bundle: string) => void;
  /**
   * The pod this shim hosts through the Sandbox API (containerd's "shim" sandboxer): its utility VM while
   * it runs, for the pod's containers (no pause task), and whether it keeps the daemon up.
   */
  readonly pod?: HostedPod;
}

export interface HostedPod {
  vm(): Sandbox | undefined;
  active(): boolean;
}

/**
 * The Task API logic for one standalone LCOW task or one pod. The first task must be the shim's own id:
 * it creates the utility VM and owns it (a standalone task, or the pod's sandbox: its pause container).
 * In a pod, workload tasks (CRI container-type=container, sandbox-id = the shim id) are created in that VM
 * while the sandbox runs, and unregistered when deleted. Every method is documented by its RPC in
 * task/types.ts.
 */
export class TaskService implements TaskLogic {
  /** Live tasks by id, in creation order: the VM owner first. */
  private readonly tasks = new Map<string, LcowTask>();
  private readonly creating = new Set<string>();
  /** What the owner task is, once created. */
  private role: PodRole['kind'] | undefined;

  constructor(private readonly d: TaskServiceDeps) {}

  private get(id: string): LcowTask {
    const t = this.tasks.get(id);
    if (t === undefined) throw notFound(`task ${id}: container not created`);
    return t;
  }

  /** Whether any process of any task is running (the daemon's idle reclaim: serve.ts). */
  hasRunningProcess(): boolean {
    for (const t of this.tasks.values()) if (t.processes().some((e) => e.state === ExecState.Running)) return true;
    return false;
  }

  /** A live task (NotFound otherwise); for the diagnostics. */
  task(id: string): LcowTask {
    return this.get(id);
  }

  /** The live tasks, the VM owner first; for the diagnostics. */
  liveTasks(): LcowTask[] {
    return [...this.tasks.values()];
  }

  private get owner(): LcowTask | undefined {
    return this.tasks.get(this.d.shimId);
  }

  async create(o: CreateTaskOptions): Promise<{ pid: number }> {
    if (this.tasks.has(o.id) || this.creating.has(o.id)) throw alreadyExists(`task ${o.id} already exists`);
    if (o.checkpoint !== '') throw notImplemented('create from a checkpoint is not supported by io.containerd.lcow.v1');
    if (o.stdio.terminal && o.stdio.stderr !== '') throw invalidArgument('a terminal task cannot have a separate stderr');
    const log = this.d.log.child({ [Field.ContainerId]: o.id });
    this.creating.add(o.id);
    try {
      const loaded = await loadSpec(o.bundle);
      // a container of a Sandbox API pod: no process holds the pod's namespaces (pod-infra.ts)
      const spec = this.role === undefined && o.id !== this.d.shimId && this.d.pod?.active() === true ? withoutSandboxPidNamespaces(loaded) : loaded;
      const options = decodeRuntimeOptions(o.options);
      checkRuntimeOptions(options, log);
      // runhcs UpdateSpecFromOptions: the defaults from the options land in the spec the guest gets, too.
      const annotations = expandAnnotations(effectiveAnnotations(spec.annotations ?? {}, options, spec.windows));
      const role = podRole(annotations);
      const owns = o.id === this.d.shimId;
      if (owns) this.checkOwner(o.id, role);
      else this.checkWorkload(o.id, role);
      if (owns) {
        // a bad value fails before anything is mounted or created
        uvmOptionsFromAnnotations(annotations);
        gcsCommandLineExtras(annotations);
        annotationBool(annotations, GuestAnnotation.DisableWritableFileShares);
      }
      // LCOW layers are attached to the VM (no host mount); any other rootfs is mounted on the host.
      const layerFolders = (spec.windows as { layerFolders?: unknown } | undefined)?.layerFolders;
      const layers = isLcowRootfs(o.rootfs, layerFolders) ? await parseLcowLayers(o.rootfs, layerFolders) : undefined;
      const rootfs: HostRootfs = layers
        ? { path: '', readonly: false, release: async () => undefined }
        : await prepareRootfs(o.bundle, o.rootfs, spec.root?.path, spec.root?.readonly === true, log);
      try {
        const sandboxSpec = layers ? { ...spec, annotations } : { ...spec, annotations, root: { ...(spec.root ?? {}), path: rootfs.path } };
        const sandbox = owns
          ? await this.d.sandboxes({ taskId: o.id, bundle: o.bundle, spec: sandboxSpec, annotations, options, log })
          : (this.owner?.sandbox ?? this.d.pod!.vm()!);
        try {
          const container = await sandbox.createContainer(o.id, sandboxSpec, layers);
          const task = await LcowTask.create({
            id: o.id, bundle: o.bundle, namespace: this.d.namespace, rootfs: o.rootfs, stdio: o.stdio,
            sandbox, ownsSandbox: owns, container, events: this.d.events, log, transport: this.d.transport, release: () => rootfs.release(),
            ...(options.ioRetryTimeoutInSec ? { ioRetryTimeoutMs: options.ioRetryTimeoutInSec * 1000 } : {}),
            ...(this.d.killWatchdogMs === undefined ? {} : { killWatchdogMs: this.d.killWatchdogMs }),
          });
          this.tasks.set(o.id, task);
          if (owns) this.role = role.kind;
        } catch (err) {
          if (owns) await sandbox.close().catch(logTeardown(log, 'closing the sandbox of a failed create'));
          throw err;
        }
      } catch (err) {
        await rootfs.release().catch(logTeardown(log, 'releasing the rootfs of a failed create'));
        throw err;
      }
      return { pid: 0 };
    } finally {
      this.creating.delete(o.id);
    }
  }

  /** The shim's own task: standalone, or the sandbox of the pod named after it. */
  private checkOwner(id: string, role: PodRole): void {
    if (role.kind === 'container') {
      throw invalidArgument(`task ${id} is a workload container of pod '${role.sandboxId}': it is created through that pod's shim, not its own`);
    }
    if (role.kind === 'sandbox' && role.sandboxId !== id) {
      throw invalidArgument(`'id' and ${CriAnnotation.SandboxId} must match for a sandbox: '${id}' != '${role.sandboxId}'`);
    }
  }

  /** Any other task: a workload of this pod, created while the pod's sandbox runs (hcsshim pod.CreateTask). */
  private checkWorkload(id: string, role: PodRole): void {
    if (this.role === undefined && this.d.pod?.active() === true) return this.checkSandboxApiWorkload(id, role);
    if (this.role !== 'sandbox') {
      throw invalidArgument(`this shim serves ${this.role === undefined ? 'no task yet' : `task '${this.d.shimId}' only`}, not '${id}'`);
    }
    if (role.kind !== 'container' || role.sandboxId !== this.d.shimId) {
      throw failedPrecondition(
        `task ${id}: expected ${CriAnnotation.ContainerType}=container and ${CriAnnotation.SandboxId}=${this.d.shimId} to join pod ${this.d.shimId}`,
      );
    }
    const sandboxTask = this.owner;
    if (sandboxTask === undefined || sandboxTask.init.state !== ExecState.Running) {
      throw failedPrecondition(`task ${id} cannot be created in pod ${this.d.shimId}, which is not running`);
    }
  }

  /** A container of the pod created through the Sandbox API: created in its running VM, with no pause task. */
  private checkSandboxApiWorkload(id: string, role: PodRole): void {
    if (role.kind !== 'container' || role.sandboxId !== this.d.shimId) {
      throw failedPrecondition(
        `task ${id}: expected ${CriAnnotation.ContainerType}=container and ${CriAnnotation.SandboxId}=${this.d.shimId} to join sandbox ${this.d.shimId}`,
      );
    }
    if (this.d.pod?.vm() === undefined) throw failedPrecondition(`task ${id} cannot be created in sandbox ${this.d.shimId}, which is not running`);
  }

  /** StopSandbox: SIGKILL every live container of the pod (errors logged), before the VM goes. */
  async killAll(): Promise<void> {
    const live = [...this.tasks.values()].filter((t) => t.init.state === ExecState.Running);
    const results = await Promise.allSettled(live.map((t) => t.kill('', 9, true)));
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.d.log.warn('kill of a pod container failed', { [Field.ContainerId]: live[i]?.id, error: (r.reason as Error).message });
    });
  }

  /** The pod's running containers' statistics (PodSandbox.metrics); one that stopped meanwhile is left out (logged). */
  async podStats(): Promise<TaskStats[]> {
    const live = [...this.tasks.values()].filter((t) => t.init.state === ExecState.Running);
    const results = await Promise.allSettled(live.map((t) => t.stats()));
    const out: TaskStats[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') out.push(r.value);
      else this.d.log.warn('stats of a pod container failed', { [Field.ContainerId]: live[i]?.id, error: (r.reason as Error).message });
    });
    return out;
  }

  async start(id: string, execId: string): Promise<{ pid: number }> {
    return { pid: await this.get(id).start(execId) };
  }

  async state(id: string, execId: string): Promise<ProcessState> {
    return this.get(id).state(execId);
  }

  /** Delete; a deleted workload is unregistered from the pod (the sandbox task stays, for Shutdown). */
  async delete(id: string, execId: string): Promise<ExitInfo> {
    const t = this.get(id);
    const exit = await t.delete(execId);
    if (execId === '' && id !== this.d.shimId) this.tasks.delete(id);
    if (execId === '' && t.released) this.d.onTaskReleased?.(t.bundle);
    return exit;
  }

  async pids(id: string): Promise<ProcessListEntry[]> {
    return this.get(id).pids();
  }

  /** Pause/Resume (beyond runhcs, which answers NotImplemented): the task's container is frozen in the guest. */
  async pause(id: string): Promise<void> {
    await this.get(id).pause();
  }

  async resume(id: string): Promise<void> {
    await this.get(id).resume();
  }

  async checkpoint(id: string): Promise<void> {
    this.get(id);
    throw notImplemented('checkpoint is not supported by io.containerd.lcow.v1');
  }

  /** Kill; with `all` on the pod's sandbox every workload task is signalled too (hcsshim pod.KillTask). */
  async kill(id: string, execId: string, signal: number, all: boolean): Promise<void> {
    if (!Number.isInteger(signal) || signal <= 0 || signal > 64) throw invalidArgument(`invalid signal ${signal}`);
    const t = this.get(id);
    if (all && execId === '' && id === this.d.shimId && this.role === 'sandbox') {
      const workloads = [...this.tasks.values()].filter((w) => w !== t && w.init.state === ExecState.Running);
      const results = await Promise.allSettled(workloads.map((w) => w.kill('', signal, true)));
      results.forEach((r, i) => {
        if (r.status === 'rejected') this.d.log.warn('kill of a pod workload failed', { [Field.ContainerId]: workloads[i]?.id, error: (r.reason as Error).message });
      });
    }
    await t.kill(execId, signal, all);
  }

  async exec(o: ExecOptions): Promise<void> {
    if (o.stdio.terminal && o.stdio.stderr !== '') throw invalidArgument('a terminal process cannot have a separate stderr');
    await this.get(o.id).createExec(o.execId, o.stdio, o.spec);
  }

  async resizePty(id: string, execId: string, width: number, height: number): Promise<void> {
    await this.get(id).exec(execId).resize(width, height);
  }

  async closeIO(id: string, execId: string, stdin: boolean): Promise<void> {
    const e = this.get(id).exec(execId);
    if (stdin) e.closeStdin();
  }

  async update(id: string, resources: Record<string, unknown> | undefined, annotations: Record<string, string>, kind: ResourcesKind): Promise<void> {
    await this.get(id).update(resources, kind, annotations);
  }

  async wait(id: string, execId: string): Promise<ExitInfo> {
    return this.get(id).wait(execId);
  }

  async stats(id: string): Promise<TaskStats> {
    return this.get(id).stats();
  }

  async connect(id: string): Promise<{ shimPid: number; taskPid: number; version: string }> {
    return { shimPid: process.pid, taskPid: this.tasks.get(id)?.init.pid ?? 0, version: '' };
  }

  /**
   * Shutdown: only the shim's own id may end it (containerd also sends Shutdown with each workload's id to
   * a pod's shim), and only once that task is deleted or was never created; otherwise stay up, as runc's
   * shim does.
   */
  async shutdown(id: string, now: boolean): Promise<void> {
    if (id !== '' && id !== this.d.shimId) return;
    if (this.d.pod?.active() === true) return; // ShutdownSandbox ends a Sandbox API pod
    const owner = this.owner;
    if (owner !== undefined && !owner.isDeleted) return;
    this.d.requestExit(now);
  }

  /** Tears down whatever is left (the daemon is exiting on a signal): the VM owner first, then the workloads. */
  async dispose(): Promise<void> {
    for (const t of this.tasks.values()) await t.dispose();
    await this.d.events.close();
  }
}
