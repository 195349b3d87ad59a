/**
 * hcs: the Host Compute Service as the shim sees it. The HcsApi interface (hcs-api.ts), the schema2
 * documents and their Go-compatible encoder (schema/), HcsError with HRESULT predicates (errors.ts), and
 * the backend factory (createHcsApi): computecore.dll through koffi on Windows, the emulator on Linux.
 * HRESULT names and their ErrorCode table are src/errdefs's (the one HRESULT vocabulary).
 * Layer boundaries: src/transport for the emulator (it maps hvsocket ports onto unix sockets through it) and
 * src/vhd for the emulator's virtual disks; imported by src/uvm and src/sandbox (which hands the shim the backend
 * factory's threadpool set-up). Only this module's computecore/ffi.ts imports koffi; nothing here imports
 * src/proto. scripts/check-layers.mjs checks this.
 * May import: async, transport, vhd, guid, random, log, errdefs.
 */
export * from './schema/index.js';
export type * from './hcs-api.js';
export * from './errors.js';
export { createHcsApi, ensureBackendThreadpool, hcsBackendName, type CreateHcsApiOptions, type HcsBackendName } from './backend-factory.js';
export { ensureThreadpoolSize, DEFAULT_THREADPOOL_SIZE } from './threadpool.js';
export { COMPUTECORE_NOT_FOUND, DEFAULT_HCS_TIMEOUT_MS } from './computecore/constants.js';
