/**
 * hcs: the Host Compute Service as the shim sees it. The HcsApi interface (hcs-api.ts), the schema2
 * documents and their Go-compatible encoder (schema/), HcsError with HRESULT predicates (errors.ts), and
 * the backend factory (createHcsApi): computecore.dll through koffi on Windows, the emulator on Linux.
 * HRESULT names and their ErrorCode table are src/errdefs's (the one HRESULT vocabulary).
 * Layer boundaries: imports src/errdefs, src/log, src/transport (the emulator maps hvsocket ports onto unix
 * sockets through it) and src/vhd (the emulator's virtual disks); used by src/uvm and the layers above it for the backend factory. Only this module's
 * computecore/ffi.ts imports koffi; nothing here imports src/proto. scripts/check-layers.mjs checks this.
 */
export * from './schema/index.js';
export type * from './hcs-api.js';
export * from './errors.js';
export { createHcsApi, type CreateHcsApiOptions, type HcsBackendName } from './backend-factory.js';
export { ensureThreadpoolSize, DEFAULT_THREADPOOL_SIZE } from './threadpool.js';
export { COMPUTECORE_NOT_FOUND, DEFAULT_HCS_TIMEOUT_MS } from './computecore/constants.js';
