import type { Attachment, HvSocketServiceConfig, Plan9Share, VirtualPMemDevice } from './devices.js';

/** `ModifySettingRequest.RequestType`. */
export type ModifyRequestType = 'Add' | 'Remove' | 'Update' | 'PreAdd';

/**
 * schema2 `ModifySettingRequest`: the document passed to HcsModifyComputeSystem. `GuestRequest` is
 * part of the schema but the LCOW shim sends guest work over its own GCS bridge and leaves it unset.
 */
export interface ModifySettingRequest<S = unknown> {
  ResourcePath?: string;
  RequestType?: ModifyRequestType;
  Settings?: S;
  GuestRequest?: unknown;
}

/** Resource paths of the VM devices the LCOW path modifies (hcsshim resourcepaths). */
export const ResourcePaths = {
  scsiAttachment: (controller: string, lun: number): string =>
    `VirtualMachine/Devices/Scsi/${controller}/Attachments/${lun}`,
  vpmemDevice: (device: number): string => `VirtualMachine/Devices/VirtualPMem/Devices/${device}`,
  vpmemMapping: (device: number, mapping: number): string =>
    `VirtualMachine/Devices/VirtualPMem/Devices/${device}/Mappings/${mapping}`,
  plan9Shares: 'VirtualMachine/Devices/Plan9/Shares',
  hvSocketService: (serviceId: string): string =>
    `VirtualMachine/Devices/HvSocket/HvSocketConfig/ServiceTable/${serviceId}`,
  memorySize: 'VirtualMachine/ComputeTopology/Memory/SizeInMB',
  cpuGroup: 'VirtualMachine/ComputeTopology/Processor/CpuGroup',
  networkAdapter: (id: string): string => `VirtualMachine/Devices/NetworkAdapters/${id}`,
  comPort: (n: number): string => `VirtualMachine/Devices/ComPorts/${n}`,
} as const;

/** Typed request shapes for the device kinds the LCOW path hot-adds or removes. */
export type ScsiAttachmentRequest = ModifySettingRequest<Attachment>;
export type VPMemDeviceRequest = ModifySettingRequest<VirtualPMemDevice>;
export type Plan9ShareRequest = ModifySettingRequest<Plan9Share>;
export type HvSocketServiceRequest = ModifySettingRequest<HvSocketServiceConfig>;
