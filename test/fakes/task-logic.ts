/**
 * FakeTaskLogic: a TaskLogic that records each call (method + arguments) and answers from `answers`
 * (or throws `failWith`), for tests of the ttrpc edge (src/shim/service.ts).
 */
import type {
  CreateTaskOptions, ExecOptions, ExitInfo, ProcessListEntry, ProcessState, TaskLogic, TaskStats,
} from '../../src/shim/task/types.js';
import { ProcessStatus } from '../../src/shim/task/types.js';

export interface RecordedCall {
  readonly method: keyof TaskLogic;
  readonly args: readonly unknown[];
}

export interface FakeAnswers {
  create: { pid: number };
  start: { pid: number };
  state: ProcessState;
  delete: ExitInfo;
  pids: ProcessListEntry[];
  wait: ExitInfo;
  stats: TaskStats;
  connect: { shimPid: number; taskPid: number; version: string };
}

export class FakeTaskLogic implements TaskLogic {
  readonly calls: RecordedCall[] = [];
  /** Every call throws this (after being recorded). */
  failWith: unknown;
  answers: FakeAnswers = {
    create: { pid: 0 },
    start: { pid: 0 },
    state: {
      id: '', execId: '', bundle: '', pid: 0, status: ProcessStatus.Created, exitStatus: 255,
      stdio: { stdin: '', stdout: '', stderr: '', terminal: false },
    },
    delete: { pid: 0, exitStatus: 0 },
    pids: [],
    wait: { pid: 0, exitStatus: 0 },
    stats: {},
    connect: { shimPid: 0, taskPid: 0, version: '' },
  };

  private async record<T>(method: keyof TaskLogic, args: unknown[], answer: T): Promise<T> {
    this.calls.push({ method, args });
    if (this.failWith !== undefined) throw this.failWith;
    return answer;
  }

  /** The one recorded call (asserts there was exactly one). */
  get only(): RecordedCall {
    if (this.calls.length !== 1) throw new Error(`expected one call, got ${this.calls.map((c) => c.method).join(', ') || 'none'}`);
    return this.calls[0] as RecordedCall;
  }

  create(o: CreateTaskOptions) { return this.record('create', [o], this.answers.create); }
  start(id: string, execId: string) { return this.record('start', [id, execId], this.answers.start); }
  state(id: string, execId: string) { return this.record('state', [id, execId], this.answers.state); }
  delete(id: string, execId: string) { return this.record('delete', [id, execId], this.answers.delete); }
  pids(id: string) { return this.record('pids', [id], this.answers.pids); }
  pause(id: string) { return this.record('pause', [id], undefined); }
  resume(id: string) { return this.record('resume', [id], undefined); }
  checkpoint(id: string, path: string) { return this.record('checkpoint', [id, path], undefined); }
  kill(id: string, execId: string, signal: number, all: boolean) { return this.record('kill', [id, execId, signal, all], undefined); }
  exec(o: ExecOptions) { return this.record('exec', [o], undefined); }
  resizePty(id: string, execId: string, w: number, h: number) { return this.record('resizePty', [id, execId, w, h], undefined); }
  closeIO(id: string, execId: string, stdin: boolean) { return this.record('closeIO', [id, execId, stdin], undefined); }
  update(id: string, resources: Record<string, unknown> | undefined, annotations: Record<string, string>, kind: string) {
    return this.record('update', [id, resources, annotations, kind], undefined);
  }
  wait(id: string, execId: string) { return this.record('wait', [id, execId], this.answers.wait); }
  stats(id: string) { return this.record('stats', [id], this.answers.stats); }
  connect(id: string) { return this.record('connect', [id], this.answers.connect); }
  shutdown(id: string, now: boolean) { return this.record('shutdown', [id, now], undefined); }
}
