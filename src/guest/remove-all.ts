/**
 * Recursive removal with the semantics of Go's os.RemoveAll, which the real GCS uses for a container's
 * scratch and bundle directories: children first, descending into every directory — mount points
 * included, nothing is unmounted — and the first error is kept while the rest is still removed. So a
 * read-write mount under the tree is emptied, and removing its mount point then fails with
 * `unlinkat <path>: device or resource busy`. (Node's fs.rm gives up at a busy mount point instead.)
 */
import { lstat, readdir, rmdir, unlink } from '../async/index.js';
import { join } from 'node:path';

/** Go's error text for the errnos a removal meets. */
const STRERROR: Readonly<Record<string, string>> = {
  EBUSY: 'device or resource busy',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTEMPTY: 'directory not empty',
};

function pathError(op: string, path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return new Error(`${op} ${path}: ${STRERROR[code] ?? (err as Error).message}`);
}

/** Removes `path` and everything below it; a missing path is success. Rejects with the first error. */
export async function removeAll(path: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await lstat(path)).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw pathError('lstat', path, err);
  }
  if (!isDir) {
    await unlink(path).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw pathError('unlinkat', path, err);
    });
    return;
  }
  let first: Error | undefined;
  const names = await readdir(path).catch((err: unknown) => {
    first = pathError('open', path, err);
    return [] as string[];
  });
  for (const name of names) {
    await removeAll(join(path, name)).catch((err: Error) => (first ??= err));
  }
  await rmdir(path).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') first ??= pathError('unlinkat', path, err);
  });
  if (first !== undefined) throw first;
}
