import type { Writable } from 'node:stream';

/**
 * Frames written in one tick leave together: the first write of a tick corks the stream and a nextTick
 * uncorks it, so N responses finished by one batch of promise callbacks go out as one writev instead of N
 * writes (what a client with many calls in flight sees). A single write costs one extra nextTick. end()
 * flushes a corked stream; destroy() drops what was not flushed, as it drops what the kernel did not take.
 */
export class TickWriter {
  private corked = false;

  constructor(private readonly stream: Writable) {}

  /** Queues `frame`; returns write()'s answer (false: the stream's buffer is over its high-water mark). */
  write(frame: Uint8Array): boolean {
    if (!this.corked) {
      this.corked = true;
      this.stream.cork();
      process.nextTick(() => {
        this.corked = false;
        this.stream.uncork();
      });
    }
    return this.stream.write(frame);
  }
}
