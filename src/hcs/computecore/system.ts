import { HResult } from '../../errdefs/index.js';
import { handledElsewhere } from '../../async/index.js';
import type { Logger } from '../../log/index.js';
import { HcsError, isAlreadyStopped, isNotExist, isPending } from '../errors.js';
import type { HcsCallOptions, HcsSystem, SystemExit } from '../hcs-api.js';
import { toHcsJson, type ModifySettingRequest, type PropertyQuery, type SystemExitStatus, type SystemProperties } from '../schema/index.js';
import { HcsEventType, HcsEventOptionNone, type EventRouter } from './event-router.js';
import type { ComputecoreLibrary, HcsSystemHandle, RawHcsEvent } from './ffi.js';
import { asHresult, callAsync } from './native-call.js';
import { runOperation, submitOperation } from './operation.js';

export interface SystemDeps {
  readonly lib: ComputecoreLibrary;
  readonly router: EventRouter;
  readonly defaultTimeoutMs: number;
  readonly log: Logger;
}

/**
 * One HCS_SYSTEM handle. Lifecycle: open → (events flow) → closing → closed. Every HCS call goes through
 * `.async`; close waits for native calls still in flight, then HcsCloseComputeSystem (which unregisters
 * our callback and drains in-flight invocations), then drops the router registration.
 */
export class ComputecoreSystem implements HcsSystem {
  private readonly inflight = new Set<Promise<unknown>>();
  private contextId: number | undefined;
  private stopRequested = false;
  private closing: Promise<void> | undefined;
  private lastExit: SystemExit | undefined;
  private resolveExit!: (e: SystemExit) => void;
  private readonly exited: Promise<SystemExit>;

  constructor(
    readonly id: string,
    private readonly handle: HcsSystemHandle,
    private readonly deps: SystemDeps,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  /** Registers the system callback (right after create/open, as hcsshim does). */
  async registerEvents(): Promise<void> {
    const { router, lib } = this.deps;
    const ctx = router.add((ev) => this.onEvent(ev));
    this.contextId = ctx;
    const hr = asHresult(
      await this.native(callAsync(lib.fn.HcsSetComputeSystemCallback, this.handle, HcsEventOptionNone, BigInt(ctx), router.pointer)),
    );
    if (hr < 0) {
      router.remove(ctx);
      this.contextId = undefined;
      throw new HcsError({ operation: 'HcsSetComputeSystemCallback', hresult: hr, systemId: this.id });
    }
  }

  async start(opts?: HcsCallOptions): Promise<void> {
    await this.run('HcsStartComputeSystem', opts, (op) => callAsync(this.deps.lib.fn.HcsStartComputeSystem, this.handle, op, null));
  }

  shutdown(_opts?: HcsCallOptions): Promise<void> {
    return this.stop('HcsShutDownComputeSystem');
  }

  terminate(_opts?: HcsCallOptions): Promise<void> {
    return this.stop('HcsTerminateComputeSystem');
  }

  waitExit(): Promise<SystemExit> {
    return this.exited;
  }

  async properties(query: PropertyQuery = {}, opts?: HcsCallOptions): Promise<SystemProperties> {
    const json = toHcsJson(query, 'PropertyQuery');
    const doc = await this.run('HcsGetComputeSystemProperties', opts, (op) =>
      callAsync(this.deps.lib.fn.HcsGetComputeSystemProperties, this.handle, op, json),
    );
    return parseObject(doc, 'HcsGetComputeSystemProperties', this.id) as SystemProperties;
  }

  async modify(request: ModifySettingRequest, opts?: HcsCallOptions): Promise<void> {
    const json = toHcsJson(request, 'ModifySettingRequest');
    await this.run('HcsModifyComputeSystem', opts, (op) =>
      callAsync(this.deps.lib.fn.HcsModifyComputeSystem, this.handle, op, json, null),
    );
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    // Never free a handle under a native call that still uses it.
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    await callAsync(this.deps.lib.fn.HcsCloseComputeSystem, this.handle);
    if (this.contextId !== undefined) this.deps.router.remove(this.contextId);
    this.contextId = undefined;
    // Events queued before close still get delivered (setImmediate); settle after them.
    await new Promise((r) => setImmediate(r));
    this.settleExit(this.lastExit ?? { hresult: 0, unexpected: false });
  }

  /** Shutdown/terminate are submitted without a wait (hcsshim): completion is the SystemExited event. */
  private async stop(operation: string): Promise<void> {
    this.assertOpen(operation);
    this.stopRequested = true;
    const fn = operation === 'HcsShutDownComputeSystem' ? this.deps.lib.fn.HcsShutDownComputeSystem : this.deps.lib.fn.HcsTerminateComputeSystem;
    try {
      await this.native(submitOperation(this.deps.lib, { operation, systemId: this.id }, (op) => callAsync(fn, this.handle, op, null).then(asHresult)));
    } catch (err) {
      if (isAlreadyStopped(err) || isNotExist(err) || isPending(err)) return;
      throw err;
    }
  }

  private async run(operation: string, opts: HcsCallOptions | undefined, issue: (op: unknown) => Promise<unknown>): Promise<string | undefined> {
    this.assertOpen(operation);
    return runOperation(
      this.deps.lib,
      {
        operation,
        systemId: this.id,
        timeoutMs: opts?.timeoutMs ?? this.deps.defaultTimeoutMs,
        ...(opts?.signal === undefined ? {} : { signal: opts.signal }),
        track: (p) => void handledElsewhere(this.native(p)), // its outcome is runOperation's
      },
      (op) => this.native(issue(op)).then(asHresult),
    );
  }

  private native<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = (): void => void this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  private assertOpen(operation: string): void {
    if (this.closing !== undefined) {
      throw new HcsError({ operation, hresult: HResult.ErrInvalidHandle, systemId: this.id, message: 'system handle is closed' });
    }
  }

  private onEvent(ev: RawHcsEvent): void {
    switch (ev.Type) {
      case HcsEventType.SystemExited: {
        const status = parseExitStatus(ev.EventData);
        const hresult = (status?.Status ?? 0) >>> 0;
        this.settleExit({
          hresult,
          ...(ev.EventData === null ? {} : { data: ev.EventData }),
          unexpected: status?.ExitType === 'UnexpectedExit' || !this.stopRequested,
        });
        break;
      }
      case HcsEventType.ServiceDisconnect:
        this.settleExit({ hresult: HResult.HCS_E_SERVICE_DISCONNECT, data: 'lost communication with compute service', unexpected: true });
        break;
      default:
        this.deps.log.debug('hcs event', { 'uvm-id': this.id, type: `0x${ev.Type.toString(16)}`, data: ev.EventData });
    }
  }

  private settleExit(exit: SystemExit): void {
    if (this.lastExit === undefined) this.lastExit = exit;
    this.resolveExit(this.lastExit);
  }
}

function parseExitStatus(data: string | null): SystemExitStatus | undefined {
  if (data === null || data === '') return undefined;
  try {
    const v: unknown = JSON.parse(data);
    return typeof v === 'object' && v !== null ? (v as SystemExitStatus) : undefined;
  } catch {
    return undefined;
  }
}

/** Parses a result document that must be a JSON object (or array, for enumerate). */
export function parseObject(doc: string | undefined, operation: string, systemId?: string): unknown {
  try {
    const v: unknown = JSON.parse(doc ?? '');
    if (typeof v === 'object' && v !== null) return v;
  } catch {
    // fall through
  }
  throw new HcsError({
    operation,
    hresult: HResult.ErrInvalidData,
    ...(systemId === undefined ? {} : { systemId }),
    message: `unexpected result document ${JSON.stringify((doc ?? '').slice(0, 200))}`,
  });
}
