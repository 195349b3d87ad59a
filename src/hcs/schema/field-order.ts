/**
 * The shape of each schema2 type as hcsshim's Go structs declare it: field order (Go encodes struct
 * fields in declaration order) and, for every field, whether it is a scalar, a nested struct (a Go
 * pointer: written as `{}` even when empty), a map (dropped when empty, keys sorted like Go does) or
 * a slice (dropped when empty). Fields not listed here are opaque and encoded generically.
 */

/** Every schema2 type the encoder knows. */
export type TypeName =
  | 'ComputeSystem'
  | 'Version'
  | 'VirtualMachine'
  | 'Chipset'
  | 'Uefi'
  | 'UefiBootEntry'
  | 'LinuxKernelDirect'
  | 'Topology'
  | 'Memory'
  | 'Processor'
  | 'CpuGroup'
  | 'Devices'
  | 'ComPort'
  | 'Scsi'
  | 'Attachment'
  | 'VirtualPMemController'
  | 'VirtualPMemDevice'
  | 'NetworkAdapter'
  | 'VideoMonitor'
  | 'EnhancedModeVideo'
  | 'Empty'
  | 'HvSocket'
  | 'HvSocketSystemConfig'
  | 'HvSocketServiceConfig'
  | 'Plan9'
  | 'Plan9Share'
  | 'StorageQoS'
  | 'GuestConnection'
  | 'ModifySettingRequest'
  | 'PropertyQuery';

export type FieldKind =
  | 'scalar'
  | 'any'
  | { readonly struct: TypeName }
  | { readonly map: TypeName | 'any' }
  | { readonly array: TypeName | 'scalar' | 'any' };

const s = 'scalar' as const;
const any = 'any' as const;
const st = (t: TypeName): FieldKind => ({ struct: t });
const map = (t: TypeName | 'any'): FieldKind => ({ map: t });

export const SCHEMA: Readonly<Record<TypeName, Readonly<Record<string, FieldKind>>>> = {
  ComputeSystem: { Owner: s, SchemaVersion: st('Version'), HostingSystemId: s, HostedSystem: any, Container: any,
    VirtualMachine: st('VirtualMachine'), ShouldTerminateOnLastHandleClosed: s },
  Version: { Major: s, Minor: s },
  VirtualMachine: { Version: st('Version'), StopOnReset: s, Chipset: st('Chipset'), ComputeTopology: st('Topology'),
    Devices: st('Devices'), GuestState: any, RestoreState: any, RegistryChanges: any, StorageQoS: st('StorageQoS'),
    DebugOptions: any, GuestConnection: st('GuestConnection'), SecuritySettings: any, ResourcePartitionId: s,
    MigrationOptions: any },
  Chipset: { Uefi: st('Uefi'), IsNumLockDisabled: s, BaseBoardSerialNumber: s, ChassisSerialNumber: s,
    ChassisAssetTag: s, UseUtc: s, LinuxKernelDirect: st('LinuxKernelDirect'), FirmwareFile: any },
  Uefi: { EnableDebugger: s, ApplySecureBootTemplate: s, SecureBootTemplateId: s, BootThis: st('UefiBootEntry'),
    Console: s },
  UefiBootEntry: { DeviceType: s, DevicePath: s, DiskNumber: s, OptionalData: s, VmbFsRootPath: s },
  LinuxKernelDirect: { KernelFilePath: s, InitRdPath: s, KernelCmdLine: s },
  Topology: { Memory: st('Memory'), Processor: st('Processor'), Numa: any },
  Memory: { SizeInMB: s, Backing: s, AllowOvercommit: s, EnableHotHint: s, EnableColdHint: s,
    EnableColdDiscardHint: s, EnableDeferredCommit: s, LowMmioGapInMB: s, HighMmioBaseInMB: s, HighMmioGapInMB: s,
    SlitType: s },
  Processor: { Count: s, Limit: s, Weight: s, Reservation: s, CpuGroup: st('CpuGroup'), NumaProcessorsSettings: any },
  CpuGroup: { Id: s },
  Devices: { ComPorts: map('ComPort'), Scsi: map('Scsi'), VirtualPMem: st('VirtualPMemController'),
    NetworkAdapters: map('NetworkAdapter'), VideoMonitor: st('VideoMonitor'), Keyboard: st('Empty'),
    Mouse: st('Empty'), HvSocket: st('HvSocket'), EnhancedModeVideo: st('EnhancedModeVideo'),
    GuestCrashReporting: any, VirtualSmb: any, Plan9: st('Plan9'), Battery: any, FlexibleIov: any,
    SharedMemory: any, VirtualPci: map('any') },
  ComPort: { NamedPipe: s, OptimizeForDebugger: s },
  Scsi: { Attachments: map('Attachment') },
  Attachment: { Type: s, Path: s, IgnoreFlushes: s, CachingMode: s, NoWriteHardening: s,
    DisableExpansionOptimization: s, IgnoreRelativeLocator: s, CaptureIoAttributionContext: s, ReadOnly: s,
    SupportCompressedVolumes: s, AlwaysAllowSparseFiles: s, ExtensibleVirtualDiskType: s },
  VirtualPMemController: { Devices: map('VirtualPMemDevice'), MaximumCount: s, MaximumSizeBytes: s, Backing: s },
  VirtualPMemDevice: { HostPath: s, ReadOnly: s, ImageFormat: s },
  NetworkAdapter: { EndpointId: s, MacAddress: s, IovSettings: any },
  VideoMonitor: { HorizontalResolution: s, VerticalResolution: s, ConnectionOptions: any },
  EnhancedModeVideo: { ConnectionOptions: any },
  Empty: {},
  HvSocket: { HvSocketConfig: st('HvSocketSystemConfig') },
  HvSocketSystemConfig: { DefaultBindSecurityDescriptor: s, DefaultConnectSecurityDescriptor: s,
    ServiceTable: map('HvSocketServiceConfig') },
  HvSocketServiceConfig: { BindSecurityDescriptor: s, ConnectSecurityDescriptor: s, AllowWildcardBinds: s,
    Disabled: s },
  Plan9: { Shares: { array: 'Plan9Share' } },
  Plan9Share: { Name: s, AccessName: s, Path: s, Port: s, Flags: s, ReadOnly: s, UseShareRootIdentity: s,
    AllowedFiles: { array: 'scalar' } },
  StorageQoS: { IopsMaximum: s, BandwidthMaximum: s },
  GuestConnection: { UseVsock: s, UseConnectedSuspend: s, UseHostTimeZone: s },
  ModifySettingRequest: { ResourcePath: s, RequestType: s, Settings: any, GuestRequest: any },
  PropertyQuery: { PropertyTypes: { array: 'scalar' } },
};
