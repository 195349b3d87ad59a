import { execFile } from 'node:child_process';
import { stat } from '../../async/index.js';
import { isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { ShimError, ErrorCode, invalidArgument } from '../../errdefs/index.js';
import { logTeardown, rootLogger, type Logger } from '../../log/index.js';
import type { Mount } from '../task/types.js';

const run = promisify(execFile);

/** The host root filesystem of a task, and how to release it. */
export interface HostRootfs {
  readonly path: string;
  readonly readonly: boolean;
  release(): Promise<void>;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Prepares the container's root filesystem on the host, as runc's shim does: the request's rootfs mounts
 * (containerd's snapshot: overlay, or a bind for a single layer) are mounted onto `<bundle>/rootfs`;
 * without mounts the spec's root.path (relative to the bundle) is used as is. The result is shared into
 * the utility VM by the sandbox.
 */
export async function prepareRootfs(bundle: string, mounts: readonly Mount[], rootPath: string | undefined,
  readonly: boolean, log: Logger = rootLogger()): Promise<HostRootfs> {
  if (mounts.length === 0) {
    if (!rootPath) throw invalidArgument('config.json has no root.path and the request has no rootfs mounts');
    const path = isAbsolute(rootPath) ? rootPath : join(bundle, rootPath);
    if (!(await isDirectory(path))) throw invalidArgument(`rootfs '${path}' does not exist or is not a directory`);
    return { path, readonly, release: async () => undefined };
  }
  const target = join(bundle, 'rootfs');
  const mounted: string[] = [];
  const release = async (): Promise<void> => {
    // A busy mount is detached lazily; one that even that cannot remove is logged (release never rejects).
    for (const m of mounted.reverse()) {
      await run('umount', [m]).catch(() => run('umount', ['-l', m])).catch(logTeardown(log, 'unmounting the task rootfs', { target: m }));
    }
    mounted.length = 0;
  };
  try {
    for (const m of mounts) {
      if (!m.type) throw invalidArgument(`rootfs mount of '${m.source}' has no type`);
      const opts = m.options.filter((o) => o !== '');
      await run('mount', ['-t', m.type, ...(opts.length ? ['-o', opts.join(',')] : []), m.source, target]);
      mounted.push(target);
    }
  } catch (err) {
    await release();
    if (err instanceof ShimError) throw err;
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new ShimError(ErrorCode.InvalidArgument, `mounting the rootfs onto ${target} failed: ${stderr || (err as Error).message}`, { cause: err });
  }
  return { path: target, readonly, release };
}
