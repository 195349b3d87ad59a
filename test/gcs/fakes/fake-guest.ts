/**
 * A scripted fake GCS for unit tests (hcsshim's simpleGcs in spirit): answers negotiation, create, exec
 * (dialing the stdio ports the host listens on), wait (held until the process exits), signal, resize,
 * properties, modify, dump stacks and delete. Tests override any RPC with `handle(proc, fn)`.
 */
import type { Duplex } from 'node:stream';
import { HResult } from '../../../src/errdefs/index.js';
import {
  ComputeSystemNotificationV1,
  FrameDecoder,
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
  encodeFrame,
  hresultToWire,
  parseJsonBody,
  responseType,
  rpcProcOf,
  type Frame,
  type ProcessParameters,
} from '../../../src/gcs/protocol/index.js';
import type { FakeIoNetwork } from './fake-io.js';

export type Body = Record<string, unknown>;
/** Returns the response body, or undefined to hold the response (answer later with `respond`). */
export type Handler = (req: Body, frame: Frame) => Body | undefined;

export interface ReceivedRequest {
  proc: number;
  id: number;
  body: Body;
}

export interface FakeProcess {
  pid: number;
  containerId: string;
  params: ProcessParameters;
  stdin?: Duplex;
  stdout?: Duplex;
  stderr?: Duplex;
  exitCode?: number;
  waiters: number[];
}

export const err = (hresult: number, message: string): Body => ({
  Result: hresultToWire(hresult),
  ErrorMessage: message,
  ErrorRecords: [{ Result: hresultToWire(hresult), Message: message, ModuleName: 'gcs', Line: 4294967295 }],
});

export class FakeGuest {
  readonly requests: ReceivedRequest[] = [];
  readonly processes = new Map<number, FakeProcess>();
  readonly containers = new Set<string>();
  /** Version answered to a valid negotiation. */
  negotiatedVersion = 4;
  capabilities: Body = {
    SupportedSchemaVersions: [{ Major: 2, Minor: 1 }],
    RuntimeOsType: 'Linux',
    GuestDefinedCapabilities: { NamespaceAddRequestSupported: true, SignalProcessSupported: true, DumpStacksSupported: true, DeleteContainerStateSupported: true },
  };
  /** When false, ExecuteProcess does not dial the stdio ports. */
  dialStdio = true;
  /** Ports still listening on the host when each ExecuteProcess arrived. */
  readonly listeningAtExec: number[][] = [];
  private readonly handlers = new Map<number, Handler>();
  private readonly decoder = new FrameDecoder({ maxMessageSize: 1 << 20 });
  private nextPid = 100;

  constructor(private readonly conn: Duplex, private readonly net: FakeIoNetwork) {
    conn.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.decode(chunk)) this.onRequest(frame);
    });
    conn.on('error', () => undefined);
  }

  handle(proc: number, fn: Handler): void {
    this.handlers.set(proc, fn);
  }

  respond(id: number, proc: number, body: Body): void {
    if (!this.conn.destroyed) this.conn.write(encodeFrame(responseType(proc), id, body));
  }

  notify(containerId: string, type = 'GracefulExit'): void {
    this.conn.write(encodeFrame(ComputeSystemNotificationV1, 0, { ContainerId: containerId, ActivityId: '', Type: type, Operation: 'None', Result: 0 }));
  }

  /** Ends a process: its stdio writers close and every held WaitForProcess is answered. */
  exitProcess(pid: number, code: number): void {
    const p = this.processes.get(pid);
    if (!p || p.exitCode !== undefined) return;
    p.exitCode = code;
    p.stdout?.end();
    p.stderr?.end();
    for (const id of p.waiters.splice(0)) this.respond(id, RPCWaitForProcess, { Result: 0, ExitCode: code });
  }

  drop(): void {
    this.conn.destroy();
  }

  private onRequest(frame: Frame): void {
    const proc = rpcProcOf(frame.type);
    const body = parseJsonBody(frame.body);
    this.requests.push({ proc, id: frame.id, body });
    const handler = this.handlers.get(proc) ?? this.defaultHandler(proc);
    const resp = handler(body, frame);
    if (resp !== undefined) this.respond(frame.id, proc, resp);
  }

  private defaultHandler(proc: number): Handler {
    const ok = (): Body => ({ Result: 0 });
    switch (proc) {
      case RPCNegotiateProtocol:
        return (req) =>
          (req['MaximumVersion'] as number) < 4 || (req['MinimumVersion'] as number) > 4
            ? err(HResult.ErrVmcomputeUnsupportedProtocolVersion, 'unsupported version')
            : { Result: 0, Version: this.negotiatedVersion, Capabilities: this.capabilities };
      case RPCCreate:
        return (req) => (this.containers.add(req['ContainerId'] as string), { Result: 0, SelectedProtocolVersion: 0 });
      case RPCStart:
      case RPCModifySettings:
      case RPCResizeConsole:
      case RPCDeleteContainerState:
        return ok;
      case RPCShutdownGraceful:
      case RPCShutdownForced:
        // The notification may precede the response (the guest's shutdown race).
        return (req) => (this.notify(req['ContainerId'] as string, 'UnexpectedExit'), ok());
      case RPCExecuteProcess:
        return (req) => this.exec(req);
      case RPCWaitForProcess:
        return (req, frame) => {
          const p = this.processes.get(req['ProcessId'] as number);
          if (!p) return err(HResult.ErrElementNotFound, 'process not found');
          if (p.exitCode !== undefined) return { Result: 0, ExitCode: p.exitCode };
          p.waiters.push(frame.id);
          return undefined;
        };
      case RPCSignalProcess:
        return (req) => {
          const p = this.processes.get(req['ProcessId'] as number);
          if (!p || p.exitCode !== undefined) return err(HResult.ErrElementNotFound, 'process not found');
          const sig = ((req['Options'] as Body | undefined)?.['Signal'] as number | undefined) || 9;
          setImmediate(() => this.exitProcess(p.pid, 128 + sig));
          return ok();
        };
      case RPCGetProperties:
        return () => ({ Result: 0, Properties: JSON.stringify({ ProcessList: [...this.processes.keys()].map((pid) => ({ ProcessId: pid })) }) });
      case RPCDumpStacks:
        return () => ({ Result: 0, GuestStacks: 'goroutine 1 [running]' });
      default:
        return () => err(HResult.E_NOTIMPL, `unknown message type ${proc}`);
    }
  }

  private exec(req: Body): Body {
    const settings = req['Settings'] as Body;
    const params = JSON.parse(settings['ProcessParameters'] as string) as ProcessParameters;
    const ports = (settings['VsockStdioRelaySettings'] ?? {}) as { StdIn?: number; StdOut?: number; StdErr?: number };
    this.listeningAtExec.push([...this.net.listeners.keys()]);
    const p: FakeProcess = { pid: this.nextPid++, containerId: req['ContainerId'] as string, params, waiters: [] };
    if (this.dialStdio) {
      if (ports.StdIn) p.stdin = this.net.dial(ports.StdIn);
      if (ports.StdOut) p.stdout = this.net.dial(ports.StdOut);
      if (ports.StdErr) p.stderr = this.net.dial(ports.StdErr);
    }
    // Behaviour: echo stdin to stdout (upper-cased), say hello on stderr.
    if (p.stdin && p.stdout) {
      const out = p.stdout;
      p.stdin.on('data', (d: Buffer) => out.write(d.toString().toUpperCase()));
      p.stdin.on('end', () => this.exitProcess(p.pid, 0));
    }
    p.stderr?.write('hello from stderr\n');
    this.processes.set(p.pid, p);
    return { Result: 0, ProcessId: p.pid };
  }
}
