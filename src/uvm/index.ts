/**
 * uvm: the Linux utility VM (hcsshim's CreateLCOW and UtilityVM, LCOW parts). Options and their
 * defaults, verification and normalisation, the pure schema2 document builder, the `uvm-doc` dry run,
 * and the UtilityVM lifecycle (create, start under one deadline, modify, close).
 * Layer boundaries: src/hcs for HcsApi, schema2 types and toHcsJson; of src/gcs only the vsock port numbers of
 * its ./protocol sub-barrel (as hcsshim's internal/uvm takes them from gcs/prot), never the GCS bridge itself:
 * start() hands the GCS connection to a callback the sandbox supplies, which runs the handshake. Never imports
 * src/proto. No platform checks: host facts (OS build, processors, path flavour) come from HcsApi.hostInfo() or
 * the caller.
 * May import: async, hcs, gcs/protocol, transport, random, log, errdefs.
 */
export * from './constants.js';
export * from './options.js';
export type * from './host-facts.js';
export { localHostFacts } from './host-facts.js';
export { defaultExecCommandLine, defaultLCOWOSBootFilesPath, newDefaultOptionsLCOW, updateBootFilesPath } from './default-options.js';
export { verifyOptions, checkBootFiles, bootFilePaths } from './verify.js';
export { normalizeMemorySize, normalizeProcessorCount, type Normalized, type UvmWarning } from './normalize.js';
export { kernelCommandLine, initArguments } from './kernel-cmdline.js';
export { buildLCOWDocument, type LcowDocument } from './document.js';
export { parseOptionsJson, OPTION_NAMES } from './options-json.js';
export { uvmDocCommand, DRY_RUN_DEFAULT_OS_BUILD, type UvmDocIo, type UvmDocDeps } from './uvm-doc-command.js';
export { UvmState } from './state.js';
export { UtilityVM, type StartOptions } from './utility-vm.js';
export { createLCOW, type CreateLcowDeps } from './create-lcow.js';
export { gcsConnectionTimeoutMs } from './timeout.js';
export { type GuestModifier, type GuestRequest, type HostModifier } from './device-modify.js';
export { VPMemManager, VPMemFullError, VPMemTooLargeError, VPMemGuestPathFormat, type VPMemMount, type VPMemManagerOptions } from './vpmem-manager.js';
export { ScsiManager, ScsiFullError, ScsiGuestPathFormat, LunsPerController, type ScsiMount, type ScsiMountConfig, type ScsiManagerOptions } from './scsi-manager.js';
