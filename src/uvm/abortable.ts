import type { Duplex } from 'node:stream';
import { handledElsewhere } from '../async/index.js';
import { LinuxEntropyBytes } from '../gcs/protocol/index.js';
import { logTeardown, type Logger } from '../log/index.js';
import { randomBytes } from '../random/index.js';
import type { Listener } from '../transport/index.js';

/** Accepts one connection and closes the listener either way (hcsshim's acceptAndClose). */
export async function acceptAndClose(listener: Listener, signal: AbortSignal, log: Logger): Promise<Duplex> {
  try {
    return await listener.accept(signal);
  } finally {
    await listener.close().catch(logTeardown(log, 'closing a hvsocket listener after its accept', { address: listener.address }));
  }
}

/** Rejects with the signal's reason once it aborts (never resolves otherwise). */
export function whenAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/**
 * Races `work` against the signal; on abort calls `onAbort` (e.g. destroy the connection) and rejects.
 * A late rejection of `work`, after the abort, is moot: the caller already has the abort's reason.
 */
export async function raceAbort<T>(work: Promise<T>, signal: AbortSignal, onAbort: () => void): Promise<T> {
  handledElsewhere(work); // observed by the race below (or moot after an abort, see above)
  try {
    return await Promise.race([work, whenAborted(signal)]);
  } catch (err) {
    if (signal.aborted) onAbort();
    throw err;
  }
}

/** Writes 512 random bytes to the guest's init (entropy port) and closes the connection. */
export async function sendEntropy(conn: Duplex, signal: AbortSignal): Promise<void> {
  const done = new Promise<void>((resolve, reject) => {
    conn.once('error', reject);
    conn.end(randomBytes(LinuxEntropyBytes), () => resolve());
  });
  try {
    await raceAbort(done, signal, () => undefined);
  } finally {
    conn.destroy();
  }
}
