/**
 * The released marker: `<bundle>/shim-released`, holding the pid of the shim daemon that wrote it. The
 * daemon writes it once the task of that bundle is deleted and everything `delete` would clean up after a
 * dead daemon is known gone: the utility VM closed and exited, the host rootfs released. `delete` (run by
 * containerd after every disconnect, even a clean one) then skips opening HCS and scanning mounts when the
 * marker names the daemon recorded in `<bundle>/shim.pid`. A marker that is missing, unreadable or names
 * another pid means the full cleanup runs, as before. The built executable (scripts/build-steps/shim-wrapper.sh)
 * applies the same rule in sh, more strictly (the daemon also gone, its socket removed, no panic.log), and then
 * answers `delete` without starting Node.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './reexec-start.js';

export const RELEASED_MARKER = 'shim-released';

/** Written by the daemon (pid `pid`) once the bundle's task released everything. */
export function writeReleasedMarker(bundle: string, pid: number = process.pid): void {
  writeFileAtomic(join(bundle, RELEASED_MARKER), String(pid));
}

/** True when the marker names the daemon in `<bundle>/shim.pid`. Never throws. */
export function releasedByDaemon(bundle: string): boolean {
  try {
    const marker = readFileSync(join(bundle, RELEASED_MARKER), 'utf8').trim();
    const daemon = readFileSync(join(bundle, 'shim.pid'), 'utf8').trim();
    return marker !== '' && /^\d+$/.test(marker) && marker === daemon;
  } catch {
    return false;
  }
}
