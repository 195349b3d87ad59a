/** Fixtures for the guest tests: temp VM dirs, a busybox root filesystem, OCI specs, the guest process. */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CGROUP_ROOT, removeVmCgroups } from '../../../src/hcs/emulator/teardown.js';

export const BUSYBOX = '/bin/busybox';
export const haveRunc = (): boolean => {
  try {
    execFileSync('runc', ['--version'], { stdio: 'ignore' });
    return existsSync(BUSYBOX) && process.getuid?.() === 0;
  } catch {
    return false;
  }
};

/** A temp dir with a short path (unix socket paths are limited to 107 bytes). */
export function tempDir(prefix = 'lcowg-'): string {
  return mkdtempSync(join('/tmp', prefix));
}

/** <dir>/bin/busybox plus a relative symlink per applet: a root filesystem runc can run `sh` in. */
export function buildBusyboxRootfs(dir: string): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  for (const d of ['proc', 'dev', 'sys', 'tmp', 'etc']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, 'bin', 'busybox'));
  execFileSync('chmod', ['0755', join(dir, 'bin', 'busybox')]);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(dir, 'bin', a));
  return dir;
}

/** An OCI spec for a busybox container whose root is the guest path /run/gcs/c/<id>/rootfs. */
export function ociSpec(id: string, args: string[], opts: { terminal?: boolean } = {}): Record<string, unknown> {
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: opts.terminal === true,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/bin', 'TERM=xterm'],
      cwd: '/',
      noNewPrivileges: true,
    },
    root: { path: `/run/gcs/c/${id}/rootfs`, readonly: false },
    hostname: id.slice(0, 32),
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      resources: { devices: [{ allow: false, access: 'rwm' }] },
    },
  };
}

/** The compiled guest entry beside the compiled tests (<out>/src/guest/main.js). */
export const guestMain = fileURLToPath(new URL('../../../src/guest/main.js', import.meta.url));

export interface GuestChild {
  child: ChildProcess;
  logs: string[];
  exited: Promise<number | null>;
}

export function startGuest(vmDir: string, extraEnv: Record<string, string> = {}, args = ['-v4', '-log-format', 'json', '-loglevel', 'debug']): GuestChild {
  const child = spawn(process.execPath, ['--no-warnings', guestMain, ...args], {
    env: { ...process.env, LCOW_GUEST_VM_DIR: vmDir, ...extraEnv },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logs: string[] = [];
  let partial = '';
  child.stderr!.on('data', (d: Buffer) => {
    const lines = (partial + d.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    logs.push(...lines);
    if (process.env['GUEST_TEST_LOGS']) for (const l of lines) process.stderr.write(`[guest] ${l}\n`);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, logs, exited };
}

/** Best-effort cleanup of everything a test VM dir may hold: runc containers, mounts, files. */
/**
 * The cgroups runc made for a guest started on `vmDir` (src/guest/bundle.ts: `/lcow/<basename of vmDir>/<cid>`),
 * in every hierarchy, that still exist. Without the emulator, whose teardown removes them, the test does.
 */
export function vmCgroupDirs(vmDir: string): string[] {
  const root = CGROUP_ROOT;
  const hierarchies = [root, ...(existsSync(root) ? readdirSync(root).map((c) => join(root, c)) : [])];
  return hierarchies.map((h) => join(h, 'lcow', basename(vmDir))).filter((d) => existsSync(d));
}

export function cleanupVmDir(vmDir: string): void {
  const runcRoot = join(vmDir, 'runc');
  if (existsSync(runcRoot)) {
    try {
      const list = JSON.parse(execFileSync('runc', ['--root', runcRoot, 'list', '--format', 'json'], { encoding: 'utf8' }) || '[]') as { id: string }[] | null;
      for (const c of list ?? []) {
        try {
          execFileSync('runc', ['--root', runcRoot, 'delete', '--force', c.id], { stdio: 'ignore' });
        } catch {
          /* already gone */
        }
      }
    } catch {
      /* no runc state */
    }
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((mp) => mp === vmDir || mp.startsWith(vmDir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const mp of mounts) {
    try {
      execFileSync('umount', ['-l', mp], { stdio: 'ignore' });
    } catch {
      /* not mounted any more */
    }
  }
  // The emulator's own teardown step (runc delete removed each container's cgroup, not their parent); its work is
  // synchronous (rmdirSync), so it is done when the call returns, and it logs anything but "gone" or "busy".
  void removeVmCgroups(basename(vmDir));
  rmSync(vmDir, { recursive: true, force: true });
}
