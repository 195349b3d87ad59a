import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../log/index.js';

/**
 * What the shim's task logic gets from the sandbox layer: the utility VM and its guest as the task sees
 * them, implemented by the LCOW sandbox (uvm + gcs) or by test fakes. Contracts are MUST rules.
 */

/** An image rootfs as LCOW layers (parsed by the shim from containerd's lcow-layer mount). */
export interface LcowLayer {
  readonly vhdPath: string;
  /** A partition of the disk (SCSI only); 0 = the whole disk. */
  readonly partition: number;
}

export interface LcowLayers {
  /** Read-only layers (layer.vhd), top-most first. */
  readonly layers: readonly LcowLayer[];
  /** The container's scratch disk (sandbox.vhdx). */
  readonly scratchVhdPath: string;
}

/** A process running in the guest. */
export interface GuestProcess {
  readonly pid: number;
  readonly stdin?: Writable;
  readonly stdout?: Readable;
  readonly stderr?: Readable;
  /** Resolves with the exit status when the process exits; MUST reject only when the guest is gone. */
  wait(): Promise<number>;
  /** Resolves true when delivered, false when the guest reports the process gone (hcsshim: "not delivered"). */
  signal(signal: number): Promise<boolean>;
  resize(width: number, height: number): Promise<void>;
  /** Releases the host's ends of the process's stdio connections. MUST be idempotent; the exec calls it once done. */
  close(): void;
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
  /** Freezes every process of the container in the guest (its cgroup freezer); errors are ShimErrors. */
  pause(): Promise<void>;
  /** Thaws what pause() froze. */
  resume(): Promise<void>;
  /**
   * Stops the container (graceful first, forced after timeoutMs) and releases its guest resources. With
   * `vmClosing` (the VM is closed right after: its task owns it) the guest's container state is left to the
   * VM's end: no DeleteContainerState.
   */
  shutdown(timeoutMs: number, opts?: { readonly vmClosing?: boolean }): Promise<void>;
}

/** What an Update changes on a utility VM (from LinuxResources or WindowsResources). */
export interface VmResources {
  readonly memoryLimitBytes?: number;
  /** ProcessorLimits.Limit: LinuxResources cpu.quota, WindowsResources cpu.maximum. */
  readonly processorLimit?: number;
  /** ProcessorLimits.Weight: cpu.shares. */
  readonly processorWeight?: number;
}

/** A process in the utility VM itself, outside any container (shimdiag DiagExecInHost). */
export interface HostProcessRequest {
  readonly args: readonly string[];
  /** The working directory in the VM; "" = "/". */
  readonly workdir: string;
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly terminal: boolean;
}

/** The utility VM hosting one task: created at Create, closed when the init exits or the task is deleted. */
export interface Sandbox {
  readonly id: string;
  /** The VM's processor count (ExtendedTask.ComputeProcessorInfo). */
  readonly processorCount: number;
  /** The guest advertised SignalProcessSupported: any signal 1–31 can be delivered, not only a kill. */
  readonly signalProcessSupported: boolean;
  /** Runs a process in the VM (not in a container); MUST refuse an empty args. */
  execInHost(req: HostProcessRequest): Promise<GuestProcess>;
  /** The guest's stacks; "" when the guest does not advertise DumpStacksSupported. */
  dumpStacks(): Promise<string>;
  /**
   * Update of a VM the task owns (hcsshim UtilityVM.Update): memory size (HCS) then the guest's pod cgroup
   * limit, processor limit/weight (HCS), and the CPU group when the annotations name one.
   */
  update(resources: VmResources, annotations: Readonly<Record<string, string>>): Promise<void>;
  /** Shares a host file or directory into the VM at uvmPath (a file: its directory, the file at uvmPath/<name>). */
  share(hostPath: string, uvmPath: string, readOnly: boolean): Promise<void>;
  /** Creates the container; with `layers` its rootfs is the image's LCOW layers + scratch, else spec.root.path. */
  createContainer(id: string, spec: Record<string, unknown>, layers?: LcowLayers): Promise<GuestContainer>;
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
  /** The request carried options that are not all defaults (runhcs: !emptyShimOpts): the sandbox checks apply. */
  readonly configured?: boolean;
  readonly sandboxIsolation?: 'process' | 'hypervisor';
  /** containerd platform specifier (`linux/amd64`), "" when unset. */
  readonly sandboxPlatform?: string;
  readonly debugType?: 'npipe' | 'file' | 'etw';
  /** false only when set explicitly (runhcs: scrubbing is on unless scrub_logs = false). */
  readonly scrubLogs?: boolean;
  /** NCProxyAddr: the ncproxy address, the default of the io.microsoft.network.ncproxy annotation. */
  readonly ncProxyAddr?: string;
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
/** A uint64 statistic: a number while it is exact as one, a bigint beyond 2^53 (exact to the client). */
export type U64 = number | bigint;

export interface TaskStats {
  readonly pids?: { readonly current: U64; readonly limit: U64 };
  readonly cpu?: Readonly<Record<string, U64>>;
  readonly memory?: Readonly<Record<string, U64>>;
}
