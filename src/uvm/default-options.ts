import { normalizeLevel, rootLogger } from '../log/index.js';
import { randomUUID } from '../random/index.js';
import {
  DefaultVPMEMCount,
  DefaultVPMemSizeBytes,
  InitrdFile,
  KernelDirectMinBuild,
  KernelFile,
  LinuxBootFilesDir,
  UncompressedKernelFile,
  VhdFile,
} from './constants.js';
import type { HostFacts } from './host-facts.js';
import { hostBasename, hostDirname, joinHostPath } from './host-path.js';
import { PreferredRootFSType, type OptionsLCOW } from './options.js';

/** logrus' names for our levels (the guest GCS takes logrus names on its command line). */
const LOGRUS_LEVEL = { error: 'error', warn: 'warning', info: 'info', debug: 'debug', trace: 'trace' } as const;

/** The command init runs by default: the GCS, logging JSON at the host's level. */
export function defaultExecCommandLine(logLevel: string): string {
  return `/bin/gcs -v4 -log-format json -loglevel ${LOGRUS_LEVEL[normalizeLevel(logLevel)]}`;
}

/**
 * Where the boot files are looked for: `LinuxBootFiles` beside the executable if it exists, else
 * `%ProgramFiles%\Linux Containers` (always a Windows path: that is where the LCOW package installs).
 */
export function defaultLCOWOSBootFilesPath(host: HostFacts): string {
  const flavour = host.info.pathFlavour;
  const local = joinHostPath(flavour, hostDirname(flavour, host.executablePath), LinuxBootFilesDir);
  if (host.exists(local)) return local;
  return joinHostPath('windows', host.programFiles || 'C:\\Program Files', 'Linux Containers');
}

/**
 * The default options for a bootable LCOW UVM (hcsshim's NewDefaultOptionsLCOW + newDefaultOptions).
 * `id` empty → a new v4 UUID; `owner` empty → the executable's base name. Looks at the boot files:
 * a `rootfs.vhd` there is preferred over `initrd.img`, and with KernelDirect a `vmlinux` over `kernel`.
 * `logLevel` (default: the root logger's) is passed to the guest GCS.
 */
export function newDefaultOptionsLCOW(id: string, owner: string, host: HostFacts, logLevel?: string): OptionsLCOW {
  const { osBuild, logicalProcessors, arch, pathFlavour } = host.info;
  // arm64 Hyper-V has neither VPMem nor direct kernel boot (hcs-and-uvm.md §7.1).
  const kernelDirect = osBuild >= KernelDirectMinBuild && arch !== 'arm64';
  const opts: OptionsLCOW = {
    ID: id || randomUUID(),
    Owner: owner || hostBasename(pathFlavour, host.executablePath),
    MemorySizeInMB: 1024,
    LowMMIOGapInMB: 0,
    HighMMIOBaseInMB: 0,
    HighMMIOGapInMB: 0,
    AllowOvercommit: true,
    EnableDeferredCommit: false,
    FullyPhysicallyBacked: false,
    ProcessorCount: logicalProcessors === 1 ? 1 : 2,
    ProcessorLimit: 0,
    ProcessorWeight: 0,
    StorageQoSIopsMaximum: 0,
    StorageQoSBandwidthMaximum: 0,
    DisableCompartmentNamespace: false,
    CPUGroupID: '',
    ResourcePartitionID: '',
    NetworkConfigProxy: '',
    ExternalGuestConnection: true,
    MaxProcessorsPerNumaNode: 0,
    MaxMemorySizePerNumaNode: 0,
    PreferredPhysicalNumaNodes: [],
    NumaMappedPhysicalNodes: [],
    NumaProcessorCounts: [],
    NumaMemoryBlocksCounts: [],
    AdditionalHyperVConfig: {},
    DumpDirectoryPath: '',
    BootFilesPath: defaultLCOWOSBootFilesPath(host),
    KernelFile,
    KernelDirect: kernelDirect,
    RootFSFile: InitrdFile,
    KernelBootOptions: '',
    EnableGraphicsConsole: false,
    ConsolePipe: '',
    SCSIControllerCount: 1,
    UseGuestConnection: true,
    ExecCommandLine: defaultExecCommandLine(logLevel ?? rootLogger().level),
    ForwardStdout: false,
    ForwardStderr: true,
    VPMemDeviceCount: arch === 'arm64' ? 0 : DefaultVPMEMCount,
    VPMemSizeBytes: DefaultVPMemSizeBytes,
    PreferredRootFSType: PreferredRootFSType.InitRd,
    EnableColdDiscardHint: false,
    VPCIEnabled: false,
    VPMemNoMultiMapping: true,
    EnableScratchEncryption: false,
    ExtraVSockPorts: [],
    WritableOverlayDirs: false,
  };
  // A rootfs.vhd there is preferred (it needs a VPMem device, so arm64 keeps the initrd); with
  // KernelDirect an uncompressed vmlinux is preferred.
  updateBootFilesPath(opts, opts.BootFilesPath, host);
  return opts;
}

/**
 * Points the options at another boot-files folder and redoes the seed's file detection there
 * (`rootfs.vhd` over `initrd.img`; with KernelDirect, `vmlinux` over `kernel`), as hcsshim does for the
 * boot-files annotation.
 */
export function updateBootFilesPath(opts: OptionsLCOW, path: string, host: HostFacts): void {
  const flavour = host.info.pathFlavour;
  opts.BootFilesPath = path;
  if (opts.VPMemDeviceCount > 0 && host.exists(joinHostPath(flavour, path, VhdFile))) {
    opts.RootFSFile = VhdFile;
    opts.PreferredRootFSType = PreferredRootFSType.VHD;
  }
  if (opts.KernelDirect && host.exists(joinHostPath(flavour, path, UncompressedKernelFile))) {
    opts.KernelFile = UncompressedKernelFile;
  }
}
