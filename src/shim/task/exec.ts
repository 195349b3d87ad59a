import { notFound } from '../../errdefs/index.js';
import { Field, logTeardown, type Logger } from '../../log/index.js';
import type { PlatformTransport } from '../../transport/index.js';
import { openUpstreamIO, relayStdio, type UpstreamIO } from '../stdio/index.js';
import { settlesWithin, whenSettled } from '../../async/index.js';
import type { GuestContainer, GuestProcess } from '../../sandbox/index.js';
import { ExecState, UNEXITED_STATUS, canTransition, guard, toContainerdStatus } from './exec-state.js';
import { lcowSignal } from './signals.js';
import type { ExitInfo, ProcessState, StdioPaths } from './types.js';

/** How long output may still drain after the guest reported the exit (hcsshim: CopyAfterExitTimeout). */
export const COPY_AFTER_EXIT_MS = 1000;

export interface ExecInit {
  readonly containerId: string;
  /** "" for the task's init process. */
  readonly execId: string;
  readonly bundle: string;
  readonly stdio: StdioPaths;
  /** The OCI Process for execs; undefined for the init (the guest runs the container spec's process). */
  readonly spec?: Record<string, unknown>;
  readonly namespace: string;
  readonly log: Logger;
  /** The platform's transport (chosen once in entry.ts): opens the client's stdio endpoints. */
  readonly transport: PlatformTransport;
  /** runhcs io_retry_timeout_in_sec × 1000, when set (Windows pipe redial budget). */
  readonly ioRetryTimeoutMs?: number;
}

/**
 * One process of a task (see exec-state.ts for the state machine). Owns its upstream stdio and the relay
 * to the guest's per-stream connections; reports its exit through `exited`.
 */
export class Exec {
  private st = ExecState.Created;
  private pidValue = 0;
  private exitStatus = UNEXITED_STATUS;
  private exitedAtValue: Date | undefined;
  private guest: GuestProcess | undefined;
  /** Set while a start is in flight: a second Start is refused and Kill waits for it (hcsshim serialises them). */
  private starting: Promise<number> | undefined;
  private relay: { done: Promise<void> } | undefined;
  private resolveExited!: () => void;
  /** Resolves once the process has exited (status recorded, output drained, stdio closed). */
  readonly exited: Promise<void> = new Promise((r) => (this.resolveExited = r));
  private readonly log: Logger;

  private constructor(
    readonly init: ExecInit,
    private readonly upstream: UpstreamIO,
  ) {
    this.log = init.log.child({ [Field.ExecId]: init.execId || undefined });
  }

  /** Opens the client's stdio now, so a bad endpoint fails the Create/Exec call. */
  static async create(init: ExecInit): Promise<Exec> {
    const upstream = await openUpstreamIO(init.stdio, {
      containerId: init.containerId,
      namespace: init.namespace,
      log: init.log,
      transport: init.transport,
      ...(init.ioRetryTimeoutMs === undefined ? {} : { ioRetryTimeoutMs: init.ioRetryTimeoutMs }),
    });
    return new Exec(init, upstream);
  }

  get execId(): string {
    return this.init.execId;
  }
  get state(): ExecState {
    return this.st;
  }
  get pid(): number {
    return this.pidValue;
  }
  private get what(): string {
    return this.init.execId === '' ? `task ${this.init.containerId}` : `exec ${this.init.execId}`;
  }

  /** Runs the process in the guest; a failure leaves the exec Exited with status 1. */
  start(container: GuestContainer): Promise<number> {
    guard.start(this.starting ? ExecState.Running : this.st, this.what);
    const run = this.run(container);
    this.starting = run;
    return run.finally(() => {
      this.starting = undefined;
    });
  }

  private async run(container: GuestContainer): Promise<number> {
    let proc: GuestProcess;
    try {
      proc = await container.execute({
        ...(this.init.spec ? { oci: this.init.spec } : {}),
        stdin: this.upstream.stdin !== undefined,
        stdout: this.upstream.stdout !== undefined,
        stderr: this.upstream.stderr !== undefined,
        terminal: this.init.stdio.terminal,
      });
    } catch (err) {
      await this.finish(1);
      throw err;
    }
    this.guest = proc;
    this.pidValue = proc.pid;
    const relay = relayStdio(
      this.upstream,
      {
        ...(proc.stdin ? { stdin: proc.stdin } : {}),
        ...(proc.stdout ? { stdout: proc.stdout } : {}),
        ...(proc.stderr ? { stderr: proc.stderr } : {}),
      },
      { log: this.log },
    );
    this.relay = relay;
    this.transition(ExecState.Running);
    void this.watch(proc);
    return proc.pid;
  }

  private async watch(proc: GuestProcess): Promise<void> {
    let exitStatus: number;
    try {
      exitStatus = await proc.wait();
    } catch (err) {
      this.log.warn('lost the process: its guest is gone', { error: (err as Error).message });
      exitStatus = 1;
    }
    // No output lost at exit: wait for the copies to reach EOF, within a grace period.
    if (this.relay) await settlesWithin(this.relay.done, COPY_AFTER_EXIT_MS);
    await this.finish(exitStatus);
  }

  private async finish(exitStatus: number): Promise<void> {
    if (this.st === ExecState.Exited) return;
    this.exitStatus = exitStatus >>> 0;
    this.exitedAtValue = new Date();
    this.transition(ExecState.Exited);
    // The process is done: no stdio socket or client endpoint of it stays open (the host's ends of the guest's
    // connections, then containerd's FIFOs).
    this.guest?.close();
    await this.upstream.close().catch(logTeardown(this.log, 'closing the upstream stdio', { [Field.ProcessId]: this.pidValue }));
    this.log.debug('process exited', { [Field.ProcessId]: this.pidValue, exitStatus: this.exitStatus });
    this.resolveExited();
  }

  private transition(to: ExecState): void {
    if (!canTransition(this.st, to)) throw new Error(`${this.what}: invalid transition ${this.st} → ${to}`);
    this.st = to;
  }

  /**
   * Kill, as hcsshim's hcsExec.Kill: a created process exits with status 1; a running one gets the signal
   * (checked against what the guest supports, signals.ts); a signal the guest did not deliver (the process
   * is gone) is NotFound.
   */
  async kill(signal: number, signalsSupported: boolean): Promise<void> {
    if (this.starting) await whenSettled(this.starting); // start's caller gets its outcome
    guard.kill(this.st, this.what);
    if (this.st === ExecState.Created) {
      await this.finish(1);
      return;
    }
    const send = lcowSignal(signal, signalsSupported);
    const delivered = (await this.guest?.signal(send)) ?? false;
    if (!delivered) throw notFound(`exec: '${this.init.execId}' in task: '${this.init.containerId}' not found`);
  }

  /** Marks the process exited with `exitStatus` when the guest can no longer report it (VM gone, task deleted). */
  async forceExit(exitStatus: number): Promise<void> {
    if (this.starting) await whenSettled(this.starting); // start's caller gets its outcome
    await this.finish(exitStatus);
  }

  /** True once the process ran in the guest (it has a pid), so its exit is worth an event. */
  get ran(): boolean {
    return this.pidValue !== 0;
  }

  async resize(width: number, height: number): Promise<void> {
    guard.resize(this.st, this.init.stdio.terminal, this.what);
    if (this.st !== ExecState.Running) return;
    await this.guest?.resize(width, height);
  }

  /**
   * CloseIO (also before Start): every byte the client wrote is still delivered; the guest's stdin is
   * half-closed after the last one, once the client's writers are closed. Idempotent.
   */
  closeStdin(): void {
    void this.upstream.closeStdin();
  }

  async wait(): Promise<ExitInfo> {
    await this.exited;
    return this.exitInfo();
  }

  exitInfo(): ExitInfo {
    return { pid: this.pidValue, exitStatus: this.exitStatus, ...(this.exitedAtValue ? { exitedAt: this.exitedAtValue } : {}) };
  }

  snapshot(): ProcessState {
    return {
      id: this.init.containerId,
      execId: this.init.execId,
      bundle: this.init.bundle,
      status: toContainerdStatus(this.st),
      stdio: this.init.stdio,
      ...this.exitInfo(),
    };
  }
}
