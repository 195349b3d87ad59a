/**
 * A container in the guest, created by GuestConnection.createContainer. Its exit arrives as a
 * ComputeSystemNotificationV1 notification (after the init process and its stdio finished); the Type of
 * that notification is not reliable (a graceful shutdown may report "UnexpectedExit"), so it is reported
 * but not interpreted.
 */
import { handledElsewhere } from '../async/index.js';
import { fromJsonString, hresultFromWire, NullActivityID } from './protocol/index.js';
import {
  RPCGetProperties,
  RPCModifySettings,
  RPCShutdownForced,
  RPCShutdownGraceful,
  RPCStart,
  toJsonString,
  type ContainerGetProperties,
  type ContainerGetPropertiesResponse,
  type ContainerModifySettings,
  type ContainerNotification,
  type ContainerProperties,
  type ModificationRequest,
  type ProcessParameters,
  type PropertyType,
  type RequestBase,
} from './protocol/index.js';
import { executeProcess, type ExecContext } from './exec.js';
import type { Process } from './process.js';

export interface ContainerExit {
  /** Notification Type ("GracefulExit", "ForcedExit", "UnexpectedExit", ...); informational only. */
  readonly type: string;
  /** Unsigned HRESULT from the notification. */
  readonly result: number;
  /** The decoded ResultInfo, if any. */
  readonly resultInfo: unknown;
}

export interface GcsCallOptions {
  signal?: AbortSignal;
}

export class Container {
  readonly id: string;
  private readonly ctx: ExecContext;
  private readonly exit: Promise<ContainerExit>;
  private settle!: { resolve(e: ContainerExit): void; reject(err: Error): void };
  private exitInfo: ContainerExit | undefined;

  /** @internal created by GuestConnection. */
  constructor(ctx: ExecContext, id: string) {
    this.ctx = ctx;
    this.id = id;
    this.exit = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    handledElsewhere(this.exit); // observed through wait()
  }

  /** True once the exit notification arrived. */
  get exited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** Start (a no-op in the Linux GCS; the init process starts with executeProcess). Not cancellable. */
  async start(opts: GcsCallOptions = {}): Promise<void> {
    await this.ctx.bridge.rpc(RPCStart, this.base(), { signal: opts.signal });
  }

  /** SIGTERM to every process of the container. Cancellable. */
  async shutdownGraceful(opts: GcsCallOptions = {}): Promise<void> {
    await this.ctx.bridge.rpc(RPCShutdownGraceful, this.base(), { signal: opts.signal, allowCancel: true });
  }

  /** SIGKILL to every process of the container. Cancellable. */
  async shutdownForced(opts: GcsCallOptions = {}): Promise<void> {
    await this.ctx.bridge.rpc(RPCShutdownForced, this.base(), { signal: opts.signal, allowCancel: true });
  }

  /**
   * Starts a process: omit OciProcess for the container's init process, set it (the OCI process object)
   * for an exec. One stdio connection per CreateStd*Pipe flag.
   */
  executeProcess(params: ProcessParameters, opts: GcsCallOptions = {}): Promise<Process> {
    return executeProcess(this.ctx, this.id, params, opts);
  }

  /** GetProperties: ProcessList and/or Statistics (LCOWMetrics). Cancellable. */
  async getProperties(types: PropertyType[], opts: GcsCallOptions = {}): Promise<ContainerProperties> {
    const req: ContainerGetProperties = { ...this.base(), Query: toJsonString({ PropertyTypes: types }) };
    const resp = await this.ctx.bridge.rpc<ContainerGetPropertiesResponse>(RPCGetProperties, req, { signal: opts.signal, allowCancel: true });
    // exact: LCOWMetrics holds uint64 values beyond 2^53 (e.g. hierarchical_memory_limit); they stay bigints.
    return fromJsonString<ContainerProperties>(resp.Properties, 'Properties', { exact: true }) ?? {};
  }

  /** ModifySettings on this container (the Linux GCS allows only ContainerConstraints here). */
  async modifySettings(request: ModificationRequest, opts: GcsCallOptions = {}): Promise<void> {
    const req: ContainerModifySettings = { ...this.base(), Request: request };
    await this.ctx.bridge.rpc(RPCModifySettings, req, { signal: opts.signal });
  }

  /** Task.Update: new OCI LinuxResources for the container's cgroup. */
  update(linuxResources: Record<string, unknown>, opts: GcsCallOptions = {}): Promise<void> {
    return this.modifySettings({ ResourceType: 'ContainerConstraints', RequestType: 'Update', Settings: { Linux: linuxResources } }, opts);
  }

  /** Resolves on the exit notification; rejects with GcsBridgeClosedError if the bridge dies first. */
  waitExit(): Promise<ContainerExit> {
    return this.exit;
  }

  /** @internal the connection routes this container's notification here. */
  notify(n: ContainerNotification): void {
    if (this.exitInfo) return;
    let resultInfo: unknown;
    try {
      resultInfo = fromJsonString(n.ResultInfo, 'ResultInfo');
    } catch {
      resultInfo = n.ResultInfo;
    }
    this.exitInfo = { type: String(n.Type ?? ''), result: hresultFromWire(n.Result ?? 0), resultInfo };
    this.settle.resolve(this.exitInfo);
  }

  /** @internal the bridge closed. */
  fail(err: Error): void {
    this.settle.reject(err);
  }

  private base(): RequestBase {
    return { ContainerId: this.id, ActivityId: NullActivityID };
  }
}
