import { invalidArgument } from '../errdefs/index.js';
import { isGuid } from '../transport/index.js';
import { PreferredRootFSType, type OptionsLCOW } from '../uvm/index.js';
import type { RuntimeOptions } from './types.js';

/** hcsshim's utility-VM annotation keys (pkg/annotations) that map onto CreateLCOW options. */
const VM = 'io.microsoft.virtualmachine';
export const Annotation = {
  MemorySizeInMB: `${VM}.computetopology.memory.sizeinmb`,
  AllowOvercommit: `${VM}.computetopology.memory.allowovercommit`,
  EnableDeferredCommit: `${VM}.computetopology.memory.enabledeferredcommit`,
  EnableColdDiscardHint: `${VM}.computetopology.memory.enablecolddiscardhint`,
  LowMMIOGapInMB: `${VM}.computetopology.memory.lowmmiogapinmb`,
  HighMMIOBaseInMB: `${VM}.computetopology.memory.highmmiobaseinmb`,
  HighMMIOGapInMB: `${VM}.computetopology.memory.highmmiogapinmb`,
  ProcessorCount: `${VM}.computetopology.processor.count`,
  ProcessorLimit: `${VM}.computetopology.processor.limit`,
  ProcessorWeight: `${VM}.computetopology.processor.weight`,
  FullyPhysicallyBacked: `${VM}.fullyphysicallybacked`,
  BootFilesRootPath: `${VM}.bootfilesrootpath`,
  KernelDirectBoot: `${VM}.lcow.kerneldirectboot`,
  PreferredRootFSType: `${VM}.lcow.preferredrootfstype`,
  KernelBootOptions: `${VM}.lcow.kernelbootoptions`,
  VPCIEnabled: `${VM}.lcow.vpcienabled`,
  VPMemCount: `${VM}.devices.virtualpmem.maximumcount`,
  VPMemSize: `${VM}.devices.virtualpmem.maximumsizebytes`,
  ConsolePipe: `${VM}.console.pipe`,
  StorageQoSIopsMaximum: `${VM}.storageqos.iopsmaximum`,
  StorageQoSBandwidthMaximum: `${VM}.storageqos.bandwidthmaximum`,
  CPUGroupID: `${VM}.cpugroup.id`,
  ResourcePartitionID: `${VM}.resource-partition-id`,
  /** The ncproxy address (runtime option NCProxyAddr is its default). */
  NetworkConfigProxy: 'io.microsoft.network.ncproxy',
} as const;

type Parser = (value: string, key: string) => unknown;

const bool: Parser = (v, key) => {
  const l = v.trim().toLowerCase();
  if (l === 'true' || l === '1') return true;
  if (l === 'false' || l === '0') return false;
  throw invalidArgument(`annotation ${key}: '${v}' is not a boolean (true or false)`);
};

const uint =
  (max = Number.MAX_SAFE_INTEGER): Parser =>
  (v, key) => {
    if (!/^\d+$/.test(v.trim())) throw invalidArgument(`annotation ${key}: '${v}' is not a non-negative integer`);
    const n = Number(v.trim());
    if (n > max) throw invalidArgument(`annotation ${key}: ${n} is larger than ${max}`);
    return n;
  };

const str: Parser = (v) => v;

const rootfsType: Parser = (v, key) => {
  const l = v.trim().toLowerCase();
  if (l === 'initrd') return PreferredRootFSType.InitRd;
  if (l === 'vhd') return PreferredRootFSType.VHD;
  throw invalidArgument(`annotation ${key}: '${v}' is not a root filesystem type (initrd or vhd)`);
};

/** hcsshim ParseAnnotationsGUID: a GUID, or an error (not a default). */
const guid: Parser = (v, key) => {
  const t = v.trim();
  if (!isGuid(t)) throw invalidArgument(`annotation ${key}: '${v}' is not a GUID`);
  return t.toLowerCase();
};

/** annotation key → [option, parser] */
const TABLE: ReadonlyArray<readonly [string, keyof OptionsLCOW, Parser]> = [
  [Annotation.MemorySizeInMB, 'MemorySizeInMB', uint(2 ** 31 - 1)],
  [Annotation.AllowOvercommit, 'AllowOvercommit', bool],
  [Annotation.EnableDeferredCommit, 'EnableDeferredCommit', bool],
  [Annotation.EnableColdDiscardHint, 'EnableColdDiscardHint', bool],
  [Annotation.LowMMIOGapInMB, 'LowMMIOGapInMB', uint()],
  [Annotation.HighMMIOBaseInMB, 'HighMMIOBaseInMB', uint()],
  [Annotation.HighMMIOGapInMB, 'HighMMIOGapInMB', uint()],
  [Annotation.ProcessorCount, 'ProcessorCount', uint(2 ** 31 - 1)],
  [Annotation.ProcessorLimit, 'ProcessorLimit', uint(100000)],
  [Annotation.ProcessorWeight, 'ProcessorWeight', uint(10000)],
  [Annotation.FullyPhysicallyBacked, 'FullyPhysicallyBacked', bool],
  [Annotation.BootFilesRootPath, 'BootFilesPath', str],
  [Annotation.KernelDirectBoot, 'KernelDirect', bool],
  [Annotation.PreferredRootFSType, 'PreferredRootFSType', rootfsType],
  [Annotation.KernelBootOptions, 'KernelBootOptions', str],
  [Annotation.VPCIEnabled, 'VPCIEnabled', bool],
  [Annotation.VPMemCount, 'VPMemDeviceCount', uint(128)],
  [Annotation.VPMemSize, 'VPMemSizeBytes', uint()],
  [Annotation.ConsolePipe, 'ConsolePipe', str],
  [Annotation.StorageQoSIopsMaximum, 'StorageQoSIopsMaximum', uint(2 ** 31 - 1)],
  [Annotation.StorageQoSBandwidthMaximum, 'StorageQoSBandwidthMaximum', uint(2 ** 31 - 1)],
  [Annotation.CPUGroupID, 'CPUGroupID', str],
  [Annotation.ResourcePartitionID, 'ResourcePartitionID', guid],
  [Annotation.NetworkConfigProxy, 'NetworkConfigProxy', str],
];

/**
 * The annotations in force: the spec's, plus the runtime options' defaults where the spec has none
 * (default_container_annotations, boot_files_root_path, vm_processor_count, vm_memory_size_in_mb,
 * NCProxyAddr), then spec.windows.resources (cpu count/maximum/shares, memory limit in bytes → MB,
 * storage iops/bps) where neither says anything, as runhcs.
 */
export function effectiveAnnotations(spec: Readonly<Record<string, string>>, o: RuntimeOptions, windows?: unknown): Record<string, string> {
  const out: Record<string, string> = { ...(o.defaultContainerAnnotations ?? {}), ...spec };
  const fallback = (key: string, value: string | number | undefined): void => {
    if (value !== undefined && value !== '' && out[key] === undefined) out[key] = String(value);
  };
  fallback(Annotation.BootFilesRootPath, o.bootFilesRootPath);
  fallback(Annotation.ProcessorCount, o.vmProcessorCount);
  fallback(Annotation.MemorySizeInMB, o.vmMemorySizeInMB);
  fallback(Annotation.NetworkConfigProxy, o.ncProxyAddr);
  // Last, runhcs's fallback to spec.windows.resources for the VM's size and QoS (ParseAnnotationsCPUCount …).
  const r = obj(obj(windows).resources);
  const positive = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);
  const cpu = obj(r.cpu);
  fallback(Annotation.ProcessorCount, positive(cpu.count));
  fallback(Annotation.ProcessorLimit, positive(cpu.maximum));
  fallback(Annotation.ProcessorWeight, positive(cpu.shares));
  const limit = positive(obj(r.memory).limit);
  fallback(Annotation.MemorySizeInMB, limit === undefined ? undefined : Math.floor(limit / 1024 / 1024) || undefined);
  const storage = obj(r.storage);
  fallback(Annotation.StorageQoSIopsMaximum, positive(storage.iops));
  fallback(Annotation.StorageQoSBandwidthMaximum, positive(storage.bps));
  return out;
}

const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** CreateLCOW options from annotations; a bad value is an InvalidArgument naming the annotation. */
export function uvmOptionsFromAnnotations(annotations: Readonly<Record<string, string>>): Partial<OptionsLCOW> {
  const out: Record<string, unknown> = {};
  for (const [key, option, parse] of TABLE) {
    const value = annotations[key];
    if (value !== undefined) out[option] = parse(value, key);
  }
  // hcsshim: a fully physically backed VM has no VPMem and no overcommit.
  if (out.FullyPhysicallyBacked === true) {
    out.VPMemDeviceCount = 0;
    out.AllowOvercommit = false;
  }
  return out as Partial<OptionsLCOW>;
}
