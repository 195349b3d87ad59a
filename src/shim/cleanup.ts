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
import { readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isHcsCode } from '../errdefs/index.js';
import type { Logger } from '../log/index.js';

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
  /** 'terminated': a VM was found and stopped; 'absent': none; 'left': one whose owner still runs; 'failed'. */
  readonly vm: 'terminated' | 'absent' | 'left' | 'failed';
  readonly unmounted: readonly string[];
}

/** The VM, then the bundle's rootfs; never throws. */
export async function cleanupAfterShim(opts: CleanupOptions): Promise<CleanupReport> {
  const log = opts.log ?? (await stderrLogger(opts));
  const vm = await terminateUtilityVm(`${opts.id}@vm`, opts.vmTimeoutMs ?? DELETE_VM_TIMEOUT_MS, log);
  const unmounted = await unmountBundleRootfs(opts.bundle, log);
  return { vm, unmounted };
}

/**
 * Opens the task's utility VM through the HCS backend and terminates it. `delete` has already stopped
 * this task's daemon, whose VM (ShouldTerminateOnLastHandleClosed) is then Stopped, its handles gone
 * with it; a VM with this id that is still Created or Running is held by a live process (a task of the
 * same id in another namespace: the VM id has no namespace, as in hcsshim) and is left alone.
 */
async function terminateUtilityVm(vmId: string, timeoutMs: number, log: Logger): Promise<CleanupReport['vm']> {
  let hcs: typeof import('../hcs/index.js');
  let system;
  try {
    hcs = await import('../hcs/index.js');
    const api = await hcs.createHcsApi({ logger: log });
    system = await api.openComputeSystem(vmId, { timeoutMs });
  } catch (err) {
    if (isSystemNotFound(err)) return 'absent';
    log.warn('delete: cannot open the utility VM', { 'uvm-id': vmId, error: describe(err) });
    return 'failed';
  }
  try {
    const state = (await system.properties(undefined, { timeoutMs })).State;
    if (state === 'Running' || state === 'Created') {
      log.warn('delete: the utility VM belongs to another live process; leaving it', { 'uvm-id': vmId, state });
      return 'left';
    }
    const began = Date.now();
    await system.terminate({ timeoutMs });
    log.warn('delete: terminated the utility VM the shim left behind', { 'uvm-id': vmId, state, ms: Date.now() - began });
    return 'terminated';
  } catch (err) {
    if (isSystemNotFound(err)) return 'absent';
    log.warn('delete: terminating the utility VM failed', { 'uvm-id': vmId, error: describe(err) });
    return 'failed';
  } finally {
    await system.close().catch(() => undefined);
  }

  function isSystemNotFound(err: unknown): boolean {
    return hcs !== undefined && err instanceof hcs.HcsError && isHcsCode(err.hresult, 0x010e);
  }
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
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
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
