import type { Container, GuestConnection, Process } from '../gcs/index.js';
import type { Logger } from '../log/index.js';
import type { GuestContainer, GuestProcess, ProcessRequest } from './types.js';
import type { ProcessListEntry, TaskStats } from './types.js';
import { statsFromLcowMetrics } from './guest-stats.js';
import { settlesWithin } from './race-timeout.js';

/** The task's view of a GCS process (a container's, or one in the VM itself). */
export function guestProcess(p: Process): GuestProcess {
  return {
    pid: p.pid,
    ...(p.stdin ? { stdin: p.stdin } : {}),
    ...(p.stdout ? { stdout: p.stdout } : {}),
    ...(p.stderr ? { stderr: p.stderr } : {}),
    wait: () => p.wait(),
    signal: (sig: number) => p.signal(sig),
    resize: (w: number, h: number) => p.resize(w, h),
  };
}

/** A container in the guest, driven over the GCS bridge (hcsshim's gcs.Container + cmd). */
export class LcowContainer implements GuestContainer {
  private started = false;
  /** True once the container's init is running in the guest; only then does the guest report its exit. */
  private initRan = false;

  constructor(
    private readonly c: Container,
    private readonly gc: GuestConnection,
    private readonly log: Logger,
    /** Runs once the container is gone (guest mounts released). */
    private readonly release: () => Promise<void>,
  ) {}

  get id(): string {
    return this.c.id;
  }

  async execute(req: ProcessRequest): Promise<GuestProcess> {
    if (!this.started && req.oci === undefined) {
      await this.c.start();
      this.started = true;
    }
    const p = await this.c.executeProcess({
      CreateStdInPipe: req.stdin,
      CreateStdOutPipe: req.stdout,
      CreateStdErrPipe: req.stderr && !req.terminal,
      EmulateConsole: req.terminal,
      ...(req.oci ? { OciProcess: req.oci } : {}),
    });
    if (req.oci === undefined) this.initRan = true;
    return guestProcess(p);
  }

  async processList(): Promise<ProcessListEntry[]> {
    const props = await this.c.getProperties(['ProcessList']);
    return (props.ProcessList ?? []).map((p) => ({
      pid: p.ProcessId,
      ...(p.ImageName ? { imageName: p.ImageName } : {}),
      ...(p.CreateTimestamp ? { createdAt: new Date(p.CreateTimestamp) } : {}),
      ...(p.KernelTime100ns ? { kernelTime100ns: p.KernelTime100ns } : {}),
      ...(p.UserTime100ns ? { userTime100ns: p.UserTime100ns } : {}),
      ...(p.MemoryCommitBytes ? { memoryCommitBytes: p.MemoryCommitBytes } : {}),
      ...(p.MemoryWorkingSetPrivateBytes ? { memoryWorkingSetPrivateBytes: p.MemoryWorkingSetPrivateBytes } : {}),
      ...(p.MemoryWorkingSetSharedBytes ? { memoryWorkingSetSharedBytes: p.MemoryWorkingSetSharedBytes } : {}),
    }));
  }

  async statistics(): Promise<TaskStats> {
    const props = await this.c.getProperties(['Statistics']);
    return statsFromLcowMetrics(props.LCOWMetrics);
  }

  async update(resources: Record<string, unknown>): Promise<void> {
    await this.c.update(resources);
  }

  /**
   * Graceful shutdown, forced after timeoutMs; then the guest's container state is deleted (hcsshim: the
   * DeleteContainerState RPC) and the guest mounts released.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    const exited = this.c.waitExit();
    exited.catch(() => undefined); // observed below, or not at all when the init never ran
    try {
      if (!this.initRan) throw new Error('the init never ran: nothing to stop');
      await this.c.shutdownGraceful();
      if (!(await settlesWithin(exited, timeoutMs))) {
        await this.c.shutdownForced();
        await settlesWithin(exited, timeoutMs);
      }
    } catch (err) {
      this.log.debug('container shutdown', { error: (err as Error).message });
    }
    await this.gc.deleteContainerState(this.c.id).catch((err: Error) => this.log.debug('delete container state', { error: err.message }));
    await this.release().catch((err: Error) => this.log.debug('release guest mounts', { error: err.message }));
  }
}
