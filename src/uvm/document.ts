import type { ComputeSystem, Devices, HostInfo, HvSocketServiceConfig, Processor, VirtualMachine } from '../hcs/index.js';
import { vsockServiceId } from '../transport/index.js';
import { HvSocketDefaultBindSecurityDescriptor } from './constants.js';
import { hostExtension } from './host-path.js';
import { kernelCommandLine } from './kernel-cmdline.js';
import { vNumaTopology } from './numa.js';
import { normalizeMemorySize, normalizeProcessorCount, type UvmWarning } from './normalize.js';
import { PreferredRootFSType, type OptionsLCOW } from './options.js';
import { bootFilePaths, verifyOptions } from './verify.js';

/** The document CreateLCOW submits, with what was derived on the way. */
export interface LcowDocument {
  readonly document: ComputeSystem;
  /** Processor count after clamping to the host (also the kernel's nr_cpus). */
  readonly processorCount: number;
  /** Memory after rounding up to an even MB. */
  readonly memorySizeInMB: number;
  readonly kernelPath: string;
  readonly rootfsPath: string;
  /** Normalisation warnings, for the caller to log. */
  readonly warnings: readonly UvmWarning[];
}

/**
 * Builds the schema2 compute-system document for a Linux utility VM (the document half of the seed's
 * CreateLCOW). Pure: no I/O and no logging; verifies the options first (throws InvalidArgument) and
 * returns normalisation warnings instead of logging them. Boot files are not looked at here (see
 * checkBootFiles), so the dry run can show the document for another host.
 */
export function buildLCOWDocument(opts: OptionsLCOW, host: HostInfo): LcowDocument {
  verifyOptions(opts, host);
  const cpus = normalizeProcessorCount(opts.ProcessorCount, host.logicalProcessors);
  const memory = normalizeMemorySize(opts.MemorySizeInMB);
  const warnings = [cpus.warning, memory.warning].filter((w): w is UvmWarning => w !== undefined);
  const { kernel, rootfs } = bootFilePaths(opts, host);

  const processor: Processor = { Count: cpus.value, Limit: opts.ProcessorLimit, Weight: opts.ProcessorWeight };
  if (opts.CPUGroupID !== '') processor.CpuGroup = { Id: opts.CPUGroupID };
  const numa = vNumaTopology(opts, host.osBuild, cpus.value, memory.value);
  if (numa.numaProcessors !== undefined) processor.NumaProcessorsSettings = numa.numaProcessors;

  const devices: Devices = {
    // Only SYSTEM and administrators may bind the VM's hvsockets (our listeners for ports 1, 109, GCS).
    HvSocket: { HvSocketConfig: { DefaultBindSecurityDescriptor: HvSocketDefaultBindSecurityDescriptor, ServiceTable: serviceTable(opts) } },
    Plan9: {},
  };
  // The seed revision adds only controller "0", whatever the count (verifyOptions allows 0 or 1).
  if (opts.SCSIControllerCount > 0) devices.Scsi = { '0': { Attachments: {} } };
  if (opts.VPMemDeviceCount > 0) {
    devices.VirtualPMem = { MaximumCount: opts.VPMemDeviceCount, MaximumSizeBytes: opts.VPMemSizeBytes };
    if (opts.PreferredRootFSType === PreferredRootFSType.VHD) {
      // Compared without the dot and case-insensitively (the seed kept the dot, so never chose Vhdx).
      const ImageFormat = hostExtension(host.pathFlavour, opts.RootFSFile) === 'vhdx' ? 'Vhdx' : 'Vhd1';
      devices.VirtualPMem.Devices = { '0': { HostPath: rootfs, ReadOnly: true, ImageFormat } };
    }
  }
  if (opts.ConsolePipe !== '') devices.ComPorts = { '0': { NamedPipe: opts.ConsolePipe } }; // "0" is COM1
  if (opts.EnableGraphicsConsole) {
    devices.Keyboard = {};
    devices.EnhancedModeVideo = {};
    devices.VideoMonitor = {};
  }

  const cmdline = kernelCommandLine(opts, cpus.value);
  const vm: VirtualMachine = {
    StopOnReset: true,
    Chipset: opts.KernelDirect
      ? {
          LinuxKernelDirect: {
            KernelFilePath: kernel,
            InitRdPath: opts.PreferredRootFSType === PreferredRootFSType.InitRd ? rootfs : undefined,
            KernelCmdLine: cmdline,
          },
        }
      : {
          Uefi: {
            BootThis: { DevicePath: `\\${opts.KernelFile}`, DeviceType: 'VmbFs', VmbFsRootPath: opts.BootFilesPath, OptionalData: cmdline },
          },
        },
    ComputeTopology: {
      Memory: {
        SizeInMB: memory.value,
        AllowOvercommit: opts.AllowOvercommit,
        EnableDeferredCommit: opts.EnableDeferredCommit,
        EnableColdDiscardHint: opts.EnableColdDiscardHint,
        LowMmioGapInMB: opts.LowMMIOGapInMB,
        HighMmioBaseInMB: opts.HighMMIOBaseInMB,
        HighMmioGapInMB: opts.HighMMIOGapInMB,
        // hcsshim exposes the ACPI SLIT whenever there is a vNUMA topology.
        ...(numa.numa !== undefined || numa.numaProcessors !== undefined ? { SlitType: 'FirmwareFallbackMeasured' } : {}),
      },
      Processor: processor,
      ...(numa.numa !== undefined ? { Numa: numa.numa } : {}),
    },
    Devices: devices,
  };
  if (opts.StorageQoSIopsMaximum > 0 || opts.StorageQoSBandwidthMaximum > 0) {
    vm.StorageQoS = { IopsMaximum: opts.StorageQoSIopsMaximum, BandwidthMaximum: opts.StorageQoSBandwidthMaximum };
  }
  // HCS connects to the GCS itself only when the shim does not own the bridge.
  if (opts.UseGuestConnection && !opts.ExternalGuestConnection) {
    vm.GuestConnection = { UseVsock: true, UseConnectedSuspend: true };
  }
  if (opts.ResourcePartitionID !== '') vm.ResourcePartitionId = opts.ResourcePartitionID;

  const document: ComputeSystem = {
    Owner: opts.Owner,
    SchemaVersion: { Major: 2, Minor: 1 },
    ShouldTerminateOnLastHandleClosed: true,
    VirtualMachine: vm,
  };
  return { document, processorCount: cpus.value, memorySizeInMB: memory.value, kernelPath: kernel, rootfsPath: rootfs, warnings };
}


/** The service table of an extra vsock port (hcsshim's entries for the ports a confidential VM may use). */
export const ExtraVsockPortService: Readonly<HvSocketServiceConfig> = {
  AllowWildcardBinds: true,
  BindSecurityDescriptor: 'D:P(A;;FA;;;WD)',
  ConnectSecurityDescriptor: 'D:P(A;;FA;;;SY)(A;;FA;;;BA)',
};

/**
 * `HvSocketConfig.ServiceTable`: the hv-socket.service-table.<GUID> entries as given, then one entry per
 * extra vsock port (which wins over an annotation for the same service, as hcsshim documents). Keys are
 * lower-case GUIDs. Empty → omitted by the encoder.
 */
function serviceTable(opts: OptionsLCOW): Record<string, HvSocketServiceConfig> | undefined {
  const table: Record<string, HvSocketServiceConfig> = {};
  for (const [guid, cfg] of Object.entries(opts.AdditionalHyperVConfig)) table[guid.toLowerCase()] = { ...cfg };
  for (const port of opts.ExtraVSockPorts) table[vsockServiceId(port)] = { ...ExtraVsockPortService };
  return Object.keys(table).length > 0 ? table : undefined;
}
