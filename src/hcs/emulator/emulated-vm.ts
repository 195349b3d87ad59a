/**
 * One emulated compute system (shared by every handle opened on it): its VM dir, devices, guest agent
 * process and lifecycle (vm-state.ts). The HcsSystem methods of system-handle.ts delegate here.
 */
import type { ChildProcess } from 'node:child_process';
import { whenSettled } from '../../async/index.js';
import { HResult } from '../../errdefs/index.js';
import { isoTime, type Logger } from '../../log/index.js';
import type { SystemExit } from '../hcs-api.js';
import type { ModifySettingRequest, SystemProperties } from '../schema/index.js';
import { firstFile, guestEntryCandidates } from './boot-files.js';
import { EmulatedDevices } from './devices.js';
import { launchGuest } from './guest-launcher.js';
import { hcsFail } from './hresults.js';
import { CmdlineError, parseKernelCmdLine } from './kernel-cmdline.js';
import { buildProperties } from './properties.js';
import { signalProcess } from './signal-process.js';
import { processRef, writeRecord, type ProcessRef, type SystemRecord, RECORD_FORMAT } from './system-record.js';
import { teardownVmDir, type TeardownReport } from './teardown.js';
import { VmState, hcsStateName } from './vm-state.js';
import type { VmSpec } from './validate-document.js';
import type { WarmGuest } from './warm-guest.js';

export interface EmulatedVmInit {
  readonly id: string;
  readonly runtimeId: string;
  readonly root: string;
  readonly vmDir: string;
  readonly spec: VmSpec;
  readonly devices: EmulatedDevices;
  readonly guestEntry?: string;
  readonly defaultGuestEntry: string;
  readonly runcBinary: string;
  readonly log: Logger;
  /** This process, as system.json names the owner. */
  readonly ownerProcess: ProcessRef;
  /** The emulator's pre-loaded agent, if it suits this entry and VM (warm-guest.ts); taken at most once. */
  readonly takeWarmGuest?: (entry: string, dieWithParent: boolean) => Promise<WarmGuest | undefined>;
}

export interface WaitOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

type ExitType = 'GracefulExit' | 'ForcedExit' | 'UnexpectedExit';

/** Default bound for waiting on a shutdown or terminate to finish. */
export const DEFAULT_STOP_TIMEOUT_MS = 30_000;

export class EmulatedVm {
  readonly id: string;
  readonly runtimeId: string;
  readonly vmDir: string;
  readonly devices: EmulatedDevices;
  state = VmState.Created;
  handles = 0;
  private readonly init: EmulatedVmInit;
  private readonly log: Logger;
  private child: ChildProcess | undefined;
  private guest: ProcessRef | undefined;
  private startedAt: Date | undefined;
  private starting: Promise<void> | undefined;
  private requested: ExitType | undefined;
  private exitType: ExitType | undefined;
  private teardown: Promise<TeardownReport | undefined> | undefined;
  private exitResolve!: (e: SystemExit) => void;
  readonly exited: Promise<SystemExit>;
  /** Called once the system is stopped (the registry drops it when no handle remains). */
  onStopped: () => void = () => {};

  constructor(init: EmulatedVmInit) {
    this.init = init;
    this.id = init.id;
    this.runtimeId = init.runtimeId;
    this.vmDir = init.vmDir;
    this.devices = init.devices;
    this.log = init.log.child({ 'uvm-id': init.id, runtimeId: init.runtimeId });
    this.exited = new Promise((resolve) => (this.exitResolve = resolve));
  }

  get terminateOnLastHandleClosed(): boolean {
    return this.init.spec.terminateOnLastHandleClosed;
  }

  start(): Promise<void> {
    if (this.state !== VmState.Created) {
      return Promise.reject(this.fail('HcsStartComputeSystem', HResult.ErrVmcomputeOperationInvalidState, `cannot start a system in state ${this.state}`));
    }
    this.state = VmState.Starting;
    this.starting = this.boot().catch((err: unknown) => {
      if (this.state === VmState.Starting) this.state = VmState.Created;
      throw err;
    });
    return this.starting;
  }

  private async boot(): Promise<void> {
    const op = 'HcsStartComputeSystem';
    let plan;
    try {
      plan = parseKernelCmdLine(this.init.spec.boot.cmdline);
    } catch (err) {
      if (!(err instanceof CmdlineError)) throw err;
      throw this.fail(op, HResult.E_INVALIDARG, `cannot boot from the kernel command line: ${err.message}`, err);
    }
    const entry = await this.guestEntry();
    const warm = await this.init.takeWarmGuest?.(entry, this.terminateOnLastHandleClosed);
    let child: ChildProcess;
    try {
      child = await launchGuest({
        ...(warm === undefined ? {} : { warm }),
        plan,
        runtimeId: this.runtimeId,
        root: this.init.root,
        vmDir: this.vmDir,
        guestEntry: entry,
        dieWithParent: this.terminateOnLastHandleClosed,
        memoryMB: this.devices.memoryMB,
        processorCount: this.init.spec.processorCount,
        log: this.log,
      });
    } catch (err) {
      warm?.discard(); // a handover cut short: that process is no VM's
      throw this.fail(op, HResult.HCS_E_CONNECT_FAILED, `cannot launch the guest agent: ${(err as Error).message}`, err);
    }
    this.child = child;
    this.startedAt = new Date();
    this.guest = child.pid === undefined ? undefined : await processRef(child.pid);
    this.state = VmState.Running;
    // A pre-loaded agent may have exited before this listener exists (the cold spawn too, during processRef).
    if (child.exitCode !== null || child.signalCode !== null) void this.onAgentExit(child.exitCode, child.signalCode);
    else child.once('exit', (code, signal) => void this.onAgentExit(code, signal));
    await this.persist();
  }

  /**
   * options.guestEntry when given (it must exist); else the first existing of the entry named by an
   * emulator initrd manifest and the built src/guest/main.js beside this module.
   */
  private async guestEntry(): Promise<string> {
    const candidates = guestEntryCandidates(this.init.spec.boot.initrdPath, this.init.guestEntry, this.init.defaultGuestEntry);
    const entry = firstFile(candidates);
    if (entry !== undefined) return entry;
    throw this.fail('HcsStartComputeSystem', HResult.ErrFileNotFound, `guest agent not found (tried ${candidates.join(', ')}; build src/guest, or pass guestEntry)`);
  }

  /** The agent is gone: once the cleanup after it (tearDown) is done too, the VM has stopped and says so. */
  private async onAgentExit(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    const requested = this.requested;
    this.state = VmState.Stopping;
    this.log.debug('HCS emulator: guest agent exited', { code, signal });
    const report = await this.tearDown();
    const unexpected = requested === undefined;
    const hresult = unexpected && (code !== 0 || signal !== null) ? HResult.HCS_E_UNEXPECTED_EXIT : 0;
    this.exitType = requested ?? 'UnexpectedExit';
    this.state = VmState.Stopped;
    if (report?.removed !== true) await this.persist();
    const fields = { code, signal, exitType: this.exitType, containers: report?.containers, unmounted: report?.unmounted?.length, vmDirRemoved: report?.removed };
    if (unexpected) this.log.warn('HCS emulator: emulated utility VM exited unexpectedly (guest agent exited)', fields);
    else this.log.info('HCS emulator: emulated utility VM stopped', fields);
    this.exitResolve({ hresult, unexpected, data: JSON.stringify({ Status: hresult | 0, ExitType: this.exitType }) });
    this.onStopped();
  }

  /**
   * The cleanup after the agent: kill and delete its runc containers, then SIGKILL what is left of its process
   * group, then cgroups, mounts and the VM dir (teardownVmDir). In that order: the group holds each container's
   * `runc run`/`runc exec` parent, which reaps the processes the container kill ends. Killed first, those
   * processes are orphaned to the host's init, and a container init whose pid namespace still has an exec in it
   * lingers until that init gets round to reaping it (over a second on some hosts), which `runc delete -f`
   * waits for. Started once: when the agent's exit is seen, or as soon as a forced stop has sent the agent
   * SIGKILL (it runs no more code then), so that the cleanup overlaps the kernel's teardown of that process
   * (3-5 ms for the agent); the exit is reported (onAgentExit) only once both are done.
   */
  private tearDown(): Promise<TeardownReport | undefined> {
    if (this.teardown !== undefined) return this.teardown;
    const pid = this.child?.pid;
    this.log.debug('HCS emulator: cleaning up after the guest agent', { vmDir: this.vmDir });
    this.teardown = teardownVmDir(this.vmDir, this.log, this.init.runcBinary, () => {
      if (pid !== undefined) signalProcess(-pid, 'SIGKILL', this.log); // whatever the agent left in its process group
    }).catch((err: unknown) => {
      this.log.error('HCS emulator: teardown failed', { error: String(err) });
      return undefined;
    });
    return this.teardown;
  }

  /** Graceful: SIGTERM to the agent (which stops its containers), then wait for it to exit. */
  async shutdown(opts: WaitOptions = {}): Promise<void> {
    await this.stop('GracefulExit', 'HcsShutDownComputeSystem', opts);
  }

  /** Forced: SIGKILL to the agent, then runc cleanup, SIGKILL to its process group, mount/VM-dir cleanup. */
  async terminate(opts: WaitOptions = {}): Promise<void> {
    await this.stop('ForcedExit', 'HcsTerminateComputeSystem', opts);
  }

  private async stop(kind: ExitType, op: string, opts: WaitOptions): Promise<void> {
    if (this.state === VmState.Starting && this.starting) await whenSettled(this.starting); // start's caller gets its outcome
    if (this.state === VmState.Stopped) return; // already stopped: success, as the API contract says
    if (this.state === VmState.Created) {
      this.requested = kind;
      this.state = VmState.Stopping;
      const report = await teardownVmDir(this.vmDir, this.log, this.init.runcBinary);
      this.exitType = kind;
      this.state = VmState.Stopped;
      if (!report.removed) await this.persist();
      this.log.info('HCS emulator: emulated utility VM stopped before it was started', { exitType: kind });
      this.exitResolve({ hresult: 0, unexpected: false, data: JSON.stringify({ Status: 0, ExitType: kind }) });
      this.onStopped();
      return;
    }
    const pid = this.child?.pid;
    if (this.requested !== 'ForcedExit') this.requested = kind;
    if (pid !== undefined) {
      // Forced: the agent now; its process group once its containers are killed (tearDown, started here).
      if (kind === 'ForcedExit') {
        if (signalProcess(pid, 'SIGKILL', this.log) && this.state !== VmState.Starting) void this.tearDown();
      } else if (this.state === VmState.Running) signalProcess(pid, 'SIGTERM', this.log);
    }
    if (this.state === VmState.Running) this.state = VmState.Stopping;
    await this.waitStopped(op, opts);
  }

  private waitStopped(op: string, opts: WaitOptions): Promise<void> {
    const ms = opts.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        done();
        reject(this.fail(op, HResult.ErrCancelled, 'the wait was canceled; the system keeps stopping', opts.signal?.reason));
      };
      const timer = setTimeout(() => {
        done();
        reject(this.fail(op, HResult.HCS_E_OPERATION_TIMEOUT, `the system did not stop within ${ms} ms`));
      }, ms);
      if (opts.signal?.aborted === true) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      void this.exited.then(() => (done(), resolve()));
    });
  }

  async properties(query: unknown): Promise<SystemProperties> {
    return buildProperties(
      {
        id: this.id,
        runtimeId: this.runtimeId,
        ...(this.init.spec.owner === undefined ? {} : { owner: this.init.spec.owner }),
        state: hcsStateName(this.state),
        ...(this.exitType === undefined ? {} : { exitType: this.exitType }),
        memoryMB: this.devices.memoryMB,
        processorCount: this.init.spec.processorCount,
        terminateOnLastHandleClosed: this.terminateOnLastHandleClosed,
        ...(this.startedAt === undefined ? {} : { startedAt: this.startedAt }),
        ...(this.state === VmState.Running && this.child?.pid !== undefined ? { pid: this.child.pid } : {}),
      },
      query,
    );
  }

  async modify(request: ModifySettingRequest): Promise<void> {
    if (this.state === VmState.Stopping || this.state === VmState.Stopped) {
      throw this.fail('HcsModifyComputeSystem', HResult.ErrVmcomputeOperationInvalidState, `cannot modify a system in state ${this.state}`);
    }
    if (request.GuestRequest !== undefined) {
      this.log.warn('HCS emulator: GuestRequest ignored (no HCS-internal guest connection; use the GCS bridge)', { resourcePath: request.ResourcePath });
    }
    await this.devices.modify(request);
    this.log.debug('HCS emulator: modified', { resourcePath: request.ResourcePath, requestType: request.RequestType });
  }

  /**
   * Writes `<vmDir>/system.json` (system-record.ts) so other processes can open this system; called at
   * create, once the agent runs, and when a stopped VM's dir could not be removed. Best-effort: a failed
   * write only makes the system invisible to other processes.
   */
  async persist(): Promise<void> {
    const record: SystemRecord = {
      Format: RECORD_FORMAT,
      Id: this.id,
      ...(this.init.spec.owner === undefined ? {} : { Owner: this.init.spec.owner }),
      RuntimeId: this.runtimeId,
      SystemType: 'VirtualMachine',
      State: hcsStateName(this.state),
      ...(this.exitType === undefined ? {} : { ExitType: this.exitType }),
      TerminateOnLastHandleClosed: this.terminateOnLastHandleClosed,
      MemoryMB: this.devices.memoryMB,
      ProcessorCount: this.init.spec.processorCount,
      OwnerProcess: this.init.ownerProcess,
      ...(this.guest === undefined ? {} : { Guest: this.guest }),
      ...(this.startedAt === undefined ? {} : { GuestStartedAt: isoTime(this.startedAt.getTime()) }),
      RuncBinary: this.init.runcBinary,
    };
    await writeRecord(this.vmDir, record).catch((err: unknown) =>
      this.log.warn('HCS emulator: cannot write the system record (other processes will not see this system)', { error: String(err) }),
    );
  }

  fail(op: string, hr: number, message: string, cause?: unknown): Error {
    return hcsFail(op, hr, message, this.id, cause);
  }
}
