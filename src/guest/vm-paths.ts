/**
 * Where things live in the emulated utility VM (the contract in the project's EMULATED-VM notes):
 *   <vmDir>/rootfs/            the guest's "/" — a guest path P means <vmDir>/rootfs/P on the real host
 *   <vmDir>/vsock/<port>.sock  host listeners the guest dials (GCS 1073741824, entropy, stdio ports)
 *   <vmDir>/plan9/<name>       symlink to the host directory of a Plan9 share
 *   <vmDir>/scsi/<c>-<lun>     symlink to the block device (or host directory / image file) of a SCSI attachment
 *   <vmDir>/vpmem/<n>          symlink to the block device of VPMem device n (/dev/pmem<n> in a real VM)
 *   <vmDir>/runc/              runc --root (container state of this VM only)
 *   <vmDir>/bin/               the VM's own executables, first on a VM process's PATH (`runc` with this VM's root)
 *   <vmDir>/guest/             the agent's private scratch (process files, runc logs)
 * Everything the host names is validated here: guest paths must be absolute with no `..` segment, ids and
 * share names are single path components. The guest never writes outside <vmDir>.
 */
import { posix } from 'node:path';
import { invalidArg } from './errors.js';

/** Container ids: what runc accepts, at most 128 characters, never "." or "..". */
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$/;
const NAME_RE = /^[A-Za-z0-9_.+-]{1,255}$/;

export function validateContainerId(id: unknown): string {
  if (typeof id !== 'string' || !ID_RE.test(id) || id === '.' || id === '..') {
    throw invalidArg(`invalid container id ${JSON.stringify(id)}: want 1-128 characters of [A-Za-z0-9_.+-], not starting with a symbol`);
  }
  return id;
}

/** Checks an absolute guest path: no NUL, no `..` segment. Returns it normalized (no trailing slash). */
export function validateGuestPath(path: unknown, what: string): string {
  if (typeof path !== 'string' || path === '') throw invalidArg(`${what}: a guest path is required`);
  if (!path.startsWith('/')) throw invalidArg(`${what}: guest path ${JSON.stringify(path)} is not absolute`);
  if (path.includes('\0')) throw invalidArg(`${what}: guest path contains a NUL byte`);
  if (path.split('/').includes('..')) throw invalidArg(`${what}: guest path ${JSON.stringify(path)} contains a ".." segment`);
  const norm = posix.normalize(path);
  return norm.length > 1 ? norm.replace(/\/+$/, '') : norm;
}

export class VmPaths {
  readonly vmDir: string;
  readonly rootfs: string;
  readonly vsockDir: string;
  readonly plan9Dir: string;
  readonly scsiDir: string;
  readonly vpmemDir: string;
  readonly runcRoot: string;
  readonly vmBin: string;
  readonly scratch: string;

  constructor(vmDir: string) {
    if (!vmDir.startsWith('/')) throw invalidArg(`VM directory ${JSON.stringify(vmDir)} is not absolute`);
    this.vmDir = posix.normalize(vmDir).replace(/(.)\/+$/, '$1');
    this.rootfs = posix.join(this.vmDir, 'rootfs');
    this.vsockDir = posix.join(this.vmDir, 'vsock');
    this.plan9Dir = posix.join(this.vmDir, 'plan9');
    this.scsiDir = posix.join(this.vmDir, 'scsi');
    this.vpmemDir = posix.join(this.vmDir, 'vpmem');
    this.runcRoot = posix.join(this.vmDir, 'runc');
    this.vmBin = posix.join(this.vmDir, 'bin');
    this.scratch = posix.join(this.vmDir, 'guest');
  }

  /** The unix socket standing in for host vsock port `port`. */
  vsockPath(port: number): string {
    if (!Number.isInteger(port) || port <= 0 || port > 0xffffffff) throw invalidArg(`invalid vsock port ${port}`);
    return posix.join(this.vsockDir, `${port}.sock`);
  }

  /** The real host path of a guest path (validated). */
  hostPath(guestPath: unknown, what: string): string {
    const p = validateGuestPath(guestPath, what);
    return p === '/' ? this.rootfs : this.rootfs + p;
  }

  /** True when `hostPath` is the VM root or below it (string test on normalized paths). */
  insideRootfs(hostPath: string): boolean {
    const p = posix.normalize(hostPath);
    return p === this.rootfs || p.startsWith(this.rootfs + '/');
  }

  plan9Link(shareName: unknown): string {
    if (typeof shareName !== 'string' || !NAME_RE.test(shareName) || shareName === '.' || shareName === '..') {
      throw invalidArg(`invalid Plan9 share name ${JSON.stringify(shareName)}`);
    }
    return posix.join(this.plan9Dir, shareName);
  }

  scsiLink(controller: number, lun: number): string {
    if (!Number.isInteger(controller) || controller < 0 || controller > 255) throw invalidArg(`invalid SCSI controller ${controller}`);
    if (!Number.isInteger(lun) || lun < 0 || lun > 255) throw invalidArg(`invalid SCSI lun ${lun}`);
    return posix.join(this.scsiDir, `${controller}-${lun}`);
  }

  /** The bundle directory of a container: <rootfs>/run/gcs/c/<id>. */
  vpmemLink(device: number): string {
    if (!Number.isInteger(device) || device < 0 || device > 127) throw invalidArg(`invalid VPMem device number ${device}`);
    return posix.join(this.vpmemDir, String(device));
  }

  bundleDir(id: string): string {
    return posix.join(this.rootfs, 'run/gcs/c', validateContainerId(id));
  }
}
