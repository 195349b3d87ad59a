/** schema2 `UefiBootEntry` (`Uefi.BootThis`). LCOW boots `\kernel` from a VmbFs share of the boot-files dir. */
export interface UefiBootEntry {
  /** "ScsiDrive" | "VmbFs" | "Network" | "File". */
  DeviceType?: string;
  DevicePath?: string;
  /** int32. */
  DiskNumber?: number;
  /** For VmbFs boot: the kernel command line. */
  OptionalData?: string;
  VmbFsRootPath?: string;
}

/** schema2 `Uefi`. */
export interface Uefi {
  EnableDebugger?: boolean;
  ApplySecureBootTemplate?: string;
  SecureBootTemplateId?: string;
  BootThis?: UefiBootEntry;
  /** "Default" | "ComPort1" | "ComPort2" | "Disabled". */
  Console?: string;
}

/** schema2 `LinuxKernelDirect`: boot a kernel file directly (builds >= 18286). */
export interface LinuxKernelDirect {
  KernelFilePath?: string;
  InitRdPath?: string;
  KernelCmdLine?: string;
}

/** schema2 `Chipset`: exactly one of Uefi / LinuxKernelDirect is set for LCOW. */
export interface Chipset {
  Uefi?: Uefi;
  IsNumLockDisabled?: boolean;
  BaseBoardSerialNumber?: string;
  ChassisSerialNumber?: string;
  ChassisAssetTag?: string;
  UseUtc?: boolean;
  LinuxKernelDirect?: LinuxKernelDirect;
  FirmwareFile?: Record<string, unknown>;
}
