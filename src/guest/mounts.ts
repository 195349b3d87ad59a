/**
 * Mounts inside the emulated VM: bind mounts for Plan9 shares and directory "disks", loop mounts for image
 * files, overlay for CombinedLayers. Targets are always below <vmDir>/rootfs; after creating a target its
 * real path is checked again, so a symlink inside the VM root cannot redirect a mount elsewhere. Mount
 * commands are the system's mount(8)/umount(8) (Node has no mount syscall); binds, their read-only remounts
 * and unmounts (the Plan9 shares: every container's rootfs) run BusyBox's applets when BusyBox is there
 * (`bindTool`), which cost less than half the CPU of util-linux's, whose libmount set-up dominates a bind.
 */
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { stat } from '../async/index.js';
import { dirname } from 'node:path';
import { invalidArg } from './errors.js';
import { logTeardown, type GuestLogger } from './log.js';
import { executable, runTool } from './run-tool.js';
import type { VmPaths } from './vm-paths.js';

/**
 * Creates `target` (a directory, or a file when `file`) below the VM root and returns its checked real path.
 * Synchronous calls (a mkdir and a realpath in the VM's own directory): each async one was a thread-pool round
 * trip on the path of every mount.
 */
export async function prepareTarget(paths: VmPaths, target: string, file = false): Promise<string> {
  if (!paths.insideRootfs(target)) throw invalidArg(`mount target ${target} is outside the VM root`);
  if (file) {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, '', { flag: 'a' });
  } else {
    mkdirSync(target, { recursive: true });
  }
  const real = realpathSync(target);
  if (!paths.insideRootfs(real)) throw invalidArg(`mount target ${target} resolves to ${real}, outside the VM root`);
  return real;
}

/** BusyBox for binds and unmounts: env LCOW_GUEST_BUSYBOX (default /bin/busybox; empty: never), if executable. */
let busybox: { readonly env: string | undefined; readonly path: string | undefined } | undefined;

/**
 * Runs mount(8)/umount(8) for a bind, a remount or an unmount: as `<busybox> mount|umount …` when BusyBox is
 * there (the same mount(2)/umount2(2) calls; a failure is the same E_FAIL with the command line and BusyBox's
 * stderr), else the system's. Decided on first use, and again whenever LCOW_GUEST_BUSYBOX has changed.
 */
export function bindTool(tool: 'mount' | 'umount', args: readonly string[]): Promise<void> {
  const env = process.env['LCOW_GUEST_BUSYBOX'];
  if (busybox?.env !== env || busybox === undefined) {
    const path = env ?? '/bin/busybox';
    busybox = { env, path: path !== '' && executable(path) ? path : undefined };
  }
  return busybox.path === undefined ? runTool(tool, args) : runTool(busybox.path, [tool, ...args]);
}

/** Bind-mounts `source` onto `target` (read-only via a remount when asked). */
export async function bindMount(source: string, target: string, readOnly: boolean, log: GuestLogger): Promise<void> {
  await bindTool('mount', ['--bind', source, target]);
  if (readOnly) {
    try {
      await bindTool('mount', ['-o', 'remount,bind,ro', target]);
    } catch (err) {
      await unmount(target).catch(logTeardown(log, 'unmounting a bind whose read-only remount failed', { target }));
      throw err;
    }
  }
}

/**
 * Recursively bind-mounts `source` onto `target`; with `readOnly` every mount of the copy is made read-only
 * (a remount changes one mount only). On failure whatever was mounted is unmounted again.
 */
export async function rbindMount(source: string, target: string, readOnly: boolean, log: GuestLogger): Promise<void> {
  await bindTool('mount', ['--rbind', source, target]);
  if (!readOnly) return;
  try {
    for (const mp of (await mountPointsUnder(target)).reverse()) await bindTool('mount', ['-o', 'remount,bind,ro', mp]);
  } catch (err) {
    await unmountAll(target).catch(logTeardown(log, 'unmounting a recursive bind whose read-only remount failed', { target }));
    throw err;
  }
}

/** Loop-mounts an image file. */
export async function loopMount(image: string, target: string, readOnly: boolean): Promise<void> {
  await runTool('mount', ['-o', readOnly ? 'loop,ro' : 'loop', image, target]);
}

/** Overlay of `lower` (top-most first) with an optional upper/work pair. */
export async function overlayMount(lower: readonly string[], upper: string | undefined, work: string | undefined, target: string): Promise<void> {
  let opts = `lowerdir=${lower.join(':')}`;
  if (upper && work) opts += `,upperdir=${upper},workdir=${work}`;
  if (/[,\n]/.test(opts.replace(/,(upperdir|workdir)=/g, ''))) throw invalidArg('overlay layer paths must not contain commas or newlines');
  await runTool('mount', ['-t', 'overlay', 'overlay', '-o', opts, target]);
}

export async function unmount(target: string, lazy = false): Promise<void> {
  await bindTool('umount', lazy ? ['-l', target] : [target]);
}

/** Decodes the octal escapes mountinfo uses for spaces etc. */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/**
 * Mount points at or below `dir`, deepest first. The table is read synchronously: a procfs read of a few KB
 * takes ~0.05-0.15 ms that way, against ~0.3-1.4 ms for `fs.promises.readFile` (open, stat, reads and close,
 * each a thread-pool round trip; measured in fresh processes), and the teardown reads it twice per share.
 */
export async function mountPointsUnder(dir: string): Promise<string[]> {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  const points = new Set<string>();
  for (const line of text.split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const p = unescape(mp);
    if (p === dir || p.startsWith(dir + '/')) points.add(p);
  }
  return [...points].sort((a, b) => b.length - a.length);
}

export async function isMountPoint(path: string): Promise<boolean> {
  return (await mountPointsUnder(path)).includes(path);
}

/** Unmounts everything at or below `dir` (deepest first, lazily when busy). Returns what it unmounted. */
export async function unmountAll(dir: string): Promise<string[]> {
  const done: string[] = [];
  for (const mp of await mountPointsUnder(dir)) {
    try {
      await unmount(mp);
    } catch {
      await unmount(mp, true);
    }
    done.push(mp);
  }
  return done;
}

export async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path)).isDirectory();
}
