/**
 * The task lifecycle events the shim publishes, as internal camelCase types. The publisher maps each one to
 * its containerd topic and `containerd.events.*` message; nothing outside this folder sees the protobuf.
 */
import type { StdioPaths } from '../stdio/index.js';

/** A rootfs mount as reported in /tasks/create (containerd.types.Mount). */
export interface EventMount {
  readonly type: string;
  readonly source: string;
  /** containerd.types.Mount.target; usually "" for a rootfs. */
  readonly target?: string;
  readonly options: readonly string[];
}


/** /tasks/create: Create succeeded. */
export interface TaskCreateEvent {
  readonly type: 'create';
  readonly containerId: string;
  readonly bundle: string;
  readonly rootfs: readonly EventMount[];
  /** The client's stdio strings as received in Create (containerd.events.TaskIO). */
  readonly io: StdioPaths;
  readonly checkpoint: string;
  readonly pid: number;
}

/** /tasks/start: the init process was started. */
export interface TaskStartEvent {
  readonly type: 'start';
  readonly containerId: string;
  readonly pid: number;
}

/** /tasks/delete: a process was deleted. `id` = the container id for the init (the task), the exec id for an exec. */
export interface TaskDeleteEvent {
  readonly type: 'delete';
  readonly containerId: string;
  readonly id: string;
  readonly pid: number;
  readonly exitStatus: number;
  /** Omitted from the message when unknown (a task deleted before it ever ran). */
  readonly exitedAt?: Date;
}

/** /tasks/exit: a process exited. `id` = the container id for the init process, the exec id for an exec. */
export interface TaskExitEvent {
  readonly type: 'exit';
  readonly containerId: string;
  readonly id: string;
  readonly pid: number;
  readonly exitStatus: number;
  readonly exitedAt: Date;
}

/** /tasks/exec-added: Exec created (not yet started) a process. */
export interface TaskExecAddedEvent {
  readonly type: 'exec-added';
  readonly containerId: string;
  readonly execId: string;
}

/** /tasks/exec-started: Start(exec_id) succeeded. */
export interface TaskExecStartedEvent {
  readonly type: 'exec-started';
  readonly containerId: string;
  readonly execId: string;
  readonly pid: number;
}

/** /tasks/oom, /tasks/paused, /tasks/resumed: carry only the container id. */
export interface TaskContainerOnlyEvent {
  readonly type: 'oom' | 'paused' | 'resumed';
  readonly containerId: string;
}

/** /tasks/checkpointed: a checkpoint was written to `checkpoint`. */
export interface TaskCheckpointedEvent {
  readonly type: 'checkpointed';
  readonly containerId: string;
  readonly checkpoint: string;
}

export type TaskEvent =
  | TaskCreateEvent
  | TaskStartEvent
  | TaskDeleteEvent
  | TaskExitEvent
  | TaskExecAddedEvent
  | TaskExecStartedEvent
  | TaskContainerOnlyEvent
  | TaskCheckpointedEvent;

export type TaskEventType = TaskEvent['type'];
