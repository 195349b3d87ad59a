import type { Logger } from '../../log/index.js';
import type { PlatformTransport } from '../../transport/index.js';
import { handledElsewhere, settlesWithin } from '../../async/index.js';
import type { LcowTask } from '../task/task.js';
import { execInHost } from './exec-in-host.js';
import { hostStacks } from './host-stacks.js';
import type { DiagExecRequest, DiagLogic, DiagStacks, DiagTask } from './types.js';

/** How long DiagStacks waits for the guest's stacks (hcsshim: 5 s). */
export const GUEST_STACKS_TIMEOUT_MS = 5000;

/** What the diagnostics read from the Task logic (TaskService). */
export interface DiagTasks {
  /** A live task; NotFound otherwise. */
  task(id: string): LcowTask;
  /** Every live task, the VM owner (the shim's own id) first. */
  liveTasks(): LcowTask[];
}

export interface ShimDiagDeps {
  /** The id the shim was started for: its task (standalone) or pod sandbox owns the utility VM. */
  readonly shimId: string;
  readonly namespace: string;
  readonly log: Logger;
  readonly tasks: DiagTasks;
  /** The platform's transport (chosen once in entry.ts): opens the client's stdio endpoints for DiagExecInHost. */
  readonly transport: PlatformTransport;
}

/**
 * hcsshim's ShimDiag and ExtendedTask logic: DiagExecInHost, DiagShare and DiagStacks act on the utility VM
 * of the shim's own task (runhcs: s.getTask(s.tid)); DiagTasks lists every task (a pod's too).
 */
export class ShimDiagLogic implements DiagLogic {
  constructor(private readonly d: ShimDiagDeps) {}

  async diagExecInHost(req: DiagExecRequest): Promise<number> {
    const task = this.d.tasks.task(this.d.shimId);
    return execInHost(task.sandbox, req, { containerId: task.id, namespace: this.d.namespace, log: this.d.log, transport: this.d.transport });
  }

  /** The shim's state, and the guest's stacks within 5 s (a failure is logged and leaves them empty). */
  async diagStacks(): Promise<DiagStacks> {
    const stacks = hostStacks();
    const owner = this.d.tasks.liveTasks().find((t) => t.id === this.d.shimId);
    let guestStacks = '';
    if (owner !== undefined) {
      try {
        const dumped = owner.sandbox.dumpStacks();
        handledElsewhere(dumped); // awaited below when it settles in time; a failure after the timeout is moot
        guestStacks = (await settlesWithin(dumped, GUEST_STACKS_TIMEOUT_MS)) ? await dumped : '';
      } catch (err) {
        this.d.log.warn('failed to capture guest stacks', { error: (err as Error).message });
      }
    }
    return { stacks, guestStacks };
  }

  async diagTasks(execs: boolean): Promise<DiagTask[]> {
    this.d.tasks.task(this.d.shimId); // NotFound before the shim's own task exists, as runhcs
    return this.d.tasks.liveTasks().map((t) => ({
      id: t.id,
      execs: execs ? t.processes().map((e) => ({ id: e.execId, state: e.state })) : [],
    }));
  }

  async diagShare(hostPath: string, uvmPath: string, readOnly: boolean): Promise<void> {
    await this.d.tasks.task(this.d.shimId).sandbox.share(hostPath, uvmPath, readOnly);
  }

  diagPid(): number {
    return process.pid;
  }

  async computeProcessorInfo(id: string): Promise<number> {
    return this.d.tasks.task(id).sandbox.processorCount;
  }
}
