/**
 * The emulator's boot files (made by scripts/build-steps/10-emulator-boot-files.mjs): `kernel` is a text
 * marker and `initrd.img` a JSON manifest naming the guest agent entry relative to its folder. Real boot
 * files may be named instead: the emulator only requires that they exist, and then boots its own agent.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export const EMULATOR_BOOT_FILES_FORMAT = 'containerd-shim-lcow-v1/emulator-boot-files@1';

export interface BootManifest {
  readonly format: string;
  /** Absolute path of the guest agent entry named by the manifest. */
  readonly guestEntry?: string;
}

const MAX_MANIFEST_BYTES = 64 * 1024;

/** Reads an emulator initrd manifest; undefined when the file is not one (e.g. a real initrd). */
export async function readBootManifest(initrdPath: string): Promise<BootManifest | undefined> {
  return readBootManifestSync(initrdPath);
}

/**
 * readBootManifest without yielding (a stat and a read of at most 64 KiB): the emulator resolves the entry of
 * its pre-loaded agent with it while it is being made, so the agent is spawned before the event loop turns.
 */
function readBootManifestSync(initrdPath: string): BootManifest | undefined {
  try {
    const st = statSync(initrdPath);
    if (!st.isFile() || st.size > MAX_MANIFEST_BYTES) return undefined;
    const doc = JSON.parse(readFileSync(initrdPath, 'utf8')) as { format?: unknown; guestEntry?: unknown };
    if (doc.format !== EMULATOR_BOOT_FILES_FORMAT) return undefined;
    return {
      format: doc.format,
      ...(typeof doc.guestEntry === 'string' && doc.guestEntry !== ''
        ? { guestEntry: resolve(dirname(initrdPath), doc.guestEntry) }
        : {}),
    };
  } catch {
    return undefined; // missing, unreadable or not JSON: not an emulator manifest
  }
}

/**
 * Where the agent of a VM booting from `initrdPath` comes from, in order: the emulator's explicit entry (only
 * that one, when given); else the entry the initrd manifest names, then `defaultEntry`.
 */
export function guestEntryCandidates(initrdPath: string | undefined, explicit: string | undefined, defaultEntry: string): string[] {
  if (explicit !== undefined) return [explicit];
  const manifest = initrdPath === undefined ? undefined : readBootManifestSync(initrdPath);
  return [...(manifest?.guestEntry === undefined ? [] : [manifest.guestEntry]), defaultEntry];
}

/** The first candidate that is a file (a missing one is skipped). */
export function firstFile(candidates: readonly string[]): string | undefined {
  return candidates.find((entry) => statSync(entry, { throwIfNoEntry: false })?.isFile() === true);
}
