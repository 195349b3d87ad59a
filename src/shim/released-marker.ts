/**
 * The released marker: `<bundle>/shim-released`, holding the pid of the shim daemon that wrote it and, on a
 * second line, when the task was released (ms since the epoch). The daemon writes it once the task of that
 * bundle is deleted and everything `delete` would clean up after a dead daemon is known gone: the utility VM
 * closed and exited, the host rootfs released; for a Sandbox API sandbox's bundle, once ShutdownSandbox has
 * closed the pod's VM (pod-sandbox.ts: its bundle has no rootfs of ours). `delete` (run by containerd after every disconnect, even a
 * clean one) then skips opening HCS and scanning mounts when the marker names the daemon recorded in
 * `<bundle>/shim.pid`, and reports the release time as its exited_at (the task was gone from then on). A
 * marker that is missing, unreadable or names another pid means the full cleanup runs, as before; one without
 * a valid time (an older daemon's) means exited_at is now, as before. The built executable
 * (scripts/build-steps/shim-wrapper.sh) applies the same rule in sh, more strictly (the daemon's socket
 * removed, no panic.log), and then answers `delete` without starting Node, with the same bytes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './reexec-start.js';

export const RELEASED_MARKER = 'shim-released';

/** A release time the marker may carry: ms since the epoch, 4 to 16 digits, no leading zero (the sh rule too). */
const RELEASED_AT = /^[1-9]\d{3,15}$/;

export interface ReleasedMarker {
  /** When the daemon released the task (ms since the epoch); undefined in an older daemon's marker. */
  readonly releasedAtMs: number | undefined;
}

/** Written by the daemon (pid `pid`) once the bundle's task released everything, at `releasedAtMs`. */
export function writeReleasedMarker(bundle: string, pid: number = process.pid, releasedAtMs: number = Date.now()): void {
  writeFileAtomic(join(bundle, RELEASED_MARKER), `${pid}\n${Math.floor(releasedAtMs)}\n`);
}

/** The marker when it names the daemon in `<bundle>/shim.pid`, else undefined. Never throws. */
export function releasedByDaemon(bundle: string): ReleasedMarker | undefined {
  try {
    const [marker = '', at = ''] = readFileSync(join(bundle, RELEASED_MARKER), 'utf8').split('\n');
    const daemon = readFileSync(join(bundle, 'shim.pid'), 'utf8').trim();
    if (!/^\d+$/.test(marker) || marker !== daemon) return undefined;
    return { releasedAtMs: RELEASED_AT.test(at) ? Number(at) : undefined };
  } catch {
    return undefined;
  }
}
