import { whenSettled } from './when-settled.js';

/**
 * Waits for `p` at most `ms` milliseconds; resolves true when `p` settled first. The timer is cleared as
 * soon as the race is decided, so a settled wait never keeps the process alive.
 */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([whenSettled(p).then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
