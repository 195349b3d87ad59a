import type { Reclaimer, ReclaimResult } from './native-reclaim.js';

/**
 * When a long-lived process gives back the memory its start-up left behind: the first time it has been quiet
 * for `idleMs` (no request started or ended, none in flight; a long poll such as Wait does not count as in
 * flight) while its work is `due` (a container runs). Without it V8 gives its start-up heap back only when its
 * memory reducer runs (~8 s after the last full GC, if ever while the process is that quiet), and glibc never
 * trims the malloc heap. Once only: a reclaim also drops V8's warm state (optimized code, compiler zones), so
 * doing it after every burst would make the next burst pay again (measured: a daemon that reclaimed after each
 * Connect storm spent ~2× the CPU per call in the next); after the first, V8's own reducer does the rest.
 *
 *   Quiet ──activity──▶ Waiting ──idleMs without activity, not due──▶ Quiet
 *   Waiting ──activity──▶ Waiting                     (timer restarted; none while a request is in flight)
 *   Waiting ──idleMs without activity, due──▶ Done    (the reclaim ran, or the addon is unavailable)
 *   Quiet / Waiting / Done ──close──▶ Closed            (a pending timer cleared)
 *   Done and Closed ignore activity.
 *
 * | from \ to | Quiet            | Waiting  | Done            | Closed |
 * |-----------|------------------|----------|-----------------|--------|
 * | Quiet     | -                | activity | -               | close  |
 * | Waiting   | idle timer, !due | activity | idle timer, due | close  |
 * | Done      | -                | -        | -               | close  |
 * | Closed    | -                | -        | -               | -      |
 *
 * The addon is loaded at the reclaim, not at start; if it is unavailable that is reported once and the process
 * runs as before.
 */
export enum IdleState {
  Quiet = 'quiet',
  Waiting = 'waiting',
  Done = 'done',
  Closed = 'closed',
}

export interface Reclaimed {
  readonly rssBefore: number;
  readonly rssAfter: number;
  /** CPU time of the reclaim call (user + system), ms. */
  readonly cpuMs: number;
  readonly result: ReclaimResult;
}

export interface IdleTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface IdleReclaimOptions {
  readonly idleMs: number;
  /** Whether a reclaim is worth it now (the daemon: a process runs or a Sandbox API pod is up). */
  readonly due: () => boolean;
  readonly rss: () => number;
  /** Loads the addon (loadReclaimer); called once, at the reclaim. */
  readonly load: () => Reclaimer;
  readonly onReclaimed: (r: Reclaimed) => void;
  readonly onUnavailable: (reason: string) => void;
  readonly onError: (err: Error) => void;
  /** Unreferenced Node timers unless given (tests). */
  readonly timers?: IdleTimers;
}

const NODE_TIMERS: IdleTimers = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class IdleReclaim {
  private stateValue = IdleState.Quiet;
  private inFlight = 0;
  private timer: unknown;
  private readonly timers: IdleTimers;

  constructor(private readonly o: IdleReclaimOptions) {
    this.timers = o.timers ?? NODE_TIMERS;
  }

  get state(): IdleState {
    return this.stateValue;
  }

  /** Whether activity still matters (not Done or Closed): callers may skip reporting it otherwise. */
  get watching(): boolean {
    return !this.finished();
  }

  /** A request started; `longPoll` ones (Wait) are activity but not work in flight. */
  begin(longPoll = false): void {
    if (this.finished()) return;
    if (!longPoll) this.inFlight++;
    this.activity();
  }

  /** The request begun with the same `longPoll` ended (answered or failed). */
  end(longPoll = false): void {
    if (this.finished()) return;
    if (!longPoll && this.inFlight > 0) this.inFlight--;
    this.activity();
  }

  close(): void {
    this.stopTimer();
    this.stateValue = IdleState.Closed;
  }

  private finished(): boolean {
    return this.stateValue === IdleState.Done || this.stateValue === IdleState.Closed;
  }

  private activity(): void {
    this.stopTimer();
    this.stateValue = IdleState.Waiting;
    if (this.inFlight === 0) this.timer = this.timers.set(() => this.quiet(), this.o.idleMs);
  }

  private stopTimer(): void {
    if (this.timer === undefined) return;
    this.timers.clear(this.timer);
    this.timer = undefined;
  }

  private quiet(): void {
    this.timer = undefined;
    if (this.stateValue !== IdleState.Waiting) return;
    try {
      if (!this.o.due()) {
        this.stateValue = IdleState.Quiet;
        return;
      }
      this.stateValue = IdleState.Done;
      this.reclaim();
    } catch (err) {
      this.o.onError(err as Error);
    }
  }

  private reclaim(): void {
    const reclaimer = this.o.load();
    if (!reclaimer.available) {
      this.o.onUnavailable(reclaimer.reason);
      return;
    }
    const rssBefore = this.o.rss();
    const cpu = process.cpuUsage();
    const result = reclaimer.reclaim();
    const used = process.cpuUsage(cpu);
    this.o.onReclaimed({ rssBefore, rssAfter: this.o.rss(), cpuMs: (used.user + used.system) / 1000, result });
  }
}
