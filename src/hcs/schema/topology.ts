/** Memory backing of a VM: virtual (overcommit), physical, or hybrid. */
export type MemoryBackingType = 'Physical' | 'Virtual' | 'Hybrid';

/**
 * schema2 `VirtualMachineMemory` (hcsshim `Memory2`). Note the JSON spelling of the MMIO fields:
 * `LowMmioGapInMB`, `HighMmioBaseInMB`, `HighMmioGapInMB` (not "MMIO").
 */
export interface Memory {
  /** u64; hcsshim rounds up to an even number of MB. */
  SizeInMB?: number;
  Backing?: MemoryBackingType;
  AllowOvercommit?: boolean;
  EnableHotHint?: boolean;
  EnableColdHint?: boolean;
  EnableColdDiscardHint?: boolean;
  EnableDeferredCommit?: boolean;
  LowMmioGapInMB?: number;
  HighMmioBaseInMB?: number;
  HighMmioGapInMB?: number;
  SlitType?: string;
}

/** schema2 `CpuGroup`: the host CPU group (a GUID) the VM's processors run in (build >= 21H1). */
export interface CpuGroup {
  Id?: string;
}

/** schema2 `VirtualMachineProcessor` (hcsshim `Processor2`). */
export interface Processor {
  /** u32. */
  Count?: number;
  /** u64, 0..100000 (hundredths of a percent of the VM's processors). */
  Limit?: number;
  /** u64. */
  Weight?: number;
  Reservation?: number;
  CpuGroup?: CpuGroup;
  NumaProcessorsSettings?: Record<string, unknown>;
}

/** schema2 `Topology` (`VirtualMachine.ComputeTopology`). */
export interface Topology {
  Memory?: Memory;
  Processor?: Processor;
  Numa?: Record<string, unknown>;
}
