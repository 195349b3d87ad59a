/** Log field names shared with hcsshim's logfields, so logs correlate with containerd and hcsshim tooling. */
export const Field = {
  ContainerId: 'cid',
  ExecId: 'eid',
  ProcessId: 'pid',
  TaskId: 'tid',
  UvmId: 'uvm-id',
  SandboxId: 'sandbox-id',
  Namespace: 'namespace',
  Operation: 'operation',
  Duration: 'duration',
  Backend: 'backend',
} as const;
