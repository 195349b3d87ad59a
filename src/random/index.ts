/**
 * random: the OS's random bytes and v4 UUIDs without loading node:crypto on Linux (/dev/urandom; node:crypto on
 * Windows), for the VM's entropy, ids and VHDX GUIDs.
 * Layer boundaries: a leaf (errdefs for its ShimError, async for loadBuiltin); the one module besides src/transport
 * and the HCS backend factory that looks at process.platform.
 * May import: async, errdefs.
 */
export { URANDOM, fillByReads, fillFromDevice, fillFromNodeCrypto, nodeCrypto, randomBytes, randomFill, randomUUID, uuidV4FromBytes } from './random.js';
export type { ReadChunk } from './random.js';
