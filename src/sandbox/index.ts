/**
 * sandbox: the floor between the shim and {uvm, gcs}. A sandbox is a utility VM with its GCS connection,
 * the containers created in it and the host directories shared into it (Plan9). The task logic sees it
 * through the contracts of types.ts; annotations are parsed here. Never imports src/shim.
 * May import: async, uvm, gcs, hcs, transport, guid, log, errdefs.
 */
export { createLcowSandboxFactory, type SandboxFactoryOptions } from './lcow-sandbox.js';
export { statsFromLcowMetrics } from './guest-stats.js';
export { Annotation, effectiveAnnotations, uvmOptionsFromAnnotations } from './annotations.js';
export { GuestAnnotation, annotationBool, expandAnnotations, gcsCommandLineExtras } from './guest-annotations.js';
export { CriAnnotation, podRole, type PodRole } from './pod-role.js';
export { terminateUtilityVm, type TerminateVmResult } from './terminate-vm.js';
/** What the shim's process entry needs from below, passed through so the shim imports only this floor. */
export { ensureBackendThreadpool } from '../hcs/index.js';
export { uvmDocCommand } from '../uvm/index.js';
/** The Linux signal numbers the guest delivers; their one home is src/gcs (the shim's Kill maps onto them). */
export { SIGKILL, SIGTERM } from '../gcs/index.js';
export type {
  GuestContainer, GuestProcess, HostProcessRequest, LcowLayer, LcowLayers, VmResources, ProcessListEntry, ProcessRequest, RuntimeOptions, Sandbox, SandboxFactory,
  SandboxRequest, TaskStats, U64,
} from './types.js';
