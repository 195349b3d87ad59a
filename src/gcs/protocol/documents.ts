/**
 * Documents carried inside GCS messages: the JSON-in-a-string payloads (ContainerConfig, ProcessParameters,
 * PropertyQuery, ContainerProperties) and the guest-side ModifySettings resources. Field names exactly as on
 * the wire; optional = omitempty upstream (a missing number reads as 0, a missing flag as false).
 */
import type { SchemaVersion } from './schema-version.js';

/** An OCI runtime spec (config.json) as a plain object; the bridge carries it opaquely. */
export type OciSpec = Record<string, unknown>;
/** An OCI process object (spec.process) as a plain object. */
export type OciProcess = Record<string, unknown>;

/** ContainerCreate.ContainerConfig for a container (guest VMHostedContainerSettingsV2; schema ≥ 2.1). */
export interface ContainerConfig {
  SchemaVersion: SchemaVersion;
  /** /run/gcs/c/<cid>. */
  OciBundlePath: string;
  OciSpecification: OciSpec;
  /** Scratch directory in the UVM. */
  ScratchDirPath?: string;
}

/** ContainerCreate.ContainerConfig for the UVM itself (only if the guest sets SendHostCreateMessage). */
export interface UvmConfig {
  SystemType: 'Container';
  TimeZoneInformation?: unknown;
}

/** ExecuteProcessSettings.ProcessParameters (HCS schema ProcessParameters plus the LCOW extras). */
export interface ProcessParameters {
  CommandLine?: string;
  CommandArgs?: string[];
  User?: string;
  WorkingDirectory?: string;
  Environment?: Record<string, string>;
  RestrictedToken?: boolean;
  EmulateConsole?: boolean;
  CreateStdInPipe?: boolean;
  CreateStdOutPipe?: boolean;
  CreateStdErrPipe?: boolean;
  /** [height, width]. */
  ConsoleSize?: [number, number];
  /** Run outside any container, in the UVM (legacy name; the Linux guest also reads CreateInUtilityVM). */
  IsExternal?: boolean;
  CreateInUtilityVM?: boolean;
  /** The OCI process for an exec; omitted for a container's init process (the Create spec's is used). */
  OciProcess?: OciProcess;
  /** Guest-side: a full spec for processes created in the UVM. */
  OciSpecification?: OciSpec;
}

/** GetProperties property types the Linux GCS answers. */
export type PropertyType = 'ProcessList' | 'Statistics';

/** ContainerGetProperties.Query. */
export interface PropertyQuery {
  PropertyTypes: PropertyType[];
}

export interface ProcessDetails {
  ProcessId: number;
  ImageName?: string;
  CreateTimestamp?: string;
  UserTime100ns?: number;
  KernelTime100ns?: number;
  MemoryCommitBytes?: number;
  MemoryWorkingSetPrivateBytes?: number;
  MemoryWorkingSetSharedBytes?: number;
}

/** ContainerGetPropertiesResponse.Properties. LCOWMetrics is the guest's cgroup metrics object (opaque). */
export interface ContainerProperties {
  ProcessList?: ProcessDetails[];
  LCOWMetrics?: Record<string, unknown>;
}

// --- ModifySettings -------------------------------------------------------------------------------------------

export type ModifyRequestType = 'Add' | 'Remove' | 'Update' | 'PreAdd';

/** ResourceTypes the Linux GCS accepts (guestresource constants). */
export const ResourceType = {
  SCSIDevice: 'SCSIDevice',
  MappedVirtualDisk: 'MappedVirtualDisk',
  MappedDirectory: 'MappedDirectory',
  VPMemDevice: 'VPMemDevice',
  CombinedLayers: 'CombinedLayers',
  Network: 'Network',
  VPCIDevice: 'VPCIDevice',
  ContainerConstraints: 'ContainerConstraints',
  SecurityPolicy: 'SecurityPolicy',
  SecurityPolicyFragment: 'SecurityPolicyFragment',
  PodCgroupMemoryLimit: 'PodCgroupMemoryLimit',
} as const;
export type ResourceType = (typeof ResourceType)[keyof typeof ResourceType];

/** ContainerModifySettings.Request (guestrequest.ModificationRequest). An empty RequestType means Add. */
export interface ModificationRequest<S = unknown> {
  ResourceType: ResourceType | string;
  RequestType?: ModifyRequestType;
  Settings?: S;
}

/** SCSIDevice (Remove only: detach the device itself). */
export interface SCSIDevice {
  Controller?: number;
  Lun?: number;
}

/** MappedVirtualDisk: mount a SCSI disk at MountPath. */
export interface LCOWMappedVirtualDisk {
  MountPath?: string;
  Lun?: number;
  Controller?: number;
  Partition?: number;
  ReadOnly?: boolean;
  Encrypted?: boolean;
  Options?: string[];
  BlockDev?: boolean;
  EnsureFilesystem?: boolean;
  Filesystem?: string;
}

/** MappedDirectory: a Plan9 share mounted at MountPath. */
export interface LCOWMappedDirectory {
  MountPath?: string;
  /** Plan9Port (564). */
  Port?: number;
  ShareName?: string;
  ReadOnly?: boolean;
}

export interface LCOWVPMemMappingInfo {
  DeviceOffsetInBytes?: number;
  DeviceSizeInBytes?: number;
}

/** VPMemDevice: a read-only layer on a VPMem device mounted at MountPath. */
export interface LCOWMappedVPMemDevice {
  DeviceNumber?: number;
  MountPath?: string;
  MappingInfo?: LCOWVPMemMappingInfo;
}

/** One layer of CombinedLayers (HCS schema Layer). */
export interface Layer {
  Id?: string;
  Path: string;
  PathType?: string;
}

/** CombinedLayers: overlay of Layers + ScratchPath at ContainerRootPath. */
export interface LCOWCombinedLayers {
  ContainerID?: string;
  ContainerRootPath?: string;
  Layers?: Layer[];
  ScratchPath?: string;
}

/** ContainerConstraints (on a real container id): `Linux` is an OCI LinuxResources object. */
export interface LCOWContainerConstraints {
  Windows?: Record<string, unknown>;
  Linux?: Record<string, unknown>;
}

/** VPCIDevice. */
export interface LCOWMappedVPCIDevice {
  VMBusGUID?: string;
}

export interface LCOWIPConfig {
  IPAddress?: string;
  PrefixLength?: number;
}

export interface LCOWRoute {
  NextHop?: string;
  DestinationPrefix?: string;
  Metric?: number;
}

/** Network: a network adapter in a namespace. */
export interface LCOWNetworkAdapter {
  NamespaceID?: string;
  ID?: string;
  MacAddress?: string;
  DNSSuffix?: string;
  DNSServerList?: string;
  EncapOverhead?: number;
  VPCIAssigned?: boolean;
  IPConfigs?: LCOWIPConfig[];
  Routes?: LCOWRoute[];
  PolicyBasedRouting?: boolean;
  EnableLowMetric?: boolean;
}
