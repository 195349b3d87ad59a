/**
 * What the host does with each of a container's OCI mounts before the spec goes to the guest (hcsshim
 * internal/hcsoci/resources_lcow.go, allocateLinuxResources). Only the four types runhcs knows are looked at;
 * any other type (proc, tmpfs, a bind given as type "none" + option "rbind", …) goes to the guest as it is.
 *
 *   type                      source                       host                                  guest source
 *   bind                      sandbox://, sandbox-tmp://,  nothing (the GCS resolves it)         unchanged
 *                             uvm://, hugepages://2M/…
 *   bind                      absolute host directory      Plan9 share → /run/gcs/c/<id>/mounts/m<i>  that path
 *   bind                      absolute host file           Plan9 share of its directory with     …/m<i>/<file>
 *                                                          RestrictFileAccess + AllowedFiles=[file]
 *   virtual-disk              host .vhd/.vhdx              SCSI attach (VirtualDisk) + guest mount /run/mounts/scsi/m<n>
 *   physical-disk             host disk                    SCSI attach (PassThru) + guest mount  /run/mounts/scsi/m<n>
 *   extensible-virtual-disk   —                            refused: NotImplemented
 * `i` is the mount's index in spec.mounts (as hcsshim); `ro` among the options (any case) makes the share or
 * disk read-only. A disk mount's type becomes "none" (its options, e.g. rbind, make runc bind it). Refused with
 * a ShimError naming the mount, before anything is shared: an empty source or destination, a relative host
 * path, a directory as a virtual disk, a hugepages:// source that is not `2M/<dir>` (InvalidArgument); a
 * missing host path (NotFound; a physical disk is left to HCS to open); a `blockdev://` destination
 * (NotImplemented: our guest cannot hand a block device to a container).
 */
import { statSync } from 'node:fs';
import { basename, dirname, isAbsolute } from 'node:path';
import { invalidArgument, notFound, notImplemented } from '../errdefs/index.js';

export const MountType = {
  Bind: 'bind',
  PhysicalDisk: 'physical-disk',
  VirtualDisk: 'virtual-disk',
  ExtensibleVirtualDisk: 'extensible-virtual-disk',
} as const;

/** Sources that name something in the utility VM (hcsshim internal/guestpath), resolved by the GCS. */
export const GuestSourcePrefix = {
  Sandbox: 'sandbox://',
  SandboxTmpfs: 'sandbox-tmp://',
  Uvm: 'uvm://',
  HugePages: 'hugepages://',
} as const;
const BLOCK_DEV_PREFIX = 'blockdev://';

/** Where the guest mounts the Plan9 share of mount `i` (hcsshim LCOWMountPathPrefixFmt under the container root). */
export const plan9MountPath = (containerRoot: string, i: number): string => `${containerRoot}/mounts/m${i}`;

export interface OciMount {
  readonly destination?: unknown;
  readonly type?: unknown;
  readonly source?: unknown;
  readonly options?: unknown;
}

export type MountPlan =
  | { readonly kind: 'as-is' }
  | { readonly kind: 'plan9'; readonly hostDir: string; readonly guestPath: string; readonly readOnly: boolean; readonly file?: string }
  | { readonly kind: 'disk'; readonly hostPath: string; readonly readOnly: boolean; readonly passThru: boolean; readonly options: readonly string[] };

const describe = (m: OciMount, i: number): string => `mount ${i} (${JSON.stringify(m.source ?? '')} → ${JSON.stringify(m.destination ?? '')})`;

function optionsOf(m: OciMount, i: number): string[] {
  if (m.options === undefined || m.options === null) return [];
  if (!Array.isArray(m.options) || m.options.some((o) => typeof o !== 'string')) throw invalidArgument(`${describe(m, i)}: options must be strings`);
  return m.options as string[];
}

/** Decides what the host does for mount `i` of container root `containerRoot` (the guest's /run/gcs/c/<id>). */
export function planMount(m: OciMount, i: number, containerRoot: string): MountPlan {
  const type = m.type;
  if (type !== MountType.Bind && type !== MountType.PhysicalDisk && type !== MountType.VirtualDisk && type !== MountType.ExtensibleVirtualDisk) {
    return { kind: 'as-is' };
  }
  const what = describe(m, i);
  if (typeof m.destination !== 'string' || m.destination === '' || typeof m.source !== 'string' || m.source === '') {
    throw invalidArgument(`${what}: a ${type} mount needs both a source and a destination`);
  }
  const options = optionsOf(m, i);
  const readOnly = options.some((o) => o.toLowerCase() === 'ro');
  const source = m.source;
  if (m.destination.startsWith(BLOCK_DEV_PREFIX)) throw notImplemented(`${what}: ${BLOCK_DEV_PREFIX} destinations (a block device in the container) are not supported`);
  if (type === MountType.ExtensibleVirtualDisk) throw notImplemented(`${what}: ${type} mounts are not supported`);
  if (type === MountType.Bind) {
    if (source.startsWith(GuestSourcePrefix.Sandbox) || source.startsWith(GuestSourcePrefix.SandboxTmpfs) || source.startsWith(GuestSourcePrefix.Uvm)) {
      return { kind: 'as-is' };
    }
    if (source.startsWith(GuestSourcePrefix.HugePages)) {
      const parts = source.slice(GuestSourcePrefix.HugePages.length).split('/');
      if (parts.length < 2) throw invalidArgument(`${what}: expected ${GuestSourcePrefix.HugePages}<hugepage-size>/<hugepage-src-location>`);
      if (parts[0] !== '2M') throw invalidArgument(`${what}: only 2M (megabytes) pagesize is supported, got ${JSON.stringify(parts[0])}`);
      return { kind: 'as-is' };
    }
  }
  if (!isAbsolute(source)) throw invalidArgument(`${what}: the host path ${JSON.stringify(source)} is not absolute`);
  // A physical disk (\\.\PHYSICALDRIVE<n> on Windows) is left to HCS to open.
  if (type === MountType.PhysicalDisk) return { kind: 'disk', hostPath: source, readOnly, passThru: true, options };
  let isDir: boolean;
  try {
    isDir = statSync(source).isDirectory();
  } catch (err) {
    throw notFound(`${what}: the host path ${source} does not exist`, err);
  }
  if (type === MountType.VirtualDisk) {
    if (isDir) throw invalidArgument(`${what}: a ${type} source must be a disk image file, ${source} is a directory`);
    return { kind: 'disk', hostPath: source, readOnly, passThru: false, options };
  }
  const guestPath = plan9MountPath(containerRoot, i);
  return isDir
    ? { kind: 'plan9', hostDir: source, guestPath, readOnly }
    : { kind: 'plan9', hostDir: dirname(source), guestPath, readOnly, file: basename(source) };
}
