/**
 * The host's connection to one guest's GCS (hcsshim gcs.GuestConnection). connectGuest starts the bridge
 * on an accepted connection and negotiates: NegotiateProtocol {4, 4} is the first request, and only
 * Version 4 is accepted. Then (Linux guests never ask) Create/Start for the UVM itself if the capabilities
 * say so. Containers, processes, UVM-level ModifySettings and diagnostics go through the result.
 */
import type { Duplex } from 'node:stream';
import { ErrorCode, ShimError, alreadyExists, invalidArgument } from '../errdefs/index.js';
import { rootLogger, type Logger } from '../log/index.js';
import { Bridge, DefaultBridgeTimeoutMs } from './bridge.js';
import { Container, type GcsCallOptions } from './container.js';
import { GcsBridgeClosedError } from './errors.js';
import { executeProcess, type ExecContext } from './exec.js';
import type { Process } from './process.js';
import {
  FirstStdioVsockPort,
  LCOWRootPrefixInUVM,
  NullActivityID,
  NullContainerID,
  ProtocolVersion,
  RPCCreate,
  RPCDeleteContainerState,
  RPCDumpStacks,
  RPCModifySettings,
  RPCNegotiateProtocol,
  RPCStart,
  toJsonString,
  type ContainerConfig,
  type ContainerCreate,
  type ContainerModifySettings,
  type ContainerNotification,
  type DumpStacksResponse,
  type GcsCapabilities,
  type GuestDefinedCapabilities,
  type ModificationRequest,
  type NegotiateProtocolRequest,
  type NegotiateProtocolResponse,
  type OciSpec,
  type ProcessParameters,
} from './protocol/index.js';
import type { IoListen } from './stdio.js';

export interface ConnectGuestOptions {
  /** The accepted GCS connection (vsock port 0x40000000). The bridge owns it from now on. */
  conn: Duplex;
  /** Listens on a host port for one stdio connection from the guest (hvsock / emulated vsock). */
  ioListen: IoListen;
  log?: Logger;
  /** Bridge RPC timeout (default 5 min); also bounds waiting for the guest to dial stdio ports. */
  timeoutMs?: number;
  /** Largest accepted incoming frame (default 64 KiB). */
  maxMessageSize?: number;
  /** Cancels the negotiation. */
  signal?: AbortSignal;
}

/** Builds ContainerCreate.ContainerConfig (schema 2.1, bundle /run/gcs/c/<id>) around an OCI spec. */
export function containerConfig(id: string, ociSpecification: OciSpec, scratchDirPath?: string): ContainerConfig {
  const cfg: ContainerConfig = { SchemaVersion: { Major: 2, Minor: 1 }, OciBundlePath: `${LCOWRootPrefixInUVM}/${id}`, OciSpecification: ociSpecification };
  if (scratchDirPath !== undefined) cfg.ScratchDirPath = scratchDirPath;
  return cfg;
}

/** Connects: starts the bridge and negotiates protocol v4. On failure the connection is closed. */
export async function connectGuest(opts: ConnectGuestOptions): Promise<GuestConnection> {
  const log = opts.log ?? rootLogger().child({ component: 'gcs' });
  const gc = new GuestConnection(opts, log);
  try {
    await gc.negotiate(opts.signal);
  } catch (err) {
    gc.close();
    throw err;
  }
  return gc;
}

export class GuestConnection {
  /** The negotiated protocol version (always 4). */
  protocolVersion = 0;
  /** Capabilities as the guest sent them (absent flags are false). */
  capabilities: GcsCapabilities = {};
  /** RuntimeOsType lower-cased; "windows" when empty (as hcsshim). */
  os = '';
  /** GuestDefinedCapabilities with absent flags read as false. */
  guestCapabilities: Required<GuestDefinedCapabilities> = {
    NamespaceAddRequestSupported: false,
    SignalProcessSupported: false,
    DumpStacksSupported: false,
    DeleteContainerStateSupported: false,
  };
  private readonly bridge: Bridge;
  private readonly ctx: ExecContext;
  private readonly log: Logger;
  private readonly containers = new Map<string, Container>();
  private nextPort = FirstStdioVsockPort;

  /** @internal use connectGuest. */
  constructor(opts: ConnectGuestOptions, log: Logger) {
    this.log = log;
    const timeoutMs = opts.timeoutMs ?? DefaultBridgeTimeoutMs;
    this.bridge = new Bridge(opts.conn, {
      log,
      timeoutMs,
      maxMessageSize: opts.maxMessageSize,
      onNotification: (n) => this.onNotification(n),
    });
    this.ctx = { bridge: this.bridge, ioListen: opts.ioListen, allocPort: () => this.nextPort++, log, timeoutMs };
    void this.bridge.wait().then((err) => {
      const closed = new GcsBridgeClosedError(err);
      for (const c of this.containers.values()) c.fail(closed);
    });
  }

  /** @internal the handshake (NegotiateProtocol, then the UVM Create/Start only if the guest asks). */
  async negotiate(signal?: AbortSignal): Promise<void> {
    const req: NegotiateProtocolRequest = { ContainerId: '', ActivityId: NullActivityID, MinimumVersion: ProtocolVersion, MaximumVersion: ProtocolVersion };
    const resp = await this.bridge.rpc<NegotiateProtocolResponse>(RPCNegotiateProtocol, req, { signal, allowCancel: true });
    if (resp.Version !== ProtocolVersion) {
      throw new ShimError(ErrorCode.FailedPrecondition, `gcs: guest negotiated protocol version ${String(resp.Version)}, only ${ProtocolVersion} is supported`);
    }
    this.protocolVersion = ProtocolVersion;
    const caps = typeof resp.Capabilities === 'object' && resp.Capabilities !== null ? resp.Capabilities : {};
    this.capabilities = caps;
    this.os = typeof caps.RuntimeOsType === 'string' && caps.RuntimeOsType !== '' ? caps.RuntimeOsType.toLowerCase() : 'windows';
    const g = caps.GuestDefinedCapabilities ?? {};
    for (const key of Object.keys(this.guestCapabilities) as (keyof GuestDefinedCapabilities)[]) this.guestCapabilities[key] = g[key] === true;
    this.log.debug('gcs protocol negotiated', { version: this.protocolVersion, os: this.os });
    if (caps.SendHostCreateMessage === true) {
      const create: ContainerCreate = { ContainerId: NullContainerID, ActivityId: NullActivityID, ContainerConfig: toJsonString({ SystemType: 'Container' }) };
      await this.bridge.rpc(RPCCreate, create, { signal, allowCancel: true });
      if (caps.SendHostStartMessage === true) {
        await this.bridge.rpc(RPCStart, { ContainerId: NullContainerID, ActivityId: NullActivityID }, { signal, allowCancel: true });
      }
    }
  }

  /** True once the bridge is gone. */
  get closed(): boolean {
    return this.bridge.closed;
  }

  /** Resolves when the bridge terminates, with the reason (undefined for close() or a clean EOF). */
  wait(): Promise<Error | undefined> {
    return this.bridge.wait();
  }

  /** Closes the bridge: pending calls and container waits fail with GcsBridgeClosedError. Idempotent. */
  close(): void {
    this.bridge.close();
  }

  /**
   * Create: the guest prepares the container (runc create happens when its init process is executed).
   * `config.OciSpecification` is the container's OCI spec; see containerConfig(). Not cancellable.
   */
  async createContainer(id: string, config: ContainerConfig, opts: GcsCallOptions = {}): Promise<Container> {
    if (typeof id !== 'string' || id === '' || id === NullContainerID) throw invalidArgument(`gcs: invalid container id ${JSON.stringify(id)}`);
    if (this.containers.has(id)) throw alreadyExists(`gcs: container ${id} already exists on this connection`);
    const container = new Container(this.ctx, id);
    this.containers.set(id, container);
    const req: ContainerCreate = { ContainerId: id, ActivityId: NullActivityID, ContainerConfig: toJsonString(config) };
    try {
      await this.bridge.rpc(RPCCreate, req, { signal: opts.signal });
    } catch (err) {
      this.containers.delete(id);
      throw err;
    }
    return container;
  }

  /** A container created on this connection, if any. */
  container(id: string): Container | undefined {
    return this.containers.get(id);
  }

  /** A process in the UVM itself (ContainerId = the zero GUID); set CreateInUtilityVM/OciProcess as needed. */
  createProcess(params: ProcessParameters, opts: GcsCallOptions = {}): Promise<Process> {
    return executeProcess(this.ctx, NullContainerID, params, opts);
  }

  /** UVM-level ModifySettings: MappedVirtualDisk, MappedDirectory, VPMemDevice, CombinedLayers, ... */
  async modifySettings(request: ModificationRequest, opts: GcsCallOptions = {}): Promise<void> {
    const req: ContainerModifySettings = { ContainerId: NullContainerID, ActivityId: NullActivityID, Request: request };
    await this.bridge.rpc(RPCModifySettings, req, { signal: opts.signal });
  }

  /** The guest's goroutine stacks (or the equivalent of our guest agent). */
  async dumpStacks(opts: GcsCallOptions = {}): Promise<string> {
    const resp = await this.bridge.rpc<DumpStacksResponse>(RPCDumpStacks, { ContainerId: NullContainerID, ActivityId: NullActivityID }, { signal: opts.signal });
    return typeof resp.GuestStacks === 'string' ? resp.GuestStacks : '';
  }

  /** Removes the guest's state for a container (after it stopped); forgets the container here. */
  async deleteContainerState(id: string, opts: GcsCallOptions = {}): Promise<void> {
    await this.bridge.rpc(RPCDeleteContainerState, { ContainerId: id, ActivityId: NullActivityID }, { signal: opts.signal });
    this.containers.delete(id);
  }

  private onNotification(n: ContainerNotification): void {
    const id = typeof n.ContainerId === 'string' ? n.ContainerId : '';
    const container = this.containers.get(id);
    if (!container) {
      this.log.warn('notification for an unknown container', { cid: id, type: n.Type });
      return;
    }
    this.log.debug('container exit notification', { cid: id, type: n.Type, result: n.Result });
    container.notify(n);
  }
}
