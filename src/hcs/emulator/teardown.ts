/**
 * What powering off an emulated VM leaves to clean: runc containers whose state lives under
 * `<vmDir>/runc`, mounts under the VM dir (the guest's binds, overlays and loop mounts below
 * `<vmDir>/rootfs`), and the VM dir itself. The dir is removed only once nothing is mounted below it,
 * so a recursive delete can never reach a host directory through a bind mount.
 *
 * The file-system steps (listing the runc states, the cgroups, the mount table, the disk records, the dir's
 * removal) use synchronous calls: some 60 small ones, on the path to the VM's exit, once per VM. Through the
 * thread pool each was a round trip to the main thread, and Node's first fs.rm compiled its rimraf module:
 * the cleanup took 11-16 ms between debug marks on a loaded machine; the calls themselves take ~4 ms (cgroup
 * parents 1.2-1.4 ms against 2.4-2.8 ms async, the dir ~2 ms against ~6 ms; fresh processes, 15 runs each).
 * Only the tools (runc, umount) run as child processes.
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { stat } from '../../async/index.js';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { ignoreAbsent, ignoreErrno, trySync } from '../../errdefs/index.js';
import { logTeardown, rootLogger, type Logger } from '../../log/index.js';
import { detachAllDisks } from './disk-attach.js';
import { removeTree } from './remove-tree.js';

const run = promisify(execFile);
const TOOL_TIMEOUT_MS = 15_000;

export interface TeardownReport {
  readonly containers: readonly string[];
  readonly unmounted: readonly string[];
  /** Mount points still present after every attempt (the VM dir is then kept). */
  readonly stuck: readonly string[];
  readonly removed: boolean;
}

/**
 * Order: runc containers (killed and deleted), then `afterContainers` (the caller kills what is left of the
 * agent's process group), cgroups, mounts, the dir.
 */
export async function teardownVmDir(vmDir: string, log: Logger, runcBinary = 'runc', afterContainers?: () => void): Promise<TeardownReport> {
  const containers = await killRuncContainers(join(vmDir, 'runc'), log, runcBinary);
  afterContainers?.();
  await removeVmCgroups(basename(vmDir), undefined, log);
  const { unmounted, stuck } = await unmountUnder(vmDir, log);
  // After the unmounts: the guest's mounts of the VM's disks (loop devices) are gone, so they detach now.
  const detached = await detachAllDisks(vmDir, log);
  if (detached.length > 0) log.debug('HCS emulator: detached the VM disks', { vmDir, devices: detached });
  if (stuck.length > 0) {
    log.error('HCS emulator: mounts remain under the VM dir; keeping it', { vmDir, stuck });
    return { containers, unmounted, stuck, removed: false };
  }
  removeTree(vmDir);
  return { containers, unmounted, stuck, removed: true };
}

/** `runc --root <root> kill <id> KILL` then `delete -f <id>` for every container state dir under root. */
export async function killRuncContainers(root: string, log: Logger, runcBinary = 'runc'): Promise<string[]> {
  const ids: string[] = [];
  for (const entry of trySync(() => readdirSync(root, { withFileTypes: true }), ignoreAbsent) ?? []) {
    if (entry.isDirectory() && trySync(() => statSync(join(root, entry.name, 'state.json')), ignoreAbsent) !== undefined) {
      ids.push(entry.name);
    }
  }
  for (const id of ids) {
    const opts = { timeout: TOOL_TIMEOUT_MS };
    // May already be stopped (runc then fails with "container not running"): delete -f below is what must succeed.
    await run(runcBinary, ['--root', root, 'kill', id, 'KILL'], opts).catch((err: unknown) => log.debug('HCS emulator: runc kill', { id, error: String(err) }));
    await run(runcBinary, ['--root', root, 'delete', '-f', id], opts).catch(async (err: unknown) => {
      // A live `runc run` parent deletes its container itself once the init died: gone is what we wanted.
      if ((await stat(join(root, id, 'state.json')).catch(ignoreAbsent)) === undefined) return;
      log.warn('HCS emulator: runc delete failed', { id, root, error: String(err) });
    });
  }
  return ids;
}

/** Where cgroup hierarchies are mounted (v1: one per controller below it; v2: it is the hierarchy). */
export const CGROUP_ROOT = '/sys/fs/cgroup';

/**
 * Removes the VM's cgroup parents the guest's containers were placed under (`/lcow/<runtimeId>/<cid>`,
 * src/guest/bundle.ts): runc delete removes each container's own cgroup, not the parent. rmdir only
 * removes an empty cgroup, so nothing still running is touched. Expected and ignored: not there (ENOENT, or
 * ENOTDIR for a cgroup v2 control file taken as a hierarchy), still populated (EBUSY, ENOTEMPTY); anything
 * else is logged.
 */
export async function removeVmCgroups(runtimeId: string, cgroupRoot = CGROUP_ROOT, log: Logger = rootLogger()): Promise<void> {
  const expected = ignoreErrno('ENOENT', 'ENOTDIR', 'EBUSY', 'ENOTEMPTY');
  const remove = (dir: string): void => {
    try {
      trySync(() => rmdirSync(dir), expected);
    } catch (unexpected) {
      logTeardown(log, 'HCS emulator: removing a VM cgroup', { dir })(unexpected);
    }
  };
  const hierarchies = [cgroupRoot, ...(trySync(() => readdirSync(cgroupRoot), ignoreAbsent) ?? []).map((c) => join(cgroupRoot, c))];
  for (const h of hierarchies) { // children before parent in each
    const dir = join(h, 'lcow', runtimeId);
    for (const c of trySync(() => readdirSync(dir, { withFileTypes: true }), ignoreAbsent) ?? []) if (c.isDirectory()) remove(join(dir, c.name));
    remove(dir);
  }
}

/** Mount points at or below `dir` from /proc/self/mountinfo, in mount order (read synchronously: guest/mounts.ts says why). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const text = trySync(() => readFileSync('/proc/self/mountinfo', 'utf8'), ignoreErrno('ENOENT')) ?? ''; // no /proc: nothing known mounted
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const raw = line.split(' ')[4];
    if (raw === undefined) continue;
    const point = raw.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
    if (point === dir || point.startsWith(dir.endsWith('/') ? dir : `${dir}/`)) out.push(point);
  }
  return out;
}

/** Unmounts everything below `dir`, deepest first (later mounts first among equals); lazy as a last resort. */
export async function unmountUnder(dir: string, log: Logger): Promise<{ unmounted: string[]; stuck: string[] }> {
  const unmounted: string[] = [];
  for (let pass = 0; pass < 3; pass++) {
    const points = (await mountsUnder(dir)).map((p, i) => ({ p, i }));
    if (points.length === 0) return { unmounted, stuck: [] };
    points.sort((a, b) => depth(b.p) - depth(a.p) || b.i - a.i);
    for (const { p } of points) {
      const args = pass === 2 ? ['-l', p] : [p];
      try {
        await run('umount', args, { timeout: TOOL_TIMEOUT_MS });
        unmounted.push(p);
      } catch (err) {
        log.debug('HCS emulator: umount failed', { mountpoint: p, pass, error: String(err) });
      }
    }
  }
  return { unmounted, stuck: await mountsUnder(dir) };
}

const depth = (p: string): number => p.split('/').length;
