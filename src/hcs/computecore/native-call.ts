import type { NativeFn } from '../../transport/index.js';

/**
 * Runs a bound export through koffi's `.async`, i.e. on a libuv threadpool thread, so a blocking HCS
 * call never stalls the event loop and a call that drains foreign-thread callbacks cannot deadlock
 * against the main thread (hvsocket-and-koffi.md §4, §5). Out-parameters are written back before the
 * promise settles.
 */
export function callAsync(fn: NativeFn, ...args: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (err: unknown, result: unknown) => (err ? reject(err) : resolve(result)));
  });
}

/** An int32 HRESULT from koffi as a signed number; `< 0` is failure. */
export const asHresult = (v: unknown): number => (typeof v === 'number' ? v | 0 : 0);
