import { posix, win32 } from 'node:path';
import type { HostInfo } from '../hcs/index.js';

/** How paths of the HCS host are spelled: they are Windows paths even when the shim runs elsewhere. */
export type PathFlavour = HostInfo['pathFlavour'];

const impl = (flavour: PathFlavour): typeof posix => (flavour === 'windows' ? win32 : posix);

/** filepath.Join in the host's flavour (cleans the result like Go does). */
export function joinHostPath(flavour: PathFlavour, ...parts: string[]): string {
  return impl(flavour).join(...parts);
}

export function hostDirname(flavour: PathFlavour, path: string): string {
  return impl(flavour).dirname(path);
}

export function hostBasename(flavour: PathFlavour, path: string): string {
  return impl(flavour).basename(path);
}

/** The extension without its dot, lower-cased (`rootfs.VHDX` → `vhdx`). */
export function hostExtension(flavour: PathFlavour, path: string): string {
  return impl(flavour).extname(path).replace(/^\./, '').toLowerCase();
}
