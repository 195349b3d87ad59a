/**
 * The GCS request handlers: protocol negotiation and routing of every v4 RPC, as Microsoft's Linux GCS
 * registers them. Before NegotiateProtocol succeeds only NegotiateProtocol is answered (anything else is
 * E_NOTIMPL); afterwards NegotiateProtocol itself is E_NOTIMPL. Unknown and host-only RPCs
 * (UpdateContainer, LifecycleNotification, ModifyServiceSettings) are E_NOTIMPL.
 */
import { HResult } from '../errdefs/index.js';
import {
  NullContainerID,
  ProtocolVersion,
  RPCCreate,
  RPCDeleteContainerState,
  RPCDumpStacks,
  RPCExecuteProcess,
  RPCGetProperties,
  RPCModifySettings,
  RPCNegotiateProtocol,
  RPCResizeConsole,
  RPCShutdownForced,
  RPCShutdownGraceful,
  RPCSignalProcess,
  RPCStart,
  RPCWaitForProcess,
  ResourceType,
  categoryOf,
  ComputeSystem,
  rpcName,
  rpcProcOf,
  toJsonString,
  type ExecuteProcessSettings,
  type GcsCapabilities,
  type ModificationRequest,
} from '../gcs/protocol/index.js';
import type { BridgeRequest } from './bridge-server.js';
import type { ContainerManager } from './container-manager.js';
import { GuestError, invalidArg, notImpl } from './errors.js';
import type { GuestLogger } from './log.js';
import type { VmModifier } from './modify.js';

/** What a v4 Linux guest reports (false flags omitted, as Go's omitempty drops them). */
export const LinuxCapabilities: GcsCapabilities = {
  SupportedSchemaVersions: [{ Major: 2, Minor: 1 }],
  RuntimeOsType: 'Linux',
  GuestDefinedCapabilities: {
    NamespaceAddRequestSupported: true,
    SignalProcessSupported: true,
    DumpStacksSupported: true,
    DeleteContainerStateSupported: true,
  },
};

/** The real guest names the header type in E_NOTIMPL messages (Go's MessageIdentifier String()). */
function headerTypeName(type: number): string {
  const proc = rpcProcOf(type);
  const name = rpcName(proc);
  return categoryOf(type) === ComputeSystem && !name.startsWith('0x') ? `ComputeSystem${name}V1` : String(type >>> 0);
}

export interface GuestServiceHooks {
  /** Shutdown of the whole VM (zero container id): stop everything and exit; no response is sent. */
  shutdownVm(forced: boolean): Promise<never>;
}

export class GuestService {
  private negotiated = false;

  constructor(
    private readonly containers: ContainerManager,
    private readonly modifier: VmModifier,
    private readonly hooks: GuestServiceHooks,
    private readonly log: GuestLogger,
  ) {}

  /** Handles one request; returns the response fields beyond Result/ActivityId. */
  async dispatch(req: BridgeRequest): Promise<Record<string, unknown>> {
    const proc = rpcProcOf(req.type);
    const b = req.body;
    const cid = typeof b['ContainerId'] === 'string' ? b['ContainerId'] : '';
    if (!this.negotiated) {
      if (proc !== RPCNegotiateProtocol) throw notImpl(`bridge: function not supported, header type: ${headerTypeName(req.type)}`);
      return this.negotiate(b['MinimumVersion'], b['MaximumVersion']);
    }
    switch (proc) {
      case RPCCreate:
        await this.containers.create(cid, b['ContainerConfig'], typeof b['ActivityId'] === 'string' ? b['ActivityId'] : undefined);
        return { SelectedProtocolVersion: 0 };
      case RPCStart:
        return {}; // no-op for LCOW
      case RPCShutdownGraceful:
      case RPCShutdownForced:
        if (cid === NullContainerID) return this.hooks.shutdownVm(proc === RPCShutdownForced);
        await this.containers.shutdown(cid, proc === RPCShutdownForced);
        return {};
      case RPCExecuteProcess:
        return { ProcessId: await this.containers.execute(cid, b['Settings'] as ExecuteProcessSettings | undefined) };
      case RPCWaitForProcess:
        return { ExitCode: await this.containers.wait(cid, b['ProcessId'], b['TimeoutInMs']) };
      case RPCSignalProcess: {
        const opts = b['Options'];
        const sig = typeof opts === 'object' && opts !== null ? (opts as Record<string, unknown>)['Signal'] : undefined;
        await this.containers.signal(cid, b['ProcessId'], sig);
        return {};
      }
      case RPCResizeConsole:
        await this.containers.resize(cid, b['ProcessId'], b['Height'], b['Width']);
        return {};
      case RPCGetProperties:
        return { Properties: toJsonString(await this.containers.properties(cid, b['Query'])) };
      case RPCModifySettings:
        await this.modify(cid, b['Request']);
        return {};
      case RPCDumpStacks:
        return { GuestStacks: this.dumpStacks() };
      case RPCDeleteContainerState:
        await this.containers.delete(cid);
        return {};
      default:
        throw notImpl(`bridge: function not supported, header type: ${headerTypeName(req.type)}`);
    }
  }

  private negotiate(min: unknown, max: unknown): Record<string, unknown> {
    if (typeof min !== 'number' || typeof max !== 'number') throw invalidArg('MinimumVersion and MaximumVersion are required');
    if (max < ProtocolVersion || min > ProtocolVersion) {
      throw new GuestError(
        HResult.ErrVmcomputeUnsupportedProtocolVersion,
        `negotiate protocol: no supported version in [${min}, ${max}]; this guest supports version ${ProtocolVersion}`,
      );
    }
    this.negotiated = true;
    this.log.info('negotiated protocol', { version: ProtocolVersion });
    return { Version: Math.min(ProtocolVersion, max), Capabilities: LinuxCapabilities };
  }

  private async modify(cid: string, raw: unknown): Promise<void> {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalidArg('ModifySettings needs a Request object');
    const req = raw as ModificationRequest;
    if (cid === NullContainerID || cid === '') return this.modifier.apply(req);
    if (req.ResourceType !== ResourceType.ContainerConstraints) {
      throw invalidArg(`only ContainerConstraints may be modified on a container, not ${JSON.stringify(req.ResourceType)}`);
    }
    const settings = req.Settings as Record<string, unknown> | undefined;
    await this.containers.update(cid, settings?.['Linux']);
  }

  private dumpStacks(): string {
    const lines = [`lcow guest agent pid ${process.pid} (node ${process.version}), uptime ${process.uptime().toFixed(1)}s`];
    for (const c of this.containers.containers.values()) {
      lines.push(`container ${c.id}: ${c.state}, processes ${[...c.processes.keys()].join(' ') || '-'}`);
    }
    for (const pid of this.containers.external.keys()) lines.push(`vm process ${pid}`);
    lines.push(new Error('stack of the request handler').stack ?? '');
    return lines.join('\n') + '\n';
  }
}
