import { invalidArgument } from '../errdefs/index.js';
import { PreferredRootFSType, type OptionsLCOW } from './options.js';

type Kind = 'string' | 'boolean' | 'integer' | 'rootfs' | 'integers' | 'serviceTable';

/** Every option an options file may set, with its JSON type (OutputHandler is `json:"-"` in the seed). */
const KINDS: Readonly<Record<Exclude<keyof OptionsLCOW, 'OutputHandler'>, Kind>> = {
  ID: 'string',
  Owner: 'string',
  MemorySizeInMB: 'integer',
  LowMMIOGapInMB: 'integer',
  HighMMIOBaseInMB: 'integer',
  HighMMIOGapInMB: 'integer',
  AllowOvercommit: 'boolean',
  EnableDeferredCommit: 'boolean',
  FullyPhysicallyBacked: 'boolean',
  ProcessorCount: 'integer',
  ProcessorLimit: 'integer',
  ProcessorWeight: 'integer',
  StorageQoSIopsMaximum: 'integer',
  StorageQoSBandwidthMaximum: 'integer',
  DisableCompartmentNamespace: 'boolean',
  CPUGroupID: 'string',
  ResourcePartitionID: 'string',
  NetworkConfigProxy: 'string',
  ExternalGuestConnection: 'boolean',
  MaxProcessorsPerNumaNode: 'integer',
  MaxMemorySizePerNumaNode: 'integer',
  PreferredPhysicalNumaNodes: 'integers',
  NumaMappedPhysicalNodes: 'integers',
  NumaProcessorCounts: 'integers',
  NumaMemoryBlocksCounts: 'integers',
  AdditionalHyperVConfig: 'serviceTable',
  DumpDirectoryPath: 'string',
  BootFilesPath: 'string',
  KernelFile: 'string',
  KernelDirect: 'boolean',
  RootFSFile: 'string',
  KernelBootOptions: 'string',
  EnableGraphicsConsole: 'boolean',
  ConsolePipe: 'string',
  SCSIControllerCount: 'integer',
  UseGuestConnection: 'boolean',
  ExecCommandLine: 'string',
  ForwardStdout: 'boolean',
  ForwardStderr: 'boolean',
  VPMemDeviceCount: 'integer',
  VPMemSizeBytes: 'integer',
  PreferredRootFSType: 'rootfs',
  EnableColdDiscardHint: 'boolean',
  VPCIEnabled: 'boolean',
  VPMemNoMultiMapping: 'boolean',
  EnableScratchEncryption: 'boolean',
  ExtraVSockPorts: 'integers',
  WritableOverlayDirs: 'boolean',
};

/** The names an options file may use (the seed's PascalCase field names). */
export const OPTION_NAMES: readonly string[] = Object.keys(KINDS);

/**
 * Reads a JSON object of option overrides (PascalCase keys as in the seed). Unknown keys and values of
 * the wrong type throw InvalidArgument naming the key. PreferredRootFSType takes 0/1 (Go's encoding) or
 * "initrd"/"vhd" (any case). Range checks are verifyOptions' job.
 */
export function parseOptionsJson(text: string, source = 'options'): Partial<OptionsLCOW> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`${source}: not valid JSON: ${(err as Error).message}`, err);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidArgument(`${source}: must be a JSON object of options`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!Object.hasOwn(KINDS, key)) {
      const hint = key === 'OutputHandler' ? ' (it cannot be set from a file)' : '';
      throw invalidArgument(`${source}: unknown option ${JSON.stringify(key)}${hint}`);
    }
    out[key] = convert(key, KINDS[key as keyof typeof KINDS], v, source);
  }
  return out as Partial<OptionsLCOW>;
}

function convert(key: string, kind: Kind, v: unknown, source: string): unknown {
  const wrong = (want: string): Error =>
    invalidArgument(`${source}: option ${JSON.stringify(key)} must be ${want}, got ${JSON.stringify(v)}`);
  switch (kind) {
    case 'string':
      if (typeof v !== 'string') throw wrong('a string');
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') throw wrong('a boolean');
      return v;
    case 'integer':
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw wrong('a non-negative integer');
      return v;
    case 'rootfs':
      if (v === 0 || (typeof v === 'string' && v.toLowerCase() === 'initrd')) return PreferredRootFSType.InitRd;
      if (v === 1 || (typeof v === 'string' && v.toLowerCase() === 'vhd')) return PreferredRootFSType.VHD;
      throw wrong('0, 1, "initrd" or "vhd"');
    case 'integers':
      if (!Array.isArray(v) || !v.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)) throw wrong('an array of non-negative integers');
      return v;
    case 'serviceTable':
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw wrong('an object of service GUID → HvSocketServiceConfig');
      return v;
  }
}
