/**
 * FakeGuestContainer: records every execute() request and hands out FakeGuestProcesses with increasing pids
 * (the first one is the init). Failures, process lists, statistics and update results are set by the test.
 */
import type { GuestContainer, ProcessRequest } from '../../src/sandbox/index.js';
import type { ProcessListEntry, TaskStats } from '../../src/shim/task/types.js';
import { FakeGuestProcess, type FakeGuestProcessOptions } from './guest-process.js';

export class FakeGuestContainer implements GuestContainer {
  readonly requests: ProcessRequest[] = [];
  readonly processes: FakeGuestProcess[] = [];
  readonly updates: Array<Record<string, unknown>> = [];
  readonly shutdowns: number[] = [];
  /** The options of each shutdown, in order. */
  readonly shutdownOptions: Array<{ readonly vmClosing?: boolean } | undefined> = [];
  /** The next execute() rejects with this error (then it is cleared). */
  failNextExecute: Error | undefined;
  /** Options for the processes execute() creates. */
  processOptions: FakeGuestProcessOptions = {};
  /** What processList() returns; by default one entry per process handed out. */
  processListResult: ProcessListEntry[] | undefined;
  statisticsResult: TaskStats = { pids: { current: 1, limit: 0 } };
  shutdownError: Error | undefined;
  /** When set, execute() waits for it before answering (a start still in flight). */
  executeGate: Promise<void> | undefined;
  /** Runs on each new process before execute() returns it (e.g. `(p) => p.exit(0)` for an early exit). */
  onExecute: ((p: FakeGuestProcess) => void) | undefined;
  private nextPid: number;
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(
    readonly id: string,
    firstPid = 100,
  ) {
    this.nextPid = firstPid;
  }

  async execute(req: ProcessRequest): Promise<FakeGuestProcess> {
    this.requests.push(req);
    if (this.executeGate) await this.executeGate;
    const err = this.failNextExecute;
    if (err !== undefined) {
      this.failNextExecute = undefined;
      throw err;
    }
    const p = new FakeGuestProcess(this.nextPid++, this.processOptions);
    this.processes.push(p);
    this.onExecute?.(p);
    for (const w of this.waiters.filter((x) => this.processes.length >= x.count)) w.resolve();
    return p;
  }

  /** The process started n-th (0 = the init). */
  process(n: number): FakeGuestProcess {
    const p = this.processes[n];
    if (p === undefined) throw new Error(`fake container ${this.id}: no process #${n} (have ${this.processes.length})`);
    return p;
  }

  /** Resolves once `count` processes were handed out (for a start still in flight). */
  whenProcesses(count: number): Promise<void> {
    if (this.processes.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  async processList(): Promise<ProcessListEntry[]> {
    return this.processListResult ?? this.processes.filter((p) => !p.hasExited).map((p) => ({ pid: p.pid }));
  }

  async statistics(): Promise<TaskStats> {
    return this.statisticsResult;
  }

  async update(resources: Record<string, unknown>): Promise<void> {
    this.updates.push(resources);
  }

  /** Every pause()/resume() call, in order ('pause' | 'resume'). */
  readonly freezes: Array<'pause' | 'resume'> = [];
  /** The next pause() or resume() rejects with this error (then it is cleared). */
  failNextFreeze: Error | undefined;
  /** When set, pause()/resume() wait for it before answering (a freeze still in flight). */
  freezeGate: Promise<void> | undefined;

  async pause(): Promise<void> {
    await this.freeze('pause');
  }

  async resume(): Promise<void> {
    await this.freeze('resume');
  }

  private async freeze(verb: 'pause' | 'resume'): Promise<void> {
    this.freezes.push(verb);
    if (this.freezeGate) await this.freezeGate;
    const err = this.failNextFreeze;
    this.failNextFreeze = undefined;
    if (err !== undefined) throw err;
  }

  async shutdown(timeoutMs: number, opts?: { readonly vmClosing?: boolean }): Promise<void> {
    this.shutdowns.push(timeoutMs);
    this.shutdownOptions.push(opts);
    if (this.shutdownError) throw this.shutdownError;
  }
}
