import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The addon's file name (src/reclaim/lcow-reclaim.c, built into the build's bin/ on Linux). */
export const RECLAIM_ADDON = 'lcow-reclaim.node';

/** What one call did: the addon's bit set (lcow-reclaim.c), decoded. */
export interface ReclaimResult {
  /** V8's low-memory notification ran (its memory-reducing full GC). */
  readonly v8: boolean;
  /** glibc's malloc_trim(0) ran ... */
  readonly mallocTrim: boolean;
  /** ... and released memory. */
  readonly mallocReleased: boolean;
}

export type Reclaimer =
  | { readonly available: true; readonly path: string; reclaim(): ReclaimResult }
  | { readonly available: false; readonly reason: string };

/**
 * Where a build keeps the addon, relative to the running code: beside the bundle (bin/), or bin/ of the tree
 * two folders up (the unbundled dist/src/reclaim/, and the ESM bundle's bin/chunks/). None where the code has no
 * file URL (a bundle without one).
 */
export function reclaimAddonCandidates(base: string = import.meta.url): string[] {
  try {
    return [new URL(RECLAIM_ADDON, base), new URL(`../../bin/${RECLAIM_ADDON}`, base)].map((u) => fileURLToPath(u));
  } catch {
    return []; // not a file URL: nowhere to look, which loadReclaimer reports
  }
}

/** The bits lcow-reclaim.c returns. */
export function decodeReclaimBits(bits: unknown): ReclaimResult {
  if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < 0 || bits > 7) {
    throw new TypeError(`${RECLAIM_ADDON}: reclaim() returned ${String(bits)}, not a bit set 0..7`);
  }
  return { v8: (bits & 1) !== 0, mallocTrim: (bits & 2) !== 0, mallocReleased: (bits & 4) !== 0 };
}

/**
 * Loads the addon from the first candidate that exists. Never throws: a missing file (Windows, or a build made
 * without a C compiler) or one Node cannot load is reported with the reason, and the caller runs without it.
 */
export function loadReclaimer(candidates: readonly string[] = reclaimAddonCandidates()): Reclaimer {
  const path = candidates.find((p) => existsSync(p));
  if (path === undefined) {
    const where = candidates.length === 0 ? 'the running code has no file path to look beside' : `looked for ${candidates.join(', ')}`;
    return { available: false, reason: `no ${RECLAIM_ADDON} (${where})` };
  }
  const mod = { exports: {} as { reclaim?: unknown } };
  try {
    process.dlopen(mod, path);
  } catch (err) {
    return { available: false, reason: `${path}: ${(err as Error).message}` };
  }
  const fn = mod.exports.reclaim;
  if (typeof fn !== 'function') return { available: false, reason: `${path} exports no reclaim()` };
  return { available: true, path, reclaim: () => decodeReclaimBits((fn as () => unknown)()) };
}
