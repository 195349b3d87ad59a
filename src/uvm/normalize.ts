/**
 * Normalisation of sizes the host cannot honour as asked (hcsshim normalize.go). Pure: each returns the
 * value to use and, when it changed the request, a warning for the caller to log.
 */

/** A warning for the log: message plus logrus-style fields. */
export interface UvmWarning {
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface Normalized {
  readonly value: number;
  readonly warning?: UvmWarning;
}

/** Rounds the memory size up to an even number of MB (2 MB alignment). */
export function normalizeMemorySize(requestedMB: number): Normalized {
  const value = requestedMB % 2 === 0 ? requestedMB : requestedMB + 1;
  if (value === requestedMB) return { value };
  return {
    value,
    warning: { message: 'Changing user requested MemorySizeInMB to align to 2MB', fields: { requested: requestedMB, assigned: value } },
  };
}

/** Clamps the processor count to the host's logical processors (as HCS reports them). */
export function normalizeProcessorCount(requested: number, hostLogicalProcessors: number): Normalized {
  if (hostLogicalProcessors < 1 || requested <= hostLogicalProcessors) return { value: requested };
  return {
    value: hostLogicalProcessors,
    warning: {
      message: 'Changing user requested CPUCount to current number of processors',
      fields: { requested, assigned: hostLogicalProcessors },
    },
  };
}
