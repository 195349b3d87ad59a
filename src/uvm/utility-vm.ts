import type { Duplex } from 'node:stream';
import { ErrorCode, ShimError, formatHresult, invalidArgument } from '../errdefs/index.js';
import type { HcsSystem, ModifySettingRequest, SystemExit } from '../hcs/index.js';
import { handledElsewhere, settlesWithin, whenSettled } from '../async/index.js';
import type { Logger } from '../log/index.js';
import { vsockServiceId, type Connection, type Listener, type Transport } from '../transport/index.js';
import { acceptAndClose, raceAbort, sendEntropy } from './abortable.js';
import type { OptionsLCOW, OutputHandler } from './options.js';
import { UvmState, assertUvmState } from './state.js';
import { gcsConnectionTimeoutMs } from './timeout.js';

/** Everything createLCOW hands to a new UtilityVM. */
export interface UtilityVMInit {
  readonly options: Readonly<OptionsLCOW>;
  readonly runtimeId: string;
  readonly processorCount: number;
  readonly memorySizeInMB: number;
  readonly system: HcsSystem;
  readonly transport: Transport;
  readonly log: Logger;
  readonly entropyListener: Listener;
  readonly outputListener?: Listener;
  readonly gcsListener?: Listener;
  readonly outputHandler: OutputHandler;
  readonly networkConfigProxy?: Connection;
}

export interface StartOptions<T> {
  /** Budget for the whole start; default HCSSHIM_TIMEOUT_GCSCONNECTION seconds, else 2 minutes. */
  timeoutMs?: number;
  /**
   * Receives the GCS connection (external guest connection only) and runs the handshake; its result is
   * start's result. It MUST honour `signal` (the same deadline); start also destroys `conn` when it fires.
   */
  onGcsConnection?: (conn: Duplex, signal: AbortSignal) => Promise<T>;
  /** Cancels the start (Canceled). */
  signal?: AbortSignal;
}

/** How long close() waits for the output handler once the VM is gone before cutting its connection. */
const OUTPUT_DRAIN_MS = 5000;

/**
 * A created Linux utility VM (hcsshim's UtilityVM, LCOW parts). Owns the HCS system handle and the
 * vsock listeners bound to the VM's runtime id; the GCS connection itself belongs to whoever start()
 * handed it to. See state.ts for the state machine.
 */
export class UtilityVM {
  readonly id: string;
  readonly owner: string;
  /** The Hyper-V VM GUID; hvsocket addresses of the guest use it as VmId. */
  readonly runtimeId: string;
  readonly processorCount: number;
  readonly memorySizeInMB: number;
  readonly options: Readonly<OptionsLCOW>;
  /** Connection to the ncproxy service when NetworkConfigProxy was set (the shim builds its client). */
  readonly networkConfigProxy?: Connection;

  private stateValue = UvmState.Created;
  private readonly system: HcsSystem;
  private readonly transport: Transport;
  private readonly log: Logger;
  private readonly outputHandler: OutputHandler;
  private readonly listeners = new Set<Listener>();
  private entropyListener?: Listener;
  private outputListener?: Listener;
  private gcsListener?: Listener;
  private outputConn?: Duplex;
  private outputDone?: Promise<void>;
  private exitValue?: SystemExit;
  /** Aborted when the VM exits (fails pending accepts) and when close() begins. */
  private readonly exited = new AbortController();
  private readonly closing = new AbortController();
  private startRun?: Promise<unknown>;
  private closeRun?: Promise<void>;

  constructor(init: UtilityVMInit) {
    this.id = init.options.ID;
    this.owner = init.options.Owner;
    this.options = init.options;
    this.runtimeId = init.runtimeId;
    this.processorCount = init.processorCount;
    this.memorySizeInMB = init.memorySizeInMB;
    this.system = init.system;
    this.transport = init.transport;
    this.log = init.log;
    this.outputHandler = init.outputHandler;
    this.networkConfigProxy = init.networkConfigProxy;
    this.entropyListener = init.entropyListener;
    this.outputListener = init.outputListener;
    this.gcsListener = init.gcsListener;
    for (const l of [init.entropyListener, init.outputListener, init.gcsListener]) if (l) this.listeners.add(l);
    // Exit watcher: records the exit and fails whatever start() is waiting for.
    this.system.waitExit().then(
      (exit) => this.onExit(exit),
      (err: unknown) => this.onExit({ hresult: 0, unexpected: true, data: String(err) }),
    );
  }

  get state(): UvmState {
    return this.stateValue;
  }

  /** How the VM exited, once it has. */
  get exit(): SystemExit | undefined {
    return this.exitValue;
  }

  private onExit(exit: SystemExit): void {
    this.exitValue = exit;
    const reason = new ShimError(ErrorCode.Unavailable, `utility VM ${this.id} exited (hresult ${formatHresult(exit.hresult)})`);
    this.exited.abort(reason);
    if (this.stateValue !== UvmState.Closed) this.stateValue = UvmState.Stopped;
    this.log.info('utility VM exited', { hresult: exit.hresult, unexpected: exit.unexpected });
  }

  /**
   * Boots the VM (hcsshim's Start), all under one deadline: accept the entropy connection and send 512
   * random bytes, accept the log connection and run the output handler, start the compute system,
   * accept the GCS connection and hand it to `onGcsConnection`. On any failure the VM is terminated and
   * waited for, and start rejects: DeadlineExceeded (deadline), Unavailable (the VM exited), Canceled
   * (signal or close), or the underlying error.
   */
  async start<T>(opts: StartOptions<T> = {}): Promise<T | undefined> {
    assertUvmState(this.id, this.stateValue, [UvmState.Created], 'start');
    if (this.gcsListener !== undefined && opts.onGcsConnection === undefined) {
      throw invalidArgument(`utility VM ${this.id}: start needs onGcsConnection (the shim owns the GCS bridge)`);
    }
    this.stateValue = UvmState.Starting;
    const run = this.runStart(opts);
    this.startRun = whenSettled(run); // close() waits for it; the outcome is start's caller's
    return run;
  }

  private async runStart<T>(opts: StartOptions<T>): Promise<T | undefined> {
    const timeoutMs = opts.timeoutMs ?? gcsConnectionTimeoutMs();
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new ShimError(ErrorCode.DeadlineExceeded, 'deadline')), timeoutMs);
    const group = new AbortController(); // errgroup: the first failure cancels the rest
    const signals = [deadline.signal, this.exited.signal, this.closing.signal, group.signal];
    if (opts.signal) signals.push(opts.signal);
    const signal = AbortSignal.any(signals);
    const pending = new Set<string>();
    const step = async <R>(what: string, work: () => Promise<R>): Promise<R> => {
      pending.add(what);
      try {
        const r = await work();
        pending.delete(what); // on failure it stays: the error message names what was still pending
        return r;
      } catch (err) {
        group.abort(err);
        throw err;
      }
    };
    try {
      const boot = Promise.all([
        step('entropy connection', () => this.injectEntropy(signal)),
        step('log connection', () => this.connectOutput(signal)),
      ]);
      handledElsewhere(boot); // awaited below, after the system start
      await step('compute system start', () => raceAbort(this.system.start({ signal }), signal, () => undefined));
      await boot;
      let result: T | undefined;
      const gcs = this.gcsListener;
      const onGcs = opts.onGcsConnection;
      if (gcs !== undefined && onGcs !== undefined) {
        const conn = await step('GCS connection', () => this.acceptFrom(gcs, signal));
        this.gcsListener = undefined;
        result = await step('GCS handshake', () => raceAbort(onGcs(conn, signal), signal, () => conn.destroy()));
      }
      if (this.stateValue !== UvmState.Starting) throw this.exited.signal.reason;
      this.stateValue = UvmState.Running;
      return result;
    } catch (err) {
      const failure = this.startFailure(err, { deadline: deadline.signal, caller: opts.signal, timeoutMs, pending });
      group.abort(failure);
      this.log.error('utility VM start failed', { error: failure.message });
      await this.terminateAndWait();
      if (this.stateValue !== UvmState.Closed) this.stateValue = UvmState.Stopped;
      throw failure;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Maps why start failed to one error; checked before the VM is terminated by us. */
  private startFailure(
    err: unknown,
    ctx: { deadline: AbortSignal; caller?: AbortSignal; timeoutMs: number; pending: Set<string> },
  ): ShimError {
    const waiting = ctx.pending.size > 0 ? ` (waiting for ${[...ctx.pending].join(', ')})` : '';
    if (this.exited.signal.aborted) {
      const hr = this.exitValue?.hresult ?? 0;
      return new ShimError(ErrorCode.Unavailable, `utility VM ${this.id} exited during start${waiting} (hresult ${formatHresult(hr)})`, { cause: err });
    }
    if (ctx.deadline.aborted) {
      return new ShimError(ErrorCode.DeadlineExceeded, `timed out after ${ctx.timeoutMs} ms starting utility VM ${this.id}${waiting}`, { cause: err });
    }
    if (this.closing.signal.aborted) return new ShimError(ErrorCode.Canceled, `utility VM ${this.id} closed during start${waiting}`, { cause: err });
    if (ctx.caller?.aborted) return new ShimError(ErrorCode.Canceled, `start of utility VM ${this.id} canceled${waiting}`, { cause: err });
    return ShimError.from(err, ErrorCode.Unknown, `failed to start utility VM ${this.id}${waiting}`);
  }

  private async acceptFrom(listener: Listener, signal: AbortSignal): Promise<Duplex> {
    try {
      return await acceptAndClose(listener, signal, this.log);
    } finally {
      this.listeners.delete(listener);
    }
  }

  private async injectEntropy(signal: AbortSignal): Promise<void> {
    const listener = this.entropyListener;
    if (listener === undefined) return;
    this.entropyListener = undefined;
    await sendEntropy(await this.acceptFrom(listener, signal), signal);
  }

  private async connectOutput(signal: AbortSignal): Promise<void> {
    const listener = this.outputListener;
    if (listener === undefined) return;
    this.outputListener = undefined;
    const conn = await this.acceptFrom(listener, signal);
    this.outputConn = conn;
    // The handler runs until the guest closes the stream; close() waits for it.
    this.outputDone = this.outputHandler(conn).catch((err: unknown) => {
      this.log.warn('utility VM output handler failed', { error: err });
    });
  }

  /** Listens for the guest on vsock `port` (process stdio uses ports from 0x40000001). Caller owns it. */
  async listenVsock(port: number): Promise<Listener> {
    assertUvmState(this.id, this.stateValue, [UvmState.Created, UvmState.Starting, UvmState.Running], 'listen on vsock');
    return this.transport.listenHvSocket({ vmId: this.runtimeId, serviceId: vsockServiceId(port) });
  }

  /**
   * Host-side modify (SCSI, VPMem, Plan9 adds and removes). The guest half travels over the GCS bridge,
   * so a request with GuestRequest set is rejected (InvalidArgument).
   */
  async modify(request: ModifySettingRequest): Promise<void> {
    assertUvmState(this.id, this.stateValue, [UvmState.Created, UvmState.Running], 'modify');
    if (request.GuestRequest !== undefined) {
      throw invalidArgument(`utility VM ${this.id}: modify ${request.ResourcePath ?? ''} has a GuestRequest; send it over the GCS bridge`);
    }
    await this.system.modify(request);
  }

  /** Resolves when the VM has exited (in any state). */
  waitExit(): Promise<SystemExit> {
    return this.system.waitExit();
  }

  /** Terminates the VM (if still running) and waits for its exit; errors are logged, not thrown. */
  private async terminateAndWait(): Promise<void> {
    if (this.exitValue !== undefined) return;
    try {
      await this.system.terminate();
    } catch (err) {
      this.log.warn('failed to terminate utility VM', { error: err });
      return; // waiting could hang forever
    }
    await this.system.waitExit();
  }

  /**
   * Tears down in order: cancel a start in flight, terminate and wait, close the listeners, wait for
   * the output handler, close the ncproxy connection and the HCS handle. Idempotent.
   */
  close(): Promise<void> {
    this.closeRun ??= this.runClose();
    return this.closeRun;
  }

  private async runClose(): Promise<void> {
    this.closing.abort(new ShimError(ErrorCode.Canceled, `utility VM ${this.id} closed`));
    if (this.startRun !== undefined) await this.startRun;
    await this.terminateAndWait();
    const warnClose = (l: Listener) => (e: unknown) => this.log.warn('closing a hvsocket listener failed', { address: l.address, error: e });
    await Promise.all([...this.listeners].map((l) => l.close().catch(warnClose(l))));
    this.listeners.clear();
    if (this.outputDone !== undefined) {
      if (!(await settlesWithin(this.outputDone, OUTPUT_DRAIN_MS))) {
        this.log.warn('utility VM output did not end after the VM stopped; closing it');
        this.outputConn?.destroy();
      }
      await this.outputDone;
    }
    this.networkConfigProxy?.destroy();
    await this.system.close();
    this.stateValue = UvmState.Closed;
  }
}
