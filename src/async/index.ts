/**
 * async: promise plumbing shared by the layers — settlesWithin (the one timeout race), handledElsewhere (a
 * rejection observed on another path) and whenSettled (waiting for a promise whose outcome another path
 * reports), Mutex (async sections one at a time), and the awaited file-system calls (fs.ts: node:fs's
 * callbacks as promises, without loading node:fs/promises), loadBuiltin (a Node built-in loaded on first use, not at
 * start). Layer boundaries: a leaf; every layer above the
 * leaves may import it.
 * May import: nothing of the project.
 */
export { settlesWithin } from './settles-within.js';
export { handledElsewhere } from './handled-elsewhere.js';
export { whenSettled } from './when-settled.js';
export { Mutex } from './mutex.js';
export { loadBuiltin } from './builtin.js';
export { chmod, lstat, mkdir, openFileHandle, readdir, readFile, realpath, rename, rm, rmdir, stat, symlink, unlink, writeFile } from './fs.js';
