import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../log/index.js';

/**
 * What the shim's task logic gets from the sandbox layer: the utility VM and its guest as the task sees
 * them, implemented by the LCOW sandbox (uvm + gcs) or by test fakes. Contracts are MUST rules.
 */

/** A process running in the guest. */
export interface GuestProcess {
  readonly pid: number;
  readonly stdin?: Writable;
  readonly stdout?: Readable;
  readonly stderr?: Readable;
  /** Resolves with the exit code when the process exits; MUST reject only when the guest is gone. */
  wait(): Promise<number>;
  signal(signal: number): Promise<void>;
  resize(width: number, height: number): Promise<void>;
}

/** The process spec a task asks the guest to run (OCI Process for execs; undefined = the container's init). */
export interface ProcessRequest {
  readonly oci?: Record<string, unknown>;
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly terminal: boolean;
}

/** A container created in the guest (not started until its init runs). */
export interface GuestContainer {
  readonly id: string;
  /** Runs a process: the first call starts the container's init. */
  execute(req: ProcessRequest): Promise<GuestProcess>;
  processList(): Promise<ProcessListEntry[]>;
  statistics(): Promise<TaskStats>;
  update(resources: Record<string, unknown>): Promise<void>;
  /** Stops the container (graceful first, forced after timeoutMs) and releases its guest resources. */
  shutdown(timeoutMs: number): Promise<void>;
}

/** The utility VM hosting one task: created at Create, closed when the init exits or the task is deleted. */
export interface Sandbox {
  readonly id: string;
  createContainer(id: string, spec: Record<string, unknown>): Promise<GuestContainer>;
  /** Resolves when the VM has exited (crash or close). */
  waitExit(): Promise<void>;
  /** Terminates the VM and releases everything host-side. Idempotent. */
  close(): Promise<void>;
}

export interface SandboxRequest {
  /** The task (container) id; the VM is named `<id>@vm`. */
  readonly taskId: string;
  readonly bundle: string;
  /** config.json with the host rootfs path in root.path; the sandbox rewrites it for the guest. */
  readonly spec: Record<string, unknown>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly options: RuntimeOptions;
  readonly log: Logger;
}

/** The runtime options the shim honours (from containerd.runhcs.v1.Options). */
export interface RuntimeOptions {
  readonly debug?: boolean;
  readonly logLevel?: string;
  readonly bootFilesRootPath?: string;
  readonly vmProcessorCount?: number;
  readonly vmMemorySizeInMB?: number;
  readonly defaultContainerAnnotations?: Readonly<Record<string, string>>;
  readonly ioRetryTimeoutInSec?: number;
}

export type SandboxFactory = (req: SandboxRequest) => Promise<Sandbox>;

export interface ProcessListEntry {
  readonly pid: number;
  /** Set for exec processes (and the init: ""), when known. */
  readonly execId?: string;
  readonly imageName?: string;
  readonly createdAt?: Date;
  readonly kernelTime100ns?: number;
  readonly userTime100ns?: number;
  readonly memoryCommitBytes?: number;
  readonly memoryWorkingSetPrivateBytes?: number;
  readonly memoryWorkingSetSharedBytes?: number;
}

/**
 * Container statistics in cgroup v2 terms, encoded by the edge as io.containerd.cgroups.v2.Metrics. Keys are
 * the cgroup file names (cpu.stat `usage_usec`, memory.stat `anon`, plus `usage`/`usage_limit`/`swap_usage`/
 * `swap_limit` for memory.current/max and memory.swap.current/max).
 */
export interface TaskStats {
  readonly pids?: { readonly current: number; readonly limit: number };
  readonly cpu?: Readonly<Record<string, number>>;
  readonly memory?: Readonly<Record<string, number>>;
}
