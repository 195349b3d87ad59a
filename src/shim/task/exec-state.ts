import { failedPrecondition, notFound } from '../../errdefs/index.js';
import { ProcessStatus } from './types.js';

/**
 * The life of one process (a task's init or an exec), as hcsshim's shimExec:
 *
 *   Created ──start ok──────────▶ Running ──guest exit / forceExit──▶ Exited
 *      │                                                                 ▲
 *      ├──start fails (status 1)─────────────────────────────────────────┤
 *      └──kill / forceExit / delete of a never-started process───────────┘
 *
 * | from \ to | Created | Running | Exited |
 * |-----------|---------|---------|--------|
 * | Created   |    -    |  start  | start failed, kill, forceExit |
 * | Running   |    -    |    -    | exit, forceExit |
 * | Exited    |    -    |    -    |   -    |
 *
 * Exit status reads 255 and exitedAt is unset until the process has exited.
 */
export enum ExecState {
  Created = 'created',
  Running = 'running',
  Exited = 'exited',
}

export const UNEXITED_STATUS = 255;

export function toContainerdStatus(state: ExecState): ProcessStatus {
  switch (state) {
    case ExecState.Created:
      return ProcessStatus.Created;
    case ExecState.Running:
      return ProcessStatus.Running;
    case ExecState.Exited:
      return ProcessStatus.Stopped;
  }
}

const ALLOWED: Readonly<Record<ExecState, readonly ExecState[]>> = {
  [ExecState.Created]: [ExecState.Running, ExecState.Exited],
  [ExecState.Running]: [ExecState.Exited],
  [ExecState.Exited]: [],
};

export function canTransition(from: ExecState, to: ExecState): boolean {
  return ALLOWED[from].includes(to);
}

/** Guards: each throws the error containerd expects for the operation in the wrong state. */
export const guard = {
  start(state: ExecState, what: string): void {
    if (state !== ExecState.Created) throw failedPrecondition(`${what}: cannot start a process in state ${state}`);
  },
  kill(state: ExecState, what: string): void {
    if (state === ExecState.Exited) throw notFound(`${what}: process already finished`);
  },
  delete(state: ExecState, what: string): void {
    if (state === ExecState.Running) throw failedPrecondition(`${what}: cannot delete a running process`);
  },
  resize(state: ExecState, terminal: boolean, what: string): void {
    if (!terminal) throw failedPrecondition(`${what}: the process has no terminal`);
    void state;
  },
};
