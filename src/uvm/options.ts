import type { Readable } from 'node:stream';
import type { HvSocketServiceConfig } from '../hcs/index.js';

/** Which root filesystem the UVM boots from (hcsshim's PreferredRootFSType; JSON 0 / 1). */
export enum PreferredRootFSType {
  /** `RootFSFile` is an initrd (cpio), loaded by the kernel. */
  InitRd = 0,
  /** `RootFSFile` is a VHD(X) attached as VPMem device 0 and mounted read-only as `/`. */
  VHD = 1,
}

/**
 * Processes what the program run by the guest's init writes to the log port (109). It owns the stream
 * and resolves when it has read it to the end; it should not reject (failures are its to log).
 */
export type OutputHandler = (stream: Readable) => Promise<void>;

/**
 * Options shared by every utility VM (hcsshim's `Options`). Field names are the seed's, so an options
 * file written for hcsshim reads the same here.
 */
export interface Options {
  /** Compute system id. A new v4 UUID when empty. */
  ID: string;
  /** Owner recorded by HCS. The executable's base name when empty. */
  Owner: string;
  /** Memory in MB; rounded up to an even number. Default 1024. */
  MemorySizeInMB: number;
  LowMMIOGapInMB: number;
  HighMMIOBaseInMB: number;
  HighMMIOGapInMB: number;
  /** Virtual-memory backed (true, default) or physically backed (false). */
  AllowOvercommit: boolean;
  /** Commit memory on first touch; requires AllowOvercommit. */
  EnableDeferredCommit: boolean;
  /** Also back devices (VPMem) physically. Carried on the UtilityVM; not part of the document. */
  FullyPhysicallyBacked: boolean;
  /** Virtual processors; clamped to the host's logical processors. Default 2 (1 on a one-CPU host). */
  ProcessorCount: number;
  /** 0..100000, hundredths of a percent of the VM's processors. 0 = no limit. */
  ProcessorLimit: number;
  ProcessorWeight: number;
  StorageQoSIopsMaximum: number;
  StorageQoSBandwidthMaximum: number;
  /** Windows UVMs only; accepted for compatibility and ignored by LCOW. */
  DisableCompartmentNamespace: boolean;
  /** Host CPU group (GUID) to run the VM's processors in; needs build >= 20124. */
  CPUGroupID: string;
  /** Hyper-V resource partition (GUID); mutually exclusive with CPUGroupID (today's hcsshim rule). */
  ResourcePartitionID: string;
  /** Named pipe of an ncproxy service; dialled during create (connection handed to the caller). */
  NetworkConfigProxy: string;
  /** The shim (not HCS) owns the GCS connection. Default true. */
  ExternalGuestConnection: boolean;
  /** Implicit vNUMA: processors per node (0 = no implicit topology); needs MaxMemorySizePerNumaNode. */
  MaxProcessorsPerNumaNode: number;
  /** Implicit vNUMA: MB per node. */
  MaxMemorySizePerNumaNode: number;
  /** Preferred physical NUMA nodes (implicit or explicit topology). */
  PreferredPhysicalNumaNodes: number[];
  /** Explicit vNUMA: physical node of virtual node i (0xFF = wildcard). */
  NumaMappedPhysicalNodes: number[];
  /** Explicit vNUMA: processors of virtual node i. */
  NumaProcessorCounts: number[];
  /** Explicit vNUMA: memory blocks (MB) of virtual node i. */
  NumaMemoryBlocksCounts: number[];
  /** Extra HvSocket service-table entries (service GUID → config), from hv-socket.service-table.<GUID>. */
  AdditionalHyperVConfig: Record<string, HvSocketServiceConfig>;
  /** Where HCS writes the VM's crash dumps: WCOW only in hcsshim (LCOW documents do not carry it). */
  DumpDirectoryPath: string;
}

/** Options for a Linux utility VM (hcsshim's `OptionsLCOW`, with the shared options flattened in). */
export interface OptionsLCOW extends Options {
  /** Folder holding the kernel and root filesystem. */
  BootFilesPath: string;
  /** File name under BootFilesPath of the kernel (`kernel`, or `vmlinux` when present with KernelDirect). */
  KernelFile: string;
  /** Boot the kernel directly instead of through UEFI (default on builds >= 18286). */
  KernelDirect: boolean;
  /** File name under BootFilesPath of the root filesystem (`initrd.img` or `rootfs.vhd`). */
  RootFSFile: string;
  /** Extra kernel command-line arguments. */
  KernelBootOptions: string;
  /** Keyboard, video and a `console=tty` shell. */
  EnableGraphicsConsole: boolean;
  /** Named pipe for COM1 (e.g. `\\.\pipe\vmpipe`); enables a serial console with a shell. */
  ConsolePipe: string;
  /** 0 or 1. */
  SCSIControllerCount: number;
  /** Whether there is a GCS connection at all (external: ours; otherwise HCS's). Default true. */
  UseGuestConnection: boolean;
  /** What init runs (under vsockexec). Default `/bin/gcs -v4 -log-format json -loglevel <level>`. */
  ExecCommandLine: string;
  /** Forward the program's stdout to the log port. Default false. */
  ForwardStdout: boolean;
  /** Forward the program's stderr to the log port. Default true. */
  ForwardStderr: boolean;
  /** Consumes the log port; defaults to parsing the GCS's logrus JSON. Never read from an options file. */
  OutputHandler?: OutputHandler;
  /** VPMem devices; at most 128; device 0 holds a VHD root filesystem. Default 64. */
  VPMemDeviceCount: number;
  /** Size of each VPMem device, a multiple of 4096. Default 4 GiB. */
  VPMemSizeBytes: number;
  PreferredRootFSType: PreferredRootFSType;
  /** Needs build >= 18967. */
  EnableColdDiscardHint: boolean;
  /** Leave PCI on in the guest kernel (otherwise `pci=off`). */
  VPCIEnabled: boolean;
  /** One layer per VPMem device. This shim never packs several layers onto one device, so it is always so. */
  VPMemNoMultiMapping: boolean;
  /** Encrypt the containers' scratch disks in the guest (dm-crypt; GCS `Encrypted` on the SCSI mount). */
  EnableScratchEncryption: boolean;
  /** vsock ports the guest may use besides 1, 109 and the GCS's (HvSocket service-table entries). */
  ExtraVSockPorts: number[];
  /** init's `-w`: writable overlays over /var and /etc of a read-only (VHD) root filesystem. */
  WritableOverlayDirs: boolean;
}
