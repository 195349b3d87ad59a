import type { LogFields, Logger } from './logger.js';

/**
 * A rejection handler for a teardown step (`.catch(logTeardown(log, 'closing the listener'))`): logs at warn
 * what failed and why, with `fields`, and resolves undefined so the rest of the teardown goes on (house rule:
 * teardown errors are logged, never swallowed).
 */
export function logTeardown(log: Logger, what: string, fields?: LogFields): (err: unknown) => undefined {
  return (err) => {
    log.warn(`teardown: ${what} failed`, { ...fields, error: err instanceof Error ? err.message : String(err) });
    return undefined;
  };
}
