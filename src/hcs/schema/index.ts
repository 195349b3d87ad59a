/**
 * hcs/schema: the HCS schema2 JSON documents the LCOW path builds and reads, spelled exactly as HCS
 * expects (PascalCase keys), plus toHcsJson, which encodes them byte-for-byte like hcsshim's Go structs.
 * Layer boundaries: imports only src/errdefs. Pure types and one pure encoder; no I/O.
 */
export type * from './compute-system.js';
export type * from './schema-version.js';
export type * from './virtual-machine.js';
export type * from './chipset.js';
export type * from './topology.js';
export * from './devices.js';
export * from './modify.js';
export type * from './properties.js';
export { toHcsJson, toHcsValue } from './serialize.js';
export type { TypeName as HcsSchemaTypeName } from './field-order.js';
