/**
 * The shim's internal Task API types: what the ttrpc edge (service.ts) converts protobuf messages into and
 * out of. Nothing below the edge sees protobuf.
 */
import type { ProcessListEntry, TaskStats } from '../../sandbox/index.js';
import type { StdioPaths } from '../stdio/index.js';

export type { ProcessListEntry, TaskStats };

/** containerd's task status numbers (containerd.v1.types.Status). */
export enum ProcessStatus {
  Unknown = 0,
  Created = 1,
  Running = 2,
  Stopped = 3,
  Paused = 4,
  Pausing = 5,
}

export interface Mount {
  readonly type: string;
  readonly source: string;
  readonly target: string;
  readonly options: readonly string[];
}

/** The client's stdio endpoints: the one type, in shim/stdio. */
export type { StdioPaths };

/** A protobuf Any kept opaque until the logic decides how to read it. */
export interface OpaqueAny {
  readonly typeUrl: string;
  readonly value: Uint8Array;
}

export interface CreateTaskOptions {
  readonly id: string;
  readonly bundle: string;
  readonly rootfs: readonly Mount[];
  readonly stdio: StdioPaths;
  readonly checkpoint: string;
  readonly options?: OpaqueAny;
}

export interface ExecOptions {
  readonly id: string;
  readonly execId: string;
  readonly stdio: StdioPaths;
  /** The OCI runtime-spec Process, parsed from the request's JSON Any. */
  readonly spec: Record<string, unknown>;
}

export interface ProcessState {
  readonly id: string;
  readonly execId: string;
  readonly bundle: string;
  readonly pid: number;
  readonly status: ProcessStatus;
  readonly stdio: StdioPaths;
  readonly exitStatus: number;
  readonly exitedAt?: Date;
}

export interface ExitInfo {
  readonly pid: number;
  readonly exitStatus: number;
  readonly exitedAt?: Date;
}

/** The runtime-spec type an Update's resources Any carries. */
export type ResourcesKind = 'linux' | 'windows';

/** The Task API as logic: containerd's RPCs without protobuf. Errors are ShimErrors. */
export interface TaskLogic {
  create(opts: CreateTaskOptions): Promise<{ pid: number }>;
  start(id: string, execId: string): Promise<{ pid: number }>;
  state(id: string, execId: string): Promise<ProcessState>;
  delete(id: string, execId: string): Promise<ExitInfo>;
  pids(id: string): Promise<ProcessListEntry[]>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  checkpoint(id: string, path: string): Promise<void>;
  kill(id: string, execId: string, signal: number, all: boolean): Promise<void>;
  exec(opts: ExecOptions): Promise<void>;
  resizePty(id: string, execId: string, width: number, height: number): Promise<void>;
  closeIO(id: string, execId: string, stdin: boolean): Promise<void>;
  update(id: string, resources: Record<string, unknown> | undefined, annotations: Record<string, string>, kind: ResourcesKind): Promise<void>;
  wait(id: string, execId: string): Promise<ExitInfo>;
  stats(id: string): Promise<TaskStats>;
  connect(id: string): Promise<{ shimPid: number; taskPid: number; version: string }>;
  shutdown(id: string, now: boolean): Promise<void>;
}
