/**
 * FakeGuestProcess: a guest process whose exit the test controls. `exit(code)` resolves wait();
 * `loseGuest()` rejects it (the guest is gone). Signals and resizes are recorded.
 */
import type { Readable, Writable } from 'node:stream';
import type { GuestProcess } from '../../src/sandbox/index.js';

export interface FakeGuestProcessOptions {
  readonly stdin?: Writable;
  readonly stdout?: Readable;
  readonly stderr?: Readable;
  /** Makes signal() reject with this error (after recording the signal). */
  readonly signalError?: Error;
  /** signal() resolves false: the guest reports the process gone (not delivered). */
  readonly signalNotDelivered?: boolean;
}

export class FakeGuestProcess implements GuestProcess {
  readonly signals: number[] = [];
  readonly resizes: Array<{ width: number; height: number }> = [];
  readonly stdin?: Writable;
  readonly stdout?: Readable;
  readonly stderr?: Readable;
  private settled = false;
  private resolveWait!: (code: number) => void;
  private rejectWait!: (err: Error) => void;
  private readonly waited: Promise<number>;

  constructor(
    readonly pid: number,
    private readonly opts: FakeGuestProcessOptions = {},
  ) {
    if (opts.stdin) this.stdin = opts.stdin;
    if (opts.stdout) this.stdout = opts.stdout;
    if (opts.stderr) this.stderr = opts.stderr;
    this.waited = new Promise<number>((resolve, reject) => {
      this.resolveWait = resolve;
      this.rejectWait = reject;
    });
    // A test that never calls wait() must not see an unhandled rejection from loseGuest().
    this.waited.catch(() => undefined);
  }

  /** True once exit() or loseGuest() was called. */
  get hasExited(): boolean {
    return this.settled;
  }

  /** The guest reports the exit with `code`. */
  exit(code: number): void {
    if (this.settled) throw new Error(`fake process ${this.pid} already exited`);
    this.settled = true;
    this.resolveWait(code);
  }

  /** The guest connection dies: wait() rejects. */
  loseGuest(err = new Error('guest connection closed')): void {
    if (this.settled) throw new Error(`fake process ${this.pid} already exited`);
    this.settled = true;
    this.rejectWait(err);
  }

  wait(): Promise<number> {
    return this.waited;
  }

  async signal(signal: number): Promise<boolean> {
    this.signals.push(signal);
    if (this.opts.signalError) throw this.opts.signalError;
    return this.opts.signalNotDelivered !== true;
  }

  async resize(width: number, height: number): Promise<void> {
    this.resizes.push({ width, height });
  }

  /** How many times the exec released the stdio connections. */
  closed = 0;

  close(): void {
    this.closed++;
  }
}
