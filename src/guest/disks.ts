/**
 * The guest half of virtual disks (hcsshim internal/guest/storage/{pmem,scsi} and storage.UnmountPath):
 *   VPMem   <vmDir>/vpmem/<DeviceNumber> (the emulator's loop device for /dev/pmem<n>) mounted ext4,
 *           read-only with `noload`, at MountPath (created 0700; removed again when the mount fails)
 *   SCSI    <vmDir>/scsi/<c>-<lun>: a block device is mounted as its filesystem (detected from the ext4
 *           superblock; with EnsureFilesystem formatted first when it is not the requested Filesystem),
 *           read-only with `noload` when ReadOnly; a directory is bind-mounted, a plain image file loop-mounted
 *   remove  unmount once and then remove the target directory, like UnmountPath with removeTarget: a target
 *           that does not exist is success, one that is not mounted is removed; a mount still at or below it
 *           after the one unmount is an error (the real GCS would RemoveAll through it)
 */
import { rmdirSync } from 'node:fs';
import { openFileHandle, realpath, rm, stat } from '../async/index.js';
import { failed, invalidArg } from './errors.js';
import { ignoreAbsent } from '../errdefs/index.js';
import { logTeardown, type GuestLogger } from './log.js';
import { bindMount, isMountPoint, loopMount, mountPointsUnder, prepareTarget, unmount } from './mounts.js';
import { runTool } from './run-tool.js';
import type { VmPaths } from './vm-paths.js';

const EXT4_MAGIC_OFFSET = 1024 + 0x38;
const EXT4_MAGIC = 0xef53;

/** mkfs.ext4 of a large disk may take longer than a mount. */
const MKFS_TIMEOUT_MS = 120_000;

/** The device behind an emulator link: its real path and whether it is a block device, directory or file. */
async function device(link: string, what: string): Promise<{ path: string; kind: 'block' | 'dir' | 'file' }> {
  try {
    const path = await realpath(link);
    const st = await stat(path);
    return { path, kind: st.isBlockDevice() ? 'block' : st.isDirectory() ? 'dir' : 'file' };
  } catch (err) {
    throw failed(`${what}: ${link} does not lead to an attached device`, err);
  }
}

/** "ext4" when the device carries an ext4 superblock, else undefined (hcsshim tar2ext4.IsDeviceExt4). */
async function fsType(dev: string): Promise<string | undefined> {
  const fh = await openFileHandle(dev, 'r');
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, EXT4_MAGIC_OFFSET);
    return bytesRead === 2 && b.readUInt16LE(0) === EXT4_MAGIC ? 'ext4' : undefined;
  } finally {
    await fh.close();
  }
}

/** The propagation options the real guest applies after mounting a SCSI disk (storage.ParseMountOptions). */
const PROPAGATION = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate', 'unbindable', 'runbindable']);

/**
 * As the real guest (scsi.Mount): the disk's filesystem mounted read-only with `noload` when readOnly, else
 * with no options; of the request's Options only the propagation ones count (a remount each, in order); the
 * others (e.g. an OCI mount's rbind, ro) are not mount options of the disk and are ignored.
 */
async function mountDevice(dev: string, target: string, type: string, readOnly: boolean, options: readonly string[]): Promise<void> {
  await runTool('mount', ['-t', type, ...(readOnly ? ['-o', 'ro,noload'] : []), dev, target]);
  for (const o of options) if (PROPAGATION.has(o)) await runTool('mount', [`--make-${o}`, target]);
}

/** Mounts at `target`, removing the directory again when the mount fails (as the real guest does). */
async function withTarget(paths: VmPaths, log: GuestLogger, guestPath: unknown, what: string, mountIt: (target: string) => Promise<void>): Promise<string> {
  const target = await prepareTarget(paths, paths.hostPath(guestPath, what));
  try {
    await mountIt(target);
  } catch (err) {
    if (!(await isMountPoint(target))) await rm(target, { recursive: true, force: true }).catch(logTeardown(log, 'removing the target of a failed mount', { target }));
    throw err;
  }
  return target;
}

export async function mountVPMem(paths: VmPaths, log: GuestLogger, deviceNumber: number, mountPath: unknown): Promise<void> {
  const dev = await device(paths.vpmemLink(deviceNumber), `VPMem device ${deviceNumber}`);
  if (dev.kind !== 'block') throw failed(`VPMem device ${deviceNumber} is not a block device`);
  const target = await withTarget(paths, log, mountPath, 'MountPath', (t) => mountDevice(dev.path, t, 'ext4', true, []));
  log.info('mapped VPMem device', { device: deviceNumber, source: dev.path, target });
}

export interface ScsiMount {
  readonly controller: number;
  readonly lun: number;
  readonly mountPath: unknown;
  readonly readOnly: boolean;
  readonly options: readonly string[];
  readonly ensureFilesystem: boolean;
  readonly filesystem: string;
}

export async function mountScsi(paths: VmPaths, log: GuestLogger, m: ScsiMount): Promise<void> {
  const dev = await device(paths.scsiLink(m.controller, m.lun), `SCSI controller ${m.controller} lun ${m.lun}`);
  const target = await withTarget(paths, log, m.mountPath, 'MountPath', async (t) => {
    if (dev.kind === 'dir') return bindMount(dev.path, t, m.readOnly, log);
    if (dev.kind === 'file') return loopMount(dev.path, t, m.readOnly);
    const found = await fsType(dev.path);
    if (found === undefined && m.filesystem === '') throw failed(`getting device's filesystem: could not get device filesystem type of ${dev.path}`);
    if (m.ensureFilesystem && found !== m.filesystem) {
      if (m.filesystem !== 'ext4') throw failed(`unsupported filesystem ${m.filesystem} requested for device`);
      log.info('formatting SCSI device', { device: dev.path, filesystem: m.filesystem });
      await runTool('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=1,lazy_journal_init=1,nodiscard', dev.path], MKFS_TIMEOUT_MS);
    }
    await mountDevice(dev.path, t, m.filesystem || (found ?? ''), m.readOnly, m.options);
  });
  log.info('mapped virtual disk', { controller: m.controller, lun: m.lun, source: dev.path, target, readOnly: m.readOnly });
}

/**
 * storage.UnmountPath(target, removeTarget=true). `mounted`: whether the target is a mount point, when the
 * caller has just read the mount table (else it is read here).
 */
export async function unmountPath(paths: VmPaths, log: GuestLogger, guestPath: unknown, what: string, mounted?: boolean): Promise<void> {
  const target = paths.hostPath(guestPath, what);
  if (!paths.insideRootfs(target)) throw invalidArg(`${what} ${String(guestPath)} is outside the VM root`);
  if ((await stat(target).catch(ignoreAbsent)) === undefined) {
    log.warn('UnmountPath called for non-existent path', { target });
    return;
  }
  // One unmount, as the real GCS (unix.Unmount; EINVAL, not mounted, is fine), which then os.RemoveAll's the
  // target: through any mount still there (a second one stacked on it, or one below it), deleting what that
  // mount holds. Our guest refuses instead of deleting, so a host that leaves such a mount fails here too.
  if (mounted ?? (await isMountPoint(target))) await unmount(target);
  const left = await mountPointsUnder(target);
  if (left.length > 0) {
    throw failed(`${what} ${target}: still mounted after one unmount (${left.join(', ')}); the GCS would remove the directory through the mount`);
  }
  // os.RemoveAll: one remove first (the usual case: the former mount point, an empty directory), the tree
  // only when that fails.
  try {
    rmdirSync(target);
  } catch {
    await rm(target, { recursive: true, force: true });
  }
}

