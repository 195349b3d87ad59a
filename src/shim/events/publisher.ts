/**
 * The event publisher: one ordered queue, one forwarder loop (containerd's RemoteEventsPublisher, but
 * strictly ordered). publish() never blocks and never throws; delivery happens in the background.
 *
 * Per event, in publish order:
 *   forward ──ok──▶ next event
 *      │ fails (closed connection: re-dialed once inside the sink; timeout 5 s; refused; error status)
 *      ▼
 *   retry after retryDelayMs(attempt) (1 s × attempt), up to maxRetries (5) ──still failing──▶ drop + error log
 * An InvalidArgument answer (containerd rejected the envelope) is dropped at once: retrying cannot help.
 * A later event waits for the one before it (head-of-line), at most the retry budget (~15 s by default).
 *
 * States: open → closing (close(): no new events; the queue drains, bounded by closeTimeoutMs; what is left
 * after that is dropped with a warning) → closed (connection closed).
 */
import { settlesWithin } from '../../async/index.js';
import { ErrorCode, isErrorCode } from '../../errdefs/index.js';
import { Field } from '../../log/index.js';
import type { Logger } from '../../log/index.js';
import { encodeForwardRequest, encodeTaskEvent } from './encode-event.js';
import { TtrpcEventSink } from './event-sink.js';
import type { EventConnect, EventSink } from './event-sink.js';
import type { TaskEvent } from './task-event.js';

export interface EventPublisherOptions {
  /** containerd's TTRPC_ADDRESS. Empty: every event is logged at debug level and dropped. */
  readonly ttrpcAddress: string;
  /** The containerd namespace (Envelope.namespace and the containerd-namespace-ttrpc metadata). */
  readonly namespace: string;
  readonly log: Logger;
  /** Dials the address: connectTtrpc(the transport's dial), or a test's own. */
  readonly connect: EventConnect;
  /** Deadline of each Forward (and of each dial). Default 5000. */
  readonly forwardTimeoutMs?: number;
  /** Retries after the first failed attempt before the event is dropped. Default 5. */
  readonly maxRetries?: number;
  /** Delay before retry number `attempt` (1-based). Default 1000 × attempt. */
  readonly retryDelayMs?: (attempt: number) => number;
  /** How long close() waits for the queue to drain. Default 10000. */
  readonly closeTimeoutMs?: number;
  /** The clock for Envelope.timestamp (the time of publish). Default `new Date()`. */
  readonly now?: () => Date;
}

export interface EventPublisher {
  /** Queues an event (timestamped now). Never throws; failures are logged. Ignored after close(). */
  publish(event: TaskEvent): void;
  /** Stops accepting events, drains the queue (bounded), closes the connection. Idempotent. */
  close(): Promise<void>;
}

interface QueuedEvent {
  readonly topic: string;
  readonly containerId: string;
  readonly request: Uint8Array;
}

export function createEventPublisher(opts: EventPublisherOptions): EventPublisher {
  if (opts.ttrpcAddress === '') return new DroppingPublisher(opts.log);
  const timeoutMs = opts.forwardTimeoutMs ?? 5000;
  const sink = new TtrpcEventSink({
    address: opts.ttrpcAddress,
    namespace: opts.namespace,
    connect: opts.connect,
    timeoutMs,
    log: opts.log,
  });
  return new QueuedPublisher(opts, sink);
}

/** Without TTRPC_ADDRESS there is nobody to tell (e.g. the shim run by hand): log and drop. */
class DroppingPublisher implements EventPublisher {
  constructor(private readonly log: Logger) {}

  publish(event: TaskEvent): void {
    this.log.debug('events: no TTRPC_ADDRESS, dropping event', { type: event.type, [Field.ContainerId]: event.containerId });
  }

  async close(): Promise<void> {}
}

class QueuedPublisher implements EventPublisher {
  private readonly queue: QueuedEvent[] = [];
  private running: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** Aborted when close() gives up waiting: retry sleeps end and what is left is dropped. */
  private readonly abandon = new AbortController();
  private readonly log: Logger;
  private readonly maxRetries: number;
  private readonly retryDelayMs: (attempt: number) => number;
  private readonly now: () => Date;

  constructor(
    private readonly opts: EventPublisherOptions,
    private readonly sink: EventSink,
  ) {
    this.log = opts.log;
    this.maxRetries = opts.maxRetries ?? 5;
    this.retryDelayMs = opts.retryDelayMs ?? ((attempt) => 1000 * attempt);
    this.now = opts.now ?? (() => new Date());
  }

  publish(event: TaskEvent): void {
    try {
      if (this.closing !== undefined) {
        this.log.warn('events: publisher closed, dropping event', { type: event.type, [Field.ContainerId]: event.containerId });
        return;
      }
      const encoded = encodeTaskEvent(event);
      const request = encodeForwardRequest(encoded, this.opts.namespace, this.now());
      this.queue.push({ topic: encoded.topic, containerId: event.containerId, request });
      this.running ??= this.run();
    } catch (err) {
      this.log.error('events: cannot encode event, dropping it', { type: (event as { type?: unknown } | undefined)?.type, error: String(err) });
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const drained = this.running ?? Promise.resolve();
    if (!(await settlesWithin(drained, this.opts.closeTimeoutMs ?? 10000))) {
      this.log.warn('events: close timed out, dropping undelivered events', { count: this.queue.length + 1 });
      this.queue.length = 0;
      this.abandon.abort();
    }
    await this.sink.close();
    await drained;
  }

  /** The forwarder loop: one event at a time, in order. Ends (and clears `running`) when the queue is empty. */
  private async run(): Promise<void> {
    for (;;) {
      const item = this.queue.shift();
      if (item === undefined) {
        this.running = undefined;
        return;
      }
      await this.deliver(item);
    }
  }

  private async deliver(item: QueuedEvent): Promise<void> {
    const fields = { topic: item.topic, [Field.ContainerId]: item.containerId };
    for (let attempt = 0; ; attempt++) {
      if (this.abandon.signal.aborted) return;
      try {
        await this.sink.forward(item.request);
        if (attempt > 0) this.log.info('events: event forwarded after retry', { ...fields, attempt });
        return;
      } catch (err) {
        if (this.abandon.signal.aborted) return;
        if (isErrorCode(err, ErrorCode.InvalidArgument) || attempt >= this.maxRetries) {
          this.log.error('events: dropping event that could not be forwarded', { ...fields, attempts: attempt + 1, error: String(err) });
          return;
        }
        this.log.warn('events: forward failed, will retry', { ...fields, attempt: attempt + 1, error: String(err) });
        await sleep(this.retryDelayMs(attempt + 1), this.abandon.signal);
      }
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener('abort', done, { once: true });
  });
}
