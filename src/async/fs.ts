/**
 * The file-system calls the shim and the guest await, as promises over node:fs's callback API, with the
 * names, arguments and results of node:fs/promises. Not node:fs/promises itself: in Node 20 that module
 * loads ten more built-in modules (readline's interface among them, for FileHandle.readLines), which cost
 * every process that loads it ~0.45 MB of RSS and ~1.4 ms of CPU for as long as it lives (issue 17: the shim
 * daemon and the emulated VM's guest agent, one of each per container). Both APIs run the same libuv calls;
 * `realpath` is the native one (uv_fs_realpath), as node:fs/promises' is, not node:fs's JavaScript walk.
 * Code that needs a FileHandle gets node:fs/promises' `open` through openFileHandle, which loads that module on
 * its first call (VHD/VHDX files, a disk's device in the guest, `diag exec`'s stdin); the ext4 layer tool
 * (src/tar2ext4, not part of the daemon) imports it itself.
 */
import {
  chmod as chmodCb, lstat as lstatCb, mkdir as mkdirCb, readdir as readdirCb, readFile as readFileCb, realpath as realpathCb,
  rename as renameCb, rm as rmCb, rmdir as rmdirCb, stat as statCb, symlink as symlinkCb, unlink as unlinkCb, writeFile as writeFileCb,
} from 'node:fs';
import { promisify } from 'node:util';
import { loadBuiltin } from './builtin.js';

export const chmod = promisify(chmodCb);
export const lstat = promisify(lstatCb);
export const mkdir = promisify(mkdirCb);
export const readdir = promisify(readdirCb);
export const readFile = promisify(readFileCb);
export const realpath = promisify(realpathCb.native);
export const rename = promisify(renameCb);
export const rm = promisify(rmCb);
export const rmdir = promisify(rmdirCb);
export const stat = promisify(statCb);
export const symlink = promisify(symlinkCb);
export const unlink = promisify(unlinkCb);
export const writeFile = promisify(writeFileCb);

type FsPromises = typeof import('node:fs/promises');

/** node:fs/promises' `open` (a FileHandle), that module loaded on the first call (builtin.ts). */
export function openFileHandle(...args: Parameters<FsPromises['open']>): ReturnType<FsPromises['open']> {
  return loadBuiltin<FsPromises>('node:fs/promises').open(...args);
}
