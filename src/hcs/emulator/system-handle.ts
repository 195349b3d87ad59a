/**
 * An HCS_SYSTEM handle on an emulated system. Several handles may share one system (create + opens);
 * a closed handle fails every call with ERROR_INVALID_HANDLE, except close (idempotent) and waitExit.
 * Closing the last handle terminates the VM when its document set ShouldTerminateOnLastHandleClosed.
 */
import { HResult } from '../../errdefs/index.js';
import type { HcsCallOptions, HcsSystem, SystemExit } from '../hcs-api.js';
import type { ModifySettingRequest, PropertyQuery, SystemProperties } from '../schema/index.js';
import type { EmulatedVm } from './emulated-vm.js';

export class EmulatedSystemHandle implements HcsSystem {
  readonly id: string;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly vm: EmulatedVm,
    private readonly onLastClose: (vm: EmulatedVm) => Promise<void>,
  ) {
    this.id = vm.id;
    vm.handles++;
  }

  private async guard(op: string, opts?: HcsCallOptions): Promise<void> {
    if (this.closed) throw this.vm.fail(op, HResult.ErrInvalidHandle, 'the handle is closed');
    if (opts?.signal?.aborted === true) throw this.vm.fail(op, HResult.ErrCancelled, 'canceled before it started', opts.signal.reason);
  }

  async start(opts?: HcsCallOptions): Promise<void> {
    await this.guard('HcsStartComputeSystem', opts);
    await this.vm.start();
  }

  async shutdown(opts?: HcsCallOptions): Promise<void> {
    await this.guard('HcsShutDownComputeSystem', opts);
    await this.vm.shutdown(waitOpts(opts));
  }

  async terminate(opts?: HcsCallOptions): Promise<void> {
    await this.guard('HcsTerminateComputeSystem', opts);
    await this.vm.terminate(waitOpts(opts));
  }

  waitExit(): Promise<SystemExit> {
    return this.vm.exited;
  }

  async properties(query?: PropertyQuery, opts?: HcsCallOptions): Promise<SystemProperties> {
    await this.guard('HcsGetComputeSystemProperties', opts);
    return this.vm.properties(query);
  }

  async modify(request: ModifySettingRequest, opts?: HcsCallOptions): Promise<void> {
    await this.guard('HcsModifyComputeSystem', opts);
    await this.vm.modify(request);
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    this.vm.handles--;
    if (this.vm.handles === 0) await this.onLastClose(this.vm);
  }
}

function waitOpts(opts?: HcsCallOptions): { signal?: AbortSignal; timeoutMs?: number } {
  return {
    ...(opts?.signal === undefined ? {} : { signal: opts.signal }),
    ...(opts?.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
  };
}
