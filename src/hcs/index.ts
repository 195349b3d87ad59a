/**
 * hcs: the Host Compute Service as the shim sees it. The HcsApi interface (hcs-api.ts), the schema2
 * documents and their Go-compatible encoder (schema/), HcsError with HRESULT predicates (errors.ts), and
 * the backend factory (createHcsApi): computecore.dll through koffi on Windows, the emulator on Linux.
 * Layer boundaries: imports only src/errdefs and src/log; used by src/uvm (and src/shim for the factory).
 * Only this module's computecore/ffi.ts imports koffi; nothing here imports src/proto.
 */
export * from './schema/index.js';
export type * from './hcs-api.js';
export * from './errors.js';
export { createHcsApi, type CreateHcsApiOptions, type HcsBackendName } from './backend-factory.js';
export { ensureThreadpoolSize, DEFAULT_THREADPOOL_SIZE } from './threadpool.js';
export { COMPUTECORE_NOT_FOUND, DEFAULT_HCS_TIMEOUT_MS } from './computecore/constants.js';
