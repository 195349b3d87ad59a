/** RecordingPublisher: an EventPublisher that keeps every event in publish order. */
import type { EventPublisher, TaskEvent, TaskEventType } from '../../src/shim/events/index.js';

export class RecordingPublisher implements EventPublisher {
  readonly events: TaskEvent[] = [];
  closed = false;
  private readonly waiters: Array<{ test: () => boolean; resolve: () => void }> = [];

  publish(event: TaskEvent): void {
    if (this.closed) return;
    this.events.push(event);
    for (const w of [...this.waiters]) {
      if (w.test()) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** The event types in order, with the exit events' ids (`exit:<id>`) to tell processes apart. */
  get sequence(): string[] {
    return this.events.map((e) => (e.type === 'exit' ? `exit:${e.id}` : e.type));
  }

  ofType<T extends TaskEventType>(type: T): Array<Extract<TaskEvent, { type: T }>> {
    return this.events.filter((e): e is Extract<TaskEvent, { type: T }> => e.type === type);
  }

  /** Resolves once `test()` holds after some publish (or at once). */
  until(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  /** Resolves once `count` events of `type` were published. */
  untilCount(type: TaskEventType, count = 1): Promise<void> {
    return this.until(() => this.ofType(type).length >= count);
  }
}
