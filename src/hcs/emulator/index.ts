/**
 * hcs/emulator: the HCS backend on Linux, an emulator (not a hypervisor). It takes the same schema2
 * documents and returns the same HcsError codes as the Host Compute Service; a utility VM is a VM dir
 * plus the guest agent (src/guest) as a host process, reached over unix sockets standing in for
 * hvsockets. README.md lists what is emulated and what is not.
 * Layer boundaries: part of src/hcs; imports src/hcs (schema, errors, HcsApi types), src/transport (the
 * shared emulated-path rule and unix dialing), src/log and src/errdefs. Loaded lazily by
 * src/hcs/backend-factory.ts; nothing else imports it.
 */
export { createEmulatorHcsApi, EMULATED_OS_BUILD, type EmulatorOptions } from './emulator-api.js';
export { DEFAULT_STOP_TIMEOUT_MS } from './emulated-vm.js';
export { EMULATOR_BOOT_FILES_FORMAT, readBootManifest, type BootManifest } from './boot-files.js';
export { parseKernelCmdLine, tokenize, CmdlineError, type GuestLaunchPlan } from './kernel-cmdline.js';
