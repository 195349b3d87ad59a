import { whenSettled } from './when-settled.js';

/**
 * Runs async sections one at a time, in call order (hcsshim holds the UVM's lock around each device
 * operation; a task's Pause/Resume run one after another). Each caller gets its own section's outcome; the
 * next section only waits for it to settle.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = whenSettled(result);
    return result;
  }

  /** Settles (never rejects) once every section queued so far has settled. */
  settled(): Promise<void> {
    return this.tail;
  }
}
