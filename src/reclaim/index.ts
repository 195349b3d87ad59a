/**
 * reclaim: giving a long-lived process's unused memory back to the kernel soon after a burst of work
 * (idle-reclaim.ts decides when) through a small Node-API addon (lcow-reclaim.c: V8's low-memory GC and glibc's
 * malloc_trim), which the build makes on Linux; where it is missing the process runs as before.
 * Layer boundaries: a leaf; the shim's `serve` daemon uses it.
 * May import: nothing of the project.
 */
export { IdleReclaim, IdleState } from './idle-reclaim.js';
export type { IdleReclaimOptions, IdleTimers, Reclaimed } from './idle-reclaim.js';
export { RECLAIM_ADDON, decodeReclaimBits, loadReclaimer, reclaimAddonCandidates } from './native-reclaim.js';
export type { ReclaimResult, Reclaimer } from './native-reclaim.js';
