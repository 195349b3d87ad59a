/**
 * A pod's directories in the VM for guest-side mount sources, as the real GCS keeps them (hcsv2 uvm.go
 * setupSandbox*Path, workload_container.go update*Mounts, container.go Delete; spec.go *FromRoot):
 *   sandbox      <root>/sandboxMounts (bind onto itself, rshared), <root>/sandboxTmpfsMounts (a tmpfs,
 *                rshared), <root>/hugepages (bind onto itself, rshared), <root>/logs; <root> is the sandbox's
 *                bundle directory. Its DeleteContainerState first unmounts everything in the first three
 *                (failures logged, as the real guest), then deletes as any container.
 *   workload     sources resolved before runc sees them:
 *                  sandbox://<p>       <root>/sandboxMounts/<p>       created (0777) when missing
 *                  sandbox-tmp://<p>   <root>/sandboxTmpfsMounts/<p>  created (0777) when missing
 *                  hugepages://<s>/<p> <root>/hugepages/<s>/<p>       created and mounted hugetlbfs pagesize=<s>
 *                                                                    when missing
 *                  uvm://<path>        <path> in the VM, which must exist ("could not open uVM mount target")
 *                a resolved path outside its directory (a ".." in <p>) is refused with the real guest's text.
 *   standalone   nothing: such a source reaches runc as it is and fails there, as with the real guest.
 */
import { mkdir, stat } from '../async/index.js';
import { join } from 'node:path';
import { failed } from './errors.js';
import { logTeardown, type GuestLogger } from './log.js';
import { mountPointsUnder, unmount } from './mounts.js';
import { runTool } from './run-tool.js';
import type { VmPaths } from './vm-paths.js';

const SANDBOX = 'sandbox://';
const SANDBOX_TMP = 'sandbox-tmp://';
const HUGEPAGES = 'hugepages://';
const UVM = 'uvm://';

export const sandboxMountsDir = (root: string): string => join(root, 'sandboxMounts');
export const sandboxTmpfsMountsDir = (root: string): string => join(root, 'sandboxTmpfsMounts');
export const sandboxHugePagesDir = (root: string): string => join(root, 'hugepages');

const mount = (args: readonly string[]): Promise<void> => runTool('mount', args);

/** Creates the sandbox's directories (hcsv2 setupSandboxMountsPath, …TmpfsMountsPath, …HugePageMountsPath, …LogDir). */
export async function setupSandboxDirs(root: string): Promise<void> {
  for (const [dir, tmpfs] of [[sandboxMountsDir(root), false], [sandboxTmpfsMountsDir(root), true], [sandboxHugePagesDir(root), false]] as const) {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await mount(tmpfs ? ['-t', 'tmpfs', 'tmpfs', dir] : ['--bind', dir, dir]);
    await mount(['--make-rshared', dir]);
  }
  await mkdir(join(root, 'logs'), { recursive: true, mode: 0o777 });
}

/** Unmounts everything in the sandbox's mount directories, deepest first (UnmountAllInPath); failures are logged. */
export async function releaseSandboxDirs(root: string, log: GuestLogger): Promise<void> {
  for (const dir of [sandboxMountsDir(root), sandboxTmpfsMountsDir(root), sandboxHugePagesDir(root)]) {
    for (const mp of await mountPointsUnder(dir)) {
      await unmount(mp).catch(logTeardown(log, 'failed to unmount sandbox mounts', { mountpoint: mp }));
    }
  }
}

/** `dir/sub` (normalized), refused when it leaves `dir`. */
function under(dir: string, sub: string, source: string, what: string): string {
  const p = join(dir, sub);
  if (p !== dir && !p.startsWith(`${dir}/`)) throw failed(`mount path ${p} for mount ${source} is not within ${what}`);
  return p;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false; // any stat failure: the real guest creates (and reports the creation's error)
  }
}

/** Resolves a workload container's guest-side sources (spec.mounts[].source) in place. */
export async function resolveWorkloadSources(mounts: unknown[], root: string, paths: VmPaths, ids: { sandboxId: string; id: string }): Promise<void> {
  const ctx = `for container ${ids.id} in sandbox ${ids.sandboxId}`;
  for (const m of mounts) {
    if (typeof m !== 'object' || m === null) continue;
    const entry = m as Record<string, unknown>;
    const source = entry['source'];
    if (typeof source !== 'string') continue;
    if (source.startsWith(SANDBOX_TMP) || source.startsWith(SANDBOX)) {
      const tmp = source.startsWith(SANDBOX_TMP);
      const dir = tmp ? sandboxTmpfsMountsDir(root) : sandboxMountsDir(root);
      const p = under(dir, source.slice((tmp ? SANDBOX_TMP : SANDBOX).length), source, tmp ? "sandbox's tmpfs mounts dir" : "sandbox's mounts dir");
      if (!(await exists(p))) await mkdir(p, { recursive: true, mode: 0o777 });
      entry['source'] = p;
    } else if (source.startsWith(HUGEPAGES)) {
      const sub = source.slice(HUGEPAGES.length);
      const p = under(sandboxHugePagesDir(root), sub, source, "hugepages's mounts dir");
      if (!(await exists(p))) {
        await mkdir(p, { recursive: true, mode: 0o777 });
        await mount(['-t', 'hugetlbfs', '-o', `pagesize=${sub.split('/')[0] ?? ''}`, 'none', p]).catch((err: Error) => {
          throw failed(`failed to update hugepages mounts ${ctx}: mount operation failed for ${p} failed with error ${err.message}`, err);
        });
      }
      entry['source'] = p;
    } else if (source.startsWith(UVM)) {
      const p = paths.hostPath(source.slice(UVM.length), `uvm mount source ${source}`);
      if (!(await exists(p))) throw failed(`failed to update uVM mounts ${ctx}: could not open uVM mount target: stat ${source.slice(UVM.length)}: no such file or directory`);
      entry['source'] = p;
    }
  }
}
