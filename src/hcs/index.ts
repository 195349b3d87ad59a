/**
 * hcs: the Host Compute Service as the shim sees it. The HcsApi interface (hcs-api.ts), the schema2
 * documents (schema/), HcsError with HRESULT predicates (errors.ts), and later the backend factory.
 * Layer boundaries: imports only src/errdefs and src/log; used by src/uvm (and src/shim for the factory).
 * Only this module (its computecore backend) imports koffi; nothing here imports src/proto.
 */
export * from './schema/index.js';
export type * from './hcs-api.js';
export * from './errors.js';
