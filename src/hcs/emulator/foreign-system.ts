/**
 * An HcsSystem handle on an emulated system that another process created (found through its
 * `<vmDir>/system.json`, see system-record.ts). That process owns the guest agent as its child, so this
 * handle can only observe and stop the VM:
 * - properties: from the record and what /proc says about the owner and the guest agent;
 * - terminate: SIGKILL to the guest agent's process group (only if the pid still names the agent, by
 *   start time), then the same teardown as an owned VM (runc sweep, unmount deepest-first, VM dir
 *   removal); shutdown: SIGTERM to the agent first, then the same;
 * - waitExit: resolves once this handle's stop has finished, or once the VM dir is gone (or recorded
 *   as stopped) by anyone's hand;
 * - start and modify: not emulated across processes (E_NOTIMPL). Closing never terminates.
 *
 * State as HCS would report it: a system whose owner process is gone has lost its handles, so with
 * ShouldTerminateOnLastHandleClosed it is Stopped (ForcedExit), even if its remains are not yet cleaned;
 * without the flag it stays Running until its agent exits. A live owner keeps the record current.
 */
import { settlesWithin, stat } from '../../async/index.js';
import { HResult, ignoreAbsent } from '../../errdefs/index.js';
import { logTeardown, type Logger } from '../../log/index.js';
import type { HcsCallOptions, HcsSystem, SystemExit } from '../hcs-api.js';
import type { ModifySettingRequest, PropertyQuery, SystemProperties } from '../schema/index.js';
import { hcsFail } from './hresults.js';
import { buildProperties } from './properties.js';
import { isAlive, isSameProcess, pidExists, readRecord, writeRecord, type ProcessRef, type SystemRecord } from './system-record.js';
import { signalProcess } from './signal-process.js';
import { teardownVmDir } from './teardown.js';

/** How long a SIGKILLed agent is given to disappear before the teardown goes ahead anyway. */
const KILL_GRACE_MS = 2_000;
const POLL_MS = 25;
const EXIT_POLL_MS = 200;

export interface ForeignSystemInit {
  readonly vmDir: string;
  readonly record: SystemRecord;
  readonly log: Logger;
  /** Overrides the record's runc (the opener's EmulatorOptions.runcBinary). */
  readonly runcBinary?: string;
  /** Default bound for shutdown/terminate. */
  readonly defaultTimeoutMs: number;
}

type StopKind = 'GracefulExit' | 'ForcedExit';

/** What a foreign system looks like now. */
export async function observeState(rec: SystemRecord): Promise<{ state: SystemRecord['State']; exitType?: string }> {
  if (rec.State === 'Stopped') return { state: 'Stopped', ...(rec.ExitType === undefined ? {} : { exitType: rec.ExitType }) };
  if (await isAlive(rec.OwnerProcess)) return { state: rec.State };
  if (rec.TerminateOnLastHandleClosed) return { state: 'Stopped', exitType: 'ForcedExit' };
  if (rec.State === 'Running' && !(await isAlive(rec.Guest))) return { state: 'Stopped', exitType: 'UnexpectedExit' };
  return { state: rec.State };
}

export class ForeignSystemHandle implements HcsSystem {
  readonly id: string;
  private readonly log: Logger;
  private record: SystemRecord;
  private closed = false;
  private stopping: Promise<void> | undefined;
  private poll: NodeJS.Timeout | undefined;
  private exitResolve!: (e: SystemExit) => void;
  private readonly exited: Promise<SystemExit>;
  private exitedYet = false;

  constructor(private readonly init: ForeignSystemInit) {
    this.record = init.record;
    this.id = init.record.Id;
    this.log = init.log.child({ 'uvm-id': this.id, runtimeId: init.record.RuntimeId, vmDir: init.vmDir });
    this.exited = new Promise((resolve) => (this.exitResolve = resolve));
  }

  private fail(op: string, hr: number, message: string, cause?: unknown): Error {
    return hcsFail(op, hr, message, this.id, cause);
  }

  private guard(op: string, opts?: HcsCallOptions): void {
    if (this.closed) throw this.fail(op, HResult.ErrInvalidHandle, 'the handle is closed');
    if (opts?.signal?.aborted === true) throw this.fail(op, HResult.ErrCancelled, 'canceled before it started', opts.signal.reason);
  }

  async start(opts?: HcsCallOptions): Promise<void> {
    this.guard('HcsStartComputeSystem', opts);
    throw this.fail('HcsStartComputeSystem', HResult.E_NOTIMPL, 'starting a system created by another process is not emulated');
  }

  async modify(_request: ModifySettingRequest, opts?: HcsCallOptions): Promise<void> {
    this.guard('HcsModifyComputeSystem', opts);
    throw this.fail('HcsModifyComputeSystem', HResult.E_NOTIMPL, 'modifying a system created by another process is not emulated');
  }

  async shutdown(opts?: HcsCallOptions): Promise<void> {
    this.guard('HcsShutDownComputeSystem', opts);
    await this.stop('GracefulExit', 'HcsShutDownComputeSystem', opts);
  }

  async terminate(opts?: HcsCallOptions): Promise<void> {
    this.guard('HcsTerminateComputeSystem', opts);
    await this.stop('ForcedExit', 'HcsTerminateComputeSystem', opts);
  }

  waitExit(): Promise<SystemExit> {
    if (!this.exitedYet && !this.closed && this.poll === undefined) {
      this.poll = setInterval(() => void this.checkGone(), EXIT_POLL_MS);
    }
    return this.exited;
  }

  async properties(query?: PropertyQuery, opts?: HcsCallOptions): Promise<SystemProperties> {
    this.guard('HcsGetComputeSystemProperties', opts);
    this.record = (await readRecord(this.init.vmDir)) ?? this.record;
    const rec = this.record;
    const gone = !(await exists(this.init.vmDir));
    const seen = gone ? { state: 'Stopped' as const, exitType: rec.ExitType ?? 'ForcedExit' } : await observeState(rec);
    const guestPid = seen.state === 'Running' && (await isAlive(rec.Guest)) ? rec.Guest?.Pid : undefined;
    return buildProperties(
      {
        id: rec.Id,
        runtimeId: rec.RuntimeId,
        ...(rec.Owner === undefined ? {} : { owner: rec.Owner }),
        state: seen.state,
        ...(seen.exitType === undefined ? {} : { exitType: seen.exitType }),
        memoryMB: rec.MemoryMB,
        processorCount: rec.ProcessorCount,
        terminateOnLastHandleClosed: rec.TerminateOnLastHandleClosed,
        ...(rec.GuestStartedAt === undefined ? {} : { startedAt: new Date(rec.GuestStartedAt) }),
        ...(guestPid === undefined ? {} : { pid: guestPid }),
      },
      query,
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopPolling();
  }

  private async stop(kind: StopKind, op: string, opts?: HcsCallOptions): Promise<void> {
    this.stopping ??= this.teardown(kind);
    const ms = opts?.timeoutMs ?? this.init.defaultTimeoutMs;
    if (!(await settlesWithin(this.stopping, ms, opts?.signal))) {
      if (opts?.signal?.aborted) throw this.fail(op, HResult.ErrCancelled, 'the wait was canceled; the system keeps stopping', opts.signal.reason);
      throw this.fail(op, HResult.HCS_E_OPERATION_TIMEOUT, `the system did not stop within ${ms} ms`);
    }
    await this.stopping;
  }

  /** Stops the agent (if it is still ours and alive), then cleans the VM dir; never rejects. */
  private async teardown(kind: StopKind): Promise<void> {
    const vmDir = this.init.vmDir;
    const rec = (await readRecord(vmDir)) ?? (await exists(vmDir) ? this.record : undefined);
    if (rec === undefined) return this.finish(kind, 'the VM dir is already gone');
    const guest = rec.Guest;
    if (guest !== undefined) await this.stopAgent(guest, kind);
    const runc = this.init.runcBinary ?? rec.RuncBinary;
    const report = await teardownVmDir(vmDir, this.log, runc).catch((err: unknown) => {
      this.log.error('HCS emulator: teardown failed', { error: String(err) });
      return undefined;
    });
    if (report?.removed !== true && (await exists(vmDir))) {
      await writeRecord(vmDir, { ...rec, State: 'Stopped', ExitType: kind }).catch(logTeardown(this.log, 'HCS emulator: recording the stopped state', { vmDir }));
    }
    this.log.info('HCS emulator: stopped an emulated utility VM created by another process', {
      exitType: kind, ownerPid: rec.OwnerProcess.Pid, containers: report?.containers, unmounted: report?.unmounted.length,
      vmDirRemoved: report?.removed === true,
    });
    return this.finish(kind);
  }

  /**
   * Signals the agent, only if its pid still names it (same start time): SIGTERM for a shutdown, SIGKILL
   * to its whole process group (it leads one) for a terminate. When the agent is already gone (killed with
   * its owner by pdeathsig) but its pid is unused, what is left of its group (processes it started) is
   * SIGKILLed too: a group id stays reserved while the group has members, so only a group left by a
   * later holder of that pid that itself died could be hit, which the start-time check cannot exclude.
   */
  private async stopAgent(guest: ProcessRef, kind: StopKind): Promise<void> {
    const alive = await isAlive(guest);
    const signal = (target: number, sig: NodeJS.Signals): void => void signalProcess(target, sig, this.log);
    if (!alive) {
      // A zombie agent (same start time) still owns its group id; a vanished one left it unused.
      if (kind === 'ForcedExit' && ((await isSameProcess(guest)) || !(await pidExists(guest.Pid)))) signal(-guest.Pid, 'SIGKILL');
      return;
    }
    signal(kind === 'ForcedExit' ? -guest.Pid : guest.Pid, kind === 'ForcedExit' ? 'SIGKILL' : 'SIGTERM');
    const until = kind === 'ForcedExit' ? Date.now() + KILL_GRACE_MS : Number.POSITIVE_INFINITY;
    while ((await isAlive(guest)) && Date.now() < until) await sleep(POLL_MS);
  }

  private finish(kind: string, note?: string): void {
    if (note !== undefined) this.log.debug(`HCS emulator: ${note}`);
    this.resolveExit({ hresult: 0, unexpected: false, data: JSON.stringify({ Status: 0, ExitType: kind }) });
  }

  private async checkGone(): Promise<void> {
    const rec = await readRecord(this.init.vmDir);
    if (rec === undefined && !(await exists(this.init.vmDir))) {
      this.resolveExit({ hresult: 0, unexpected: false, data: JSON.stringify({ Status: 0, ExitType: this.record.ExitType ?? 'ForcedExit' }) });
    } else if (rec?.State === 'Stopped') {
      this.resolveExit({ hresult: 0, unexpected: false, data: JSON.stringify({ Status: 0, ExitType: rec.ExitType ?? 'ForcedExit' }) });
    }
  }

  private resolveExit(e: SystemExit): void {
    this.exitedYet = true;
    this.stopPolling();
    this.exitResolve(e);
  }

  private stopPolling(): void {
    if (this.poll !== undefined) clearInterval(this.poll);
    this.poll = undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(ignoreAbsent)) !== undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
