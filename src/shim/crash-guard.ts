/**
 * "Nothing crashes the shim": an exception nobody caught, or a promise rejection nobody handled, is a
 * bug in one request or one background task, not a reason to drop every task of this shim (containerd
 * would then see the connection die and tear the containers down). The serve process logs such errors,
 * with their stacks, to the shim log and keeps serving.
 *
 * Fatal, on purpose (the process is then asked to exit through the normal exit path, which disposes of
 * the utility VM; containerd runs `delete` for whatever is left):
 * - a storm: more than STORM_LIMIT uncaught errors within STORM_WINDOW_MS means some loop keeps failing
 *   and the state can no longer be trusted;
 * - what Node itself cannot survive never reaches these handlers (heap exhaustion aborts, native
 *   faults); `delete`'s cleanup covers those.
 */
import type { Logger } from '../log/index.js';

export const STORM_LIMIT = 50;
export const STORM_WINDOW_MS = 10_000;

export interface CrashGuard {
  /** Removes the handlers (tests, or once the process is exiting for good). */
  uninstall(): void;
}

/** Installs the process-wide handlers; `onFatal` is called once, on a storm. */
export function installCrashGuard(log: Logger, onFatal: (reason: string) => void, now: () => number = Date.now): CrashGuard {
  const recent: number[] = [];
  let fatal = false;
  const record = (kind: string, err: unknown): void => {
    const e = err instanceof Error ? err : undefined;
    log.error(`shim: ${kind} (logged; the shim keeps running)`, {
      error: e?.message ?? String(err),
      ...(e?.stack === undefined ? {} : { stack: e.stack }),
      ...(e !== undefined && e.name !== 'Error' ? { type: e.name } : {}),
    });
    const t = now();
    recent.push(t);
    while (recent.length > 0 && (recent[0] ?? t) <= t - STORM_WINDOW_MS) recent.shift();
    if (!fatal && recent.length > STORM_LIMIT) {
      fatal = true;
      const reason = `more than ${STORM_LIMIT} uncaught errors within ${STORM_WINDOW_MS} ms`;
      log.error(`shim: ${reason}; exiting`, {});
      onFatal(reason);
    }
  };
  const onException = (err: unknown): void => record('uncaught exception', err);
  const onRejection = (reason: unknown): void => record('unhandled promise rejection', reason);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return {
    uninstall: () => {
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    },
  };
}
