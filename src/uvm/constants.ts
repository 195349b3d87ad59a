/**
 * Numbers and names CreateLCOW uses (hcsshim internal/uvm constants of the seed revision; today they
 * live in internal/vm/vmutils). Facts only: see hcs-and-uvm.md §7 and gcs-bridge-protocol.md §7.
 */

/** Default file names under BootFilesPath. */
export const InitrdFile = 'initrd.img';
export const VhdFile = 'rootfs.vhd';
export const KernelFile = 'kernel';
/** An uncompressed kernel, preferred with KernelDirect when present. */
export const UncompressedKernelFile = 'vmlinux';
/** The folder beside the shim executable that holds the boot files. */
export const LinuxBootFilesDir = 'LinuxBootFiles';

/** The vsock ports and the entropy size are GCS protocol facts: src/gcs/protocol (constants.ts). */

export const DefaultVPMEMCount = 64;
export const MaxVPMEMCount = 128;
export const DefaultVPMemSizeBytes = 4 * 1024 * 1024 * 1024;
/** VPMem device sizes must be a multiple of this. */
export const VPMemSizeAlignment = 4096;
/** The seed revision puts only controller "0" in the document, so at most one controller is accepted. */
export const MaxSCSIControllers = 1;

/** Windows builds that gate features. */
export const KernelDirectMinBuild = 18286;
export const ColdDiscardHintMinBuild = 18967;
export const CpuGroupCreateMinBuild = 20124;

/** Only SYSTEM and Builtin Administrators may bind hvsockets of the VM (the GCS log socket needs it). */
export const HvSocketDefaultBindSecurityDescriptor = 'D:P(A;;FA;;;SY)(A;;FA;;;BA)';

/** Default budget for the whole of Start (entropy, log and GCS accept plus the handshake). */
export const DefaultGcsConnectionTimeoutMs = 2 * 60 * 1000;
/** Environment variable (seconds) that overrides it, as in hcsshim. */
export const GcsConnectionTimeoutEnv = 'HCSSHIM_TIMEOUT_GCSCONNECTION';
