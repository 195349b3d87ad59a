/**
 * What `delete` cleans up after a shim daemon that died abnormally (SIGKILL, crash), once no daemon is
 * left for the task. hcsshim's `delete` opens the compute system and terminates it; ours does the same
 * for the task's utility VM `<id>@vm`, then releases the host rootfs mount at `<bundle>/rootfs` the
 * daemon made from containerd's snapshot mounts. After a clean shutdown both steps find nothing.
 *
 * Every step is best-effort and bounded: containerd gives `delete` 5 s (io.containerd.timeout.shim.cleanup)
 * and shows its stderr as cleanup warnings, so each problem is logged to stderr and the next step still
 * runs. Idempotent: a second run finds no VM (HCS_E_SYSTEM_NOT_FOUND, success) and nothing mounted.
 */
import { execFile } from 'node:child_process';
import { readFile, realpath } from '../async/index.js';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ignoreErrno } from '../errdefs/index.js';
import type { Logger } from '../log/index.js';
import type { TerminateVmResult } from '../sandbox/index.js';

const run = promisify(execFile);

/** Bound for terminating the VM (hcsshim waits 30 s; ours must fit containerd's 5 s cleanup timeout). */
export const DELETE_VM_TIMEOUT_MS = 3_000;
const UMOUNT_TIMEOUT_MS = 2_000;

export interface CleanupOptions {
  readonly bundle: string;
  readonly id: string;
  readonly namespace: string;
  /** Where problems are reported (default: a logger on stderr). */
  readonly log?: Logger;
  /** The VM terminate bound (default DELETE_VM_TIMEOUT_MS). */
  readonly vmTimeoutMs?: number;
}

export interface CleanupReport {
  readonly vm: TerminateVmResult;
  readonly unmounted: readonly string[];
}

/** The VM, then the bundle's rootfs; never throws. */
export async function cleanupAfterShim(opts: CleanupOptions): Promise<CleanupReport> {
  const log = opts.log ?? (await stderrLogger(opts));
  const { terminateUtilityVm } = await import('../sandbox/index.js');
  const vm = await terminateUtilityVm(`${opts.id}@vm`, opts.vmTimeoutMs ?? DELETE_VM_TIMEOUT_MS, log);
  const unmounted = await unmountBundleRootfs(opts.bundle, log);
  return { vm, unmounted };
}

/** Unmounts whatever is mounted at or below `<bundle>/rootfs`, deepest and latest first; lazily as a last resort. */
export async function unmountBundleRootfs(bundle: string, log: Logger): Promise<string[]> {
  const target = join(await realpath(bundle).catch(() => bundle), 'rootfs');
  const done: string[] = [];
  for (let pass = 0; pass < 2; pass++) {
    const points = await mountPointsUnder(target);
    if (points.length === 0) break;
    for (const point of points) {
      try {
        await run('umount', pass === 0 ? [point] : ['-l', point], { timeout: UMOUNT_TIMEOUT_MS });
        done.push(point);
      } catch (err) {
        if (pass === 1) log.warn('delete: cannot unmount the task rootfs', { mountpoint: point, error: describe(err) });
      }
    }
  }
  if (done.length > 0) log.warn('delete: unmounted the task rootfs the shim left mounted', { mountpoints: done });
  return done;
}

/** Mount points at or below `dir` (/proc/self/mountinfo field 5, octal escapes decoded), deepest and latest first. */
async function mountPointsUnder(dir: string): Promise<string[]> {
  const text = (await readFile('/proc/self/mountinfo', 'utf8').catch(ignoreErrno('ENOENT'))) ?? ''; // no /proc: nothing known mounted
  const found: Array<{ p: string; i: number }> = [];
  text.split('\n').forEach((line, i) => {
    const raw = line.split(' ')[4];
    if (raw === undefined) return;
    const p = raw.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
    if (p === dir || p.startsWith(`${dir}/`)) found.push({ p, i });
  });
  const depth = (p: string): number => p.split('/').length;
  return found.sort((a, b) => depth(b.p) - depth(a.p) || b.i - a.i).map((x) => x.p);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function stderrLogger(opts: CleanupOptions): Promise<Logger> {
  const { createLogger, Field } = await import('../log/index.js');
  return createLogger({ level: 'info', stream: process.stderr, fields: { [Field.Namespace]: opts.namespace, [Field.TaskId]: opts.id } });
}
