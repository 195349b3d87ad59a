/**
 * schema2 device types of a LCOW utility VM. Maps (Scsi, Attachments, VirtualPMem.Devices, ComPorts,
 * ServiceTable, NetworkAdapters, VirtualPci) are keyed by strings: controller GUID or "0".."3", LUN,
 * device number, port number, service GUID. The serializer (serialize.ts) knows which keys are maps.
 */

/** SCSI attachment kinds HCS accepts. */
export type AttachmentType = 'VirtualDisk' | 'PassThru' | 'Iso' | 'ExtensibleVirtualDisk';

/** schema2 `Attachment`: one disk on a SCSI controller (hcsshim's Go field `Type_` is JSON `Type`). */
export interface Attachment {
  Type?: AttachmentType;
  Path?: string;
  IgnoreFlushes?: boolean;
  CachingMode?: string;
  NoWriteHardening?: boolean;
  DisableExpansionOptimization?: boolean;
  IgnoreRelativeLocator?: boolean;
  CaptureIoAttributionContext?: boolean;
  ReadOnly?: boolean;
  SupportCompressedVolumes?: boolean;
  AlwaysAllowSparseFiles?: boolean;
  ExtensibleVirtualDiskType?: string;
}

/** schema2 `Scsi`: one controller; `Attachments` keyed by LUN ("0", "1", ...). */
export interface Scsi {
  Attachments?: Record<string, Attachment>;
}

/** VPMem image formats. */
export type VirtualPMemImageFormat = 'Vhd1' | 'Vhdx';

/** schema2 `VirtualPMemDevice`. */
export interface VirtualPMemDevice {
  HostPath?: string;
  ReadOnly?: boolean;
  ImageFormat?: VirtualPMemImageFormat;
}

/** schema2 `VirtualPMemController`: `Devices` keyed by device number. */
export interface VirtualPMemController {
  Devices?: Record<string, VirtualPMemDevice>;
  /** u32; hcsshim default 64, max 128. */
  MaximumCount?: number;
  /** u64; hcsshim default 4 GiB. */
  MaximumSizeBytes?: number;
  Backing?: string;
}

/** schema2 `HvSocketServiceConfig`: one entry of the HvSocket service table. */
export interface HvSocketServiceConfig {
  BindSecurityDescriptor?: string;
  ConnectSecurityDescriptor?: string;
  AllowWildcardBinds?: boolean;
  Disabled?: boolean;
}

/** schema2 `HvSocketSystemConfig`: SDDL strings; `ServiceTable` keyed by service GUID. */
export interface HvSocketSystemConfig {
  DefaultBindSecurityDescriptor?: string;
  DefaultConnectSecurityDescriptor?: string;
  ServiceTable?: Record<string, HvSocketServiceConfig>;
}

/** schema2 `HvSocket2` (`Devices.HvSocket`). */
export interface HvSocket {
  HvSocketConfig?: HvSocketSystemConfig;
}

/**
 * Plan9 share flags (bit set, int32). LCOW uses LinuxMetadata, plus ReadOnly for read-only shares and
 * RestrictFileAccess for a single-file mapping (only the share's AllowedFiles are reachable; Windows 19H1+).
 */
export const Plan9ShareFlags = {
  None: 0x0,
  ReadOnly: 0x1,
  LinuxMetadata: 0x4,
  CaseSensitive: 0x8,
  UseShareRootIdentity: 0x10,
  RestrictFileAccess: 0x80,
  UnlimitedConnections: 0x100,
} as const;

/** schema2 `Plan9Share`. */
export interface Plan9Share {
  Name?: string;
  AccessName?: string;
  Path?: string;
  /** int32. */
  Port?: number;
  /** int32, see Plan9ShareFlags. */
  Flags?: number;
  ReadOnly?: boolean;
  UseShareRootIdentity?: boolean;
  AllowedFiles?: string[];
}

/** schema2 `Plan9`: present as `{}` to enable the device; shares are added later by modify requests. */
export interface Plan9 {
  Shares?: Plan9Share[];
}

/** schema2 `ComPort`: a serial port backed by a named pipe. */
export interface ComPort {
  NamedPipe?: string;
  OptimizeForDebugger?: boolean;
}

/** schema2 `Keyboard`: has no fields; present as `{}`. */
export type Keyboard = Record<string, never>;

/** schema2 `Mouse`: has no fields; present as `{}`. */
export type Mouse = Record<string, never>;

/** schema2 `EnhancedModeVideo`. */
export interface EnhancedModeVideo {
  ConnectionOptions?: Record<string, unknown>;
}

/** schema2 `VideoMonitor`. */
export interface VideoMonitor {
  HorizontalResolution?: number;
  VerticalResolution?: number;
  ConnectionOptions?: Record<string, unknown>;
}

/** schema2 `NetworkAdapter`. */
export interface NetworkAdapter {
  EndpointId?: string;
  MacAddress?: string;
  IovSettings?: Record<string, unknown>;
}

/** schema2 `Devices`. */
export interface Devices {
  /** Keyed "0" / "1". */
  ComPorts?: Record<string, ComPort>;
  /** Keyed by controller: "0" in the seed revision, the controller GUID in today's hcsshim. */
  Scsi?: Record<string, Scsi>;
  VirtualPMem?: VirtualPMemController;
  NetworkAdapters?: Record<string, NetworkAdapter>;
  VideoMonitor?: VideoMonitor;
  Keyboard?: Keyboard;
  Mouse?: Mouse;
  HvSocket?: HvSocket;
  EnhancedModeVideo?: EnhancedModeVideo;
  GuestCrashReporting?: Record<string, unknown>;
  VirtualSmb?: Record<string, unknown>;
  Plan9?: Plan9;
  Battery?: Record<string, unknown>;
  FlexibleIov?: Record<string, unknown>;
  SharedMemory?: Record<string, unknown>;
  VirtualPci?: Record<string, unknown>;
}

/** SCSI controller GUIDs of today's hcsshim (v5 UUIDs of "0".."3"; guestrequest.ScsiControllerGuids). */
export const SCSI_CONTROLLER_GUIDS: readonly string[] = [
  'df6d0690-79e5-55b6-a5ec-c1e2f77f580a',
  '0110f83b-de10-5172-a266-78bca56bf50a',
  'b5d2d8d4-3a75-51bf-945b-3444dc6b8579',
  '305891a9-b251-5dfe-91a2-c25d9212275b',
];
