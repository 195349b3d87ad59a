/**
 * sandbox: the LCOW implementation of the task's Sandbox (task/deps.ts): CreateLCOW + start through
 * src/uvm, the guest through src/gcs, Plan9 shares for the rootfs and bind mounts.
 */
export { createLcowSandboxFactory, type SandboxFactoryOptions } from './lcow-sandbox.js';
export { statsFromLcowMetrics } from './guest-stats.js';
