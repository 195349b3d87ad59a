/**
 * libuv threadpool sizing. Every blocking HCS wait (and, on Windows, every blocking hvsocket accept or
 * recv) made through koffi's `.async` occupies one libuv threadpool thread for as long as it blocks; the
 * pool is shared with fs, dns.lookup, crypto and zlib and has 4 threads by default.
 *
 * libuv reads UV_THREADPOOL_SIZE once, when the pool first starts (the first async fs/dns/crypto call of
 * the process). Node's process.env setter calls setenv, so setting it from JS works only if nothing has
 * used the pool yet. Therefore:
 * - `serve` calls ensureBackendThreadpool() (backend-factory.ts) before any I/O: it raises the pool only
 *   for the computecore backend, the only one that blocks pool threads (the emulator keeps libuv's 4); or
 * - the environment containerd starts the shim with may set UV_THREADPOOL_SIZE itself (a larger value
 *   already present is kept).
 * createHcsApi's computecore path also calls it, which is enough when nothing touched the pool before
 * (tests, tools).
 */

/** The budget: GCS bridge + log stream + 3 stdio channels per process + concurrent HCS waits. */
export const DEFAULT_THREADPOOL_SIZE = 32;

/** libuv's maximum. */
const MAX_THREADPOOL_SIZE = 1024;

/** Raises UV_THREADPOOL_SIZE to at least `min` (never lowers it). Returns the value now in effect. */
export function ensureThreadpoolSize(min: number = DEFAULT_THREADPOOL_SIZE, env: NodeJS.ProcessEnv = process.env): number {
  const want = Math.min(Math.max(1, Math.trunc(min)), MAX_THREADPOOL_SIZE);
  const current = Number.parseInt(env['UV_THREADPOOL_SIZE'] ?? '', 10);
  if (Number.isFinite(current) && current >= want) return current;
  env['UV_THREADPOOL_SIZE'] = String(want);
  return want;
}
