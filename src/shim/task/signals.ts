import { failedPrecondition } from '../../errdefs/index.js';
import { SIGKILL, SIGTERM } from '../../sandbox/index.js';

/** Windows' CTRL_SHUTDOWN_EVENT, which runhcs also accepts for a Linux process (a plain kill). */
const CTRL_SHUTDOWN = 6;
/** The Linux signals the LCOW guest delivers (hcsshim's signal map: 1–31, no real-time signals). */
const MAX_LCOW_SIGNAL = 31;

/**
 * The signal to send to a running LCOW process, as hcsshim's signals.ValidateLCOW:
 * - the guest advertised SignalProcessSupported: any signal 1–31 is delivered as it is;
 * - it did not: only SIGTERM, SIGKILL and CTRL_SHUTDOWN are accepted, and each becomes a kill (SIGKILL),
 *   the only thing such a guest can do.
 * Anything else is FailedPrecondition ("signal N: invalid signal value"), as runhcs answers.
 */
export function lcowSignal(signal: number, signalsSupported: boolean): number {
  if (!signalsSupported) {
    if (signal === SIGKILL || signal === SIGTERM || signal === CTRL_SHUTDOWN) return SIGKILL;
  } else if (Number.isInteger(signal) && signal >= 1 && signal <= MAX_LCOW_SIGNAL) {
    return signal;
  }
  throw failedPrecondition(`signal ${signal}: invalid signal value`);
}
