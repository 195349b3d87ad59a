import type { VmResources } from '../../sandbox/index.js';
import type { ResourcesKind } from './types.js';

const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

/**
 * The VM update in runtime-spec resources (hcsshim UtilityVM.Update): memory.limit in bytes; the processor
 * limit from LinuxResources cpu.quota or WindowsResources cpu.maximum; the weight from cpu.shares.
 */
export function vmResources(resources: Record<string, unknown>, kind: ResourcesKind): VmResources {
  const cpu = obj(resources.cpu);
  const memoryLimitBytes = num(obj(resources.memory).limit);
  const processorLimit = num(kind === 'linux' ? cpu.quota : cpu.maximum);
  const processorWeight = num(cpu.shares);
  return {
    ...(memoryLimitBytes === undefined ? {} : { memoryLimitBytes }),
    ...(processorLimit === undefined ? {} : { processorLimit }),
    ...(processorWeight === undefined ? {} : { processorWeight }),
  };
}
