/**
 * An image rootfs inside the utility VM (hcsshim internal/layers MountLCOWLayers).
 * Acquire, in order:
 *   1. each read-only layer (top-most first): VPMem (/run/layers/p<n>); SCSI read-only
 *      (/run/mounts/scsi/m<n>) when VPMem is full, the file too large, the VM's devices are physically
 *      backed, or the layer names a partition
 *   2. the scratch (sandbox.vhdx): SCSI read-write mounted at the container's guest root
 *      (/run/gcs/c/<id>), EnsureFilesystem ext4
 *   3. CombinedLayers: overlay of the layers with <root>/scratch/<id>/{upper,work} at <root>/rootfs
 * Release in reverse: RemoveCombinedLayers, the scratch, then the layers (last acquired first). Every
 * step runs even if an earlier one failed; the first error is thrown after all ran. The GCS's
 * DeleteContainerState must come after this release: it removes the bundle dir without unmounting.
 */
import { Field, logTeardown, type Logger } from '../log/index.js';
import {
  VPMemFullError, VPMemTooLargeError, type GuestModifier, type ScsiManager, type VPMemManager,
} from '../uvm/index.js';
import type { LcowLayers } from './types.js';

export interface LayerDevices {
  readonly vpmem: VPMemManager | undefined;
  readonly scsi: ScsiManager;
  readonly guest: GuestModifier;
  /** hcsshim DevicesPhysicallyBacked: never VPMem. */
  readonly physicallyBacked: boolean;
}

export interface MountedLayers {
  /** The container's root filesystem in the guest (<guestRoot>/rootfs). */
  readonly rootfs: string;
  /** The container's scratch directory in the guest (Create's ScratchDirPath). */
  readonly scratchDir: string;
  release(): Promise<void>;
}

type Release = () => Promise<void>;

async function releaseAll(steps: readonly Release[], log: Logger): Promise<void> {
  let first: unknown;
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      log.error('releasing an LCOW layer resource failed', { error: (err as Error).message });
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}

async function addLayer(d: LayerDevices, vhdPath: string, partition: number): Promise<{ guestPath: string; release: Release }> {
  if (d.vpmem && !d.physicallyBacked && partition === 0) {
    try {
      const m = await d.vpmem.add(vhdPath);
      return { guestPath: m.guestPath, release: () => m.release() };
    } catch (err) {
      if (!(err instanceof VPMemFullError) && !(err instanceof VPMemTooLargeError)) throw err;
    }
  }
  if (partition !== 0) throw new Error(`layer ${vhdPath}: partition ${partition} is not supported (MappedVirtualDisk Partition)`);
  const m = await d.scsi.addVirtualDisk(vhdPath, true, undefined, { options: ['ro'] });
  return { guestPath: m.guestPath, release: () => m.release() };
}

export async function mountLcowLayers(d: LayerDevices, containerId: string, layers: LcowLayers, guestRoot: string, log: Logger): Promise<MountedLayers> {
  const undo: Release[] = [];
  try {
    const paths: string[] = [];
    for (const l of layers.layers) {
      const added = await addLayer(d, l.vhdPath, l.partition);
      undo.unshift(added.release);
      paths.push(added.guestPath);
      log.debug('added LCOW layer', { layer: l.vhdPath, guestPath: added.guestPath });
    }
    const scratch = await d.scsi.addVirtualDisk(layers.scratchVhdPath, false, guestRoot, { ensureFilesystem: true, filesystem: 'ext4' });
    undo.unshift(() => scratch.release());
    const scratchDir = `${scratch.guestPath}/scratch/${containerId}`;
    const rootfs = `${guestRoot}/rootfs`;
    await d.guest.modifySettings({
      ResourceType: 'CombinedLayers',
      RequestType: 'Add',
      Settings: { ContainerID: containerId, ContainerRootPath: rootfs, Layers: paths.map((Path) => ({ Path })), ScratchPath: scratchDir },
    });
    undo.unshift(() => d.guest.modifySettings({ ResourceType: 'CombinedLayers', RequestType: 'Remove', Settings: { ContainerRootPath: rootfs } }));
    let released: Promise<void> | undefined;
    return { rootfs, scratchDir, release: () => (released ??= releaseAll(undo, log)) };
  } catch (err) {
    await releaseAll(undo, log).catch(logTeardown(log, 'releasing the layers of a failed create', { [Field.ContainerId]: containerId }));
    throw err;
  }
}
