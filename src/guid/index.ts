/**
 * guid: Windows GUIDs, text ↔ the 16-byte mixed-endian layout, for Hyper-V socket addresses and VHDX.
 * Layer boundaries: a leaf but for src/random (newGuid) and errdefs (its InvalidArgument).
 * May import: random, errdefs.
 */
export { ZERO_GUID, guidFromBytes, guidToBytes, isGuid, newGuid, normalizeGuid } from './guid.js';
