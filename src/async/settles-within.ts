import { whenSettled } from './when-settled.js';

/**
 * Waits for `p` at most `ms` milliseconds, or until `signal` aborts; resolves true when `p` settled first
 * (fulfilled or rejected: its outcome stays `p`'s). The timer and the abort listener are removed as soon as the
 * race is decided, so a settled wait never keeps the process alive. The one timeout race of the project: use it
 * instead of a hand-made `Promise.race` with a `setTimeout`.
 */
export async function settlesWithin(p: Promise<unknown>, ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const cut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    onAbort = () => resolve(false);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([whenSettled(p).then(() => true), cut]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  }
}
