import { errnoOf } from '../../errdefs/index.js';
import type { Logger } from '../../log/index.js';

/**
 * Sends `signal` to `target` (a pid, or a process group as -pgid). "No such process" (ESRCH) is the expected
 * outcome of a target that already exited: ignored. Any other failure (EPERM: not ours) is logged, never thrown:
 * the callers are stop and teardown paths that go on either way. True when the signal was sent (or the
 * target is already gone).
 */
export function signalProcess(target: number, signal: NodeJS.Signals, log: Logger): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch (err) {
    if (errnoOf(err) === 'ESRCH') return true;
    const error = err instanceof Error ? err.message : String(err);
    log.warn('HCS emulator: cannot signal a process', { target, signal, error });
    return false;
  }
}
