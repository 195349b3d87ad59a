import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Listener } from '../transport/index.js';
import { LinuxEntropyBytes } from './constants.js';

/** Accepts one connection and closes the listener either way (hcsshim's acceptAndClose). */
export async function acceptAndClose(listener: Listener, signal: AbortSignal): Promise<Duplex> {
  try {
    return await listener.accept(signal);
  } finally {
    await listener.close().catch(() => undefined);
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
 * A late rejection of `work` is swallowed.
 */
export async function raceAbort<T>(work: Promise<T>, signal: AbortSignal, onAbort: () => void): Promise<T> {
  work.catch(() => undefined);
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
