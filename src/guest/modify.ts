/**
 * ModifySettings on the utility VM (zero container id): the guest half of hot-plugged resources, emulated
 * with mounts below <vmDir>/rootfs (see vm-paths.ts for where the host's emulator leaves its devices):
 *   MappedDirectory   Plan9 share <vmDir>/plan9/<ShareName> (a directory, or the emulator's view of one with
 *                     its own mounts) → recursive bind mount at MountPath, created 0700 (every mount of it
 *                     read-only when ReadOnly), as the real guest's 9p mount of the whole share; Remove
 *                     unmounts and removes MountPath (storage.UnmountPath with removeTarget)
 *   MappedVirtualDisk SCSI <vmDir>/scsi/<c>-<lun> → mounted at MountPath (disks.ts); Remove unmounts and
 *                     removes MountPath
 *   VPMemDevice       <vmDir>/vpmem/<DeviceNumber> → ext4 read-only at MountPath (disks.ts); MappingInfo
 *                     (multi-mapping) is E_NOTIMPL; Remove unmounts and removes MountPath
 *   CombinedLayers    overlay of Layers (top-most first) + ScratchPath/{upper,work} at ContainerRootPath;
 *                     a single read-only layer without scratch is bind-mounted (overlay needs two lowers);
 *                     a scratch outside the bundle (dirname of ContainerRootPath) gets ScratchPath/bundle
 *                     bind-mounted over the bundle, as the real guest does; Remove unmounts and removes it
 *   SCSIDevice, Network, PodCgroupMemoryLimit   accepted, nothing to do in the emulator (logged)
 *   VPCIDevice, SecurityPolicy*                 E_NOTIMPL: not emulated
 * An unknown ResourceType is E_FAIL, like the real guest. Remove of something not mounted succeeds.
 */
import { mkdirSync } from 'node:fs';
import { mkdir, realpath, rm, stat } from '../async/index.js';
import { dirname, join } from 'node:path';
import {
  ResourceType,
  type Layer,
  type LCOWCombinedLayers,
  type LCOWMappedDirectory,
  type LCOWMappedVirtualDisk,
  type LCOWMappedVPMemDevice,
  type ModificationRequest,
} from '../gcs/protocol/index.js';
import { mountScsi, mountVPMem, unmountPath } from './disks.js';
import { failed, invalidArg, notImpl } from './errors.js';
import { logTeardown, type GuestLogger } from './log.js';
import { bindMount, isMountPoint, mountPointsUnder, overlayMount, prepareTarget, rbindMount, unmount } from './mounts.js';
import type { VmPaths } from './vm-paths.js';

type Settings = Record<string, unknown>;

const num = (v: unknown, what: string): number => {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidArg(`${what} must be an integer`);
  return v;
};

export class VmModifier {
  constructor(
    private readonly paths: VmPaths,
    private readonly log: GuestLogger,
  ) {}

  async apply(req: ModificationRequest): Promise<void> {
    const type = req.RequestType || 'Add';
    if (type !== 'Add' && type !== 'Remove' && type !== 'Update' && type !== 'PreAdd') {
      throw invalidArg(`invalid RequestType ${JSON.stringify(type)}`);
    }
    const settings = (req.Settings ?? {}) as Settings;
    if (typeof settings !== 'object' || Array.isArray(settings)) throw invalidArg('Settings must be an object');
    const remove = type === 'Remove';
    switch (req.ResourceType) {
      case ResourceType.MappedDirectory:
        return remove ? this.removeMappedDirectory(settings['MountPath']) : this.addMappedDirectory(settings as LCOWMappedDirectory);
      case ResourceType.MappedVirtualDisk:
        if (!settings['MountPath']) return; // attach only; nothing to mount
        return remove ? unmountPath(this.paths, this.log, settings['MountPath'], 'MountPath') : this.addMappedVirtualDisk(settings as LCOWMappedVirtualDisk);
      case ResourceType.VPMemDevice: {
        const s = settings as LCOWMappedVPMemDevice;
        if (remove) return unmountPath(this.paths, this.log, s.MountPath, 'MountPath');
        if (s.MappingInfo) throw notImpl('VPMem multi-mapping (MappingInfo) is not supported by the emulated utility VM');
        return mountVPMem(this.paths, this.log, num(s.DeviceNumber, 'DeviceNumber'), s.MountPath);
      }
      case ResourceType.CombinedLayers:
        return remove ? unmountPath(this.paths, this.log, settings['ContainerRootPath'], 'ContainerRootPath') : this.addCombinedLayers(settings as LCOWCombinedLayers);
      case ResourceType.SCSIDevice:
      case ResourceType.Network:
      case ResourceType.PodCgroupMemoryLimit:
        this.log.info('modify request accepted without effect in the emulated VM', { resourceType: req.ResourceType, requestType: type });
        return;
      case ResourceType.VPCIDevice:
      case ResourceType.SecurityPolicy:
      case ResourceType.SecurityPolicyFragment:
        throw notImpl(`${req.ResourceType} is not supported by the emulated utility VM`);
      case ResourceType.ContainerConstraints:
        throw failed('ContainerConstraints must name a container');
      default:
        throw failed(`invalid ResourceType ${JSON.stringify(req.ResourceType)}`);
    }
  }

  /**
   * The share's own mounts below MountPath (the emulator's views have some) first, then UnmountPath, which is
   * told whether MountPath is a mount point from the same read of the mount table (its check after the
   * unmount still reads it again).
   */
  private async removeMappedDirectory(mountPath: unknown): Promise<void> {
    const target = this.paths.hostPath(mountPath, 'MountPath');
    const points = await mountPointsUnder(target);
    for (const mp of points) if (mp !== target) await unmount(mp);
    await unmountPath(this.paths, this.log, mountPath, 'MountPath', points.includes(target));
  }

  /** The real path behind one of the emulator's device symlinks. */
  private async resolveDevice(link: string, what: string): Promise<{ path: string; dir: boolean }> {
    try {
      const path = await realpath(link);
      return { path, dir: (await stat(path)).isDirectory() };
    } catch (err) {
      throw failed(`${what}: ${link} does not lead to an existing file or directory`, err);
    }
  }

  private async addMappedDirectory(s: LCOWMappedDirectory): Promise<void> {
    const what = `Plan9 share ${JSON.stringify(s.ShareName)}`;
    const dev = await this.resolveDevice(this.paths.plan9Link(s.ShareName), what);
    if (!dev.dir) throw failed(`${what}: ${dev.path} is not a directory (a 9p share is one)`);
    const mountPath = this.paths.hostPath(s.MountPath, 'MountPath');
    if (this.paths.insideRootfs(mountPath)) mkdirSync(mountPath, { recursive: true, mode: 0o700 }); // plan9.Mount: MkdirAll(target, 0700); in the VM's own dir, so synchronous as prepareTarget
    const target = await prepareTarget(this.paths, mountPath);
    try {
      await rbindMount(dev.path, target, s.ReadOnly === true, this.log);
    } catch (err) {
      if (!(await isMountPoint(target))) await rm(target, { recursive: true, force: true }).catch(logTeardown(this.log, 'removing the target of a failed Plan9 mount', { target }));
      throw err;
    }
    this.log.info('mapped directory', { share: s.ShareName, source: dev.path, target, readOnly: s.ReadOnly === true });
  }

  private async addMappedVirtualDisk(s: LCOWMappedVirtualDisk): Promise<void> {
    if (s.Encrypted) throw notImpl('encrypted SCSI disks are not supported by the emulated utility VM');
    if (s.BlockDev) throw notImpl('BlockDev SCSI mounts are not supported by the emulated utility VM');
    if (s.Partition) throw notImpl('SCSI partitions are not supported by the emulated utility VM');
    const options = s.Options ?? [];
    if (!Array.isArray(options) || options.some((o) => typeof o !== 'string')) throw invalidArg('Options must be an array of strings');
    await mountScsi(this.paths, this.log, {
      controller: num(s.Controller, 'Controller'), lun: num(s.Lun, 'Lun'), mountPath: s.MountPath,
      readOnly: s.ReadOnly === true, options, ensureFilesystem: s.EnsureFilesystem === true, filesystem: s.Filesystem ?? '',
    });
  }

  private async addCombinedLayers(s: LCOWCombinedLayers): Promise<void> {
    const layers = s.Layers ?? [];
    if (!Array.isArray(layers) || layers.length === 0) throw invalidArg('CombinedLayers needs at least one layer');
    const lower = layers.map((l: Layer, i) => this.paths.hostPath(l?.Path, `Layers[${i}].Path`));
    const target = await prepareTarget(this.paths, this.paths.hostPath(s.ContainerRootPath, 'ContainerRootPath'));
    if (s.ScratchPath) {
      const scratch = await prepareTarget(this.paths, this.paths.hostPath(s.ScratchPath, 'ScratchPath'));
      const upper = join(scratch, 'upper');
      const work = join(scratch, 'work');
      await mkdir(upper, { recursive: true, mode: 0o755 });
      await mkdir(work, { recursive: true, mode: 0o755 });
      const bundle = dirname(target);
      const bindBundle = !(scratch === bundle || scratch.startsWith(`${bundle}/`));
      if (bindBundle) {
        const backing = join(scratch, 'bundle');
        await mkdir(backing, { recursive: true, mode: 0o755 });
        await bindMount(backing, bundle, false, this.log);
        await prepareTarget(this.paths, target);
      }
      try {
        await overlayMount(lower, upper, work, target);
      } catch (err) {
        if (bindBundle) await unmount(bundle).catch(logTeardown(this.log, 'unmounting the bundle bind of a failed overlay', { bundle }));
        throw err;
      }
    } else if (lower.length === 1) {
      await bindMount(lower[0]!, target, true, this.log);
    } else {
      await overlayMount(lower, undefined, undefined, target);
    }
    this.log.info('combined layers', { target, layers: lower.length, scratch: s.ScratchPath ?? '' });
  }
}
