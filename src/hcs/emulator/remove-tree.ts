/**
 * Removes an emulated VM's dir, as `fs.rm(dir, { recursive: true, force: true })` does (a missing path is
 * success; a symlink is removed, never followed; the first error ends the removal), with synchronous calls.
 * Why not `fs.rm`: the emulator removes one VM dir per daemon, so every removal was Node's first: its rimraf
 * module compiled and run through the thread pool (it probes each directory with an rmdir before reading it),
 * ~6 ms for the ~20 entries of a VM dir against ~2 ms for this walk (fresh processes, 15 runs each), on the
 * path to the VM's exit. The walk blocks the daemon's loop for those ~2 ms; it runs once per VM, at its end.
 * The caller removes only a dir with nothing mounted below it (teardown.ts).
 */
import { lstatSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ignoreErrno, trySync } from '../../errdefs/index.js';

/** fs.rm's `force`: a path already gone (ENOENT) is no failure. */
const gone = ignoreErrno('ENOENT');

export function removeTree(path: string): void {
  const st = trySync(() => lstatSync(path), gone); // not followed: a symlink given as the root is itself removed
  if (st === undefined) return;
  if (st.isDirectory()) removeDir(path);
  else trySync(() => unlinkSync(path), gone);
}

/** `dir` is a directory (not a symlink to one): its entries, then itself. */
function removeDir(dir: string): void {
  const entries = trySync(() => readdirSync(dir, { withFileTypes: true }), gone);
  if (entries === undefined) return;
  for (const e of entries) {
    const child = join(dir, e.name);
    if (e.isDirectory()) removeDir(child); // the entry's own type: a symlink to a directory is not one, and is unlinked
    else trySync(() => unlinkSync(child), gone);
  }
  trySync(() => rmdirSync(dir), gone);
}
