/**
 * The redial schedule for stdout/stderr named pipes (hcs-and-uvm.md §8.6): exponential, starting at
 * 200 ms, doubling, each wait capped at 1 minute, until the total wait would pass the retry budget
 * (io_retry_timeout_in_sec; 0 = retry forever). Pure: the caller sleeps.
 */
import { invalidArgument } from '../errdefs/index.js';

export interface BackoffOptions {
  /** First wait. Default 200 ms. */
  readonly initialMs?: number;
  /** Longest single wait. Default 60 000 ms. */
  readonly maxMs?: number;
  /** Total budget; 0 (the default) means no limit. */
  readonly totalMs?: number;
  /** Growth factor. Default 2. */
  readonly multiplier?: number;
}

export const DEFAULT_BACKOFF = { initialMs: 200, maxMs: 60_000, totalMs: 0, multiplier: 2 } as const;

/**
 * The waits, in order. With a budget, the last wait is shortened so the waits add up to exactly the
 * budget (the final attempt happens when the budget runs out); without one the sequence is endless.
 */
export function* backoffDelays(opts: BackoffOptions = {}): Generator<number, void, void> {
  const initial = opts.initialMs ?? DEFAULT_BACKOFF.initialMs;
  const max = opts.maxMs ?? DEFAULT_BACKOFF.maxMs;
  const total = opts.totalMs ?? DEFAULT_BACKOFF.totalMs;
  const mult = opts.multiplier ?? DEFAULT_BACKOFF.multiplier;
  for (const [k, v] of Object.entries({ initialMs: initial, maxMs: max, totalMs: total })) {
    if (!Number.isFinite(v) || v < 0) throw invalidArgument(`backoff ${k} must be a finite number >= 0, got ${v}`);
  }
  if (initial <= 0) throw invalidArgument(`backoff initialMs must be > 0, got ${initial}`);
  if (!(mult >= 1)) throw invalidArgument(`backoff multiplier must be >= 1, got ${mult}`);
  let next = Math.min(initial, max);
  let spent = 0;
  for (;;) {
    if (total > 0) {
      if (spent >= total) return;
      next = Math.min(next, total - spent);
    }
    yield next;
    spent += next;
    next = Math.min(next * mult, max);
  }
}

/** io_retry_timeout_in_sec → the budget in ms (negative or non-finite values are rejected). */
export function ioRetryBudgetMs(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds < 0) throw invalidArgument(`io_retry_timeout_in_sec must be >= 0, got ${seconds}`);
  return Math.trunc(seconds) * 1000;
}
