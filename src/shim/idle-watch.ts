import type { IdleReclaim } from '../reclaim/index.js';
import type { ServiceMethods, UnaryHandler } from '../ttrpc/index.js';

/**
 * The methods that stay unanswered for as long as a process lives (containerd's Wait, the Sandbox API's
 * WaitSandbox): activity when they arrive and end, but not work in flight, or a running container would keep
 * the daemon from ever being idle.
 */
export const LONG_POLLS: ReadonlySet<string> = new Set(['Wait', 'WaitSandbox']);

/**
 * `methods` with each call reported to the daemon's idle reclaim as it arrives and as it ends, while it is
 * watching; once it has reclaimed (or closed), a call costs one property read more than the bare handler.
 */
export function watchedMethods(methods: ServiceMethods, idle: IdleReclaim): Record<string, UnaryHandler> {
  const watched: Record<string, UnaryHandler> = {};
  for (const [name, handler] of Object.entries(methods)) {
    const longPoll = LONG_POLLS.has(name);
    const ended = (): void => idle.end(longPoll);
    watched[name] = (payload, ctx) => {
      if (!idle.watching) return handler(payload, ctx);
      idle.begin(longPoll);
      let answer: Promise<Uint8Array>;
      try {
        answer = handler(payload, ctx);
      } catch (err) {
        ended();
        throw err;
      }
      answer.then(ended, ended);
      return answer;
    };
  }
  return watched;
}
