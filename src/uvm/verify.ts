import { invalidArgument, notFound, type ShimError } from '../errdefs/index.js';
import type { HostInfo } from '../hcs/index.js';
import {
  ColdDiscardHintMinBuild,
  CpuGroupCreateMinBuild,
  KernelDirectMinBuild,
  MaxSCSIControllers,
  MaxVPMEMCount,
  VPMemSizeAlignment,
} from './constants.js';
import type { HostFacts } from './host-facts.js';
import { joinHostPath } from './host-path.js';
import { PreferredRootFSType, type OptionsLCOW } from './options.js';

/** hcsshim wraps every verify failure in errBadUVMOpts; we keep its text as the prefix. */
const bad = (what: string): ShimError => invalidArgument(`UVM options incorrect: ${what}`);

/** Numeric options and the largest value their Go type holds. */
const NUMERIC: ReadonlyArray<readonly [keyof OptionsLCOW, number]> = [
  ['MemorySizeInMB', Number.MAX_SAFE_INTEGER],
  ['LowMMIOGapInMB', Number.MAX_SAFE_INTEGER],
  ['HighMMIOBaseInMB', Number.MAX_SAFE_INTEGER],
  ['HighMMIOGapInMB', Number.MAX_SAFE_INTEGER],
  ['ProcessorCount', 0x7fffffff],
  ['ProcessorLimit', 0x7fffffff],
  ['ProcessorWeight', 0x7fffffff],
  ['StorageQoSIopsMaximum', 0x7fffffff],
  ['StorageQoSBandwidthMaximum', 0x7fffffff],
  ['SCSIControllerCount', 0xffffffff],
  ['VPMemDeviceCount', 0xffffffff],
  ['VPMemSizeBytes', Number.MAX_SAFE_INTEGER],
];

/**
 * Checks the options against each other and the host (hcsshim's verifyOptions, LCOW branch, plus the
 * build gate on CPU groups that CreateLCOW applies, and sanity checks on numbers our callers could get
 * wrong in ways Go's types rule out). Throws InvalidArgument naming the option and its value.
 */
export function verifyOptions(opts: OptionsLCOW, host: HostInfo): void {
  for (const [key, max] of NUMERIC) {
    const v = opts[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
      throw bad(`${key}=${String(v)}: must be an integer in 0..${max}`);
    }
  }
  if (opts.MemorySizeInMB < 1) throw bad(`MemorySizeInMB=${opts.MemorySizeInMB}: must be at least 1`);
  if (opts.ProcessorCount < 1) throw bad(`ProcessorCount=${opts.ProcessorCount}: must be at least 1`);
  if (opts.PreferredRootFSType !== PreferredRootFSType.InitRd && opts.PreferredRootFSType !== PreferredRootFSType.VHD) {
    throw bad(`PreferredRootFSType=${String(opts.PreferredRootFSType)}: must be 0 (initrd) or 1 (VHD)`);
  }
  if (opts.EnableDeferredCommit && !opts.AllowOvercommit) {
    throw bad('EnableDeferredCommit=true is not supported on physically backed VMs (AllowOvercommit=false)');
  }
  if (opts.SCSIControllerCount > MaxSCSIControllers) {
    throw bad(`SCSIControllerCount=${opts.SCSIControllerCount}: must be 0 or ${MaxSCSIControllers}`);
  }
  if (opts.VPMemDeviceCount > MaxVPMEMCount) {
    throw bad(`VPMemDeviceCount=${opts.VPMemDeviceCount}: cannot be greater than ${MaxVPMEMCount}`);
  }
  if (opts.VPMemDeviceCount > 0 && opts.VPMemSizeBytes % VPMemSizeAlignment !== 0) {
    throw bad(`VPMemSizeBytes=${opts.VPMemSizeBytes}: must be a multiple of ${VPMemSizeAlignment}`);
  }
  if (opts.VPMemDeviceCount === 0 && opts.PreferredRootFSType === PreferredRootFSType.VHD) {
    throw bad('PreferredRootFSType=VHD requires at least one VPMem device (VPMemDeviceCount=0)');
  }
  if (opts.KernelDirect && host.osBuild < KernelDirectMinBuild) {
    throw bad(`KernelDirect=true is not supported on builds older than ${KernelDirectMinBuild} (host build ${host.osBuild})`);
  }
  if (opts.EnableColdDiscardHint && host.osBuild < ColdDiscardHintMinBuild) {
    throw bad(
      `EnableColdDiscardHint=true is not supported on builds older than ${ColdDiscardHintMinBuild} (host build ${host.osBuild})`,
    );
  }
  if (opts.CPUGroupID !== '' && opts.ResourcePartitionID !== '') {
    throw bad(
      `CPUGroupID=${JSON.stringify(opts.CPUGroupID)} and ResourcePartitionID=${JSON.stringify(opts.ResourcePartitionID)} are mutually exclusive`,
    );
  }
  if (opts.CPUGroupID !== '' && host.osBuild < CpuGroupCreateMinBuild) {
    throw bad(
      `CPUGroupID=${JSON.stringify(opts.CPUGroupID)}: cpu group assignment on create requires a build of ${CpuGroupCreateMinBuild} or higher (host build ${host.osBuild})`,
    );
  }
  if (host.arch === 'arm64' && opts.VPMemDeviceCount !== 0) {
    throw bad(`VPMemDeviceCount=${opts.VPMemDeviceCount}: must be 0 on arm64 hosts (no VPMem)`);
  }
}

/** Full host paths of the kernel and the root filesystem. */
export function bootFilePaths(opts: OptionsLCOW, host: HostInfo): { kernel: string; rootfs: string } {
  return {
    kernel: joinHostPath(host.pathFlavour, opts.BootFilesPath, opts.KernelFile),
    rootfs: joinHostPath(host.pathFlavour, opts.BootFilesPath, opts.RootFSFile),
  };
}

/** Fails (NotFound) when the kernel or the root filesystem is missing, in the seed's words. */
export function checkBootFiles(opts: OptionsLCOW, host: HostInfo, exists: HostFacts['exists']): void {
  const { kernel, rootfs } = bootFilePaths(opts, host);
  if (!exists(kernel)) throw notFound(`kernel: '${kernel}' not found`);
  if (!exists(rootfs)) throw notFound(`boot file: '${rootfs}' not found`);
}
