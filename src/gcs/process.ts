/**
 * A process in the guest (a container's init or exec, or a process in the UVM itself), as returned by
 * ExecuteProcess. Its exit status (the wire's ExitCode) comes from the WaitForProcess long poll issued right after
 * the pid arrived (infinite timeout, no bridge timeout, not cancellable).
 *
 * Stdio connection lifecycle (rule of the host, see PROTOCOL.md "Stdio close handshake"):
 *   stdout/stderr  the guest half-closes after the last byte, then waits for the host to CLOSE the connection
 *                  before the process counts as exited (WaitForProcess, container notification). So each is
 *                  destroyed here as soon as its reader consumed the EOF ('end'), whoever the reader is.
 *   stdin          half-closed by closeStdin() (the guest sees EOF); destroyed by close().
 *   all            close() destroys whatever is left; the owner calls it once the process is done.
 */
import type { Duplex } from 'node:stream';
import { handledElsewhere } from '../async/index.js';
import { ErrorCode, invalidArgument, isErrorCode } from '../errdefs/index.js';
import type { Bridge } from './bridge.js';
import {
  NullActivityID,
  RPCResizeConsole,
  RPCSignalProcess,
  type ContainerResizeConsole,
  type ContainerSignalProcess,
  type ContainerWaitForProcessResponse,
} from './protocol/index.js';
import type { StdioStreams } from './stdio.js';

/** SIGKILL; also what the guest uses for a SignalProcess without Options or with Signal 0. */
export const SIGKILL = 9;
/** SIGTERM: the polite stop (the shim's Kill without SignalProcessSupported turns it into SIGKILL). */
export const SIGTERM = 15;

export class Process {
  readonly containerId: string;
  readonly pid: number;
  /** Present iff CreateStdInPipe was requested. Write to it; closeStdin() half-closes it (EOF in the guest). */
  readonly stdin: Duplex | undefined;
  /** Present iff CreateStdOutPipe was requested. */
  readonly stdout: Duplex | undefined;
  /** Present iff CreateStdErrPipe was requested. */
  readonly stderr: Duplex | undefined;
  private readonly bridge: Bridge;
  private readonly exit: Promise<number>;

  /** @internal created by executeProcess with the pending WaitForProcess. */
  constructor(bridge: Bridge, containerId: string, pid: number, stdio: StdioStreams, exit: Promise<ContainerWaitForProcessResponse>) {
    this.bridge = bridge;
    this.containerId = containerId;
    this.pid = pid;
    this.stdin = stdio.stdin;
    this.stdout = stdio.stdout;
    this.stderr = stdio.stderr;
    for (const out of [this.stdout, this.stderr]) {
      // A stream with no data can reach its end before anyone reads (net emits 'end' on an empty EOF).
      if (out?.readableEnded) out.destroy();
      else out?.once('end', () => out.destroy());
    }
    this.exit = exit.then((r) => (typeof r.ExitCode === 'number' ? r.ExitCode >>> 0 : 255));
    handledElsewhere(this.exit); // observed through wait()
  }

  /**
   * Resolves with the exit status (128 + n for a process killed by signal n). Rejects with
   * GcsBridgeClosedError if the bridge dies first, or GcsRpcError if the guest fails the wait.
   */
  wait(): Promise<number> {
    return this.exit;
  }

  /**
   * Sends `signal` (default SIGKILL). Resolves true when delivered, false when the guest reports the process
   * gone (HRESULT 0x80070490); other failures reject.
   */
  async signal(signal: number = SIGKILL): Promise<boolean> {
    if (!Number.isInteger(signal) || signal < 0 || signal > 64) throw invalidArgument(`gcs: invalid signal ${signal}`);
    const req: ContainerSignalProcess = { ...this.base(), ProcessId: this.pid, Options: { Signal: signal } };
    try {
      await this.bridge.rpc(RPCSignalProcess, req);
      return true;
    } catch (err) {
      if (isErrorCode(err, ErrorCode.NotFound)) return false;
      throw err;
    }
  }

  /** SIGKILL. */
  kill(): Promise<boolean> {
    return this.signal(SIGKILL);
  }

  /** Resizes the process's console (width and height in characters, u16 each). Cancellable. */
  async resize(width: number, height: number, opts: { signal?: AbortSignal } = {}): Promise<void> {
    for (const [name, v] of [['width', width], ['height', height]] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw invalidArgument(`gcs: console ${name} ${v} is not a u16`);
    }
    const req: ContainerResizeConsole = { ...this.base(), ProcessId: this.pid, Height: height, Width: width };
    await this.bridge.rpc(RPCResizeConsole, req, { signal: opts.signal, allowCancel: true });
  }

  /** Half-closes stdin (the guest sees EOF); resolves once written out. No-op without stdin. Idempotent. */
  closeStdin(): Promise<void> {
    const stdin = this.stdin;
    if (!stdin || stdin.writableFinished || stdin.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      stdin.once('error', () => resolve());
      stdin.end(() => resolve());
    });
  }

  /** Destroys the stdio connections (the process itself keeps running). Idempotent. */
  close(): void {
    for (const s of [this.stdin, this.stdout, this.stderr]) s?.destroy();
  }

  private base(): { ContainerId: string; ActivityId: string } {
    return { ContainerId: this.containerId, ActivityId: NullActivityID };
  }
}
