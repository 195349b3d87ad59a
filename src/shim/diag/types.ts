/**
 * The shim diagnostics (hcsshim's ShimDiag and ExtendedTask services) as logic: what the ttrpc edge
 * (diag-service.ts) converts protobuf messages into and out of. Errors are ShimErrors.
 */

/** DiagExecInHost: a process in the utility VM; stdio strings name the client's endpoints ("" = none). */
export interface DiagExecRequest {
  readonly args: readonly string[];
  readonly workdir: string;
  readonly terminal: boolean;
  readonly stdin: string;
  readonly stdout: string;
  readonly stderr: string;
}

export interface DiagExec {
  readonly id: string;
  /** created | running | exited (hcsshim's shimExecState strings). */
  readonly state: string;
}

export interface DiagTask {
  readonly id: string;
  /** Empty unless the request asked for execs. The init is the exec with id "". */
  readonly execs: readonly DiagExec[];
}

export interface DiagStacks {
  /** The shim's own state: its JavaScript and native stacks and its live handles. */
  readonly stacks: string;
  /** The guest's stacks (GCS DumpStacks), "" when the guest does not support it or there is no VM. */
  readonly guestStacks: string;
}

export interface DiagLogic {
  diagExecInHost(req: DiagExecRequest): Promise<number>;
  diagStacks(): Promise<DiagStacks>;
  diagTasks(execs: boolean): Promise<DiagTask[]>;
  diagShare(hostPath: string, uvmPath: string, readOnly: boolean): Promise<void>;
  diagPid(): number;
  /** ExtendedTask.ComputeProcessorInfo: the processor count of the VM hosting task `id`. */
  computeProcessorInfo(id: string): Promise<number>;
}
