import { ErrorCode, ShimError } from '../../errdefs/index.js';
import { ExecState } from './exec-state.js';
import { ProcessStatus } from './types.js';

/**
 * Whether a task's container is frozen (Pause/Resume). It applies only while the init runs (exec-state.ts
 * covers Created and Exited), and to every process of the task: a paused task's execs read PAUSED too, as
 * containerd-shim-runc-v2 reports them (execProcess.Status takes the container's paused/pausing).
 *
 *   Thawed ──pause──▶ Pausing ──frozen in the guest──▶ Paused ──resume──▶ Resuming ──thawed──▶ Thawed
 *                        └──guest refused──▶ Thawed          ▲                 └──guest refused──▶ Paused
 *   any state ──init exits──▶ Thawed (the container is thawed once more, as runc-v2's pausedState.SetExited)
 *
 * | from \ op | pause                          | resume                           | exec create / exec start / delete |
 * |-----------|--------------------------------|----------------------------------|-----------------------------------|
 * | Thawed    | → Pausing → Paused             | "cannot resume a running process" | allowed (exec-state.ts decides)  |
 * | Pausing   | runs after the pause in flight (Pause/Resume are serialised per task)     | refused as Paused                 |
 * | Paused    | "cannot pause a paused container" | → Resuming → Thawed           | "cannot exec in a paused state" / "cannot exec in a paused container" / "cannot delete a paused process" (the init) |
 * | Resuming  | runs after the resume in flight                                           | refused as Paused                 |
 *
 * With the init Created: "cannot pause task in created state" / "cannot resume task in created state"; with the
 * init Exited: "cannot pause a stopped container" / "cannot resume a stopped container". Every refusal carries
 * runc-v2's message as a plain error (errdefs Unknown), exactly what containerd gets from runc-v2
 * (cmd/containerd-shim-runc-v2/process/init_state.go, v2.4.2). Kill is allowed in every state (runc-v2 too).
 */
export enum PauseState {
  Thawed = 'thawed',
  Pausing = 'pausing',
  Paused = 'paused',
  Resuming = 'resuming',
}

const ALLOWED: Readonly<Record<PauseState, readonly PauseState[]>> = {
  [PauseState.Thawed]: [PauseState.Pausing],
  [PauseState.Pausing]: [PauseState.Paused, PauseState.Thawed],
  [PauseState.Paused]: [PauseState.Resuming, PauseState.Thawed],
  [PauseState.Resuming]: [PauseState.Thawed, PauseState.Paused],
};

export function canTransitionPause(from: PauseState, to: PauseState): boolean {
  return ALLOWED[from].includes(to);
}

/** runc-v2's errors are plain Go errors: containerd receives them as gRPC Unknown with this message. */
const refused = (msg: string): ShimError => new ShimError(ErrorCode.Unknown, msg);

/** True while the container is frozen or being frozen/thawed: every process then reads paused. */
export function isFrozen(s: PauseState): boolean {
  return s !== PauseState.Thawed;
}

/** The status containerd sees: PAUSING while a pause is in flight, PAUSED while frozen or being thawed. */
export function pausedStatus(s: PauseState): ProcessStatus | undefined {
  if (s === PauseState.Pausing) return ProcessStatus.Pausing;
  if (s === PauseState.Paused || s === PauseState.Resuming) return ProcessStatus.Paused;
  return undefined;
}

/** Guards: each throws the error runc-v2 gives for the operation in that state. */
export const pauseGuard = {
  pause(init: ExecState, s: PauseState): void {
    if (init === ExecState.Created) throw refused('cannot pause task in created state');
    if (init === ExecState.Exited) throw refused('cannot pause a stopped container');
    if (s !== PauseState.Thawed) throw refused('cannot pause a paused container');
  },
  resume(init: ExecState, s: PauseState): void {
    if (init === ExecState.Created) throw refused('cannot resume task in created state');
    if (init === ExecState.Exited) throw refused('cannot resume a stopped container');
    if (s === PauseState.Thawed) throw refused('cannot resume a running process');
  },
  exec(s: PauseState): void {
    if (isFrozen(s)) throw refused('cannot exec in a paused state');
  },
  /** An exec created before the pause: runc-v2's `runc exec` is refused by runc ("cannot exec in a paused container"). */
  startExec(s: PauseState): void {
    if (isFrozen(s)) throw refused('cannot exec in a paused container');
  },
  delete(s: PauseState): void {
    if (isFrozen(s)) throw refused('cannot delete a paused process');
  },
};
