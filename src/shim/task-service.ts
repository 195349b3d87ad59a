import { alreadyExists, invalidArgument, notFound, notImplemented } from '../errdefs/index.js';
import { Field, type Logger } from '../log/index.js';
import { effectiveAnnotations, uvmOptionsFromAnnotations } from '../sandbox/index.js';
import { prepareRootfs } from './create/rootfs.js';
import { decodeRuntimeOptions } from './create/runtime-options.js';
import { loadSpec } from './create/spec.js';
import type { EventPublisher } from './events/index.js';
import type { SandboxFactory } from '../sandbox/index.js';
import { LcowTask } from './task/task.js';
import type {
  CreateTaskOptions, ExecOptions, ExitInfo, ProcessListEntry, ProcessState, TaskLogic, TaskStats,
} from './task/types.js';

export interface TaskServiceDeps {
  /** The id the shim was started for: the only task it serves (hcsshim's standalone task). */
  readonly shimId: string;
  readonly namespace: string;
  readonly log: Logger;
  readonly events: EventPublisher;
  readonly sandboxes: SandboxFactory;
  /** Asks the daemon to exit (Shutdown with no task left). */
  readonly requestExit: (now: boolean) => void;
}

/** The Task API logic for one standalone LCOW task. Every method is documented by its RPC in task/types.ts. */
export class TaskService implements TaskLogic {
  private task: LcowTask | undefined;
  private creating = false;

  constructor(private readonly d: TaskServiceDeps) {}

  private get(id: string): LcowTask {
    if (this.task === undefined || this.task.id !== id) throw notFound(`task ${id}: container not created`);
    return this.task;
  }

  async create(o: CreateTaskOptions): Promise<{ pid: number }> {
    if (o.id !== this.d.shimId) {
      throw invalidArgument(`this shim serves task '${this.d.shimId}' only, not '${o.id}'`);
    }
    if (this.task !== undefined || this.creating) throw alreadyExists(`task ${o.id} already exists`);
    if (o.checkpoint !== '') throw notImplemented('create from a checkpoint is not supported by io.containerd.lcow.v1');
    if (o.stdio.terminal && o.stdio.stderr !== '') throw invalidArgument('a terminal task cannot have a separate stderr');
    this.creating = true;
    const log = this.d.log.child({ [Field.ContainerId]: o.id });
    try {
      const spec = await loadSpec(o.bundle);
      const options = decodeRuntimeOptions(o.options);
      const annotations = effectiveAnnotations(spec.annotations ?? {}, options);
      uvmOptionsFromAnnotations(annotations); // a bad value fails before anything is mounted or created
      const rootfs = await prepareRootfs(o.bundle, o.rootfs, spec.root?.path, spec.root?.readonly === true);
      try {
        const sandboxSpec = { ...spec, root: { ...(spec.root ?? {}), path: rootfs.path } };
        const sandbox = await this.d.sandboxes({ taskId: o.id, bundle: o.bundle, spec: sandboxSpec, annotations, options, log });
        try {
          const container = await sandbox.createContainer(o.id, sandboxSpec);
          this.task = await LcowTask.create({
            id: o.id, bundle: o.bundle, namespace: this.d.namespace, rootfs: o.rootfs, stdio: o.stdio,
            sandbox, container, events: this.d.events, log, release: () => rootfs.release(),
            ...(options.ioRetryTimeoutInSec ? { ioRetryTimeoutMs: options.ioRetryTimeoutInSec * 1000 } : {}),
          });
        } catch (err) {
          await sandbox.close().catch(() => undefined);
          throw err;
        }
      } catch (err) {
        await rootfs.release().catch(() => undefined);
        throw err;
      }
      return { pid: 0 };
    } finally {
      this.creating = false;
    }
  }

  async start(id: string, execId: string): Promise<{ pid: number }> {
    return { pid: await this.get(id).start(execId) };
  }

  async state(id: string, execId: string): Promise<ProcessState> {
    return this.get(id).exec(execId).snapshot();
  }

  async delete(id: string, execId: string): Promise<ExitInfo> {
    return this.get(id).delete(execId);
  }

  async pids(id: string): Promise<ProcessListEntry[]> {
    return this.get(id).pids();
  }

  async pause(id: string): Promise<void> {
    this.get(id);
    throw notImplemented('pause is not supported by io.containerd.lcow.v1 (the GCS protocol has no pause)');
  }

  async resume(id: string): Promise<void> {
    this.get(id);
    throw notImplemented('resume is not supported by io.containerd.lcow.v1 (the GCS protocol has no pause)');
  }

  async checkpoint(id: string): Promise<void> {
    this.get(id);
    throw notImplemented('checkpoint is not supported by io.containerd.lcow.v1');
  }

  async kill(id: string, execId: string, signal: number, all: boolean): Promise<void> {
    if (!Number.isInteger(signal) || signal <= 0 || signal > 64) throw invalidArgument(`invalid signal ${signal}`);
    await this.get(id).kill(execId, signal, all);
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

  async update(id: string, resources: Record<string, unknown> | undefined): Promise<void> {
    await this.get(id).update(resources);
  }

  async wait(id: string, execId: string): Promise<ExitInfo> {
    return this.get(id).wait(execId);
  }

  async stats(id: string): Promise<TaskStats> {
    return this.get(id).stats();
  }

  async connect(): Promise<{ shimPid: number; taskPid: number; version: string }> {
    return { shimPid: process.pid, taskPid: this.task?.init.pid ?? 0, version: '' };
  }

  /** Shutdown: exit once the task is gone (or was never created); otherwise stay up, as runc's shim does. */
  async shutdown(id: string, now: boolean): Promise<void> {
    if (id !== '' && id !== this.d.shimId) return;
    if (this.task !== undefined && !this.task.isDeleted) return;
    this.d.requestExit(now);
  }

  /** Tears down whatever is left (the daemon is exiting on a signal). */
  async dispose(): Promise<void> {
    await this.task?.dispose();
    await this.d.events.close();
  }
}
