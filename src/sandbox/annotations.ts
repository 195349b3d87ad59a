import { invalidArgument, notImplemented } from '../errdefs/index.js';
import type { HvSocketServiceConfig } from '../hcs/index.js';
import { isGuid } from '../guid/index.js';
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
  NumaMaxProcessorsPerNode: `${VM}.computetopology.processor.numa.max-processors-per-node`,
  NumaMaxSizePerNode: `${VM}.computetopology.processor.numa.max-size-per-node`,
  NumaPreferredPhysicalNodes: `${VM}.computetopology.numa.preferred-physical-nodes`,
  NumaMappedPhysicalNodes: `${VM}.computetopology.numa.mapped-physical-nodes`,
  NumaCountOfProcessors: `${VM}.computetopology.numa.count-of-processors`,
  NumaCountOfMemoryBlocks: `${VM}.computetopology.numa.count-of-memory-blocks`,
  VPMemNoMultiMapping: `${VM}.lcow.vpmem.nomultimapping`,
  EncryptedScratchDisk: `${VM}.storage.scratch.encrypted`,
  ExtraVSockPorts: `${VM}.lcow.extra-vsock-ports`,
  WritableOverlayDirs: `${VM}.lcow.writable-overlay-directories`,
  DumpDirectoryPath: `${VM}.dump-directory-path`,
  /** Prefix; the rest of the key is the service GUID, the value its HvSocketServiceConfig as JSON. */
  HvSocketServiceTablePrefix: `${VM}.hv-socket.service-table.`,
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

/** hcsshim ParseAnnotationCommaSeparatedUint32/64: `1,2,3` (no spaces); empty = not set. */
const uintList =
  (max: number): Parser =>
  (v, key) =>
    v.split(',').map((part) => {
      if (!/^\d+$/.test(part)) throw invalidArgument(`annotation ${key}: '${v}' is not a comma-separated list of non-negative integers`);
      const n = Number(part);
      if (n > max) throw invalidArgument(`annotation ${key}: ${part} is larger than ${max}`);
      return n;
    });

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

const LISTS = new Set<string>([
  Annotation.NumaPreferredPhysicalNodes, Annotation.NumaMappedPhysicalNodes, Annotation.NumaCountOfProcessors,
  Annotation.NumaCountOfMemoryBlocks, Annotation.ExtraVSockPorts,
]);

const SERVICE_FIELDS: Readonly<Record<keyof HvSocketServiceConfig, 'string' | 'boolean'>> = {
  BindSecurityDescriptor: 'string',
  ConnectSecurityDescriptor: 'string',
  AllowWildcardBinds: 'boolean',
  Disabled: 'boolean',
};

/**
 * hcsshim ParseHVSocketServiceTable: every `…hv-socket.service-table.<GUID>` annotation is one
 * HvSocketServiceConfig (JSON) for that service. runhcs skips a bad GUID or bad JSON with a warning; this
 * shim refuses it (and a field HvSocketServiceConfig does not have, which Go would drop silently).
 */
export function serviceTableFromAnnotations(a: Readonly<Record<string, string>>): Record<string, HvSocketServiceConfig> {
  const out: Record<string, HvSocketServiceConfig> = {};
  for (const [key, value] of Object.entries(a)) {
    if (!key.startsWith(Annotation.HvSocketServiceTablePrefix)) continue;
    const id = key.slice(Annotation.HvSocketServiceTablePrefix.length);
    if (!isGuid(id)) throw invalidArgument(`annotation ${key}: '${id}' is not a GUID`);
    let cfg: unknown;
    try {
      cfg = JSON.parse(value);
    } catch (err) {
      throw invalidArgument(`annotation ${key}: '${value}' is not JSON: ${(err as Error).message}`, err);
    }
    if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) throw invalidArgument(`annotation ${key}: '${value}' is not a JSON object (HvSocketServiceConfig)`);
    for (const [field, v] of Object.entries(cfg)) {
      const want = SERVICE_FIELDS[field as keyof HvSocketServiceConfig];
      if (want === undefined) throw invalidArgument(`annotation ${key}: unknown HvSocketServiceConfig field ${JSON.stringify(field)}`);
      if (typeof v !== want) throw invalidArgument(`annotation ${key}: ${field} must be a ${want}, got ${JSON.stringify(v)}`);
    }
    out[id.toLowerCase()] = cfg as HvSocketServiceConfig;
  }
  return out;
}

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
  [Annotation.NumaMaxProcessorsPerNode, 'MaxProcessorsPerNumaNode', uint(2 ** 32 - 1)],
  [Annotation.NumaMaxSizePerNode, 'MaxMemorySizePerNumaNode', uint()],
  [Annotation.NumaPreferredPhysicalNodes, 'PreferredPhysicalNumaNodes', uintList(2 ** 32 - 1)],
  [Annotation.NumaMappedPhysicalNodes, 'NumaMappedPhysicalNodes', uintList(2 ** 32 - 1)],
  [Annotation.NumaCountOfProcessors, 'NumaProcessorCounts', uintList(2 ** 32 - 1)],
  [Annotation.NumaCountOfMemoryBlocks, 'NumaMemoryBlocksCounts', uintList(Number.MAX_SAFE_INTEGER)],
  [Annotation.VPMemNoMultiMapping, 'VPMemNoMultiMapping', bool],
  [Annotation.EncryptedScratchDisk, 'EnableScratchEncryption', bool],
  [Annotation.ExtraVSockPorts, 'ExtraVSockPorts', uintList(2 ** 32 - 1)],
  [Annotation.WritableOverlayDirs, 'WritableOverlayDirs', bool],
  [Annotation.DumpDirectoryPath, 'DumpDirectoryPath', str],
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
    // hcsshim reads an empty list annotation as "not set".
    if (value !== undefined && !(value === '' && LISTS.has(key))) out[option] = parse(value, key);
  }
  const table = serviceTableFromAnnotations(annotations);
  if (Object.keys(table).length > 0) out.AdditionalHyperVConfig = table;
  if (out.EnableScratchEncryption === true) {
    // The real GCS encrypts a scratch with dm-crypt when its SCSI mount says Encrypted; this shim does not
    // send that yet, and a scratch left in clear text is not what the user asked for.
    throw notImplemented(`annotation ${Annotation.EncryptedScratchDisk}=true: scratch encryption is not implemented by this shim`);
  }
  // hcsshim: a fully physically backed VM has no VPMem and no overcommit.
  if (out.FullyPhysicallyBacked === true) {
    out.VPMemDeviceCount = 0;
    out.AllowOvercommit = false;
  }
  return out as Partial<OptionsLCOW>;
}
