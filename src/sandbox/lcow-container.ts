import type { Container, GuestConnection, Process } from '../gcs/index.js';
import { Field, type Logger } from '../log/index.js';
import type { GuestContainer, GuestProcess, ProcessRequest } from './types.js';
import type { ProcessListEntry, TaskStats } from './types.js';
import { statsFromLcowMetrics } from './guest-stats.js';
import { handledElsewhere, settlesWithin } from '../async/index.js';
import { runInVm } from './vm-command.js';
import { ErrorCode, ShimError } from '../errdefs/index.js';

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
    close: () => p.close(),
  };
}

/** A container in the guest, driven over the GCS bridge (hcsshim's gcs.Container + cmd). */
export class LcowContainer implements GuestContainer {
  private started = false;
  /** True once the container's init is running in the guest; only then does the guest report its exit. */
  private initRan = false;
  /** True once the guest answered the init's WaitForProcess: the init has exited in the guest. */
  private initWaited = false;

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
    if (req.oci === undefined) {
      this.initRan = true;
      return { ...guestProcess(p), wait: async () => {
        const status = await p.wait();
        this.initWaited = true;
        return status;
      } };
    }
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
   * Pause/Resume. The GCS bridge has no message for them (Microsoft's GCS has runc Pause/Resume in its runtime
   * but no RPC reaches them), so the host runs `runc pause|resume <id>` in the utility VM itself, as
   * DiagExecInHost does: the GCS runs its containers with runc under runc's default root and the host's
   * container id, so that runc finds the container, freezes its cgroup (v1 freezer.state or v2 cgroup.freeze,
   * wherever this GCS version put it: /pods/<id>, /pods/<sandbox>/<id>, older /containers/<id>) and records
   * the paused state the GCS's own runc calls then see (`runc exec` refuses a paused container).
   */
  async pause(): Promise<void> {
    await this.runc('pause');
  }

  async resume(): Promise<void> {
    await this.runc('resume');
  }

  private async runc(verb: 'pause' | 'resume'): Promise<void> {
    const r = await runInVm(this.gc, ['runc', verb, this.c.id]);
    if (r.exitCode !== 0) {
      // runc-v2 answers "OCI runtime <verb> failed: <runc's error>" as a plain (Unknown) error.
      throw new ShimError(ErrorCode.Unknown, `OCI runtime ${verb} failed: ${r.output || `runc exited with status ${r.exitCode}`}`);
    }
    this.log.debug(`container ${verb}d in the utility VM`, { [Field.ContainerId]: this.c.id });
  }

  /**
   * Container teardown. THE ORDER IS PART OF THE DESIGN (hcsshim task_hcs.go: close releases the resources,
   * Delete waits for that, DeleteContainerState goes last):
   *   1. stop the init: ShutdownGraceful, ShutdownForced after timeoutMs, wait for the exit notification.
   *      When the guest has already answered the init's WaitForProcess, the init is gone and ShutdownGraceful
   *      would signal nothing (the GCS's ShutdownContainer is `runc kill <id> SIGTERM`, the init only; after
   *      its exit the real GCS fails it, and hcsshim then sends a Terminate that fails too): not sent; the exit
   *      notification is still waited for, and ShutdownForced follows if it does not come within timeoutMs;
   *   2. release everything the container holds in the VM — every share/mount (the rootfs: image layers + scratch or a share; bind sources), guest
   *      unmount then host removal, newest first (`release`);
   *   3. only if 2 left nothing mounted, and the VM lives on (not `vmClosing`): DeleteContainerState.
   * Why: the real GCS's DeleteContainerState runs `runc delete` and then removes the scratch and bundle
   * directories WITHOUT unmounting; a rootfs share still mounted under the bundle is emptied through the
   * mount, i.e. the user's host directory is deleted. So DeleteContainerState is never sent while a share is
   * mounted: if a release fails, the state is left to the VM's teardown. Failures are logged at warn with the
   * container id, never swallowed and never fatal (the VM is closed next either way).
   */
  async shutdown(timeoutMs: number, opts: { readonly vmClosing?: boolean } = {}): Promise<void> {
    const exited = this.c.waitExit();
    handledElsewhere(exited); // observed below, or not at all when the init never ran
    try {
      if (this.initRan) {
        if (!this.initWaited) await this.c.shutdownGraceful();
        if (!(await settlesWithin(exited, timeoutMs))) {
          await this.c.shutdownForced();
          await settlesWithin(exited, timeoutMs);
        }
      }
    } catch (err) {
      // A gone process (HRESULT 0x80070490) or container is the normal case after the init exited.
      this.log.debug('container shutdown', { [Field.ContainerId]: this.c.id, error: (err as Error).message });
    }
    try {
      await this.release();
    } catch (err) {
      this.log.warn('teardown: releasing the container\'s shares failed; not deleting its guest state while something may still be mounted', {
        [Field.ContainerId]: this.c.id,
        error: (err as Error).message,
      });
      return;
    }
    // hcsshim sends DeleteContainerState at the task's Delete (hcsTask.DeleteExec, after Wait), by when a VM
    // the task owns is closed: for such a task it never reaches the guest, whose state ends with the VM.
    if (opts.vmClosing === true) return;
    await this.gc.deleteContainerState(this.c.id).catch((err: Error) =>
      this.log.warn('teardown: DeleteContainerState failed', { [Field.ContainerId]: this.c.id, error: err.message }),
    );
  }
}
