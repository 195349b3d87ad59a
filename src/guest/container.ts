/**
 * The guest agent's record of a container the host created (the host's side of it is src/gcs's Container).
 * Create only writes the bundle; the first ExecuteProcess without an OciProcess starts the init (`runc run`),
 * later ones with an OciProcess are execs (`runc exec`).
 *
 *   Created --init started--> Running --init exited (+ stdio drained)--> Exited
 *   any --DeleteContainerState--> (gone, even when the delete fails: as the real GCS)
 *   ExecuteProcess(init) only in Created; ExecuteProcess(exec), ContainerConstraints only in Running.
 */
import { HResult } from '../errdefs/index.js';
import type { NotificationType } from '../gcs/protocol/index.js';
import { GuestError } from './errors.js';
import type { AgentProcess } from './process.js';

export enum ContainerState {
  Created = 'created',
  Running = 'running',
  Exited = 'exited',
}

export class AgentContainer {
  state = ContainerState.Created;
  init: AgentProcess | undefined;
  /** Every process of the container by pid (the init included). */
  readonly processes = new Map<number, AgentProcess>();
  /** Set by ShutdownGraceful / ShutdownForced; the notification's Type. */
  exitType: NotificationType = 'UnexpectedExit';
  private seq = 0;

  constructor(
    readonly id: string,
    readonly bundleDir: string,
    /** The Create request's ActivityId, echoed in the exit notification. */
    readonly activityId: string | undefined,
    readonly tty: boolean,
    /** ContainerConfig.ScratchDirPath, mapped into the VM dir; removed (recursively) by DeleteContainerState. */
    readonly scratchDir?: string,
  ) {}

  /** Throws unless the container is in one of `states`. */
  expect(op: string, ...states: ContainerState[]): void {
    if (!states.includes(this.state)) {
      throw new GuestError(HResult.ErrInvalidState, `${op}: container ${this.id} is ${this.state}, want ${states.join(' or ')}`);
    }
  }

  /** A fresh name for per-process files in the bundle (exec-1.json, ...). */
  nextName(prefix: string): string {
    return `${prefix}-${++this.seq}`;
  }
}
