/**
 * A call's abort switch whose AbortController (an EventTarget, costly to make) is created only when a
 * handler reads the signal: most handlers never do, and one controller per call was ~10% of a busy
 * server's time. Aborting before anyone looked is remembered: the signal made later is already aborted,
 * with the same reason.
 */
export class LazyAbort {
  private controller: AbortController | undefined;
  private aborted = false;
  private reason: unknown;

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}
