export { PodSandbox, PodSandboxState, STOPPED_EXIT_STATUS, VM_LOST_EXIT_STATUS, type PodSandboxDeps, type PodWorkloads } from './pod-sandbox.js';
export { POD_INFRA_PROCESS, podInfraSpec, preparePodInfraRootfs, withoutSandboxPidNamespaces } from './pod-infra.js';
export { SANDBOX_SERVICE_V1, sandboxServiceMethods } from './sandbox-service.js';
